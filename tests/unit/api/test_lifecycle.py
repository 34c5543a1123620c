"""The ticket lifecycle (SPEC section 3): who owes the next response, closed is terminal, If-Match."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ACME_ADMIN, ACME_USER, SUPPORT, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    close,
    conversation,
    mark_reviewed,
    new_ticket,
    patch,
    patch_event,
    reply,
    table_items,
)

WAITING_ON = {
    "pending_review": "us",
    "open": "us",
    "triaging": "us",
    "in_progress": "us",
    "waiting_customer": "user",
    "resolved": "user",
    "closed": None,
}


def ticket_in(status: str) -> dict[str, Any]:
    """A ticket of acme brought to `status` the way the system gets there."""
    ticket = new_ticket()
    if status != "pending_review":
        mark_reviewed(ticket)  # the review is done: open
    if status in ("triaging", "in_progress", "resolved"):
        assert patch(ticket["id"], {"status": status}, SUPPORT).status == 200
    elif status == "waiting_customer":
        assert reply(ticket["id"], "Can you send the logs?", SUPPORT).status == 201
    elif status == "closed":
        assert close(ticket["id"]).status == 200
    assert conversation(ticket["id"])["status"] == status
    return ticket


def test_create_is_pending_review_and_a_done_review_opens_it(aws) -> None:
    # When a ticket is filed
    ticket = new_ticket()
    # Then it waits for its review, on us
    assert (ticket["status"], ticket["waiting_on"]) == ("pending_review", "us")
    # When its review is done
    mark_reviewed(ticket)
    # Then it is open, still on us
    stored = conversation(ticket["id"])
    assert (stored["status"], stored["waiting_on"]) == ("open", "us")


STATUS_TABLE = [
    # (status before, who writes,       status after)
    ("pending_review", "support", "waiting_customer"),
    ("open", "support", "waiting_customer"),
    ("triaging", "support", "waiting_customer"),
    ("in_progress", "support", "waiting_customer"),
    ("waiting_customer", "support", "waiting_customer"),
    ("resolved", "support", "waiting_customer"),
    ("pending_review", "customer", "pending_review"),
    ("open", "customer", "open"),
    ("triaging", "customer", "triaging"),
    ("in_progress", "customer", "in_progress"),
    ("waiting_customer", "customer", "in_progress"),
    ("resolved", "customer", "in_progress"),
    ("pending_review", "admin", "pending_review"),
    ("waiting_customer", "admin", "in_progress"),
    ("resolved", "admin", "in_progress"),
    ("pending_review", "internal note", "pending_review"),
    ("open", "internal note", "open"),
    ("triaging", "internal note", "triaging"),
    ("in_progress", "internal note", "in_progress"),
    ("waiting_customer", "internal note", "waiting_customer"),
    ("resolved", "internal note", "resolved"),
]


@pytest.mark.parametrize(("before", "writer", "after"), STATUS_TABLE)
def test_status_follows_who_wrote_last(aws, before: str, writer: str, after: str) -> None:
    # Given a ticket in `before`
    ticket = ticket_in(before)
    version = conversation(ticket["id"])["version"]
    # When `writer` adds a message
    claims = {"support": SUPPORT, "internal note": SUPPORT, "customer": ACME_USER, "admin": ACME_ADMIN}[writer]
    response = reply(ticket["id"], "A message", claims, internal=True if writer == "internal note" else None)
    assert response.status == 201, response
    # Then the ticket is in `after`, waiting on whom the status says, and its version moved on once
    # (an internal note leaves no trace customers could see: not even the version)
    stored = conversation(ticket["id"], SUPPORT)
    assert stored["status"] == after
    assert stored["waiting_on"] == WAITING_ON[after]
    assert stored["version"] == version + (0 if writer == "internal note" else 1)
    written = [m for m in stored["messages"] if m["author"]["kind"] != "system"]
    assert written[-1]["id"] == response.json()["id"]
    # and a status it moved is in the timeline, right after the message that moved it
    timeline = stored["messages"][stored["messages"].index(written[-1]) + 1 :]
    moves = [(m["change"]["before"], m["change"]["after"]) for m in timeline]
    assert moves == ([] if before == after else [(before, after)])
    # and lists by status agree
    listed = invoke("list_tickets", event("list_tickets", claims=SUPPORT, query={"status": after})).json()
    assert ticket["id"] in [item["id"] for item in listed["items"]]


@pytest.mark.parametrize("status", list(WAITING_ON))
def test_waiting_on_follows_status(aws, status: str) -> None:
    # Given a ticket in each status
    ticket = ticket_in(status)
    # When it is read and listed
    # Then get, list and the patch response all say who owes the next response
    assert conversation(ticket["id"])["waiting_on"] == WAITING_ON[status]
    listed = invoke("list_tickets", event("list_tickets", query={"status": status})).json()["items"]
    assert [item["waiting_on"] for item in listed] == [WAITING_ON[status]]


def test_a_conversation_hands_the_ball_back_and_forth(aws) -> None:
    # Given an open ticket
    ticket = ticket_in("open")
    steps = [
        (lambda: reply(ticket["id"], "Which region?", SUPPORT), "waiting_customer"),
        (lambda: reply(ticket["id"], "fra1"), "in_progress"),
        (lambda: reply(ticket["id"], "And it is urgent"), "in_progress"),
        (lambda: patch(ticket["id"], {"status": "triaging"}, SUPPORT), "triaging"),
        (lambda: reply(ticket["id"], "Still broken"), "triaging"),
        (lambda: reply(ticket["id"], "Fixed, please confirm", SUPPORT), "waiting_customer"),
        (lambda: patch(ticket["id"], {"status": "resolved"}, SUPPORT), "resolved"),
        (lambda: reply(ticket["id"], "It broke again"), "in_progress"),
        (lambda: close(ticket["id"], ACME_ADMIN), "closed"),
    ]
    for step, expected in steps:
        # When each step happens
        response = step()
        assert response.status in (200, 201), response
        # Then the status is the one the rules name
        assert conversation(ticket["id"])["status"] == expected


# ---------------------------------------------------------------- closed is terminal


def _attempts(ticket_id: str) -> dict[str, Any]:
    return {
        "customer reply": lambda: reply(ticket_id, "Hello again?"),
        "support reply": lambda: reply(ticket_id, "Reopening", SUPPORT),
        "internal note": lambda: reply(ticket_id, "note", SUPPORT, internal=True),
        "customer patch": lambda: patch(ticket_id, {"severity": "critical"}),
        "support patch status": lambda: patch(ticket_id, {"status": "in_progress"}, SUPPORT),
        "support assign": lambda: patch(ticket_id, {"assignee": "agent@helpdesk.test"}, SUPPORT),
        "patch with current If-Match": lambda: patch(ticket_id, {"severity": "low"}, if_match='"3"'),
        "close again": lambda: close(ticket_id),
        "close again by support": lambda: close(ticket_id, SUPPORT),
        "DELETE again": lambda: invoke(
            "close_ticket",
            event("close_ticket", path={"ticket_id": ticket_id}, method="DELETE", route_path="/v1/tickets/{ticket_id}"),
        ),
    }


ATTEMPTS = list(_attempts("x"))


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_closed_is_terminal(aws, attempt: str) -> None:
    # Given a closed ticket (version 3: filed, reviewed, closed) and the whole table
    ticket = ticket_in("closed")
    before = conversation(ticket["id"], SUPPORT)
    assert before["version"] == 3
    items = table_items()
    # When anyone tries to write to it
    response = _attempts(ticket["id"])[attempt]()
    # Then it is a conflict that says the ticket is closed
    problem = assert_problem(response, 409)
    assert "closed" in problem["detail"]
    # and nothing changed
    assert conversation(ticket["id"], SUPPORT) == before
    assert table_items() == items


# ---------------------------------------------------------------- If-Match


@pytest.mark.parametrize("if_match", ['"1"', '"3"', '"0"', '"99"'])
def test_a_stale_if_match_is_412_and_changes_nothing(aws, if_match: str) -> None:
    # Given a ticket at version 2
    ticket = new_ticket()
    assert patch(ticket["id"], {"severity": "low"}).status == 200
    items = table_items()
    # When it is patched with another version's ETag
    response = patch(ticket["id"], {"severity": "critical"}, if_match=if_match)
    # Then the precondition fails and nothing changed
    assert_problem(response, 412)
    assert table_items() == items


@pytest.mark.parametrize("if_match", ["*", " * ", '"2"', 'W/"2"', None])
def test_a_current_or_wildcard_if_match_passes(aws, if_match: str | None) -> None:
    # Given a ticket at version 2
    ticket = new_ticket()
    assert patch(ticket["id"], {"severity": "low"}).status == 200
    # When it is patched with its current ETag, `*`, or no If-Match
    response = patch(ticket["id"], {"severity": "critical"}, if_match=if_match)
    # Then the change is made and the new ETag returned
    assert response.status == 200, response
    assert response.headers["etag"] == '"3"'
    assert conversation(ticket["id"])["severity"] == "critical"


def test_the_etag_of_get_is_a_valid_if_match(aws) -> None:
    # Given a ticket read with its ETag
    ticket = new_ticket()
    assert reply(ticket["id"], "note", SUPPORT).status == 201
    tag = invoke("get_ticket", event("get_ticket", path={"ticket_id": ticket["id"]})).headers["etag"]
    # When it is patched with that ETag, twice
    first = invoke("update_ticket", patch_event(ticket["id"], {"severity": "high"}, if_match=tag))
    second = invoke("update_ticket", patch_event(ticket["id"], {"severity": "low"}, if_match=tag))
    # Then the first passes and the second (a lost update) is refused
    assert first.status == 200, first
    assert_problem(second, 412)
    assert conversation(ticket["id"])["severity"] == "high"


@pytest.mark.parametrize("if_match", ["abc", '"abc"', '"1.5.6"', '"-1"', "", '""', "1,2"])
def test_a_malformed_if_match_is_400(aws, if_match: str) -> None:
    # Given a ticket
    ticket = new_ticket()
    items = table_items()
    # When it is patched with a malformed If-Match
    response = patch(ticket["id"], {"severity": "critical"}, if_match=if_match)
    # Then it is a bad request and nothing changed
    assert_problem(response, 400)
    assert table_items() == items


def test_an_internal_note_leaves_no_trace_a_customer_could_see(aws) -> None:
    # Given a ticket as its customer sees it
    ticket = ticket_in("in_progress")
    before = conversation(ticket["id"])
    # When support writes an internal note
    assert reply(ticket["id"], "Customer is on the legacy plan", SUPPORT, internal=True).status == 201
    # Then the customer's view is byte for byte the same (no message, no version, no new times)
    assert conversation(ticket["id"]) == before
    # while support sees the note
    assert conversation(ticket["id"], SUPPORT)["messages"][-1]["body"] == "Customer is on the legacy plan"
