"""Data access: tickets and their conversations (TICKET#<id> partitions: the ticket, its messages,
its attachments' records).

Indexes (newest first, ULIDs sort by time; only ticket items carry their keys):
  ByOrg          gsi1pk ORG#<org>  / gsi1sk <id>           an org's tickets
  ByOrgStatus    gsi1pk ORG#<org>  / gsi2sk <status>#<id>  an org's tickets in one status
  QueueByStatus  gsi3pk STATUS#<status> / gsi1sk <id>      the support team's cross-org queue
  Queue          gsi4pk TICKETS    / gsi1sk <id>           every ticket, for support
  ByDeadline     gsi5pk RESPONSE | AUTOCLOSE / gsi5sk <epoch ms>   tickets support owes a response
                 by when (soonest first), and resolved tickets by when they auto-close
Every index key follows from the ticket's state (`index_keys`), so any change is one write.

Changes are read-then-write: a use case reads the ticket, the domain (helpdesk.domain.lifecycle)
decides the outcome, and `change` writes it in one transaction only if the ticket's
`staff_version` is still the one read (else it reads again). Every read and conditional write of a
customer is limited to the caller's org."""

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.domain import deadlines
from helpdesk.domain.errors import AttachmentLimitReached, Conflict, MalformedRequest, TicketNotFound, TryAgain
from helpdesk.domain.lifecycle import Outcome
from helpdesk.domain.models import (
    MAX_ATTACHMENTS_PER_TICKET,
    Attachment,
    AttachmentOrigin,
    Conversation,
    Member,
    Message,
    Stamps,
    Status,
    Ticket,
)
from helpdesk.domain.status import settled_as
from helpdesk.store import attachments as attachment_records
from helpdesk.store import categories, members
from helpdesk.store.core import (
    TABLE,
    Item,
    Update,
    client,
    conflicted,
    from_item,
    query_all,
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
    "ByDeadline": ("gsi5pk", "gsi5sk"),
}
MAX_EXAMINED_PER_PAGE = 1_000  # a filtered page stops after this many tickets and returns a cursor
CHANGE_ATTEMPTS = 8  # tries of a change while others write the ticket (each lost try is another writer done)
RESPONSE, AUTOCLOSE = "RESPONSE", "AUTOCLOSE"
HIDDEN = (
    "staff_version",
    "response_clock",
    "message_stamp",
    "changed_by",
    "settled_category",
)  # stored, never answered
COMPUTED = {"review", "waiting_on", "response_breached", *HIDDEN}


def epoch_ms(at: str) -> int:
    return int(deadlines.parse(at).timestamp() * 1000)


def index_keys(ticket: Ticket) -> dict[str, Any]:
    """Every index key, as the ticket's state implies it (None: not in that index)."""
    deadline = (RESPONSE, ticket.response_due_at) if ticket.response_due_at else (AUTOCLOSE, ticket.auto_close_at)
    return {
        "gsi1pk": f"ORG#{ticket.org_id}",
        "gsi1sk": ticket.id,
        "gsi2sk": f"{ticket.status.value}#{ticket.id}",
        "gsi3pk": f"STATUS#{ticket.status.value}",
        "gsi4pk": "TICKETS",
        "gsi5pk": deadline[0] if deadline[1] else None,
        "gsi5sk": epoch_ms(deadline[1]) if deadline[1] else None,
    }


def _values(ticket: Ticket) -> dict[str, Any]:
    """The ticket's stored attributes (None: absent), index keys included."""
    values = ticket.model_dump(mode="json", exclude=COMPUTED)
    hidden = {name: getattr(ticket, name) for name in HIDDEN}
    values |= {
        name: value.model_dump(mode="json") if hasattr(value, "model_dump") else value for name, value in hidden.items()
    }
    values |= {
        "review": ticket.review.model_dump_json(),
        "review_status": ticket.review.status.value,  # for conditions on the review
        **index_keys(ticket),
    }
    return values


def ticket_item(ticket: Ticket) -> Item:
    values = _values(ticket) | {"pk": f"TICKET#{ticket.id}", "sk": "TICKET", "type": "ticket"}
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


