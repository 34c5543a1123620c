"""Roles: what customers (members and admins) and the support team may change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ACME_ADMIN, ACME_USER, SUPPORT, event, invoke
from tests.unit.api.helpers import assert_problem, conversation, mark_reviewed, new_ticket, patch, reply, table_items

CUSTOMERS = pytest.mark.parametrize("claims", [ACME_USER, ACME_ADMIN], ids=["member", "admin"])


@CUSTOMERS
@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"subject": "Nodes stuck in fra1"}, "subject", "Nodes stuck in fra1"),
        ({"category": "bug"}, "category", "bug"),
        ({"severity": "critical"}, "severity", "critical"),
    ],
)
def test_customers_may_change_subject_category_and_severity(aws, claims, change, field, value) -> None:
    # Given a ticket of the customer's org (filed by the member)
    ticket = new_ticket()
    # When a member or an admin of the org changes one of the customer fields
    response = patch(ticket["id"], change, claims)
    # Then it is changed
    assert response.status == 200, response
    assert response.json()[field] == value
    assert conversation(ticket["id"])[field] == value


@CUSTOMERS
@pytest.mark.parametrize(
    "change",
    [
        {"status": "in_progress"},
        {"status": "resolved"},
        {"assignee": "agent@helpdesk.test"},
        {"assignee": None},
        {"severity": "high", "status": "triaging"},
    ],
)
def test_customers_may_not_change_status_or_assignee(aws, claims, change) -> None:
    # Given a ticket of the customer's org
    ticket = new_ticket()
    mark_reviewed(ticket)
    before = table_items()
    # When a customer tries to set its status or assignee (even alongside a field they may change)
    response = patch(ticket["id"], change, claims)
    # Then it is forbidden, and nothing changed
    problem = assert_problem(response, 403)
    assert "support" in problem["detail"]
    assert table_items() == before


@pytest.mark.parametrize("status", ["triaging", "in_progress", "resolved"])
def test_support_may_set_triaging_in_progress_and_resolved(aws, status: str) -> None:
    # Given an open ticket
    ticket = new_ticket()
    mark_reviewed(ticket)
    # When support sets a status it may set
    response = patch(ticket["id"], {"status": status}, SUPPORT)
    # Then the ticket has it, and whose turn it is follows
    assert response.status == 200, response
    stored = conversation(ticket["id"])
    assert stored["status"] == status
    assert stored["waiting_on"] == ("user" if status == "resolved" else "us")


def test_support_may_assign_and_unassign(aws) -> None:
    # Given a ticket
    ticket = new_ticket()
    # When support assigns it
    response = patch(ticket["id"], {"assignee": "agent@helpdesk.test", "severity": "high"}, SUPPORT)
    # Then it is assigned (and the severity is changed too)
    assert response.status == 200, response
    assert conversation(ticket["id"])["assignee"] == "agent@helpdesk.test"
    assert conversation(ticket["id"])["severity"] == "high"
    # When support unassigns it
    assert patch(ticket["id"], {"assignee": None}, SUPPORT).status == 200
    # Then nobody is assigned
    assert conversation(ticket["id"])["assignee"] is None


@pytest.mark.parametrize("status", ["waiting_customer", "closed", "pending_review", "open"])
def test_support_may_not_set_system_managed_statuses(aws, status: str) -> None:
    # Given an open ticket
    ticket = new_ticket()
    mark_reviewed(ticket)
    before = table_items()
    # When support tries to set a status only replies, reviews or close may set
    response = patch(ticket["id"], {"status": status}, SUPPORT)
    # Then it is refused as invalid, naming the field, and nothing changed
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "status"
    assert table_items() == before


@CUSTOMERS
def test_only_support_may_write_internal_notes(aws, claims: dict[str, Any]) -> None:
    # Given a ticket
    ticket = new_ticket()
    before = table_items()
    # When a customer sends an internal note
    response = reply(ticket["id"], "psst", claims, internal=True)
    # Then it is forbidden and nothing is written
    assert_problem(response, 403)
    assert table_items() == before
    # When support does
    note = reply(ticket["id"], "psst", SUPPORT, internal=True)
    # Then it is stored as internal, authored by support
    assert note.status == 201, note
    assert note.json()["internal"] is True
    assert note.json()["author"]["kind"] == "support"


@CUSTOMERS
def test_members_and_admins_have_the_same_ticket_rights(aws, claims: dict[str, Any]) -> None:
    # Given a ticket filed by the member
    ticket = new_ticket(ACME_USER)
    # When a member or the admin reads, updates, replies and closes it
    assert conversation(ticket["id"], claims)["id"] == ticket["id"]
    assert patch(ticket["id"], {"severity": "low"}, claims).status == 200
    answer = reply(ticket["id"], "More info", claims)
    assert answer.status == 201, answer
    # Then their replies are customer replies
    assert answer.json()["author"]["kind"] == "user"
    assert answer.json()["author"]["id"] == claims["sub"]
    closed = invoke("close_ticket", event("close_ticket", claims=claims, path={"ticket_id": ticket["id"]}))
    assert closed.status == 200, closed
    assert conversation(ticket["id"], claims)["status"] == "closed"


def test_a_support_reply_is_authored_as_support(aws) -> None:
    # Given a ticket
    ticket = new_ticket()
    # When support replies
    response = reply(ticket["id"], "Looking into it", SUPPORT)
    # Then the message's author is the support agent, as support
    assert response.status == 201, response
    assert response.json()["author"] == {"id": "u-support", "email": "agent@helpdesk.test", "kind": "support"}
