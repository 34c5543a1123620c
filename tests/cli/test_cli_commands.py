"""The `tickets` CLI against an in-process fake of the HTTP API (httpx.MockTransport)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from fake_api import STORAGE_HOST

# -- create -------------------------------------------------------------------------------------


def test_create_files_a_cli_ticket_with_token_and_idempotency_key(run_cli, fake):
    # Given a logged-in user (env token)
    # When they file a ticket with properties
    result = run_cli(
        "create",
        "--category",
        "technical",
        "--body",
        "Node provisioning is stuck in fra1.",
        "--property",
        "cluster_id=60c72b2f",
        "--property",
        "region=fra1",
        "--severity",
        "high",
    )

    # Then it is created with source "cli" and the id is shown
    assert result.exit_code == 0, result.output
    (post,) = fake.api_requests("POST", "/v1/tickets")
    assert post.headers["authorization"] == "Bearer test-token"
    assert len(post.headers["idempotency-key"]) == 36
    assert post.json() == {
        "category": "technical",
        "body": "Node provisioning is stuck in fra1.",
        "severity": "high",
        "properties": {"cluster_id": "60c72b2f", "region": "fra1"},
        "source": "cli",
    }
    (ticket,) = fake.tickets.values()
    assert ticket["id"] in result.stdout


def test_create_output_json_prints_only_the_raw_api_json(run_cli, fake):
    result = run_cli("--output", "json", "create", "-c", "bug", "--body", "It crashes")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["id"] in fake.tickets
    assert created["source"] == "cli"
    assert created["status"] == "pending_review"


def test_per_command_output_json(run_cli, fake):
    fake.seed_ticket()
    result = run_cli("list", "--output", "json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"items", "next_cursor"}


def test_create_reads_body_from_stdin_and_from_a_file(run_cli, fake, tmp_path):
    result = run_cli("create", "-c", "general", "--body", "-", input="From stdin\nsecond line\n")
    assert result.exit_code == 0, result.output
    note = tmp_path / "body.md"
    note.write_text("# From a file\n")
    result = run_cli("create", "-c", "general", "--body-file", str(note))
    assert result.exit_code == 0, result.output
    bodies = [r.json()["body"] for r in fake.api_requests("POST", "/v1/tickets")]
    assert bodies == ["From stdin\nsecond line\n", "# From a file\n"]


def test_create_with_attachments_sends_multipart_payload_and_files(run_cli, fake, tmp_path):
    log = tmp_path / "kubectl-describe.txt"
    log.write_text("Events: FailedScheduling\n")
    shot = tmp_path / "nodes.json"
    shot.write_text('{"nodes": []}')
    result = run_cli("create", "-c", "technical", "--body", "Stuck", "--attach", str(log), "-a", str(shot))
    assert result.exit_code == 0, result.output
    (post,) = fake.api_requests("POST", "/v1/tickets")
    fields, files = post.multipart()
    assert json.loads(fields["payload"]) == {"category": "technical", "body": "Stuck", "source": "cli"}
    assert [(name, filename, content) for name, filename, content in files] == [
        ("attachments", "kubectl-describe.txt", b"Events: FailedScheduling\n"),
        ("attachments", "nodes.json", b'{"nodes": []}'),
    ]
    (ticket,) = fake.tickets.values()
    assert [a["filename"] for a in ticket["attachments"]] == ["kubectl-describe.txt", "nodes.json"]


def test_a_file_too_big_for_one_request_goes_through_the_presigned_upload(run_cli, fake, tmp_path, monkeypatch):
    from tickets_cli import commands

    monkeypatch.setattr(commands, "INLINE_BUDGET_BYTES", 10)
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * 50)
    result = run_cli("create", "-c", "technical", "--body", "See log", "--attach", str(big))
    assert result.exit_code == 0, result.output
    presign = fake.api_requests("POST", "/v1/tickets/")[0]
    assert presign.path.endswith("/attachments")
    assert presign.json() == {"filename": "big.log", "content_type": "text/plain", "size": 50}
    upload = next(r for r in fake.requests if r.url.host == STORAGE_HOST)
    assert "authorization" not in upload.headers
    assert b"x" * 50 in upload.body
    (ticket,) = fake.tickets.values()
    assert ticket["attachments"][0]["status"] == "available"


def test_more_than_three_attachments_is_a_usage_error(run_cli, fake, tmp_path):
    files = []
    for i in range(4):
        path = tmp_path / f"f{i}.txt"
        path.write_text("x")
        files += ["--attach", str(path)]
    result = run_cli("create", "-c", "technical", "--body", "x", *files)
    assert result.exit_code == 2
    assert "at most 3" in result.output
    assert fake.requests == []


# -- review -------------------------------------------------------------------------------------


def test_create_review_yes_polls_the_review_then_files_with_review_id(run_cli, fake, sleeps):
    fake.review_polls_pending = 2
    result = run_cli("create", "-c", "technical", "--body", "Nodes stuck", "--review", "--yes")
    assert result.exit_code == 0, result.output
    (start,) = fake.api_requests("POST", "/v1/tickets/review")
    assert start.json() == {"category": "technical", "body": "Nodes stuck"}
    polls = fake.api_requests("GET", "/v1/tickets/reviews/")
    assert len(polls) == 3 and sleeps  # pending, pending, completed
    (filed,) = fake.api_requests("POST", "/v1/tickets")
    review_id = start and fake.reviews and next(iter(fake.reviews))
    assert filed.json() == {
        "category": "technical",
        "body": "Nodes stuck",
        "source": "cli",
        "review_id": review_id,
        "severity": "high",  # the review's suggestion, since none was given
    }
    assert "Node provisioning stuck in fra1" in result.stdout  # the review summary was shown
    (ticket,) = fake.tickets.values()
    assert ticket["status"] == "open"


def test_create_review_can_reply_to_a_duplicate_instead(run_cli, fake):
    dup = fake.seed_ticket(subject="Provisioning stuck in fra1", status="waiting_customer")
    fake.review_result = {
        "summary": "Provisioning stuck",
        "suggested_category": "technical",
        "category_confidence": 0.8,
        "suggested_severity": "high",
        "severity_confidence": 0.6,
        "quality": {"score": 80, "issues": []},
        "questions": [],
        "duplicates": [
            {
                "ticket_id": dup["id"],
                "subject": dup["subject"],
                "status": "waiting_customer",
                "score": 0.92,
                "evidence": ["stuck in fra1"],
            }
        ],
    }
    result = run_cli("create", "-c", "technical", "--body", "Still stuck in fra1", "--review", input="reply\n")
    assert result.exit_code == 0, result.output
    assert fake.api_requests("POST", "/v1/tickets") == []  # nothing new filed
    (reply,) = fake.api_requests("POST", f"/v1/tickets/{dup['id']}/messages")
    assert reply.json() == {"body": "Still stuck in fra1"}
    assert dup["id"] in result.stdout
    assert fake.tickets[dup["id"]]["status"] == "in_progress"


def test_create_review_asks_the_questions_and_sends_answers(run_cli, fake):
    result = run_cli(
        "create", "-c", "technical", "--body", "Nodes stuck", "--severity", "low", "--review", input="file\nprod-eu\n"
    )
    assert result.exit_code == 0, result.output
    (filed,) = fake.api_requests("POST", "/v1/tickets")
    assert filed.json()["answers"] == {"Which cluster is affected?": "prod-eu"}
    assert filed.json()["severity"] == "low"  # the user's choice is kept


def test_create_review_abort_files_nothing(run_cli, fake):
    result = run_cli("create", "-c", "technical", "--body", "Nodes stuck", "--review", input="abort\n")
    assert result.exit_code == 1
    assert fake.api_requests("POST", "/v1/tickets") == []


def test_review_command_shows_the_result_and_files_nothing(run_cli, fake):
    result = run_cli("--output", "json", "review", "-c", "technical", "--body", "Nodes stuck")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert review["status"] == "completed"
    assert review["result"]["questions"] == ["Which cluster is affected?"]
    assert fake.tickets == {}


# -- list / describe ----------------------------------------------------------------------------


def test_list_shows_a_table_with_status_and_summary(run_cli, fake):
    a = fake.seed_ticket(summary="Provisioning stuck in fra1", status="open")
    b = fake.seed_ticket(summary="Invoice missing VAT id", status="waiting_customer", category="billing")
    result = run_cli("list")
    assert result.exit_code == 0, result.output
    for ticket in (a, b):
        assert ticket["id"] in result.stdout
        assert ticket["summary"] in result.stdout
    assert "waiting customer" in result.stdout
    assert result.stdout.index(b["id"]) < result.stdout.index(a["id"])  # newest first


def test_list_sends_filters_and_repeated_status(run_cli, fake):
    result = run_cli(
        "list",
        "--status",
        "open",
        "--status",
        "in_progress",
        "--category",
        "bug",
        "--severity",
        "high",
        "--cluster-id",
        "c-1",
        "-q",
        "stuck nodes",
        "--limit",
        "5",
    )
    assert result.exit_code == 0, result.output
    (get,) = fake.api_requests("GET", "/v1/tickets")
    assert get.url.params.get_list("status") == ["open", "in_progress"]
    assert {k: v for k, v in get.url.params.multi_items() if k != "status"} == {
        "category": "bug",
        "severity": "high",
        "cluster_id": "c-1",
        "q": "stuck nodes",
        "limit": "5",
    }


def test_list_all_follows_next_cursor(run_cli, fake):
    ids = {fake.seed_ticket()["id"] for _ in range(5)}
    result = run_cli("--output", "json", "list", "--limit", "2", "--all")
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert {t["id"] for t in page["items"]} == ids and page["next_cursor"] is None
    assert len(fake.api_requests("GET", "/v1/tickets")) == 3


def test_list_without_all_hints_at_the_next_page(run_cli, fake):
    for _ in range(3):
        fake.seed_ticket()
    result = run_cli("list", "--limit", "2")
    assert result.exit_code == 0
    assert "--cursor 2" in result.stderr


def test_describe_renders_the_conversation_and_marks_internal_notes(run_cli, fake):
    ticket = fake.seed_ticket(
        body="Nodes are **stuck**.\n\n```\nFailedScheduling\n```", subject="Stuck nodes", summary="Stuck nodes in fra1"
    )
    fake.add_message(ticket["id"], "We are looking into it.")
    fake.add_message(ticket["id"], "Probably the fra1 quota.", internal=True)
    fake.callers["test-token"].roles = ["support"]  # a support engineer sees internal notes
    result = run_cli("describe", ticket["id"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Nodes are stuck." in out and "**" not in out  # markdown rendered
    assert "FailedScheduling" in out
    assert "We are looking into it." in out
    assert "INTERNAL NOTE" in out and "Probably the fra1 quota." in out
    assert out.count("INTERNAL NOTE") == 1


@pytest.mark.parametrize(
    ("token", "status", "shown", "not_shown"),
    [
        ("support-token", "waiting_customer", "waiting on the customer", "waiting on you"),
        ("support-token", "in_progress", "waiting on support (you)", "waiting on the customer"),
        ("test-token", "waiting_customer", "waiting on you", "waiting on the customer"),
        ("test-token", "in_progress", "waiting on support", "(you)"),
    ],
)
def test_describe_says_who_is_waiting_relative_to_the_reader(run_cli, fake, token, status, shown, not_shown):
    # Given a ticket waiting on the customer (waiting_on "user") or on support (waiting_on "us")
    ticket = fake.seed_ticket(status=status)
    # When support or the customer describes it
    result = run_cli("describe", ticket["id"], env={"TICKETS_TOKEN": token})
    # Then the status line is worded for whoever reads it
    assert result.exit_code == 0, result.output
    assert shown in result.stdout
    assert not_shown not in result.stdout


def test_describe_shows_raw_html_in_a_message_as_literal_text(run_cli, fake):
    # Given a support reply whose lines start with raw HTML
    ticket = fake.seed_ticket()
    fake.add_message(
        ticket["id"],
        "<b>Update:</b> the fix is deployed in fra1.\n\n<div>\nPlease retry the rollout.\n</div>\n\n"
        '<script>alert("x")</script>\n\nThanks, **Sam**',
    )
    # When the customer describes the ticket
    result = run_cli("describe", ticket["id"])
    # Then every line is there, the HTML shown as it was written, markdown still rendered
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "<b>Update:</b> the fix is deployed in fra1." in out
    assert "<div>" in out and "Please retry the rollout." in out and "</div>" in out
    assert '<script>alert("x")</script>' in out
    assert "Thanks, Sam" in out and "**" not in out


def test_describe_strips_terminal_escape_sequences_from_ticket_text(run_cli, fake):
    ticket = fake.seed_ticket(body="hello \x1b]52;c;ZXZpbA==\x07 \x1b[2J world", subject="subj \x1b[31mred")
    result = run_cli("describe", ticket["id"])
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert "world" in result.stdout


def test_describe_lists_attachment_ids(run_cli, fake):
    ticket = fake.seed_ticket()
    aid = fake.add_attachment(ticket["id"], "kubectl.txt", b"data")
    result = run_cli("describe", ticket["id"])
    assert aid in result.stdout and "kubectl.txt" in result.stdout


# -- reply / close ------------------------------------------------------------------------------


def test_reply_and_close(run_cli, fake):
    ticket = fake.seed_ticket()
    result = run_cli("reply", ticket["id"], "--body", "Confirmed, fixed. Thanks.")
    assert result.exit_code == 0, result.output
    assert fake.tickets[ticket["id"]]["messages"][-1]["body"] == "Confirmed, fixed. Thanks."
    result = run_cli("close", ticket["id"])
    assert result.exit_code == 0, result.output
    assert fake.tickets[ticket["id"]]["status"] == "closed"
    (close,) = fake.api_requests("POST", f"/v1/tickets/{ticket['id']}/close")
    assert close.headers["idempotency-key"]


def test_closing_a_closed_ticket_is_an_already_closed_success(run_cli, fake):
    # Given a ticket that is already closed (the API answers 409 "Ticket is closed")
    ticket = fake.seed_ticket(status="closed")
    # When the user closes it again, by either name
    for command in ("close", "close-ticket"):
        result = run_cli(command, ticket["id"])
        # Then it is a success that says so, with no "open a new ticket" advice
        assert result.exit_code == 0, result.output
        assert "already closed" in result.stdout.lower()
        assert ticket["id"] in result.stdout
        assert "open a new ticket" not in result.output
    # And scripts see it in the JSON
    result = run_cli("--output", "json", "close", ticket["id"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": ticket["id"], "status": "closed", "already_closed": True}


def test_a_close_that_raced_another_change_is_retried_not_called_already_closed(run_cli, fake, use_transport, sleeps):
    # Given the API answers the first close "Changed meanwhile, retry" (409 with Retry-After)
    ticket = fake.seed_ticket(status="open")
    answers = [
        httpx.Response(
            409,
            headers={"content-type": "application/problem+json", "retry-after": "1"},
            json={"type": "about:blank", "title": "Changed meanwhile, retry", "status": 409, "detail": "retry"},
        )
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/close") and answers:
            return answers.pop(0)
        return fake.handle(request)

    use_transport(httpx.MockTransport(handler))
    result = run_cli("--output", "json", "close", ticket["id"])
    # Then the close is retried after Retry-After with the same key, and really closes the ticket
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "closed"
    assert "already_closed" not in json.loads(result.stdout)
    assert sleeps == [1.0]
    assert fake.tickets[ticket["id"]]["status"] == "closed"


def test_a_conflict_that_persists_on_an_open_ticket_is_an_error(run_cli, fake, use_transport, sleeps):
    ticket = fake.seed_ticket(status="open")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/close"):
            return httpx.Response(
                409,
                headers={"content-type": "application/problem+json", "retry-after": "1"},
                json={"type": "about:blank", "title": "Changed meanwhile, retry", "status": 409, "detail": "x"},
            )
        return fake.handle(request)

    use_transport(httpx.MockTransport(handler))
    result = run_cli("close", ticket["id"])
    assert result.exit_code == 1
    assert "Changed meanwhile" in result.stderr
    assert "already closed" not in result.output.lower()
    assert fake.tickets[ticket["id"]]["status"] == "open"


def test_reply_internal_sends_the_flag(run_cli, fake):
    ticket = fake.seed_ticket()
    fake.callers["test-token"].roles = ["support"]
    result = run_cli("reply", ticket["id"], "--body", "note", "--internal")
    assert result.exit_code == 0, result.output
    assert fake.api_requests("POST", "/v1/tickets/")[0].json() == {"body": "note", "internal": True}


def test_reply_to_a_closed_ticket_exits_1_with_the_problem_on_stderr(run_cli, fake):
    ticket = fake.seed_ticket(status="closed")
    result = run_cli("reply", ticket["id"], "--body", "hello?")
    assert result.exit_code == 1
    assert "Ticket is closed" in result.stderr
    assert "open a new ticket" in result.stderr
    assert result.stdout == ""


# -- aliases ------------------------------------------------------------------------------------


def test_cloudfleet_aliases_do_what_the_commands_do(run_cli, fake, tmp_path):
    result = run_cli("--output", "json", "create-ticket", "--category", "technical", "--body", "Stuck")
    assert result.exit_code == 0, result.output
    ticket_id = json.loads(result.stdout)["id"]
    aid = fake.add_attachment(ticket_id, "a.txt", b"attached bytes")

    assert run_cli("reply-ticket", ticket_id, "--body", "More info").exit_code == 0
    described = run_cli("--output", "json", "describe-ticket", ticket_id)
    assert [m["body"] for m in json.loads(described.stdout)["messages"]] == ["Stuck", "More info"]
    got = run_cli("get-ticket-attachment", ticket_id, aid)
    assert got.exit_code == 0 and got.stdout_bytes == b"attached bytes"
    assert run_cli("close-ticket", ticket_id).exit_code == 0
    assert fake.tickets[ticket_id]["status"] == "closed"


def test_aliases_are_listed_in_help(run_cli):
    result = run_cli("--help")
    for name in ("create-ticket", "describe-ticket", "reply-ticket", "close-ticket", "get-ticket-attachment"):
        assert name in result.stdout
    assert "Exit codes" in result.stdout


# -- attachments --------------------------------------------------------------------------------


def test_attachment_download_follows_the_302_without_the_token(run_cli, fake, tmp_path):
    ticket = fake.seed_ticket()
    aid = fake.add_attachment(ticket["id"], "kubectl.txt", b"\x00binary\xffdata")
    target = tmp_path / "out.bin"
    result = run_cli("attachment", "get", ticket["id"], aid, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"\x00binary\xffdata"
    api_get, storage_get = fake.requests
    assert api_get.headers["authorization"] == "Bearer test-token"
    assert storage_get.url.host == STORAGE_HOST
    assert "authorization" not in storage_get.headers


def test_attachment_download_to_stdout_is_binary(run_cli, fake):
    ticket = fake.seed_ticket()
    aid = fake.add_attachment(ticket["id"], "x.bin", bytes(range(256)))
    result = run_cli("attachment", "get", ticket["id"], aid)
    assert result.exit_code == 0
    assert result.stdout_bytes == bytes(range(256))


def test_attachment_download_refuses_to_overwrite(run_cli, fake, tmp_path):
    ticket = fake.seed_ticket()
    aid = fake.add_attachment(ticket["id"], "x.txt", b"new")
    target = tmp_path / "x.txt"
    target.write_bytes(b"old")
    assert run_cli("attachment", "get", ticket["id"], aid, "-o", str(target)).exit_code == 2
    assert target.read_bytes() == b"old"
    assert run_cli("attachment", "get", ticket["id"], aid, "-o", str(target), "--force").exit_code == 0
    assert target.read_bytes() == b"new"


def test_unknown_attachment_is_a_404(run_cli, fake):
    ticket = fake.seed_ticket()
    result = run_cli("attachment", "get", ticket["id"], "nope", "-o", "-")
    assert result.exit_code == 1
    assert "was not found" in result.stderr


# -- errors, exit codes, retries ----------------------------------------------------------------


def test_not_found_exits_1_and_shows_title_and_detail(run_cli):
    result = run_cli("describe", "01NOTATICKET")
    assert result.exit_code == 1
    assert "Not found" in result.stderr and "Ticket 01NOTATICKET was not found." in result.stderr


def test_validation_errors_are_listed_per_field(run_cli, fake, use_transport):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            headers={"content-type": "application/problem+json"},
            json={
                "type": "about:blank",
                "title": "Invalid request",
                "status": 422,
                "detail": "The request body does not match the schema.",
                "errors": [{"field": "properties.bad key", "message": "String should match pattern"}],
            },
        )

    use_transport(httpx.MockTransport(handler))
    result = run_cli("create", "-c", "technical", "--body", "x", "--property", "bad key=1")
    assert result.exit_code == 1
    assert "properties.bad key" in result.stderr and "String should match pattern" in result.stderr


def test_output_json_errors_are_problem_json_on_stderr(run_cli):
    result = run_cli("--output", "json", "describe", "01NOTATICKET")
    assert result.exit_code == 1
    assert json.loads(result.stderr) == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "Ticket 01NOTATICKET was not found.",
    }
    assert result.stdout == ""


def test_server_errors_exit_3(run_cli, fake, sleeps):
    fake.fail_next = [500]
    result = run_cli("list")
    assert result.exit_code == 3
    assert "Injected failure" in result.stderr
    assert len(fake.requests) == 1  # a 500 is not retried


def test_network_errors_are_retried_then_exit_4(run_cli, fake, sleeps):
    fake.fail_next = [httpx.ConnectError("connection refused")] * 3
    result = run_cli("list")
    assert result.exit_code == 4
    assert "Cannot reach https://api.helpdesk.test" in result.stderr
    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_a_retried_write_reuses_its_idempotency_key(run_cli, fake, sleeps):
    # Given the first try dies on the wire and the second gets a 503
    fake.fail_next = [httpx.ReadTimeout("timed out"), 503]
    # When the user files one ticket
    result = run_cli("create", "-c", "technical", "--body", "Stuck")
    # Then the third try succeeds, all three with one key, and one ticket exists
    assert result.exit_code == 0, result.output
    posts = fake.api_requests("POST", "/v1/tickets")
    assert len(posts) == 3
    assert len({p.headers["idempotency-key"] for p in posts}) == 1
    assert len(fake.tickets) == 1
    # And a new command uses a new key
    run_cli("create", "-c", "technical", "--body", "Stuck")
    assert len({p.headers["idempotency-key"] for p in fake.api_requests("POST", "/v1/tickets")}) == 2


def test_429_is_retried_after_retry_after(run_cli, fake, sleeps, use_transport):
    answers = [httpx.Response(429, headers={"retry-after": "2"}), None]

    def handler(request: httpx.Request) -> httpx.Response:
        first = answers.pop(0)
        return first if first is not None else fake.handle(request)

    use_transport(httpx.MockTransport(handler))
    result = run_cli("list")
    assert result.exit_code == 0, result.output
    assert sleeps == [2.0]


def test_idempotency_key_flag_makes_a_rerun_apply_once(run_cli, fake):
    for _ in range(2):
        result = run_cli("--output", "json", "create", "-c", "technical", "--body", "Stuck", "--idempotency-key", "k-1")
        assert result.exit_code == 0, result.output
    assert len(fake.tickets) == 1


def test_missing_required_option_is_a_usage_error(run_cli, fake):
    result = run_cli("create", "--body", "no category")
    assert result.exit_code == 2
    assert fake.requests == []


def test_bad_property_is_a_usage_error(run_cli):
    assert run_cli("create", "-c", "technical", "--body", "x", "--property", "novalue").exit_code == 2


def test_not_logged_in_is_a_usage_error(run_cli, monkeypatch):
    monkeypatch.delenv("TICKETS_TOKEN")
    result = run_cli("list")
    assert result.exit_code == 2
    assert "tickets login" in result.stderr


def test_a_rejected_token_exits_1_and_says_to_log_in(run_cli, monkeypatch):
    monkeypatch.setenv("TICKETS_TOKEN", "wrong")
    result = run_cli("list")
    assert result.exit_code == 1
    assert "401" in result.stderr and "invalid token" in result.stderr
    assert "tickets login" in result.stderr


def test_an_expired_token_says_so_and_how_to_get_a_new_one(run_cli, monkeypatch):
    # Given a token the gateway refuses as expired (401 {"message":"Unauthorized"} + WWW-Authenticate)
    monkeypatch.setenv("TICKETS_TOKEN", "expired-token")
    # When the user runs any command
    result = run_cli("list")
    # Then they learn the token expired and to run `tickets login`, not just "Unauthorized"
    assert result.exit_code == 1
    assert "Token expired" in result.stderr
    assert "run `tickets login`" in result.stderr
    # And scripts get a problem document that says the same
    result = run_cli("--output", "json", "list")
    problem = json.loads(result.stderr)
    assert problem["status"] == 401 and problem["title"] == "Token expired"
    assert "tickets login" in problem["detail"]


@pytest.mark.parametrize(
    ("challenge", "expected"),
    [
        ('Bearer error="invalid_token" error_description="the token has expired"', "Token expired"),
        ('Bearer error="invalid_token", error_description="the token is not valid yet"', "clock"),
        ('Bearer error="invalid_token" error_description="the token has an invalid issuer"', "--api-url"),
        ('Bearer error="invalid_token" error_description="the token does not have a valid audience"', "--api-url"),
        ('Bearer error="invalid_token" error_description="signing key not found"', "--api-url"),
        ('Bearer error="invalid_token" error_description="malformed token"', "malformed token"),
        ('Bearer scope="" error="insufficient_scope" error_description="missing scope"', "scope"),
        ("", "tickets login"),
    ],
)
def test_each_gateway_refusal_reason_is_explained(run_cli, use_transport, challenge, expected):
    def gateway(request: httpx.Request) -> httpx.Response:
        status = 403 if "insufficient_scope" in challenge else 401
        headers = {"www-authenticate": challenge} if challenge else {}
        return httpx.Response(
            status, headers=headers, json={"message": "Forbidden" if status == 403 else "Unauthorized"}
        )

    use_transport(httpx.MockTransport(gateway))
    result = run_cli("list")
    assert result.exit_code == 1
    assert expected in result.stderr, result.stderr


# -- login / profiles ---------------------------------------------------------------------------


def test_login_stores_a_private_profile_that_later_commands_use(run_cli, fake, cli_env, monkeypatch):
    monkeypatch.delenv("TICKETS_TOKEN")
    monkeypatch.delenv("TICKETS_API_URL")
    result = run_cli(
        "login", "--api-url", "https://api.helpdesk.test/v1/", "--token", "-", "--profile", "acme", input="test-token\n"
    )
    assert result.exit_code == 0, result.output
    assert "alice@acme.test" in result.stderr
    path = Path(cli_env["TICKETS_CONFIG"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = tomllib.loads(path.read_text())
    assert stored == {
        "default_profile": "acme",
        "profiles": {"acme": {"api_url": "https://api.helpdesk.test", "token": "test-token"}},
    }
    fake.seed_ticket()
    assert run_cli("list").exit_code == 0
    assert fake.requests[-1].headers["authorization"] == "Bearer test-token"


def test_env_token_overrides_the_profile(run_cli, fake, monkeypatch):
    monkeypatch.delenv("TICKETS_TOKEN")
    assert run_cli("login", "--token", "test-token", "--profile", "p1").exit_code == 0
    monkeypatch.setenv("TICKETS_TOKEN", "support-token")
    assert run_cli("--profile", "p1", "list").exit_code == 0
    assert fake.requests[-1].headers["authorization"] == "Bearer support-token"


def test_login_with_a_bad_token_stores_nothing(run_cli, cli_env, monkeypatch):
    result = run_cli("login", "--token", "wrong")
    assert result.exit_code == 1
    assert not Path(cli_env["TICKETS_CONFIG"]).exists()


def test_unknown_profile_is_a_usage_error(run_cli, monkeypatch):
    monkeypatch.delenv("TICKETS_TOKEN")
    result = run_cli("--profile", "nope", "list")
    assert result.exit_code == 2
    assert "No profile named 'nope'" in result.stderr


# -- startup ------------------------------------------------------------------------------------


def test_help_does_not_import_the_heavy_libraries():
    code = (
        "import sys\n"
        "sys.argv = ['tickets', '--help']\n"
        "from tickets_cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('httpx', 'mcp', 'rich.progress', 'pydantic') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "Usage" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("args", [["--version"], ["attachment", "--help"]])
def test_entry_point_runs(args):
    done = subprocess.run([sys.executable, "-m", "tickets_cli", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_describe_shows_the_timeline_inline_and_when_support_owes_a_response(run_cli, fake):
    # Given a ticket support owes a response by a time to come, whose severity support raised
    ticket = fake.seed_ticket(response_due_at="2099-01-01T10:00:00.000Z", response_breached=False)
    change = fake.add_message(ticket["id"], "Severity changed from **medium** to **high** by agent@helpdesk.test.")
    change["author"] = {"id": "system", "email": None, "kind": "system"}
    change["change"] = {
        "field": "severity",
        "before": "medium",
        "after": "high",
        "by": {"id": "u-s", "email": "agent@helpdesk.test"},
    }
    # When the customer describes it
    result = run_cli("describe", ticket["id"])
    # Then the change is one line of the timeline (who, what, from -> to), and the due time is shown
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "severity medium → high" in out and "by agent@helpdesk.test" in out
    assert "Response due" in out and "2099-01-01" in out


def test_a_breached_target_is_said_in_describe_and_the_list(run_cli, fake):
    fake.seed_ticket(response_due_at="2020-01-01T10:00:00.000Z", response_breached=True)
    listed = run_cli("list")
    assert listed.exit_code == 0, listed.output
    assert "DUE" in listed.stdout and "BREACHED" in listed.stdout
