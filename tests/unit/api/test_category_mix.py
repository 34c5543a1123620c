"""An org's category mix (helpdesk.store.categories): its settled tickets per category, kept by the
tickets' own changes through the API, never another org's, for the reviewer's prior."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from helpdesk.store import categories, duplicates
from helpdesk.store.categories import mix_key, mix_of
from helpdesk.store.reviews import set_duplicate_fields
from tests.support import ACME_USER, GLOBEX_USER, SUPPORT
from tests.unit.api.helpers import aws_client, close, conversation, mark_reviewed, new_ticket, patch, reply


def mix(org_id: str) -> dict[str, int]:
    """The org's mix as stored (not as the reviewer reads it, which takes a negative count as 0): the
    categories it counts, none of them below zero."""
    table = os.environ["TABLE_NAME"]
    item = aws_client("dynamodb").get_item(TableName=table, Key=mix_key(org_id), ConsistentRead=True).get("Item", {})
    stored = {name: int(value["N"]) for name, value in item.items() if "N" in value}
    assert all(n >= 0 for n in stored.values()), stored
    assert mix_of(item) == stored
    return {name: n for name, n in stored.items() if n}


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


def test_a_review_reads_each_candidates_category_as_it_counts_now(aws) -> None:
    # Given an open ticket of acme, indexed for duplicates as the reviewer does
    ticket = open_ticket("technical")
    set_duplicate_fields(ticket, {"dup_signature": "2|signature", "dup_snippet": "snippet"})

    def seen() -> str | None:
        """Its settled category as a review reads it, with its signature (helpdesk.store.duplicates)."""
        return duplicates.signatures("acme", [ticket])[ticket].get("settled_category")

    assert seen() is None
    # When support resolves it, the customer's reply reopens it, and support resolves it as a bug
    resolve(ticket)
    assert seen() == "technical"
    assert reply(ticket, "Still there after the upgrade.").status == 201
    assert seen() is None
    resolve(ticket, category="bug")
    assert seen() == "bug"
    # When support recategorises it while resolved, and the customer closes it
    assert patch(ticket, {"category": "feature_request"}, SUPPORT).status == 200
    assert close(ticket).status == 200
    # Then the review reads what it counts as in the mix now, and another org's review never reads it
    assert seen() == "feature_request"
    assert mix("acme") == {"feature_request": 1}
    assert duplicates.signatures("globex", [ticket]) == {}


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


def test_a_ticket_settled_before_the_mix_existed_counts_from_its_next_change_and_never_below_zero(aws) -> None:
    # Given two tickets resolved before the mix was kept (neither counted nor marked as counted)
    reopened, closed = open_ticket("bug"), open_ticket("technical")
    resolve(reopened)
    resolve(closed)
    dynamodb, table = aws_client("dynamodb"), os.environ["TABLE_NAME"]
    dynamodb.delete_item(TableName=table, Key=mix_key("acme"))
    for ticket_id in (reopened, closed):
        dynamodb.update_item(
            TableName=table, Key={"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}},
            UpdateExpression="REMOVE settled_category",
        )  # fmt: skip
    # When the customer answers one (it reopens) and closes the other
    assert reply(reopened, "Still broken.").status == 201
    assert close(closed).status == 200
    # Then the reopened one was never taken out, and the closed one counts from now on
    assert mix("acme") == {"technical": 1}
    # And once resolved again, the reopened one counts too
    resolve(reopened)
    assert mix("acme") == {"technical": 1, "bug": 1}


def test_a_mix_that_cannot_be_moved_never_fails_the_change(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ticket, and a mix DynamoDB refuses to update
    ticket = open_ticket("bug")

    def refuse(**request: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "UpdateItem")

    monkeypatch.setattr(categories, "client", SimpleNamespace(update_item=refuse))
    # When support resolves it / Then the change is answered and kept; only the prior misses it
    resolve(ticket)
    assert conversation(ticket)["status"] == "resolved"
    assert mix("acme") == {}
