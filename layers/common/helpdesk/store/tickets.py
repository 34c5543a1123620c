"""Data access: tickets and their conversations (TICKET#<id> partitions: the ticket, its messages,
its attachments' records).

Indexes (newest first, ULIDs sort by time; only ticket items carry their keys):
  ByOrg          gsi1pk ORG#<org>  / gsi1sk <id>           an org's tickets
  ByOrgStatus    gsi1pk ORG#<org>  / gsi2sk <status>#<id>  an org's tickets in one status
  QueueByStatus  gsi3pk STATUS#<status> / gsi1sk <id>      the support team's cross-org queue
  Queue          gsi4pk TICKETS    / gsi1sk <id>           every ticket, for support
Status-derived keys name only the status and the ticket id, so any status change is one write.
Every read and conditional write of a customer is limited to the caller's org."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from botocore.exceptions import ClientError

from helpdesk.domain.errors import (
    AttachmentLimitReached,
    Conflict,
    MalformedRequest,
    StaleVersion,
    TicketClosed,
    TicketNotFound,
    TryAgain,
)
from helpdesk.domain.models import (
    MAX_ATTACHMENTS_PER_TICKET,
    Attachment,
    Conversation,
    Member,
    Message,
    Status,
    Ticket,
)
from helpdesk.domain.status import after_customer_reply
from helpdesk.store import attachments as attachment_records
from helpdesk.store import members
from helpdesk.store.core import (
    TABLE,
    Item,
    Update,
    client,
    conflicted,
    from_item,
    query_all,
    refusals,
    refused,
    review_key,
    ticket_key,
    to_item,
)

INDEXES = {
    "ByOrg": ("gsi1pk", "gsi1sk"),
    "ByOrgStatus": ("gsi1pk", "gsi2sk"),
    "QueueByStatus": ("gsi3pk", "gsi1sk"),
    "Queue": ("gsi4pk", "gsi1sk"),
}
MAX_EXAMINED_PER_PAGE = 1_000  # a filtered page stops after this many tickets and returns a cursor
TRANSACTION_ATTEMPTS = 3

# How a message moves the ticket's status: a support reply waits on the customer, a customer reply
# hands the ball back (to what the ticket's `on_customer_reply` names); None: an internal note.
Moves = Literal["support", "customer"]


def status_attributes(ticket_id: str, status: Status) -> dict[str, Any]:
    """Everything that follows from a ticket's status, written together with it."""
    next_status = after_customer_reply(status)
    return {
        "status": status.value,
        "gsi2sk": f"{status.value}#{ticket_id}",
        "gsi3pk": f"STATUS#{status.value}",
        "on_customer_reply": {
            "status": next_status.value,
            "gsi2sk": f"{next_status.value}#{ticket_id}",
            "gsi3pk": f"STATUS#{next_status.value}",
        },
    }


def ticket_item(ticket: Ticket, search_text: str) -> Item:
    values = ticket.model_dump(mode="json", exclude={"review", "waiting_on", "status"})  # status: below
    values |= status_attributes(ticket.id, ticket.status)
    values |= {
        "pk": f"TICKET#{ticket.id}",
        "sk": "TICKET",
        "type": "ticket",
        "review": ticket.review.model_dump_json(),
        "review_status": ticket.review.status.value,  # for the reviewer's conditional writes
        "message_stamp": ticket.created_at,  # the newest message's stamp (the first message's, here)
        "search_text": search_text,
        "gsi1pk": f"ORG#{ticket.org_id}",
        "gsi1sk": ticket.id,
        "gsi4pk": "TICKETS",
    }
    return to_item(values)


def message_item(ticket_id: str, message: Message) -> Item:
    """A message belongs to its ticket's partition; the ticket item alone says which org owns it."""
    values = message.model_dump(mode="json", exclude={"attachments"})
    values |= {"pk": f"TICKET#{ticket_id}", "sk": f"MSG#{message.id}", "type": "message"}
    return to_item(values)


def to_ticket(item: Item) -> Ticket:
    values = from_item(item)
    values["review"] = json.loads(values["review"])
    return Ticket.model_validate(values)


# ---------------------------------------------------------------- conditional writes


class MessageRaced(Exception):
    """A message stamped after the write's own stamp landed first; stamp again and retry."""


