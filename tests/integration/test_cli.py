"""The `tickets` executable against the local stack: a subprocess per command, as a user runs it,
with TICKETS_API_URL / TICKETS_TOKEN pointing at the stack and its profile file in a temp dir."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack, free_port

pytestmark = pytest.mark.integration

TICKETS = Path(sys.executable).with_name("tickets")
if not TICKETS.exists():  # the tests run on another interpreter than the project's virtualenv
    TICKETS = ROOT / ".venv" / "bin" / "tickets"
ATTACHMENT = "kubectl describe pod api-7f9c\nState: Terminated\nReason: OOMKilled (exit 137) — Événement\n".encode()
ID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")

Run = Callable[..., "subprocess.CompletedProcess[Any]"]


@pytest.fixture(scope="module")
def tickets(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`tickets("list", "--status", "open")` runs the executable as acme_user against the stack;
    `env={...}` adds or (with None) removes variables, `input=` feeds stdin, `binary=True` keeps bytes."""
    assert TICKETS.exists(), f"{TICKETS} is missing: pip install -e clients/cli"
    home = tmp_path_factory.mktemp("cli")
    base = {name: value for name, value in os.environ.items() if not name.startswith("TICKETS_")}
    base |= {
        "TICKETS_API_URL": stack.url,
        "TICKETS_TOKEN": stack.tokens["acme_user"],
        "TICKETS_CONFIG": str(home / "helpdesk" / "profiles.toml"),
        "COLUMNS": "200",  # no wrapping of the text output asserted on
    }

    def run(
        *args: str, input: str | bytes | None = None, env: dict[str, str | None] | None = None, binary: bool = False
    ) -> subprocess.CompletedProcess[Any]:
        full = dict(base)
        for name, value in (env or {}).items():
            if value is None:
                full.pop(name, None)
            else:
                full[name] = value
        if binary and isinstance(input, str):
            input = input.encode()
        return subprocess.run(
            [str(TICKETS), *args],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=not binary,
            env=full,
            cwd=home,
            timeout=120,
        )

    return run


def ok(result: subprocess.CompletedProcess[Any]) -> subprocess.CompletedProcess[Any]:
    assert result.returncode == 0, f"{result.args[1:]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def as_json(result: subprocess.CompletedProcess[Any]) -> Any:
    return json.loads(ok(result).stdout)


