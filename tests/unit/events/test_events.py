"""Domain events (SPEC §5): one per change, the same event_id for a redelivered stream record, an
org on every event, and never an internal note's text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import ACME_USER, SUPPORT, LambdaContext, load_function
from tests.unit.api.helpers import close, mark_reviewed, new_ticket, patch, reply
from tests.unit.notify.conftest import Stream


@pytest.fixture
def published(aws) -> Iterator[list[dict[str, Any]]]:
    """Every entry the publisher sends to EventBridge."""
    from helpdesk.adapters import bus

    sent: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.extend(params["Entries"])

    bus.client.meta.events.register("provide-client-params.events.PutEvents", capture, unique_id="events-spy")
    yield sent
    bus.client.meta.events.unregister("provide-client-params.events.PutEvents", unique_id="events-spy")


def publish(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("publish_events").lambda_handler(event, LambdaContext())


def details(entries: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in entries]


def test_each_change_publishes_its_event(stream: Stream, published: list[dict[str, Any]]) -> None:
    # Given a ticket's life: filed, reviewed, assigned, answered, internal note, the customer's reply, closed
    ticket = new_ticket()
    mark_reviewed(ticket)
    assert patch(ticket["id"], {"assignee": "agent@helpdesk.test"}, SUPPORT).status == 200
    assert reply(ticket["id"], "Try draining node 3.", SUPPORT).status == 201
    assert reply(ticket["id"], "SECRET internal finding", SUPPORT, internal=True).status == 201
    assert reply(ticket["id"], "Drained, still failing.", ACME_USER).status == 201
    assert close(ticket["id"]).status == 200
    # When the publisher reads the stream
    assert publish(stream.take()) == {"batchItemFailures": []}
    # Then each change is one event, of the bus, from `helpdesk`, with the org, the ticket and the actor
    kinds = [kind for kind, _ in details(published)]
    assert kinds == [
        "Ticket Created",
        "Ticket Status Changed", "Review Completed",  # the review opens it
        "Ticket Assigned",
        "Ticket Status Changed", "Ticket Replied",  # support's reply: waiting on the customer (one write)
        "Ticket Replied",  # the internal note
        "Ticket Status Changed", "Ticket Replied",  # the customer's reply: back to support
        "Ticket Closed",
    ]  # fmt: skip
    assert {entry["Source"] for entry in published} == {"helpdesk"}
    assert {entry["EventBusName"] for entry in published} == {"helpdesk-eventbus"}
    for kind, detail in details(published):
        assert detail["org_id"] == "acme" and detail["ticket_id"] == ticket["id"], (kind, detail)
        assert detail["version"] == "1" and detail["event_id"]
    # and the internal note is marked internal, with no text anywhere
    note = [d for k, d in details(published) if k == "Ticket Replied" and d["internal"]]
    assert len(note) == 1 and note[0]["actor"] == {"id": "u-support", "kind": "support"}
    assert "SECRET" not in json.dumps(published)
    moves = [d["status"] for k, d in details(published) if k == "Ticket Status Changed"]
    assert moves == [
        {"from": "pending_review", "to": "open"},
        {"from": "open", "to": "waiting_customer"},
        {"from": "waiting_customer", "to": "in_progress"},
    ]


def test_a_redelivered_record_yields_the_same_event_ids(stream: Stream, published: list[dict[str, Any]]) -> None:
    ticket = new_ticket()
    assert patch(ticket["id"], {"status": "triaging"}, SUPPORT).status == 200
    batch = stream.take()
    publish(batch)
    first = [d["event_id"] for _, d in details(published)]
    published.clear()
    publish(batch)  # Lambda retries the batch
    assert [d["event_id"] for _, d in details(published)] == first
    assert len(set(first)) == len(first)


def test_a_refused_publish_fails_only_its_record(stream: Stream, published: list[dict[str, Any]], monkeypatch) -> None:
    from helpdesk.adapters import bus

    new_ticket()
    ticket = new_ticket()
    batch = {"Records": [r for r in stream.take()["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == "TICKET"]}
    real = bus.client.put_events

    def refuse_the_second(**request: Any) -> Any:
        if ticket["id"] in request["Entries"][0]["Detail"]:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]}
        return real(**request)

    monkeypatch.setattr(bus.client, "put_events", refuse_the_second)
    response = publish(batch)
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["dynamodb"]["SequenceNumber"]}]}