@dataclass
class Expectation:
    """What a conditional write on a ticket requires; used to explain a refusal precisely."""

    ticket_id: str
    org_id: str | None
    version: int | None = None
    open: bool = True
    quiet_before: str | None = None  # no message stamped at or after this time has landed (message_stamp)
    attachments: int = 0  # attachments the write adds: the ticket must have room for them

    def apply(self, update: Update) -> Update:
        """Add this expectation's conditions to an update of the ticket."""
        update.require("attribute_exists(pk)")
        if self.org_id is not None:
            update.require(f"{update.name('org_id')} = {update.value(self.org_id)}")
        if self.open:
            update.require(f"{update.name('status')} <> {update.value(Status.CLOSED.value)}")
        if self.version is not None:
            update.require(f"{update.name('version')} = {update.value(self.version)}")
        if self.quiet_before is not None:
            stamp = update.name("message_stamp")
            update.require(f"attribute_not_exists({stamp}) OR {stamp} < {update.value(self.quiet_before)}")
        if self.attachments:
            counted, room = update.name("attachment_count"), update.value(MAX_ATTACHMENTS_PER_TICKET - self.attachments)
            update.require(f"attribute_not_exists({counted}) OR {counted} <= {room}")
        return update

    def refusal(self, old: Item | None) -> Exception:
        if not old or (self.org_id is not None and old.get("org_id", {}).get("S") != self.org_id):
            return TicketNotFound(self.ticket_id)
        if old.get("status", {}).get("S") == Status.CLOSED.value:
            return TicketClosed(self.ticket_id)
        if self.version is not None and int(old.get("version", {}).get("N", "-1")) != self.version:
            return StaleVersion(self.ticket_id)
        if self.quiet_before is not None and old.get("message_stamp", {}).get("S", "") >= self.quiet_before:
            return MessageRaced()
        if self.attachments and attachment_records.count(old) + self.attachments > MAX_ATTACHMENTS_PER_TICKET:
            return AttachmentLimitReached(self.ticket_id, MAX_ATTACHMENTS_PER_TICKET, self.attachments)
        return TryAgain(f"Ticket {self.ticket_id} changed while it was written; retry.")

    def explain(self, index: int, old: Item | None) -> Exception:
        """The refusal of a write whose first item is the ticket's update (store.core.refusals)."""
        return (
            self.refusal(old)
            if index == 0
            else TryAgain(f"Ticket {self.ticket_id} changed while it was written; retry.")
        )

    def ticket_update(self, update: Update) -> dict[str, Any]:
        """The ticket's update under this expectation (its refusal explained from ALL_OLD)."""
        return self.apply(update).request(ticket_key(self.ticket_id), ReturnValuesOnConditionCheckFailure="ALL_OLD")


def _transact(items: list[dict[str, Any]], expected: Expectation) -> None:
    """A transaction whose first item updates the ticket under `expected`: retried when another
    transaction touched the ticket at the same moment, and once more when unused upload grants
    gave room back to a ticket that was full."""
    reclaimed = False
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with refusals(expected.explain):
                client.transact_write_items(TransactItems=items)
            return
        except ClientError as exc:
            if not conflicted(exc):
                raise
            time.sleep(0.02 * (attempt + 1))
        except AttachmentLimitReached:
            if reclaimed or not attachment_records.reclaim_unused_uploads(expected.ticket_id):
                raise
            reclaimed = True  # room was given back: the same write, once more
    raise TryAgain(f"Ticket {expected.ticket_id} is being changed by someone else right now; retry.")


def _put(item: Item) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": item}}


# ---------------------------------------------------------------- writes


def create_ticket(
    ticket: Ticket,
    messages: list[Message],
    author: Member,
    search_text: str,
    filed_review_id: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """One transaction: the ticket, its first message(s) and their attachments' records, the author
    in the member directory, and (when filed from a review) the review marked as filed, so a review
    files one ticket only."""
    item = ticket_item(ticket, search_text)
    if attachments:
        item["attachment_count"] = {"N": str(len(attachments))}
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
        *(_put(message_item(ticket.id, message)) for message in messages),
        *(_put(attachment_records.attachment_item(ticket.id, a, "request")) for a in attachments),
        {"Update": members.upsert(author)},
    ]
    if filed_review_id is not None:
        filed = Update().set("filed_ticket_id", ticket.id)
        filed.require(f"attribute_exists(pk) AND attribute_not_exists({filed.name('filed_ticket_id')})")
        items.append({"Update": filed.request(review_key(filed_review_id))})
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        found = refused(exc)
        if filed_review_id is not None and found is not None and found[0] == len(items) - 1:
            raise Conflict(f"Review {filed_review_id} has already been filed as a ticket.") from exc
        raise


@dataclass
class Changes:
    """Attribute changes to a ticket; `status` brings its derived attributes along."""

    values: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def update_ticket(expected: Expectation, changes: Changes, at: str) -> Ticket:
    update = Update().set("updated_at", at).add("version", 1).set_all(changes.values)
    for name in changes.removed:
        update.remove(name)
    with refusals(expected.explain):
        response = client.update_item(**expected.ticket_update(update), ReturnValues="ALL_NEW")
    return to_ticket(response["Attributes"])