def get_ticket(stack: RunningStack, ticket_id: str, user: str = "acme_user") -> dict[str, Any]:
    with stack.as_user(user) as client:
        response = client.get(f"/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def bodies(ticket: dict[str, Any]) -> list[str]:
    """The customer's messages (the reviewer adds an AI note to the conversation, too)."""
    return [m["body"].strip() for m in ticket["messages"] if m["author"]["kind"] == "user"]


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "kubectl.txt"
    path.write_bytes(ATTACHMENT)
    return path


def test_login_writes_a_profile_the_next_commands_use(tickets: Run, stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "profiles.toml"
    without_env = {"TICKETS_TOKEN": None, "TICKETS_API_URL": None, "TICKETS_CONFIG": str(config)}

    # Given nobody logged in, commands say how to log in (exit 2)
    missing = tickets("list", env=without_env)
    assert missing.returncode == 2, missing.stderr
    assert "tickets login" in missing.stderr

    # When the user logs in
    login = ok(tickets("login", "--api-url", stack.url, "--token", stack.tokens["acme_user"], env=without_env))
    assert "user@acme.test" in login.stderr

    # Then the profile holds the URL and the token, readable by the owner only
    profile = tomllib.loads(config.read_text())
    assert profile["default_profile"] == "default"
    assert profile["profiles"]["default"] == {"api_url": stack.url, "token": stack.tokens["acme_user"]}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    # And later commands use it without any environment
    me = as_json(tickets("whoami", "--output", "json", env=without_env))
    assert (me["email"], me["org_id"]) == ("user@acme.test", "acme")
    ok(tickets("list", env=without_env))


def test_a_ticket_from_create_to_close(tickets: Run, stack: RunningStack, log_file: Path, tmp_path: Path) -> None:
    body = "Pods in prod-eu are OOMKilled since 10:00 UTC; `kubectl describe` attached."

    # Given a ticket created with a property and a real file (one multipart request)
    created = as_json(
        tickets(
            "--output",
            "json",
            "create",
            "--category",
            "technical",
            "--body",
            body,
            "--property",
            "cluster_id=prod-eu",
            "--attach",
            str(log_file),
        )
    )
    ticket_id = created["id"]
    ticket = get_ticket(stack, ticket_id)
    assert ticket["source"] == "cli"
    assert ticket["properties"] == {"cluster_id": "prod-eu"}
    (first,) = ticket["messages"]
    assert first["body"] == body
    (attachment,) = first["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("kubectl.txt", len(ATTACHMENT))
    assert attachment["content_type"].startswith("text/plain")

    # It is listed, as text and as the API's JSON
    listed = ok(tickets("list", "--limit", "100")).stdout
    assert ticket_id in listed
    page = as_json(tickets("list", "--output", "json", "--limit", "100"))
    assert ticket_id in [item["id"] for item in page["items"]]
    assert "next_cursor" in page

    # describe shows the conversation and the attachment
    described = ok(tickets("describe", ticket_id)).stdout
    for text in (ticket_id, "Pods in prod-eu are OOMKilled since 10:00 UTC", "user@acme.test", "kubectl.txt"):
        assert text in described
    assert attachment["id"] in described

    # reply reads its body from stdin
    replied = ok(tickets("reply", ticket_id, "--body", "-", input="Still failing after the restart.\n"))
    assert ticket_id in replied.stdout
    assert "Still failing after the restart." in bodies(get_ticket(stack, ticket_id))

    # attachment get returns the uploaded bytes, to a file and to stdout
    saved = tmp_path / "saved.txt"
    ok(tickets("attachment", "get", ticket_id, attachment["id"], "-o", str(saved)))
    assert saved.read_bytes() == ATTACHMENT
    piped = ok(tickets("attachment", "get", ticket_id, attachment["id"], binary=True))
    assert piped.stdout == ATTACHMENT

    # close, and then a reply is refused with the API's 409
    closed = ok(tickets("close", ticket_id))
    assert "closed" in closed.stdout.lower()
    assert get_ticket(stack, ticket_id)["status"] == "closed"
    # closing it again is no error: it says the ticket was already closed
    again = ok(tickets("close", ticket_id))
    assert "already closed" in again.stdout.lower() and "open a new ticket" not in again.stderr
    assert as_json(tickets("--output", "json", "close-ticket", ticket_id)) == {
        "id": ticket_id,
        "status": "closed",
        "already_closed": True,
    }
    late = tickets("reply", ticket_id, "--body", "one more thing")
    assert late.returncode == 1, late.stderr
    assert "409" in late.stderr and "closed" in late.stderr.lower()


def test_cloudfleets_names_are_aliases(tickets: Run, stack: RunningStack, log_file: Path, tmp_path: Path) -> None:
    created = as_json(
        tickets(
            "--output",
            "json",
            "create-ticket",
            "-c",
            "bug",
            "-b",
            "The dashboard answers 500 on /clusters.",
            "-a",
            str(log_file),
        )
    )
    ticket_id = created["id"]
    assert created["source"] == "cli"

    assert "The dashboard answers 500 on /clusters." in ok(tickets("describe-ticket", ticket_id)).stdout
    described = as_json(tickets("describe-ticket", ticket_id, "--output", "json"))
    attachment_id = described["messages"][0]["attachments"][0]["id"]

    ok(tickets("reply-ticket", ticket_id, "--body", "-", input="Confirmed, the fix works."))
    saved = tmp_path / "alias.txt"
    ok(tickets("get-ticket-attachment", ticket_id, attachment_id, "-o", str(saved)))
    assert saved.read_bytes() == ATTACHMENT
    ok(tickets("close-ticket", ticket_id))

    ticket = get_ticket(stack, ticket_id)
    assert ticket["status"] == "closed"
    assert "Confirmed, the fix works." in bodies(ticket)
    late = tickets("reply-ticket", ticket_id, "--body", "hello?")
    assert late.returncode == 1 and "409" in late.stderr


def test_review_waits_for_the_reviewer_in_the_stack(tickets: Run) -> None:
    text = ok(
        tickets(
            "review",
            "-c",
            "technical",
            "-b",
            "Node provisioning is stuck in fra1 since 14:00 UTC.\n\n```\nError: 0/3 nodes are available\n```",
        )
    ).stdout
    assert "AI review: completed" in text
    assert re.search(r"Review\s+" + ID.pattern, text)

    review = as_json(
        tickets("--output", "json", "review", "-c", "bug", "-b", "Dashboard 500 on /clusters since 09:10.")
    )
    assert review["status"] == "completed", review
    assert review["result"]["suggested_category"]
    assert isinstance(review["result"]["questions"], list)


def test_create_with_review_files_the_reviewed_ticket_open(tickets: Run, stack: RunningStack, tmp_path: Path) -> None:
    incident = tmp_path / "incident.md"
    incident.write_text(
        "# Incident\n\nVolumes fail to attach in ams3 since 08:30 UTC:\n\n```\nAttachVolume.Attach failed\n```\n"
    )

    result = ok(tickets("create", "--category", "technical", "--body-file", str(incident), "--review", "--yes"))
    assert "AI review: completed" in result.stdout
    match = re.search(r"Created ticket (" + ID.pattern + ")", result.stdout)
    assert match, result.stdout

    ticket = get_ticket(stack, match.group(1))
    assert ticket["status"] == "open"  # filed from an accepted review: no second review
    assert ticket["source"] == "cli"
    assert ticket["messages"][0]["body"] == incident.read_text()


def test_a_wrong_token_is_exit_1_with_the_401_and_what_to_do(tickets: Run, stack: RunningStack) -> None:
    result = tickets("list", env={"TICKETS_TOKEN": "not-a-token"})
    assert result.returncode == 1, result.stderr
    assert "401" in result.stderr and "Unauthorized" in result.stderr and "malformed token" in result.stderr
    assert "tickets login" in result.stderr


def test_an_expired_token_says_it_expired_and_to_log_in(tickets: Run, stack: RunningStack) -> None:
    expired = stack.mint(sub="u-acme-user", org_id="acme", email="user@acme.test", roles=["member"], ttl=-60)
    result = tickets("list", env={"TICKETS_TOKEN": expired})
    assert result.returncode == 1, result.stderr
    assert "Token expired" in result.stderr and "run `tickets login`" in result.stderr
    foreign = stack.mint(sub="u-acme-user", org_id="acme", roles=["member"], issuer="https://elsewhere.test")
    result = tickets("list", env={"TICKETS_TOKEN": foreign})
    assert result.returncode == 1, result.stderr
    assert "invalid issuer" in result.stderr and "--api-url" in result.stderr


def test_describe_as_support_says_the_ticket_waits_on_the_customer(tickets: Run, stack: RunningStack) -> None:
    # Given a customer's ticket that support answered: it now waits on the customer
    created = as_json(tickets("--output", "json", "create", "-c", "technical", "-b", "Ingress 502s in fra1."))
    ticket_id = created["id"]
    answer = (
        "<b>Update:</b> a fix for the ingress is deployed.\n\n<details>\nRoot cause: an old TLS secret.\n</details>"
    )
    with stack.as_user("support") as support:
        response = support.post(f"/v1/tickets/{ticket_id}/messages", json={"body": answer})
        assert response.status_code == 201, response.text
    assert get_ticket(stack, ticket_id)["waiting_on"] == "user"

    # When support describes it, it waits on the customer; the customer reads that it waits on them
    as_support = ok(tickets("describe", ticket_id, env={"TICKETS_TOKEN": stack.tokens["support"]})).stdout
    assert "waiting on the customer" in as_support and "waiting on you" not in as_support
    as_customer = ok(tickets("describe", ticket_id)).stdout
    assert "waiting on you" in as_customer

    # And the reply's HTML lines are shown as written, not dropped
    for text in ("<b>Update:</b> a fix for the ingress is deployed.", "<details>", "Root cause: an old TLS secret."):
        assert text in as_customer


def test_an_unreachable_api_is_exit_4(tickets: Run) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = tickets("list", env={"TICKETS_API_URL": url})
    assert result.returncode == 4, result.stderr
    assert "Cannot reach" in result.stderr and url in result.stderr
