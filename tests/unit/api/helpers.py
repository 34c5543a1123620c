"""Helpers of the API tests: drive the functions with the sample events of events/, read the table."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3

from helpdesk.domain import lifecycle
from helpdesk.domain.lifecycle import Outcome
from helpdesk.domain.models import AI_REVIEWER, Message, ReviewStatus, Stamps, Ticket, TicketReview
from helpdesk.store import search as search_store
from helpdesk.store import tickets
from local import template
from tests.support import ACME_USER, Response, event, invoke
from tests.unit.search import indexer as search_index

PROBLEM_JSON = "application/problem+json"


# ---------------------------------------------------------------- endpoints


def create(claims: dict[str, Any] | None = None, headers: dict[str, str] | None = None, **fields: Any) -> Response:
    """POST /v1/tickets from events/create_ticket.json; `fields` replace the sample body."""
    body = fields or None
    return invoke("create_ticket", event("create_ticket", claims=claims or ACME_USER, body=body, headers=headers))


def new_ticket(claims: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A freshly filed ticket (asserts the 201)."""
    if fields:
        fields = {"category": "technical", "body": "The cluster prod-eu drops connections."} | fields
    response = create(claims, **fields)
    assert response.status == 201, response
    return response.json()


def get(ticket_id: str, claims: dict[str, Any] | None = None) -> Response:
    return invoke("get_ticket", event("get_ticket", claims=claims or ACME_USER, path={"ticket_id": ticket_id}))


def conversation(ticket_id: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    response = get(ticket_id, claims)
    assert response.status == 200, response
    return response.json()


def patch_event(
    ticket_id: str,
    body: Any = None,
    claims: dict[str, Any] | None = None,
    if_match: str | None = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """events/update_ticket.json for `ticket_id`; its sample If-Match ("1") is kept only when asked."""
    sample = event(
        "update_ticket",
        claims=claims or ACME_USER,
        path={"ticket_id": ticket_id},
        body=body,
        raw_body=raw_body,
        headers=headers,
    )
    sample["headers"].pop("if-match", None)
    if if_match is not None:
        sample["headers"]["if-match"] = if_match
    return sample


def patch(ticket_id: str, body: Any, claims: dict[str, Any] | None = None, if_match: str | None = None) -> Response:
    return invoke("update_ticket", patch_event(ticket_id, body, claims, if_match))


def reply(
    ticket_id: str,
    text: str = "Here is more detail.",
    claims: dict[str, Any] | None = None,
    internal: bool | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"body": text}
    if internal is not None:
        body["internal"] = internal
    sample = event(
        "reply_ticket", claims=claims or ACME_USER, path={"ticket_id": ticket_id}, body=body, headers=headers
    )
    return invoke("reply_ticket", sample)


def close(ticket_id: str, claims: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    sample = event("close_ticket", claims=claims or ACME_USER, path={"ticket_id": ticket_id}, headers=headers)
    return invoke("close_ticket", sample)


def list_tickets(claims: dict[str, Any] | None = None, **query: str) -> Response:
    """GET /v1/tickets from events/list_tickets.json with exactly `query` (not the sample's); a
    search (`q`) once the search index has caught up with the table's stream (eventual, seconds)."""
    if "q" in query:
        search_index.catch_up()
    return invoke("list_tickets", event("list_tickets", claims=claims or ACME_USER, query=query))


def list_all(claims: dict[str, Any] | None = None, **query: str) -> list[dict[str, Any]]:
    """Every page of a listing, in order."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        page_query = dict(query, cursor=cursor) if cursor else dict(query)
        response = list_tickets(claims, **page_query)
        assert response.status == 200, response
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the listing never ended")


# ---------------------------------------------------------------- states


def mark_reviewed(ticket: dict[str, Any]) -> None:
    """What the reviewer does when its review is done: pending_review -> open."""

    def act(stored: Ticket, stamps: Stamps) -> tuple[Outcome, None]:
        note_id, at = stamps.next()
        note = Message(id=note_id, author=AI_REVIEWER, body="reviewed", created_at=at)
        changes = {"review": TicketReview(status=ReviewStatus.COMPLETED, result={"summary": "reviewed"})}
        return lifecycle.reviewed(stored, changes, [note], datetime.now(UTC), stamps), None

    tickets.change(ticket["id"], None, act)


# ---------------------------------------------------------------- assertions and the table


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with the expected status."""
    assert response.status == status, response
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem


@cache
def aws_client(service: str) -> Any:
    return boto3.Session(region_name=os.environ["AWS_DEFAULT_REGION"]).client(service)  # type: ignore[call-overload]


def table_items() -> list[dict[str, Any]]:
    """Everything in the table except Powertools' idempotency records and the search index (which
    the indexer derives from the rest), in a stable order."""
    client = aws_client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": os.environ["TABLE_NAME"], "ConsistentRead": True}
    skipped = ("idempotency#", *search_store.PARTITIONS)
    while True:
        response = client.scan(**request)
        items += [item for item in response["Items"] if not item["pk"]["S"].startswith(skipped)]
        if "LastEvaluatedKey" not in response:
            return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def idempotency_records() -> list[dict[str, Any]]:
    client = aws_client("dynamodb")
    response = client.scan(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)
    return [item for item in response["Items"] if item["pk"]["S"].startswith("idempotency#")]


def empty_aws() -> None:
    """Empty the template's resources: tables are created anew (moto keeps every stream record of a
    table and copies them all for each transaction), queues drained (moto allows one PurgeQueue a
    minute), buckets emptied."""
    dynamodb = aws_client("dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=table)
    template.create_tables(dynamodb, template.Stack())
    sqs = aws_client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    s3 = aws_client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket["Name"], Key=obj["Key"])
