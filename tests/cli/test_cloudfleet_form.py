"""Cloudfleet's `.field: value` arguments on the Cloudfleet-named commands (create-ticket,
reply-ticket, …), as the shell hands them over: quotes gone, separators glued to the words."""

from __future__ import annotations

import json
import shlex

import pytest

SEED_BODY = "Node provisioning is stuck in fra1 since 14:00 UTC. No new nodes are coming up for pending workloads."


def words(line: str) -> list[str]:
    """A command line split as bash splits it (continuation lines joined)."""
    return shlex.split(line.replace("\\\n", " "))


def test_create_ticket_takes_the_cloudfleet_form_as_documented(run_cli, fake):
    # Given the seed's create-ticket block, with `tickets` for `cloudfleet tickets`
    line = f"""create-ticket \\
.category: technical, \\
.body: "{SEED_BODY}", \\
.properties.cluster_id: 60c72b2f9f1b2c001f8e4d3a, \\
.properties.subcategory: cluster-question"""
    # When it runs
    result = run_cli(*words(line))
    # Then the ticket is filed with those fields, the separators gone
    assert result.exit_code == 0, result.output
    (post,) = fake.api_requests("POST", "/v1/tickets")
    assert post.json() == {
        "category": "technical",
        "body": SEED_BODY,
        "properties": {"cluster_id": "60c72b2f9f1b2c001f8e4d3a", "subcategory": "cluster-question"},
        "source": "cli",
    }
    (ticket,) = fake.tickets.values()
    assert ticket["id"] in result.stdout


def test_reply_ticket_takes_a_body_field(run_cli, fake):
    ticket = fake.seed_ticket()
    line = f'reply-ticket {ticket["id"]} \\\n.body: "Confirmed, the issue stopped after the fix was deployed. Thanks."'
    result = run_cli(*words(line))
    assert result.exit_code == 0, result.output
    assert fake.tickets[ticket["id"]]["messages"][-1]["body"] == (
        "Confirmed, the issue stopped after the fix was deployed. Thanks."
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # no space after the colon, and the last field without a comma
        (".category:bug, .body:crash", {"category": "bug", "body": "crash"}),
        # a value that starts like an option or like a field is still the value
        ('.category: bug, .body: "-rf deleted /data",', {"category": "bug", "body": "-rf deleted /data"}),
        ('.category: bug, .body: ".env: missing"', {"category": "bug", "body": ".env: missing"}),
        # only the separator comma goes; a comma in the value stays
        ('.category: bug, .body: "a, b,",', {"category": "bug", "body": "a, b,"}),
        # a separator standing alone, subject and severity
        (
            ".category: billing , .subject: VAT , .severity: low , .body: Invoice",
            {"category": "billing", "subject": "VAT", "severity": "low", "body": "Invoice"},
        ),
        # a whole field quoted as one word
        ('".category: general," ".body: hello there"', {"category": "general", "body": "hello there"}),
    ],
)
def test_create_ticket_field_spellings(run_cli, fake, line, expected):
    result = run_cli("create-ticket", *words(line))
    assert result.exit_code == 0, result.output
    (post,) = fake.api_requests("POST", "/v1/tickets")
    assert post.json() == {**expected, "source": "cli"}


def test_the_form_mixes_with_options_and_stdin(run_cli, fake):
    result = run_cli("create-ticket", ".category:", "technical,", ".body:", "-", "--output", "json", input="From stdin")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] in fake.tickets
    assert fake.api_requests("POST", "/v1/tickets")[0].json()["body"] == "From stdin"


def test_ids_may_carry_the_separator(run_cli, fake):
    ticket = fake.seed_ticket()
    assert run_cli("describe-ticket", f"{ticket['id']},").exit_code == 0
    assert run_cli("close-ticket", f"{ticket['id']},").exit_code == 0
    assert fake.tickets[ticket["id"]]["status"] == "closed"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["create-ticket", ".category:", "technical,", ".body:", "x,", ".priority:", "p1"],
            "'.priority:': create-ticket takes .category:",
        ),
        (["create-ticket", ".category:", "urgent,", ".body:", "x"], "urgent"),
        (["create-ticket", ".category:", "bug,", ".body:", "x,", "--body", "y"], "not both"),
        (["create-ticket", ".category:", "bug,", ".body:", "x,", ".body:", "y"], "given twice"),
        (["create-ticket", ".category:", "bug,", ".properties:", "x"], ".properties.KEY"),
        (["create-ticket", ".category:", "bug,", ".body:"], "has no value"),
        (["reply-ticket", "T1", ".category:", "bug"], "'.category:': reply-ticket takes .body:"),
        (["describe-ticket", ".id:", "T1"], "takes IDs as arguments"),
    ],
)
def test_a_wrong_field_is_a_usage_error_before_any_request(run_cli, fake, args, says):
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.stderr.split()), result.stderr
    assert fake.requests == []


def test_the_helpdesk_names_keep_their_own_syntax(run_cli, fake):
    # `create` is ours: `.field:` words there are stray arguments, as before
    result = run_cli("create", ".category:", "technical")
    assert result.exit_code == 2
    assert fake.requests == []
