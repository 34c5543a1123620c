"""The README's examples run as written: the ```bash blocks of "Use it" and "The `tickets` CLI",
with bash, against the started stack.

They run in a directory laid out like the repository as the README assumes it (`.local/` holds
the stack's tokens, `.venv/bin/tickets`, `README.md`), so the only substitutions are what the
README leaves open or cannot know: the stack's port for 127.0.0.1:3000, and
`$TICKET_ID` for the "Use it" block (the CLI block sets its own ids and writes incident.md). `curl` is wrapped to
record each answer: every one must be a 2xx/3xx, JSON, and not a problem document."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("jq") is None, reason="the README's examples use jq, which is not installed"),
]

README = ROOT / "README.md"
README_API = "http://127.0.0.1:3000"

# Runs before a README block: strict bash, the failing command named, and curl recorded.
PRELUDE = r"""
set -eEuo pipefail
shopt -s inherit_errexit
trap 'echo "README command failed with exit $?: $BASH_COMMAND" >&2' ERR
curl() {
  local body head code
  body=$(mktemp "$CURL_RECORD/XXXXXX.body")
  head="${body%.body}.head"
  command curl "$@" -o "$body" -D "$head"
  code=$(awk '/^HTTP\//{c=$2} END{print c}' "$head")
  printf '%s\t%s\t%s\n' "$code" "$body" "$*" >> "$CURL_RECORD/log"
  cat "$body"
  if [ "${code:-0}" -ge 400 ]; then echo "curl: HTTP $code for: $*" >&2; return 22; fi
}
"""


def section(title: str) -> str:
    """The README's text from a heading up to the next heading of any level."""
    text = README.read_text()
    start = re.search(rf"^#+ {re.escape(title)}\s*$", text, re.M)
    assert start, f"README.md has no section {title!r}"
    end = re.compile(r"^#+ ", re.M).search(text, start.end())
    return text[start.end() : end.start() if end else None]


def bash_blocks(title: str) -> str:
    blocks = re.findall(r"^```bash\n(.*?)^```", section(title), re.M | re.S)
    assert blocks, f"no ```bash block in README section {title!r}"
    script = "".join(blocks)
    assert README_API in script, f"the examples of {title!r} no longer use {README_API}"
    return script


@pytest.fixture
def checkout(stack: RunningStack, tmp_path: Path) -> Path:
    """A directory where the README's relative paths resolve as in a checkout with `make run` going."""
    venv = ROOT / ".venv"
    assert (venv / "bin" / "tickets").exists(), "the README runs .venv/bin/tickets: pip install -e clients/cli"
    work = tmp_path / "helpdesk"
    work.mkdir()
    (work / ".local").symlink_to(stack.state)  # tokens.json as `make run` writes it
    (work / ".venv").symlink_to(venv)
    shutil.copy(README, work / "README.md")
    (work / "curl").mkdir()
    return work


def run_readme(stack: RunningStack, work: Path, title: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = PRELUDE + bash_blocks(title).replace(README_API, stack.url)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("TICKETS_")}
    environment |= {
        "CURL_RECORD": str(work / "curl"),
        "XDG_CONFIG_HOME": str(work / "config"),  # `tickets login` writes here, not to the real ~/.config
        **env,
    }
    environment.pop("API", None)
    environment.pop("TOKEN", None)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, (
        f"README section {title!r} failed (exit {result.returncode}):\n{result.stderr[-4000:]}\n{result.stdout[-2000:]}"
    )
    return result


def curl_answers(work: Path) -> list[tuple[int, Any, str]]:
    """(status, JSON body, command line) of every curl the README ran."""
    log = work / "curl" / "log"
    answers = []
    for line in log.read_text().splitlines() if log.exists() else []:
        code, body_path, command = line.split("\t", 2)
        body = Path(body_path).read_text()
        try:
            document = json.loads(body) if body.strip() else None
        except ValueError:
            pytest.fail(f"`curl {command}` answered {code} with a body that is not JSON: {body[:300]!r}")
        answers.append((int(code), document, command))
    return answers


def test_use_it_examples_run_as_written(stack: RunningStack, checkout: Path) -> None:
    run_readme(stack, checkout, "Use it")

    answers = curl_answers(checkout)
    assert len(answers) == 7, [command for _, _, command in answers]
    for code, document, command in answers:
        assert 200 <= code < 400, f"`curl {command}` answered {code}: {document}"
        is_problem = isinstance(document, dict) and isinstance(document.get("status"), int)
        assert not is_problem or document["status"] < 400, f"`curl {command}` answered a problem: {document}"

    created = answers[0][1]
    assert created["properties"] == {"cluster_id": "60c72b2f9f1b2c001f8e4d3a"}
    with stack.as_user("acme_user") as acme:
        ticket = acme.get(f"/v1/tickets/{created['id']}").json()
    assert ticket["status"] == "closed"  # TICKET_ID is the newest: the one just filed
    assert ticket["messages"][0]["attachments"][0]["filename"] == "README.md"
    assert "Still failing after the restart." in [m["body"] for m in ticket["messages"]]


def test_cli_examples_run_as_written(stack: RunningStack, checkout: Path) -> None:
    # The block files its own ticket (with README.md attached) and sets $TICKET_ID / $ATTACHMENT_ID
    result = run_readme(stack, checkout, "The `tickets` CLI")
    ticket_id = _ticket_with_readme_attached(stack)

    profile = tomllib.loads((checkout / "config" / "helpdesk" / "profiles.toml").read_text())
    assert profile["profiles"]["default"] == {"api_url": stack.url, "token": stack.tokens["acme_user"]}
    assert (checkout / "logs.txt").read_bytes() == README.read_bytes()
    with stack.as_user("acme_user") as acme:
        after = acme.get(f"/v1/tickets/{ticket_id}").json()
        listed = acme.get("/v1/tickets", params={"limit": 25}).json()
    assert after["status"] == "closed"
    assert "Confirmed, the fix works." in [m["body"].strip() for m in after["messages"]]
    # the last line prints the ids of the first page as JSON strings
    assert [json.loads(line) for line in result.stdout.splitlines() if line.startswith('"')] == [
        item["id"] for item in listed["items"]
    ]
    filed = {item["subject"]: item for item in listed["items"] if item["source"] == "cli"}
    assert filed["Pods in prod-eu are OOMKilled since 10:00 UTC"]["properties"] == {"cluster_id": "prod-eu"}
    assert (
        filed["Since 10:00 UTC new pods stay Pending in prod-eu."]["status"] == "open"
    )  # --review --yes files the reviewed ticket
    asked = filed["Which regions have GPU nodes?"]  # Cloudfleet's `.field: value` form
    assert (asked["category"], asked["properties"]) == ("general", {"region": "fra1"})


def _ticket_with_readme_attached(stack: RunningStack) -> str:
    """The id of the newest acme ticket whose first message carries README.md."""
    with stack.as_user("acme_user") as acme:
        for item in acme.get("/v1/tickets", params={"limit": 25}).json()["items"]:
            ticket = acme.get(f"/v1/tickets/{item['id']}").json()
            attachments = ticket["messages"][0]["attachments"]
            if attachments and attachments[0]["filename"] == "README.md":
                return item["id"]
    raise AssertionError("the README's CLI block filed no ticket with README.md attached")