def add_message(
    expected: Expectation,
    message: Message,
    author: Member,
    moves: Moves | None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Append a message (with its attachments' records) and move the status in one transaction: it
    can never land after a close, nor past the ticket's attachment limit."""
    update = Update().set("message_stamp", message.created_at)
    if not message.internal:  # an internal note leaves no trace customers could see (version, times)
        update.set_all({"updated_at": message.created_at, "last_activity_at": message.created_at}).add("version", 1)
    if attachments:
        expected = replace(expected, attachments=len(attachments))
        update.add("attachment_count", len(attachments))
    if moves == "support":
        update.set_all(status_attributes(expected.ticket_id, Status.WAITING_CUSTOMER))
    elif moves == "customer":
        for name in ("status", "gsi2sk", "gsi3pk"):
            update.copy(name, f"on_customer_reply.{name}")
    records = (
        attachment_records.attachment_item(expected.ticket_id, a, "request", message.internal) for a in attachments
    )  # an internal note's files are internal too
    _transact(
        [
            {"Update": expected.ticket_update(update)},
            _put(message_item(expected.ticket_id, message)),
            *(_put(record) for record in records),
            {"Update": members.upsert(author)},
        ],
        expected,
    )


def add_attachments(
    expected: Expectation,
    attachments: Sequence[Attachment],
    at: str,
    *,
    origin: Literal["request", "presigned"],
    declared_size: int | None = None,
) -> None:
    """Attach files to the ticket itself (not to a message): their records and the ticket's count,
    in one transaction conditioned on the ticket being the caller's, open, and with room for them."""
    expected = replace(expected, attachments=len(attachments))
    update = Update().set_all({"updated_at": at, "last_activity_at": at}).add("version", 1)
    update.add("attachment_count", len(attachments))
    records = (
        attachment_records.attachment_item(expected.ticket_id, a, origin, declared_size=declared_size)
        for a in attachments
    )
    _transact([{"Update": expected.ticket_update(update)}, *(_put(record) for record in records)], expected)


def close_ticket(expected: Expectation, note: Message) -> None:
    """Close (one way) and record who closed it, in one transaction."""
    at = note.created_at
    update = Update().set_all({"updated_at": at, "last_activity_at": at, "closed_at": at, "message_stamp": at})
    update.add("version", 1).set_all(status_attributes(expected.ticket_id, Status.CLOSED))
    _transact([{"Update": expected.ticket_update(update)}, _put(message_item(expected.ticket_id, note))], expected)


# ---------------------------------------------------------------- reads


def get_conversation(ticket_id: str, org_id: str | None, include_internal: bool) -> Conversation:
    """The ticket, its messages and attachments: one Query (more only past 1 MB of conversation).

    The partition is the tenancy unit: unless its ticket item names the caller's org (`org_id`;
    None for support), nothing of it is returned."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": "pk"},
        "ExpressionAttributeValues": {":pk": {"S": f"TICKET#{ticket_id}"}},
    }
    if not include_internal:
        request["FilterExpression"] = "attribute_not_exists(internal) OR internal = :false"
        request["ExpressionAttributeValues"][":false"] = {"BOOL": False}
    items = query_all(request)
    found = next((item for item in items if item["sk"]["S"] == "TICKET"), None)
    if found is None or (org_id is not None and found["org_id"]["S"] != org_id):
        raise TicketNotFound(ticket_id)
    attachments = [Attachment.model_validate(from_item(i)) for i in items if i["sk"]["S"].startswith("ATT#")]
    messages = []
    for item in items:
        if item["sk"]["S"].startswith("MSG#"):
            message = Message.model_validate(from_item(item))
            message.attachments = [a for a in attachments if a.message_id == message.id]
            messages.append(message)
    return Conversation(**dict(to_ticket(found)), messages=messages, attachments=attachments)


def find_ticket(ticket_id: str) -> Ticket | None:
    """A ticket, whoever's it is (the notifier's read: a system process)."""
    response = client.get_item(TableName=TABLE, Key=ticket_key(ticket_id), ConsistentRead=True)
    return to_ticket(response["Item"]) if "Item" in response else None


def first_message(ticket_id: str) -> Message | None:
    """The message a ticket was filed with (message ids sort by time)."""
    response = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues={":pk": {"S": f"TICKET#{ticket_id}"}, ":msg": {"S": "MSG#"}},
        ConsistentRead=True,
        Limit=1,
    )
    items = response["Items"]
    return Message.model_validate(from_item(items[0])) if items else None


# ---------------------------------------------------------------- lists


@dataclass
class TicketQuery:
    org_id: str | None  # None: every org (support)
    statuses: list[Status] = field(default_factory=list)
    category: str | None = None
    severity: str | None = None
    cluster_id: str | None = None
    words: list[str] = field(default_factory=list)
    limit: int = 25


@dataclass(frozen=True)
class Plan:
    index: str
    partition: str
    sort_prefix: str | None = None  # ByOrgStatus: "<status>#"
    status_filter: tuple[Status, ...] = ()

    @property
    def scope(self) -> str:
        """The part of the index a page of this plan is read from: what a cursor is bound to."""
        return self.partition + (f"|{self.sort_prefix}" if self.sort_prefix else "")


def plan(query: TicketQuery) -> Plan:
    """Pick the narrowest index for the query; statuses it does not cover become a filter."""
    single = query.statuses[0] if len(query.statuses) == 1 else None
    if query.org_id is not None:
        if single:
            return Plan("ByOrgStatus", f"ORG#{query.org_id}", sort_prefix=f"{single.value}#")
        return Plan("ByOrg", f"ORG#{query.org_id}", status_filter=tuple(query.statuses))
    if single:
        return Plan("QueueByStatus", f"STATUS#{single.value}")
    return Plan("Queue", "TICKETS", status_filter=tuple(query.statuses))


def _start_key(key: dict[str, str], where: Plan) -> Item:
    """Where the page starts: a key of this plan's index (DynamoDB answers a key of another shape,
    partition or range with an error, which would be a 5xx)."""
    pk_name, sk_name = INDEXES[where.index]
    if (
        set(key) != {"pk", "sk", pk_name, sk_name}
        or not all(isinstance(value, str) and value for value in key.values())
        or key[pk_name] != where.partition
        or not key[sk_name].startswith(where.sort_prefix or "")
    ):
        raise MalformedRequest("The cursor is not one this API returned.")
    return {name: {"S": value} for name, value in key.items()}


@dataclass
class Page:
    tickets: list[Ticket]
    last_key: dict[str, str] | None  # where the next page starts, None at the end


def list_tickets(query: TicketQuery, start_key: dict[str, str] | None = None) -> Page:
    """A page of tickets, newest first: one Query per page unless filters must skip tickets,
    and never more than MAX_EXAMINED_PER_PAGE tickets examined per page."""
    where = plan(query)
    pk_name, sk_name = INDEXES[where.index]
    names = {"#ipk": pk_name}
    values: dict[str, Any] = {":ipk": {"S": where.partition}}
    key_condition = "#ipk = :ipk"
    if where.sort_prefix:
        names["#isk"] = sk_name
        values[":prefix"] = {"S": where.sort_prefix}
        key_condition += " AND begins_with(#isk, :prefix)"
    filters = []
    if status_filter := where.status_filter:
        names["#status"] = "status"
        keys = [f":s{i}" for i in range(len(status_filter))]
        values |= {key: {"S": status.value} for key, status in zip(keys, status_filter, strict=True)}
        filters.append(f"#status IN ({', '.join(keys)})")
    for name in ("category", "severity"):
        if getattr(query, name):
            names[f"#{name}"] = name
            values[f":{name}"] = {"S": getattr(query, name)}
            filters.append(f"#{name} = :{name}")
    if query.cluster_id:
        names |= {"#properties": "properties", "#cluster": "cluster_id"}
        values[":cluster"] = {"S": query.cluster_id}
        filters.append("#properties.#cluster = :cluster")
    for position, word in enumerate(query.words):
        values[f":w{position}"] = {"S": word}
        filters.append(f"contains(search_text, :w{position})")
    request: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": where.index,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": query.limit if not filters else max(query.limit, 100),
    }
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    if start_key is not None:
        request["ExclusiveStartKey"] = _start_key(start_key, where)
    tickets: list[Item] = []
    examined = 0
    last_key: Item | None = None
    while True:
        response = client.query(**request)
        examined += response.get("ScannedCount", 0)
        for item in response["Items"]:
            tickets.append(item)
            if len(tickets) == query.limit:
                last_key = {name: item[name] for name in ("pk", "sk", pk_name, sk_name)}
                break
        else:
            last_key = response.get("LastEvaluatedKey")
        if len(tickets) == query.limit or last_key is None or examined >= MAX_EXAMINED_PER_PAGE:
            break
        request["ExclusiveStartKey"] = last_key
    next_key = {name: value["S"] for name, value in last_key.items()} if last_key is not None else None
    return Page([to_ticket(item) for item in tickets], next_key)
