"""An org's category mix (helpdesk.store.categories): its settled tickets per category, kept by the
tickets' own changes through the API, never another org's, for the reviewer's prior."""

from __future__ import annotations

import os

from helpdesk.store.categories import mix_key, mix_of
from tests.support import ACME_USER, GLOBEX_USER, SUPPORT
from tests.unit.api.helpers import aws_client, close, mark_reviewed, new_ticket, patch, reply


def mix(org_id: str) -> dict[str, int]:
    item = aws_client("dynamodb").get_item(TableName=os.environ["TABLE_NAME"], Key=mix_key(org_id), ConsistentRead=True)
    return {name: n for name, n in mix_of(item.get("Item")).items() if n}


def open_ticket(category: str, claims: dict[str, str] | None = None) -> str:
    ticket = new_ticket(claims, category=category)
    mark_reviewed(ticket)
    return str(ticket["id"])


def resolve(ticket_id: str, **changes: str) -> None:
    response = patch(ticket_id, {"status": "resolved", **changes}, SUPPORT)
    assert response.status == 200, response


def test_a_ticket_counts_while_it_is_settled_under_its_category_now(aws) -> None:
    # Given two open tickets of acme: nothing is settled
    question, bug = open_ticket("technical"), open_ticket("bug")
    assert mix("acme") == {}
    # When support resolves the question, and the bug after recategorising it as a question
    resolve(question)
    resolve(bug, category="technical")
    # Then both count as questions
    assert mix("acme") == {"technical": 2}
    # When the customer answers one (it reopens), then support recategorises it and resolves it again
    assert reply(bug, "It still fails after the upgrade.").status == 201
    assert mix("acme") == {"technical": 1}
    resolve(bug, category="bug")
    assert mix("acme") == {"technical": 1, "bug": 1}
    # When support recategorises a resolved ticket, and the customer closes the other
    assert patch(question, {"category": "feature_request"}, SUPPORT).status == 200
    assert close(bug).status == 200
    # Then each ticket still counts once, under its category now
    assert mix("acme") == {"feature_request": 1, "bug": 1}


def test_a_ticket_closed_without_a_resolution_counts_too_and_only_in_its_org(aws) -> None:
    # Given a ticket of acme and one of globex
    ours, theirs = open_ticket("billing"), open_ticket("account", GLOBEX_USER)
    # When each customer closes theirs
    assert close(ours, ACME_USER).status == 200
    assert close(theirs, GLOBEX_USER).status == 200
    # Then each org's mix holds its own ticket only
    assert mix("acme") == {"billing": 1}
    assert mix("globex") == {"account": 1}


def test_a_change_that_does_not_settle_or_move_a_ticket_leaves_the_mix_alone(aws) -> None:
    # Given an open ticket
    ticket = open_ticket("technical")
    # When support triages it and the customer recategorises it, still open
    assert patch(ticket, {"status": "triaging"}, SUPPORT).status == 200
    assert patch(ticket, {"category": "bug"}).status == 200
    # Then nothing is counted; a refused change counts nothing either
    assert mix("acme") == {}
    assert patch(ticket, {"status": "resolved", "severity": "urgent-ish"}, SUPPORT).status == 422
    assert mix("acme") == {}
