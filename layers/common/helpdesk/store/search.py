"""Data access: the word index that serves `q` (GET /v1/tickets?q=…), kept by the index_tickets
function from the table's stream (helpdesk.tickets.indexing) and read by helpdesk.tickets.search.

Layout (ticket ids are ULIDs, so every posting list sorts by time, newest last):
  WORD#<org>#<word> / <ticket id>   a posting: the ticket has the word; `wpk` = WORD#<word> puts
                                    it in the all-orgs list too (index `Words`, keys only), which
                                    the support team searches when it names no org
  COUNT#<org>#<word> / COUNT        how many of the org's tickets have the word (`tickets`)
  COUNT#<word> / COUNT              ... of every org's tickets (a word has no '#', an org id may)
  INDEXED#<ticket id> / WORDS       what the index holds of a ticket: its org and the words of its
                                    subject, summary and (non-internal) messages, each a string set
Counts only choose which word's postings a search walks (the rarest): a replayed stream record may
count a word twice, which can make a search slower, never its answer wrong."""

import contextvars
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from helpdesk.domain.errors import Busy
from helpdesk.domain.models import Ticket
from helpdesk.store.core import (
    BATCH_GET_LIMIT,
    TABLE,
    Item,
    Update,
    batch_get_all,
    client,
    from_item,
    key,
    ticket_key,
    to_item,
)
from helpdesk.store.tickets import to_ticket

PARTITIONS = ("WORD#", "COUNT#", "INDEXED#")  # how the index's partition keys begin (and nothing else's)
ALL_ORGS_INDEX = "Words"  # gsi: wpk (WORD#<word>) / sk (ticket id), keys only
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem request
BATCH_WRITE_ATTEMPTS = 6
PARALLEL_REQUESTS = 8  # requests in flight at once (reads of candidates, count updates)
SOURCES = ("subject", "summary", "messages")

T = TypeVar("T")
R = TypeVar("R")


# ---------------------------------------------------------------- keys and items


def postings_partition(org_id: str, word: str) -> str:
    return f"WORD#{org_id}#{word}"


def all_orgs_partition(word: str) -> str:
    return f"WORD#{word}"


def posting_key(org_id: str, word: str, ticket_id: str) -> Item:
    return key(postings_partition(org_id, word), ticket_id)


def count_key(org_id: str | None, word: str) -> Item:
    """The count of the org's tickets with `word` (None: every org's)."""
    return key(f"COUNT#{org_id}#{word}" if org_id is not None else f"COUNT#{word}", "COUNT")


def words_key(ticket_id: str) -> Item:
    return key(f"INDEXED#{ticket_id}", "WORDS")


def posting_item(org_id: str, word: str, ticket_id: str) -> Item:
    return posting_key(org_id, word, ticket_id) | {"wpk": {"S": all_orgs_partition(word)}}


@dataclass
class IndexedWords:
    """What the index holds of one ticket, by where the words come from."""

    org_id: str
    subject: set[str] = field(default_factory=set)
    summary: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)

    def all(self) -> set[str]:
        return self.subject | self.summary | self.messages


def words_item(ticket_id: str, indexed: IndexedWords) -> Item:
    """The ticket's record in the index (empty sets are left out: DynamoDB stores no empty set)."""
    values: dict[str, Any] = {"org_id": indexed.org_id, "type": "indexed_words"}
    values |= {source: getattr(indexed, source) for source in SOURCES if getattr(indexed, source)}
    return words_key(ticket_id) | to_item(values)


def ticket_index_items(ticket_id: str, indexed: IndexedWords) -> list[Item]:
    """Every item the index holds for one ticket, but the counts: what a bulk load (a backfill, the
    bench) writes with BatchWriteItem, the counts of all its tickets added up apart (count_item)."""
    postings = [posting_item(indexed.org_id, word, ticket_id) for word in sorted(indexed.all())]
    return [*postings, words_item(ticket_id, indexed)]


def count_item(org_id: str | None, word: str, tickets: int) -> Item:
    return count_key(org_id, word) | {"tickets": {"N": str(tickets)}}


def to_indexed_words(item: Item) -> IndexedWords:
    values = from_item(item)
    return IndexedWords(values["org_id"], *(set(values.get(source, ())) for source in SOURCES))


# ---------------------------------------------------------------- reads (the search)


def word_counts(org_id: str | None, words: Sequence[str]) -> dict[str, int | None]:
    """How many tickets of the org (None: of every org) have each word, None for a word no ticket
    ever had (its count is made with its first posting and never deleted): one BatchGetItem."""
    found = {
        item["pk"]["S"].rsplit("#", 1)[1]: int(item["tickets"]["N"])
        for item in batch_get_all([count_key(org_id, word) for word in words])
    }
    return {word: found.get(word) for word in words}


@dataclass
class Postings:
    ticket_ids: list[str]  # newest first
    more: bool  # DynamoDB stopped at the limit: older postings may follow


