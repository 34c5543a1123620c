"""Tickets of an org written in bulk as the API, the reviewer and the indexer would have written
them (the ticket, its first message, its index items and the words' counts): thousands in a second
or two, where filing each through the API and indexing it from the stream would take minutes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from ulid import ULID

from helpdesk.domain.models import (
    Author,
    AuthorKind,
    Category,
    Message,
    ReviewStatus,
    Severity,
    Source,
    Status,
    Ticket,
    TicketReview,
    timestamp,
)
from helpdesk.store import core
from helpdesk.store import search as index
from helpdesk.store import tickets as repository
from helpdesk.store.core import Update
from helpdesk.tickets.search import words
from tests.unit.search import indexer
from tests.unit.search.indexer import ACCOUNT, REGION

_clock = [datetime(2026, 1, 1, tzinfo=UTC)]


@dataclass
class Seed:
    subject: str
    body: str
    status: Status = Status.OPEN
    category: Category = Category.TECHNICAL


def _next_stamp() -> tuple[str, str]:
    """Ids one millisecond apart, in the order they are made (ULIDs of one millisecond do not sort)."""
    _clock[0] += timedelta(milliseconds=1)
    return str(ULID.from_datetime(_clock[0])), timestamp(_clock[0])


def seed(org: str, seeds: list[Seed]) -> list[str]:
    """The tickets of `seeds` (oldest first) with their index; returns their ids in the same order.
    The indexer has caught up before, and takes the bulk load's stream records as delivered."""
    indexer.catch_up()
    items: list[dict[str, Any]] = []
    counted: Counter[str] = Counter()
    ids = []
    for entry in seeds:
        ticket_id, at = _next_stamp()
        ticket = Ticket(
            id=ticket_id, org_id=org, subject=entry.subject, category=entry.category, severity=Severity.MEDIUM,
            status=entry.status, summary=entry.body[:160], review=TicketReview(status=ReviewStatus.COMPLETED),
            created_by={"id": f"u-{org}"}, source=Source.API, created_at=at, updated_at=at, last_activity_at=at,
            version=1,
        )  # fmt: skip
        first = Message(
            id=ticket_id, author=Author(id=f"u-{org}", kind=AuthorKind.USER), body=entry.body, created_at=at
        )
        indexed = index.IndexedWords(org, set(words(entry.subject)), set(words(ticket.summary)), set(words(entry.body)))
        items += [repository.ticket_item(ticket), repository.message_item(ticket_id, first)]
        items += index.ticket_index_items(ticket_id, indexed)
        counted.update(indexed.all())
        ids.append(ticket_id)
    backend = dynamodb_backends[ACCOUNT][REGION]  # in-process: what BatchWriteItem would do, less its HTTP
    for item in items:
        backend.put_item(index.TABLE, item)
    for word, tickets in counted.items():
        for scope in (org, None):
            core.client.update_item(**Update().add("tickets", tickets).request(index.count_key(scope, word)))
    indexer.skip_pending()
    return ids