def _put(item: Item, *, new: bool = False) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": item}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


# ---------------------------------------------------------------- writes


def create_ticket(
    ticket: Ticket,
    messages: list[Message],
    author: Member,
    filed_review_id: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """One transaction: the ticket, its first message(s) and their attachments' records, the author
    in the member directory, and (when filed from a review) the review marked as filed, so a review
    files one ticket only."""
    item = ticket_item(ticket)
    if attachments:
        item["attachment_count"] = {"N": str(len(attachments))}
    items: list[dict[str, Any]] = [
        _put(item, new=True),
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


def get_ticket(ticket_id: str, org_id: str | None) -> Ticket:
    """The ticket as it is now (a consistent read), if it is the org's (None: any org)."""
    item = client.get_item(TableName=TABLE, Key=ticket_key(ticket_id), ConsistentRead=True).get("Item")
    if item is None or (org_id is not None and item["org_id"]["S"] != org_id):
        raise TicketNotFound(ticket_id)
    return to_ticket(item)


@dataclass
class Extra:
    """What a change writes besides the ticket and its messages."""

    attachments: Sequence[
        tuple[Attachment, AttachmentOrigin, bool, int | None]
    ] = ()  # record, origin, internal, declared size
    settle: dict[str, Any] | None = None  # an attachment record's Update (the upload check's verdict)
    count: int = 0  # how the ticket's attachment count changes
    member: Member | None = None  # the author, remembered in the org's member directory
    attributes: dict[str, Any] = field(default_factory=dict)  # attributes of the ticket item outside the model


class Raced(Exception):
    """The ticket changed between the read and the write; read it again."""


def _ticket_update(before: Ticket, after: Ticket, extra: Extra) -> Update:
    old, new = _values(before), _values(after)
    update = Update()
    for name, value in new.items():
        if value is None and old.get(name) is not None:
            update.remove(name)
        elif value is not None and value != old.get(name):
            update.set(name, value)
    update.set_all(extra.attributes)
    if extra.count:
        update.add("attachment_count", extra.count)
    update.require(f"{update.name('staff_version')} = {update.value(before.staff_version)}")
    if extra.count > 0:
        counted, room = update.name("attachment_count"), update.value(MAX_ATTACHMENTS_PER_TICKET - extra.count)
        update.require(f"attribute_not_exists({counted}) OR {counted} <= {room}")
    return update


def write(before: Ticket, outcome: Outcome, extra: Extra | None = None) -> None:
    """Write an outcome in one transaction, if the ticket is still as read (its staff_version); then
    move the ticket in its org's category mix if it settled, reopened or was recategorised settled
    (helpdesk.store.categories). Raises Raced (read again), or AttachmentLimitReached."""
    extra = extra or Extra()
    settled = settled_as(outcome.ticket)
    update = _ticket_update(before, outcome.ticket.model_copy(update={"settled_category": settled}), extra)
    items: list[dict[str, Any]] = [
        {"Update": update.request(ticket_key(before.id), ReturnValuesOnConditionCheckFailure="ALL_OLD")},
        *(_put(message_item(before.id, message), new=True) for message in outcome.messages),
        *(
            _put(attachment_records.attachment_item(before.id, a, origin, internal, declared))
            for a, origin, internal, declared in extra.attachments
        ),
    ]
    if extra.settle is not None:
        items.append({"Update": extra.settle})
    if extra.member is not None:
        items.append({"Update": members.upsert(extra.member)})
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        found = refused(exc)
        if found is None:
            if conflicted(exc):
                raise Raced from exc
            raise
        index, old = found
        if index == 0 and old and int(old.get("staff_version", {}).get("N", "0")) == before.staff_version:
            raise AttachmentLimitReached(before.id, MAX_ATTACHMENTS_PER_TICKET, extra.count) from exc
        raise Raced from exc
    categories.move(before.org_id, before.settled_category, settled)


Act = Callable[[Ticket, Stamps], tuple[Outcome, Extra | None]]


def change(ticket_id: str, org_id: str | None, act: Act) -> Outcome:
    """Read the ticket (the org's; None: any), let `act` decide the outcome, write it if nobody changed
    the ticket meanwhile; else read again. A full ticket whose unused upload grants give room back
    is written once more."""
    reclaimed = False
    for attempt in range(CHANGE_ATTEMPTS):
        ticket = get_ticket(ticket_id, org_id)
        outcome, extra = act(ticket, Stamps(ticket.message_stamp))
        if outcome.ticket == ticket and not outcome.messages and extra is None:
            return outcome  # nothing changed
        try:
            write(ticket, outcome, extra)
            return outcome
        except Raced:
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # apart, so racing writers do not meet again
        except AttachmentLimitReached:
            if reclaimed or not attachment_records.reclaim_unused_uploads(ticket_id):
                raise
            reclaimed = True
    raise TryAgain(f"Ticket {ticket_id} is being changed by someone else right now; retry.")


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


def due(kind: str, until: str, limit: int) -> list[str]:
    """Tickets whose deadline of `kind` (RESPONSE: a response target not yet recorded as breached;
    AUTOCLOSE: a resolved ticket's auto-close time) is at or before `until`, soonest first: read
    from the ByDeadline index, never a scan."""
    request: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": "ByDeadline",
        "KeyConditionExpression": "gsi5pk = :kind AND gsi5sk <= :until",
        "ExpressionAttributeValues": {":kind": {"S": kind}, ":until": {"N": str(epoch_ms(until))}},
        "ProjectionExpression": "id",
    }
    if kind == RESPONSE:
        request["FilterExpression"] = "attribute_not_exists(response_breached_at)"
    found: list[str] = []
    while len(found) < limit:
        response = client.query(**request, Limit=limit)
        found += [item["id"]["S"] for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return found[:limit]


# ---------------------------------------------------------------- lists


@dataclass
class TicketQuery:
    org_id: str | None  # None: every org (support)
    statuses: list[Status] = field(default_factory=list)
    category: str | None = None
    severity: str | None = None
    cluster_id: str | None = None
    limit: int = 25
    by_response_due: bool = False  # support's queue: soonest response target first (passed ones first)
    breached_at: str | None = None  # only tickets whose response target passed by this time


@dataclass(frozen=True)
class Plan:
    index: str
    partition: str
    sort_prefix: str | None = None  # ByOrgStatus: "<status>#"
    status_filter: tuple[Status, ...] = ()
    ascending: bool = False  # newest first, but deadlines soonest first
    until_ms: int | None = None  # ByDeadline: deadlines at or before this
    org_filter: str | None = None  # ByDeadline spans every org: the one asked for

    @property
    def scope(self) -> str:
        """The part of the index a page of this plan is read from: what a cursor is bound to."""
        return self.partition + (f"|{self.sort_prefix}" if self.sort_prefix else "")


def plan(query: TicketQuery) -> Plan:
    """Pick the narrowest index for the query; statuses it does not cover become a filter."""
    if query.by_response_due or query.breached_at:
        until = epoch_ms(query.breached_at) if query.breached_at else None
        return Plan(
            "ByDeadline", RESPONSE, status_filter=tuple(query.statuses), ascending=True, until_ms=until,
            org_filter=query.org_id,
        )  # fmt: skip
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
        or (sk_name == "gsi5sk" and not key[sk_name].isdigit())
    ):
        raise MalformedRequest("The cursor is not one this API returned.")
    return {name: {"N" if name == "gsi5sk" else "S": value} for name, value in key.items()}


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
    if where.until_ms is not None:
        names["#isk"] = sk_name
        values[":until"] = {"N": str(where.until_ms)}
        key_condition += " AND #isk <= :until"
    filters = []
    if where.org_filter:
        names["#org"] = "org_id"
        values[":org"] = {"S": where.org_filter}
        filters.append("#org = :org")
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
    request: dict[str, Any] = {
        "TableName": TABLE,
        "IndexName": where.index,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": where.ascending,
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
    next_key = {name: value.get("S") or value["N"] for name, value in last_key.items()} if last_key else None
    return Page([to_ticket(item) for item in tickets], next_key)