def postings(org_id: str | None, word: str, *, before: str | None, limit: int) -> Postings:
    """The ids of tickets that have `word`, newest first, older than the ticket `before` (None: from
    the newest): one Query of the org's posting list, or of the all-orgs index when `org_id` is None."""
    hash_name, hash_value = (
        ("pk", postings_partition(org_id, word)) if org_id is not None else ("wpk", all_orgs_partition(word))
    )
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "#hash = :hash",
        "ExpressionAttributeNames": {"#hash": hash_name, "#id": "sk"},
        "ExpressionAttributeValues": {":hash": {"S": hash_value}},
        "ProjectionExpression": "#id",
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if org_id is None:
        request["IndexName"] = ALL_ORGS_INDEX
    if before is not None:  # the ids are unique within a list, so this is where the last page stopped
        request["KeyConditionExpression"] += " AND #id < :before"
        request["ExpressionAttributeValues"][":before"] = {"S": before}
    response = client.query(**request)
    return Postings([item["sk"]["S"] for item in response["Items"]], "LastEvaluatedKey" in response)


@dataclass
class Candidate:
    ticket: Ticket | None  # None: not (or no longer) in the table
    words: set[str] | None  # what the index holds of it (None: not asked for; empty: not indexed yet)


def candidates(ticket_ids: Sequence[str], *, with_words: bool) -> dict[str, Candidate]:
    """The tickets (and, `with_words`, their indexed words) of `ticket_ids`: BatchGetItems of up to
    100 keys, a ticket's two keys always in the same request, all requests in flight at once."""
    per_request = BATCH_GET_LIMIT // 2 if with_words else BATCH_GET_LIMIT
    chunks = [ticket_ids[start : start + per_request] for start in range(0, len(ticket_ids), per_request)]

    def keys_of(ids: Sequence[str]) -> list[Item]:
        return [ticket_key(i) for i in ids] + ([words_key(i) for i in ids] if with_words else [])

    found: dict[str, Candidate] = {i: Candidate(None, set() if with_words else None) for i in ticket_ids}
    for items in in_parallel(batch_get_all, [keys_of(chunk) for chunk in chunks]):
        for item in items:
            pk = item["pk"]["S"]
            if item["sk"]["S"] == "TICKET":
                found[pk.removeprefix("TICKET#")].ticket = to_ticket(item)
            else:
                found[pk.removeprefix("INDEXED#")].words = to_indexed_words(item).all()
    return found


# ---------------------------------------------------------------- writes (the stream consumer)


def indexed_words(ticket_id: str) -> IndexedWords | None:
    """What the index holds of a ticket (a strongly consistent read: the consumer's own last write)."""
    response = client.get_item(TableName=TABLE, Key=words_key(ticket_id), ConsistentRead=True)
    return to_indexed_words(response["Item"]) if "Item" in response else None


def post(org_id: str, ticket_id: str, added: Iterable[str], removed: Iterable[str]) -> None:
    """Put the ticket's postings of `added` words and delete those of `removed` ones (BatchWriteItem,
    25 per request; a replay writes the same items again)."""
    requests = [{"PutRequest": {"Item": posting_item(org_id, word, ticket_id)}} for word in sorted(added)]
    requests += [{"DeleteRequest": {"Key": posting_key(org_id, word, ticket_id)}} for word in sorted(removed)]
    batch_write_all(requests)


def count(org_id: str, added: Iterable[str], removed: Iterable[str]) -> None:
    """Count the ticket in (and out of) its org's and the all-orgs counts of each word."""
    changes = [(word, 1) for word in added] + [(word, -1) for word in removed]

    def apply(change: tuple[str, int]) -> None:
        word, amount = change
        for scope in (org_id, None):
            update = Update().add("tickets", amount)
            client.update_item(**update.request(count_key(scope, word)))

    in_parallel(apply, changes)


def save(ticket_id: str, indexed: IndexedWords) -> None:
    client.put_item(TableName=TABLE, Item=words_item(ticket_id, indexed))


def batch_write_all(requests: Sequence[dict[str, Any]]) -> None:
    """Every put and delete of `requests`, 25 per BatchWriteItem; what DynamoDB leaves unprocessed
    is sent again with backoff, and a write that still cannot get through raises `Busy`."""
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {TABLE: list(requests[start : start + BATCH_WRITE_LIMIT])}
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            if attempt:
                time.sleep(min(1.0, 0.05 * 2**attempt))
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise Busy("The table is busy right now; retry in a moment.")


def in_parallel(work: Callable[[T], R], inputs: Sequence[T]) -> list[R]:
    """`work` on every input, up to PARALLEL_REQUESTS at once (one request: no thread), results in
    order. Each runs in a copy of the caller's context (log keys, and the tests' IAM checks)."""
    if len(inputs) <= 1:
        return [work(value) for value in inputs]
    with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(inputs))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, work, value) for value in inputs]
        return [future.result() for future in futures]
