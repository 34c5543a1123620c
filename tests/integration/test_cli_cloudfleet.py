"""A runbook written for Cloudfleet runs with a one-word change: every `cloudfleet tickets …`
command block of the vendor's docs (/work/shared/seeds/cloudfleet-support-tickets.txt, read at
test time, so a change to the seed is tested too) runs with bash, as written, with
`cloudfleet tickets` → `.venv/bin/tickets`, against the local stack.

The only other substitution is the one the docs ask for ("keep the ticket id for follow-up
commands"): the placeholder IDs given as a command's arguments become the ticket the docs'
create-ticket block filed and an attachment a teammate uploaded to it (the docs: "an attachment
that support or a teammate uploaded"). Everything else, `.field: value` arguments, quotes, trailing
commas, line continuations and `> attachment.bin`, is the seed's text."""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack

pytestmark = pytest.mark.integration

SEED = Path(os.environ.get("CLOUDFLEET_SEED", "/work/shared/seeds/cloudfleet-support-tickets.txt"))
VENDOR = "cloudfleet tickets"
OURS = ".venv/bin/tickets"
# The placeholder IDs a command takes as arguments: Cloudfleet's are 24 hex digits (ObjectIds).
ARGUMENT_IDS = re.compile(r"^(" + VENDOR + r" [\w-]+)((?:[ \t]+[0-9a-f]{24}\b)+)")
CREATED = re.compile(r"Created ticket ([0-9A-HJKMNP-TV-Z]{26})\b")
ATTACHMENT = b"kubectl describe node fra1-pool-7\nConditions: NetworkUnavailable=True\n"


def command_blocks(text: str) -> list[str]:
    """Each `cloudfleet tickets …` command of the docs, with its `\\`-continued lines."""
    blocks: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        if not line.startswith(VENDOR + " "):
            continue
        block = [line]
        while block[-1].rstrip().endswith("\\"):
            block.append(next(lines))
        blocks.append("\n".join(block))
    return blocks


def name_of(block: str) -> str:
    return block.split()[2]


def fields_of(block: str) -> dict[str, str]:
    """What the block's `.field: value` arguments say, read independently of the CLI: the shell's
    words, `.key:` then its value, the separating comma dropped."""
    words = shlex.split(block.replace("\\\n", " "))
    fields = {}
    for key, value in itertools.pairwise(words):
        if key.startswith(".") and key.endswith(":"):
            fields[key[1:-1]] = value.removesuffix(",")
    return fields


@pytest.fixture(scope="module")
def seed_blocks() -> list[str]:
    if not SEED.exists():
        pytest.skip(f"{SEED} is not on this machine")
    blocks = command_blocks(SEED.read_text())
    names = [name_of(block) for block in blocks]
    # the ones this test is about: a runbook files a ticket, then follows up on it
    assert {"create-ticket", "reply-ticket"} <= set(names), names
    assert names.index("create-ticket") < min(i for i, b in enumerate(blocks) if ARGUMENT_IDS.match(b)), names
    return blocks


@pytest.fixture
def runbook_dir(tmp_path: Path) -> Path:
    """A directory where `.venv/bin/tickets` resolves as in a checkout."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    return tmp_path


def run_block(stack: RunningStack, cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TICKETS_")}
    env |= {
        "TICKETS_API_URL": stack.url,
        "TICKETS_TOKEN": stack.tokens["acme_user"],
        "TICKETS_CONFIG": str(cwd / "profiles.toml"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def with_ids(block: str, ticket_id: str | None, attachment_id: str | None) -> str:
    """The block with its argument IDs replaced: the first is a ticket's, the second an attachment's."""
    match = ARGUMENT_IDS.match(block)
    if not match:
        return block
    placeholders = match.group(2).split()
    real = [ticket_id, attachment_id][: len(placeholders)]
    assert all(real), f"no real id for {placeholders} yet: {block}"
    return block[: match.start(2)] + "".join(f" {value}" for value in real) + block[match.end(2) :]


def conversation(stack: RunningStack, ticket_id: str) -> dict[str, Any]:
    with stack.as_user("acme_user") as acme:
        response = acme.get(f"/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def teammate_attaches(stack: RunningStack, ticket_id: str) -> str:
    """A teammate replies with a file through the API; the attachment's id."""
    with stack.as_user("acme_admin") as teammate:
        response = teammate.post(
            f"/v1/tickets/{ticket_id}/messages",
            files={
                "payload": (None, '{"body": "Node conditions attached."}'),
                "attachments": ("node.txt", ATTACHMENT, "text/plain"),
            },
        )
    assert response.status_code == 201, response.text
    (attachment,) = response.json()["attachments"]
    return str(attachment["id"])


def test_the_cloudfleet_docs_command_blocks_run_as_written(
    stack: RunningStack, runbook_dir: Path, seed_blocks: list[str]
) -> None:
    ticket_id: str | None = None
    attachment_id: str | None = None
    ran: list[str] = []
    for block in seed_blocks:
        name = name_of(block)
        script = with_ids(block, ticket_id, attachment_id).replace(VENDOR, OURS)
        result = run_block(stack, runbook_dir, script)
        assert result.returncode == 0, f"{script}\nexited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        ran.append(name)
        fields = fields_of(block)

        if name == "create-ticket":
            created = CREATED.search(result.stdout)
            assert created, result.stdout
            ticket_id = created.group(1)
            ticket = conversation(stack, ticket_id)
            assert ticket["category"] == fields["category"]
            assert ticket["messages"][0]["body"] == fields["body"]
            properties = {k.removeprefix("properties."): v for k, v in fields.items() if k.startswith("properties.")}
            assert ticket["properties"] == properties and properties
            assert ticket["source"] == "cli"
            attachment_id = teammate_attaches(stack, ticket_id)
        elif name == "list":
            assert ticket_id is None or ticket_id in result.stdout
        elif name == "describe-ticket":
            assert ticket_id and ticket_id in result.stdout
            assert "Node conditions attached." in result.stdout and attachment_id in result.stdout
        elif name == "reply-ticket":
            assert ticket_id
            replies = [m["body"] for m in conversation(stack, ticket_id)["messages"] if m["author"]["kind"] == "user"]
            assert replies[-1] == fields["body"]
        elif name == "get-ticket-attachment":
            (target,) = re.findall(r">\s*(\S+)\s*$", block)
            assert (runbook_dir / target).read_bytes() == ATTACHMENT
        elif name == "close-ticket":
            assert ticket_id and conversation(stack, ticket_id)["status"] == "closed"
    print(f"\nran the seed's blocks: {', '.join(ran)}")


def test_the_block_reader_finds_each_command_with_its_continuations() -> None:
    text = (
        "Run this:\ncloudfleet auth login\n"
        'cloudfleet tickets create-ticket \\\n.category: technical, \\\n.body: "a, b"\ncurl https://x\n'
        "cloudfleet tickets close-ticket 60c72b2f9f1b2c001f8e4d3a\n"
    )
    blocks = command_blocks(text)
    assert blocks == [
        'cloudfleet tickets create-ticket \\\n.category: technical, \\\n.body: "a, b"',
        "cloudfleet tickets close-ticket 60c72b2f9f1b2c001f8e4d3a",
    ]
    assert fields_of(blocks[0]) == {"category": "technical", "body": "a, b"}
    assert with_ids(blocks[1], "T" * 26, None) == "cloudfleet tickets close-ticket " + "T" * 26
    assert with_ids(blocks[0], None, None) == blocks[0]  # a cluster id in a field is not an argument
