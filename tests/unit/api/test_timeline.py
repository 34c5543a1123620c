"""The ticket's whole story (SPEC §3): every change of status, assignee, severity, category or subject
adds a `system` message (who, what, from -> to), internal matters as internal messages; the ETag
moves with every change its reader can see, and only then; response targets follow who owes the
next response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, event, invoke
from tests.unit.api.helpers import conversation, get, mark_reviewed, new_ticket, patch, reply


def system_messages(ticket_id: str, claims: dict[str, Any] = SUPPORT) -> list[dict[str, Any]]:
    return [m for m in conversation(ticket_id, claims)["messages"] if m["author"]["kind"] == "system"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


CHANGES = [
    ("status", {"status": "in_progress"}, None, "in_progress", SUPPORT, False),
    ("assignee", {"assignee": "agent@helpdesk.test"}, None, "agent@helpdesk.test", SUPPORT, True),
    ("severity", {"severity": "critical"}, None, "critical", ACME_USER, False),
    ("category", {"category": "bug"}, None, "bug", ACME_ADMIN, False),
    ("subject", {"subject": "Nodes stuck in fra1"}, None, "Nodes stuck in fra1", ACME_USER, False),
]


@pytest.mark.parametrize(
    ("field", "change", "before", "after", "claims", "internal"), CHANGES, ids=[c[0] for c in CHANGES]
)
def test_each_change_adds_its_system_message(aws, field, change, before, after, claims, internal) -> None:
    # Given a reviewed ticket (open)
    ticket = new_ticket()
    mark_reviewed(ticket)
    was = conversation(ticket["id"], SUPPORT)
    # When the field is changed
    response = patch(ticket["id"], change, claims)
    assert response.status == 200, response
    # Then one system message says who changed what, from what to what
    [message] = [
        m
        for m in system_messages(ticket["id"])
        if m["change"]["field"] == field and m["change"]["by"]["id"] != "system"
    ]
    assert message["change"]["before"] == (before if before is not None else was[field])
    assert message["change"]["after"] == after
    assert message["change"]["by"]["email"] == claims["email"]
    assert claims["email"] in message["body"]
    # internal matters (the assignee) are internal, never shown to customers; the rest they see
    assert message["internal"] is internal
    seen_by_customer = [m["id"] for m in system_messages(ticket["id"], ACME_USER)]
    assert (message["id"] in seen_by_customer) is not internal


def test_a_no_op_patch_adds_nothing_and_keeps_the_etag(aws) -> None:
    ticket = new_ticket()
    mark_reviewed(ticket)
    before = get(ticket["id"])
    messages = len(conversation(ticket["id"], SUPPORT)["messages"])
    response = patch(ticket["id"], {"severity": before.json()["severity"]})
    assert response.status == 200, response
    after = get(ticket["id"])
    assert after.headers["etag"] == before.headers["etag"]
    assert len(conversation(ticket["id"], SUPPORT)["messages"]) == messages


def test_the_etag_moves_with_what_its_reader_can_see(aws) -> None:
    # Given a ticket as a customer and support see it
    ticket = new_ticket()
    customer, agent = get(ticket["id"], ACME_USER), get(ticket["id"], SUPPORT)
    # When support writes an internal note and assigns the ticket to itself
    assert reply(ticket["id"], "Looks like the VPC", SUPPORT, internal=True).status == 201
    assert patch(ticket["id"], {"assignee": "agent@helpdesk.test"}, SUPPORT).status == 200
    # Then the customer's ETag has not moved (nothing they can see changed), support's has
    assert get(ticket["id"], ACME_USER).headers["etag"] == customer.headers["etag"]
    assert get(ticket["id"], SUPPORT).headers["etag"] != agent.headers["etag"]
    # When support answers publicly, both move
    customer, agent = get(ticket["id"], ACME_USER), get(ticket["id"], SUPPORT)
    assert reply(ticket["id"], "Fixed the route table.", SUPPORT).status == 201
    assert get(ticket["id"], ACME_USER).headers["etag"] != customer.headers["etag"]
    assert get(ticket["id"], SUPPORT).headers["etag"] != agent.headers["etag"]


def test_if_none_match_is_304_until_something_visible_changes(aws) -> None:
    ticket = new_ticket()
    tag = get(ticket["id"]).headers["etag"]
    sample = event("get_ticket", path={"ticket_id": ticket["id"]}, headers={"If-None-Match": tag})
    unchanged = invoke("get_ticket", sample)
    assert unchanged.status == 304 and unchanged.text == "" and unchanged.headers["etag"] == tag
    assert (
        invoke(
            "get_ticket", event("get_ticket", path={"ticket_id": ticket["id"]}, headers={"If-None-Match": "W/" + tag})
        ).status
        == 304
    )
    assert reply(ticket["id"], "Any news?", ACME_USER).status == 201
    assert invoke("get_ticket", sample).status == 200


def test_a_stale_support_etag_is_412(aws) -> None:
    ticket = new_ticket()
    tag = get(ticket["id"], SUPPORT).headers["etag"]
    assert reply(ticket["id"], "internal", SUPPORT, internal=True).status == 201
    assert patch(ticket["id"], {"status": "triaging"}, SUPPORT, if_match=tag).status == 412
    fresh = get(ticket["id"], SUPPORT).headers["etag"]
    assert patch(ticket["id"], {"status": "triaging"}, SUPPORT, if_match=fresh).status == 200


# ---------------------------------------------------------------- response targets


def test_support_owes_a_first_response_by_the_severitys_target(aws) -> None:
    # Given a new high-severity ticket (targets: high 4 h first, 8 h next)
    ticket = new_ticket(severity="high")
    shown = get(ticket["id"], ACME_USER).json()
    # Then support owes its first response 4 h after it was filed, and the customer sees it
    assert at(shown["response_due_at"]) - at(shown["created_at"]) == timedelta(hours=4)
    assert shown["response_breached"] is False
    # When support answers, nobody at support owes anything until the customer replies
    assert reply(ticket["id"], "Looking into it", SUPPORT).status == 201
    answered = get(ticket["id"]).json()
    assert answered["response_due_at"] is None and answered["waiting_on"] == "user"
    # When the customer replies, support owes the next response in 8 h from that reply
    assert reply(ticket["id"], "Still broken", ACME_USER).status == 201
    again = conversation(ticket["id"])
    last_reply = [m for m in again["messages"] if m["author"]["kind"] == "user"][-1]
    assert at(again["response_due_at"]) - at(last_reply["created_at"]) == timedelta(hours=8)


def test_a_new_severity_moves_the_due_time_of_the_running_clock(aws) -> None:
    ticket = new_ticket(severity="low")
    low = get(ticket["id"]).json()
    assert at(low["response_due_at"]) - at(low["created_at"]) == timedelta(hours=24)
    assert patch(ticket["id"], {"severity": "critical"}).status == 200
    critical = get(ticket["id"]).json()
    assert at(critical["response_due_at"]) - at(critical["created_at"]) == timedelta(hours=1)


def test_a_passed_target_reads_as_breached(aws, monkeypatch) -> None:
    ticket = new_ticket(severity="critical")
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    monkeypatch.setattr("helpdesk.domain.models.now", lambda: later)
    assert get(ticket["id"]).json()["response_breached"] is True


def test_resolved_tickets_carry_their_auto_close_time(aws) -> None:
    ticket = new_ticket()
    assert patch(ticket["id"], {"status": "resolved"}, SUPPORT).status == 200
    resolved = get(ticket["id"]).json()
    assert resolved["response_due_at"] is None
    assert at(resolved["auto_close_at"]) - at(resolved["updated_at"]) == timedelta(days=7)


def test_support_sorts_its_queue_by_response_target_and_filters_the_breached(aws, monkeypatch) -> None:
    from tests.unit.api.helpers import list_all, list_tickets

    # Given tickets of two orgs with different targets (critical 1 h, high 4 h, low 24 h) and one answered
    low = new_ticket(severity="low")
    critical = new_ticket(severity="critical")
    high = new_ticket(GLOBEX_USER, severity="high")
    answered = new_ticket(severity="critical")
    assert reply(answered["id"], "On it.", SUPPORT).status == 201
    # When support lists its queue by response target
    queue = [t["id"] for t in list_all(SUPPORT, sort="response_due", limit="1")]
    # Then the soonest target comes first, across orgs, and tickets that owe nothing are not in it
    assert queue == [critical["id"], high["id"], low["id"]]
    # When two hours have passed, only the critical one is breached
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    monkeypatch.setattr("helpdesk.tickets.listing.now", lambda: later)
    breached = list_tickets(SUPPORT, breached="true").json()["items"]
    assert [t["id"] for t in breached] == [critical["id"]]
    # and one org's queue is the support team's to filter too
    assert [t["id"] for t in list_all(SUPPORT, sort="response_due", org_id="globex")] == [high["id"]]
    # while customers may not ask for the queue's order or filter
    assert list_tickets(ACME_USER, sort="response_due").status == 403
    assert list_tickets(ACME_USER, breached="true").status == 403
