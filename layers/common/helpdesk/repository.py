"""Data access: the single DynamoDB table. The only module of the API functions that speaks boto3.

Layout (one partition per ticket, so a whole conversation is one Query):
  TICKET#<id> / TICKET          the ticket (+ index keys; `on_customer_reply` holds what a customer
                                 reply sets, so a reply is one conditional transaction, no read)
  TICKET#<id> / MSG#<msg id>     a message
  TICKET#<id> / ATT#<att id>     an attachment's record (its bytes: helpdesk.storage); the ticket item
                                 counts them (`attachment_count`), so the 20-per-ticket limit is a
                                 condition of the same transaction; rejected uploads and upload
                                 grants never used (reclaimed when the limit is reached) give room back
  ORG#<org>   / MEMBER#<user>    a member of an org: email, notification preference
  REVIEW#<id> / REVIEW           an AI review of a draft (POST /v1/tickets/review); expires (ttl)
  NOTIFIED#<stream event id> / <recipient>   a mail the notifier sent (or is sending) for one stream
                                 record (helpdesk.mailer): keeps it from going out twice; expires (ttl)
Indexes (newest first, ULIDs sort by time; only ticket items carry their keys):
  ByOrg          gsi1pk ORG#<org>  / gsi1sk <id>           an org's tickets
  ByOrgStatus    gsi1pk ORG#<org>  / gsi2sk <status>#<id>  an org's tickets in one status
  QueueByStatus  gsi3pk STATUS#<status> / gsi1sk <id>      the support team's cross-org queue
  Queue          gsi4pk TICKETS    / gsi1sk <id>           every ticket, for support
Status-derived keys name only the status and the ticket id, so any status change is one write.
Every read and conditional write of a customer is limited to the caller's org."""

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from helpdesk import cursor
from helpdesk.errors import (
    AttachmentLimitReached,
    AttachmentNotFound,
    Conflict,
    MalformedRequest,
    ReviewNotFound,
    StaleVersion,
    TicketClosed,
    TicketNotFound,
)
from helpdesk.models import (
    MAX_ATTACHMENTS_PER_TICKET,
    UNUSED_UPLOAD_RECLAIMED_AFTER,
    Attachment,
    AttachmentStatus,
    Conversation,
    Member,
    Message,
    Review,
    ReviewStatus,
    Status,
    Ticket,
    TicketReview,
    now,
    timestamp,
)
from helpdesk.settings import settings
from helpdesk.status import after_customer_reply, after_review

client = boto3.client("dynamodb")
TABLE = settings().table_name

INDEXES = {
    "ByOrg": ("gsi1pk", "gsi1sk"),
    "ByOrgStatus": ("gsi1pk", "gsi2sk"),
    "QueueByStatus": ("gsi3pk", "gsi1sk"),
    "Queue": ("gsi4pk", "gsi1sk"),
}
MAX_EXAMINED_PER_PAGE = 1_000  # a filtered page stops after this many tickets and returns a cursor
TRANSACTION_ATTEMPTS = 3

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _av(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _av(value) for name, value in values.items() if value is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def ticket_key(ticket_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}}


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


def _ticket_item(ticket: Ticket, search_text: str) -> dict[str, Any]:
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
    return _item(values)


def _message_item(ticket: Ticket | str, message: Message) -> dict[str, Any]:
    """A message belongs to its ticket's partition; the ticket item alone says which org owns it."""
    ticket_id = ticket if isinstance(ticket, str) else ticket.id
    values = message.model_dump(mode="json", exclude={"attachments"})
    values |= {"pk": f"TICKET#{ticket_id}", "sk": f"MSG#{message.id}", "type": "message"}
    return _item(values)


def _member_upsert(member: Member) -> dict[str, Any]:
    """Remember who used the org (members are known from their tokens), keeping their preference."""
    return {
        "TableName": TABLE,
        "Key": {"pk": {"S": f"ORG#{member.org_id}"}, "sk": {"S": f"MEMBER#{member.id}"}},
        "UpdateExpression": "SET #type = :type, id = :id, org_id = :org, email = :email, #roles = :roles, "
        "email_notifications = if_not_exists(email_notifications, :on)",
        "ExpressionAttributeNames": {"#type": "type", "#roles": "roles"},
        "ExpressionAttributeValues": {
            ":type": {"S": "member"},
            ":id": {"S": member.id},
            ":org": {"S": member.org_id},
            ":email": _av(member.email) if member.email else {"NULL": True},
            ":roles": _av(sorted(member.roles)),
            ":on": {"BOOL": True},
        },
    }


def to_ticket(item: dict[str, Any]) -> Ticket:
    values = _plain(item)
    values["review"] = json.loads(values["review"])
    return Ticket.model_validate(values)


# ---------------------------------------------------------------- refusals


@dataclass
class Expectation:
    """What a conditional write on a ticket requires; used to explain a refusal precisely."""

    ticket_id: str
    org_id: str | None
    version: int | None = None
    open: bool = True
    quiet_before: str | None = None  # no message stamped at or after this time has landed (message_stamp)
    attachments: int = 0  # attachments the write adds: the ticket must have room for them

    def condition(self, names: dict[str, str], values: dict[str, Any]) -> str:
        parts = ["attribute_exists(pk)"]
        if self.org_id is not None:
            parts.append("org_id = :scope_org")
            values[":scope_org"] = {"S": self.org_id}
        if self.open:
            names["#status"] = "status"
            parts.append("#status <> :closed")
            values[":closed"] = {"S": Status.CLOSED.value}
        if self.version is not None:
            parts.append("version = :expected_version")
            values[":expected_version"] = {"N": str(self.version)}
        if self.quiet_before is not None:
            parts.append("(attribute_not_exists(message_stamp) OR message_stamp < :quiet_before)")
            values[":quiet_before"] = {"S": self.quiet_before}
        if self.attachments:
            parts.append("(attribute_not_exists(attachment_count) OR attachment_count <= :attachment_room)")
            values[":attachment_room"] = {"N": str(MAX_ATTACHMENTS_PER_TICKET - self.attachments)}
        return " AND ".join(parts)

    def refusal(self, old: dict[str, Any] | None) -> Exception:
        if not old or (self.org_id is not None and old.get("org_id", {}).get("S") != self.org_id):
            return TicketNotFound(self.ticket_id)
        if old.get("status", {}).get("S") == Status.CLOSED.value:
            return TicketClosed(self.ticket_id)
        if self.version is not None and int(old.get("version", {}).get("N", "-1")) != self.version:
            return StaleVersion(self.ticket_id)
        if self.quiet_before is not None and old.get("message_stamp", {}).get("S", "") >= self.quiet_before:
            return MessageRaced()
        if self.attachments and _count(old) + self.attachments > MAX_ATTACHMENTS_PER_TICKET:
            return AttachmentLimitReached(self.ticket_id, MAX_ATTACHMENTS_PER_TICKET, self.attachments)
        return Conflict(f"Ticket {self.ticket_id} changed while it was written; retry.")


@contextmanager
def _refused_as(expected: Expectation) -> Iterator[None]:
    """Turn a refused conditional write into the domain error that explains it."""
    try:
        yield
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            raise expected.refusal(exc.response.get("Item")) from exc
        if code == "TransactionCanceledException":
            reasons = exc.response.get("CancellationReasons") or []
            first = reasons[0] if reasons else {}
            if first.get("Code") == "ConditionalCheckFailed":
                raise expected.refusal(first.get("Item")) from exc
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                raise _TransactionConflict from exc
        raise


class MessageRaced(Exception):
    """A message stamped after the write's own stamp landed first; stamp again and retry."""


class _TransactionConflict(Exception):
    """Another transaction touched the ticket at the same moment; the write is retried."""


def _assign(attributes: dict[str, Any], names: dict[str, str], values: dict[str, Any], sets: list[str]) -> None:
    """Add `SET #name = :name` for each attribute to an update being built."""
    for name, value in attributes.items():
        names[f"#{name}"] = name
        values[f":{name}"] = _av(value)
        sets.append(f"#{name} = :{name}")


def _conditional_update(
    expected: Expectation, names: dict[str, str], values: dict[str, Any], sets: list[str]
) -> dict[str, Any]:
    """The transaction item that updates a ticket under `expected` (its refusal explained from ALL_OLD)."""
    return {
        "TableName": TABLE,
        "Key": ticket_key(expected.ticket_id),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": expected.condition(names, values),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _transact(items: list[dict[str, Any]], expected: Expectation) -> None:
    reclaimed = False
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with _refused_as(expected):
                client.transact_write_items(TransactItems=items)
            return
        except _TransactionConflict:
            time.sleep(0.02 * (attempt + 1))
        except AttachmentLimitReached:
            if reclaimed or not reclaim_unused_uploads(expected.ticket_id):
                raise
            reclaimed = True  # room was given back: the same write, once more
    raise Conflict(f"Ticket {expected.ticket_id} is being changed by someone else right now; retry.")


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
    ticket_item = _ticket_item(ticket, search_text)
    if attachments:
        ticket_item["attachment_count"] = {"N": str(len(attachments))}
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": ticket_item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        *({"Put": {"TableName": TABLE, "Item": _message_item(ticket, message)}} for message in messages),
        *({"Put": {"TableName": TABLE, "Item": _attachment_item(ticket.id, a, "request")}} for a in attachments),
        {"Update": _member_upsert(author)},
    ]
    if filed_review_id is not None:
        items.append(
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": review_key(filed_review_id),
                    "UpdateExpression": "SET filed_ticket_id = :ticket",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(filed_ticket_id)",
                    "ExpressionAttributeValues": {":ticket": {"S": ticket.id}},
                }
            }
        )
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if (
            filed_review_id is not None
            and len(reasons) == len(items)
            and reasons[-1].get("Code") == "ConditionalCheckFailed"
        ):
            raise Conflict(f"Review {filed_review_id} has already been filed as a ticket.") from exc
        raise


@dataclass
class Changes:
    """Attribute changes to a ticket; `status` brings its derived attributes along."""

    values: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def update_ticket(expected: Expectation, changes: Changes, at: str) -> Ticket:
    names: dict[str, str] = {"#updated_at": "updated_at", "#version": "version"}
    values: dict[str, Any] = {":updated_at": {"S": at}, ":one": {"N": "1"}}
    sets = ["#updated_at = :updated_at", "#version = #version + :one"]
    for position, (name, value) in enumerate(changes.values.items()):
        names[f"#f{position}"] = name
        values[f":v{position}"] = _av(value) if value is not None else {"NULL": True}
        sets.append(f"#f{position} = :v{position}")
    expression = "SET " + ", ".join(sets)
    if changes.removed:
        removed = []
        for position, name in enumerate(changes.removed):
            names[f"#r{position}"] = name
            removed.append(f"#r{position}")
        expression += " REMOVE " + ", ".join(removed)
    condition = expected.condition(names, values)
    with _refused_as(expected):
        response = client.update_item(
            TableName=TABLE,
            Key=ticket_key(expected.ticket_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    return to_ticket(response["Attributes"])


def add_message(
    expected: Expectation,
    message: Message,
    author: Member,
    moves: str | None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Append a message (with its attachments' records) and move the status in one transaction: it
    can never land after a close, nor past the ticket's attachment limit.

    `moves` is None (internal note), "support" (-> waiting_customer) or "customer" (the status the
    ticket's `on_customer_reply` names)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":at": {"S": message.created_at}}
    sets = ["message_stamp = :at"]
    if not message.internal:  # an internal note leaves no trace customers could see (version, times)
        names["#version"] = "version"
        values[":one"] = {"N": "1"}
        sets += ["updated_at = :at", "last_activity_at = :at", "#version = #version + :one"]
    if attachments:
        expected = replace(expected, attachments=len(attachments))
        sets.append(_counted(len(attachments), values))
    internal = message.internal  # an internal note's files are internal too
    if moves == "support":
        _assign(status_attributes(expected.ticket_id, Status.WAITING_CUSTOMER), names, values, sets)
    elif moves == "customer":
        names |= {"#status": "status", "#next": "on_customer_reply"}
        sets += ["#status = #next.#status", "gsi2sk = #next.gsi2sk", "gsi3pk = #next.gsi3pk"]
    update = _conditional_update(expected, names, values, sets)
    _transact(
        [
            {"Update": update},
            {"Put": {"TableName": TABLE, "Item": _message_item(expected.ticket_id, message)}},
            *(
                {"Put": {"TableName": TABLE, "Item": _attachment_item(expected.ticket_id, a, "request", internal)}}
                for a in attachments
            ),
            {"Update": _member_upsert(author)},
        ],
        expected,
    )


def close_ticket(expected: Expectation, note: Message) -> None:
    """Close (one way) and record who closed it, in one transaction."""
    names: dict[str, str] = {"#version": "version"}
    values: dict[str, Any] = {":at": {"S": note.created_at}, ":one": {"N": "1"}}
    sets = ["updated_at = :at", "last_activity_at = :at", "closed_at = :at", "message_stamp = :at"]
    sets.append("#version = #version + :one")
    _assign(status_attributes(expected.ticket_id, Status.CLOSED), names, values, sets)
    _transact(
        [
            {"Update": _conditional_update(expected, names, values, sets)},
            {"Put": {"TableName": TABLE, "Item": _message_item(expected.ticket_id, note)}},
        ],
        expected,
    )


# ---------------------------------------------------------------- reads


def get_conversation(ticket_id: str, org_id: str | None, include_internal: bool) -> Conversation:
    """The ticket, its messages and attachments: one Query (more only past 1 MB of conversation).

    The partition is the tenancy unit: unless its ticket item names the caller's org (`org_id`;
    None for support), nothing of it is returned."""
    names = {"#pk": "pk"}
    values: dict[str, Any] = {":pk": {"S": f"TICKET#{ticket_id}"}}
    filters = []
    if not include_internal:
        filters.append("(attribute_not_exists(internal) OR internal = :false)")
        values[":false"] = {"BOOL": False}
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    items: list[dict[str, Any]] = []
    while True:
        response = client.query(**request)
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return _conversation(ticket_id, items, org_id)


def _conversation(ticket_id: str, items: list[dict[str, Any]], org_id: str | None) -> Conversation:
    ticket_item = next((item for item in items if item["sk"]["S"] == "TICKET"), None)
    if ticket_item is None or (org_id is not None and ticket_item["org_id"]["S"] != org_id):
        raise TicketNotFound(ticket_id)
    attachments = [Attachment.model_validate(_plain(i)) for i in items if i["sk"]["S"].startswith("ATT#")]
    messages = []
    for item in items:
        if item["sk"]["S"].startswith("MSG#"):
            message = Message.model_validate(_plain(item))
            message.attachments = [a for a in attachments if a.message_id == message.id]
            messages.append(message)
    ticket = to_ticket(ticket_item)
    return Conversation(**dict(ticket), messages=messages, attachments=attachments)


@dataclass
class TicketQuery:
    org_id: str | None  # None: every org (support)
    statuses: list[Status] = field(default_factory=list)
    category: str | None = None
    severity: str | None = None
    cluster_id: str | None = None
    words: list[str] = field(default_factory=list)
    limit: int = 25
    cursor: str | None = None


@dataclass(frozen=True)
class Plan:
    index: str
    partition: str
    sort_prefix: str | None = None  # ByOrgStatus: "<status>#"
    status_filter: tuple[Status, ...] = ()

    @property
    def scope(self) -> str:
        """What a cursor of this plan is bound to."""
        return self.partition + (f"|{self.sort_prefix}" if self.sort_prefix else "")


def _plan(query: TicketQuery) -> Plan:
    """Pick the narrowest index for the query; statuses it does not cover become a filter."""
    single = query.statuses[0] if len(query.statuses) == 1 else None
    if query.org_id is not None:
        if single:
            return Plan("ByOrgStatus", f"ORG#{query.org_id}", sort_prefix=f"{single.value}#")
        return Plan("ByOrg", f"ORG#{query.org_id}", status_filter=tuple(query.statuses))
    if single:
        return Plan("QueueByStatus", f"STATUS#{single.value}")
    return Plan("Queue", "TICKETS", status_filter=tuple(query.statuses))


def _start_key(token: str, plan: Plan, scope: str | None) -> dict[str, Any]:
    """Where the page starts: the cursor's key, which must be one of this plan's index (DynamoDB
    answers a key of another shape, partition or range with an error, which would be a 5xx)."""
    key = cursor.decode(token, plan.index, plan.scope, scope)
    pk_name, sk_name = INDEXES[plan.index]
    if (
        set(key) != {"pk", "sk", pk_name, sk_name}
        or not all(key.values())
        or key[pk_name] != plan.partition
        or not key[sk_name].startswith(plan.sort_prefix or "")
    ):
        raise MalformedRequest("The cursor is not one this API returned.")
    return {name: {"S": value} for name, value in key.items()}


def list_tickets(query: TicketQuery, scope: str | None) -> tuple[list[Ticket], str | None]:
    """A page of tickets, newest first: one Query per page unless filters must skip tickets,
    and never more than MAX_EXAMINED_PER_PAGE tickets examined per page."""
    plan = _plan(query)
    pk_name, sk_name = INDEXES[plan.index]
    names = {"#ipk": pk_name}
    values: dict[str, Any] = {":ipk": {"S": plan.partition}}
    key_condition = "#ipk = :ipk"
    if plan.sort_prefix:
        names["#isk"] = sk_name
        values[":prefix"] = {"S": plan.sort_prefix}
        key_condition += " AND begins_with(#isk, :prefix)"
    filters = []
    if status_filter := plan.status_filter:
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
        "IndexName": plan.index,
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": query.limit if not filters else max(query.limit, 100),
    }
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    if query.cursor:
        request["ExclusiveStartKey"] = _start_key(query.cursor, plan, scope)
    tickets: list[dict[str, Any]] = []
    examined = 0
    last_key: dict[str, Any] | None = None
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
    next_cursor = None
    if last_key is not None:
        next_cursor = cursor.encode(plan.index, plan.scope, {name: value["S"] for name, value in last_key.items()})
    return [to_ticket(item) for item in tickets], next_cursor


# ---------------------------------------------------------------- members


def member_key(org_id: str, user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": f"MEMBER#{user_id}"}}


def get_member(org_id: str, user_id: str) -> Member | None:
    response = client.get_item(TableName=TABLE, Key=member_key(org_id, user_id))
    return Member.model_validate(_plain(response["Item"])) if "Item" in response else None


def save_member(member: Member) -> Member:
    """Record the member (as their token describes them) with their notification preference."""
    response = client.update_item(
        TableName=TABLE,
        Key=member_key(member.org_id, member.id),
        UpdateExpression="SET #type = :type, id = :id, org_id = :org, email = :email, #roles = :roles, "
        "email_notifications = :notifications",
        ExpressionAttributeNames={"#type": "type", "#roles": "roles"},
        ExpressionAttributeValues={
            ":type": {"S": "member"},
            ":id": {"S": member.id},
            ":org": {"S": member.org_id},
            ":email": _av(member.email) if member.email else {"NULL": True},
            ":roles": _av(sorted(member.roles)),
            ":notifications": {"BOOL": member.email_notifications},
        },
        ReturnValues="ALL_NEW",
    )
    return Member.model_validate(_plain(response["Attributes"]))


# ---------------------------------------------------------------- the notifier's reads (not scoped: a system process)


def find_ticket(ticket_id: str) -> Ticket | None:
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
    return Message.model_validate(_plain(items[0])) if items else None


def list_members(org_id: str) -> list[Member]:
    """Every member of an org, with their notification preference."""
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
        "ExpressionAttributeValues": {":pk": {"S": f"ORG#{org_id}"}, ":member": {"S": "MEMBER#"}},
    }
    members: list[Member] = []
    while True:
        response = client.query(**request)
        members += [Member.model_validate(_plain(item)) for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return members
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# ---------------------------------------------------------------- reviews of drafts

REVIEW_DAYS = 7


def review_key(review_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"REVIEW#{review_id}"}, "sk": {"S": "REVIEW"}}


def put_review(review: Review) -> None:
    values = review.model_dump(mode="json", exclude={"draft", "result"})
    values |= {
        "pk": f"REVIEW#{review.review_id}",
        "sk": "REVIEW",
        "type": "review",
        "draft": review.draft.model_dump_json(),
        "ttl": int(time.time()) + REVIEW_DAYS * 86_400,
    }
    client.put_item(TableName=TABLE, Item=_item(values), ConditionExpression="attribute_not_exists(pk)")


def _to_review(item: dict[str, Any]) -> Review:
    values = _plain(item)
    values["draft"] = json.loads(values["draft"])
    values["result"] = json.loads(values["result"]) if values.get("result") else None
    return Review.model_validate(values)


def get_review(review_id: str, org_id: str | None) -> Review:
    """The review, if the org (None: any, for the reviewer) asked for it and it has not expired."""
    item = client.get_item(TableName=TABLE, Key=review_key(review_id), ConsistentRead=True).get("Item")
    if item is None or (org_id is not None and item["org_id"]["S"] != org_id) or int(item["ttl"]["N"]) < time.time():
        raise ReviewNotFound(review_id)
    return _to_review(item)


def complete_review(review_id: str, status: ReviewStatus, result: dict[str, Any] | None) -> None:
    client.update_item(
        TableName=TABLE,
        Key=review_key(review_id),
        UpdateExpression="SET #status = :status, #result = :result",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#status": "status", "#result": "result"},
        ExpressionAttributeValues={":status": {"S": status.value}, ":result": {"S": json.dumps(result)}},
    )


# ---------------------------------------------------------------- the reviewer's reads and writes


def ticket_for_review(ticket_id: str) -> tuple[Ticket, Message] | None:
    """A ticket and the message it was filed with (MSG#<ticket id>), in one BatchGetItem."""
    keys = [ticket_key(ticket_id), {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": f"MSG#{ticket_id}"}}]
    response = client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
    items = {item["sk"]["S"]: item for item in response["Responses"].get(TABLE, [])}
    if "TICKET" not in items or f"MSG#{ticket_id}" not in items:
        return None
    return to_ticket(items["TICKET"]), Message.model_validate(_plain(items[f"MSG#{ticket_id}"]))


def record_ticket_review(
    ticket: Ticket, review: TicketReview, summary: str, note: Message | None, duplicate_fields: dict[str, str]
) -> bool:
    """Store a completed review on the ticket (opening a ticket still waiting for it) and its `ai`
    note. Two conditional writes, each safe to repeat: the note's id is derived from the ticket's
    (MSG#<ticket id>-ai, right after the message it reviews) and written only once; the ticket only
    while its review is pending. Returns False when the review was already recorded (a job
    delivered twice). No transaction: this is the worker's hot path, and a retry completes it."""
    if note is not None:
        try:
            client.put_item(
                TableName=TABLE,
                Item=_message_item(ticket.id, note.model_copy(update={"id": f"{ticket.id}-ai"})),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
    for opening in (ticket.status is Status.PENDING_REVIEW, False):
        names = {"#version": "version", "#review": "review"}
        values: dict[str, Any] = {
            ":review": {"S": review.model_dump_json()},
            ":done": {"S": review.status.value},
            ":pending": {"S": "pending"},
            ":summary": {"S": summary},
            ":at": {"S": now()},
            ":one": {"N": "1"},
        }
        sets = ["#review = :review", "review_status = :done", "summary = :summary", "updated_at = :at"]
        sets.append("#version = #version + :one")
        for position, (name, value) in enumerate(duplicate_fields.items()):
            names[f"#d{position}"] = name
            values[f":d{position}"] = {"S": value}
            sets.append(f"#d{position} = :d{position}")
        condition = "review_status = :pending"
        if opening:
            names["#status"] = "status"
            values[":waiting"] = {"S": Status.PENDING_REVIEW.value}
            condition += " AND #status = :waiting"
            _assign(status_attributes(ticket.id, after_review(ticket.status)), names, values, sets)
        try:
            client.update_item(
                TableName=TABLE,
                Key=ticket_key(ticket.id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
            if not old or old.get("review_status", {}).get("S") != "pending":
                return False  # recorded already (a job delivered twice)
            # else: the status moved on while the review ran (support triaged or closed it): keep it
    return False


def set_duplicate_fields(ticket_id: str, duplicate_fields: dict[str, str]) -> None:
    names = {f"#d{i}": name for i, name in enumerate(duplicate_fields)}
    values = {f":d{i}": {"S": value} for i, value in enumerate(duplicate_fields.values())}
    client.update_item(
        TableName=TABLE,
        Key=ticket_key(ticket_id),
        UpdateExpression="SET " + ", ".join(f"#d{i} = :d{i}" for i in range(len(names))),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


# ---------------------------------------------------------------- attachments


def attachment_key(ticket_id: str, attachment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": f"ATT#{attachment_id}"}}


def _attachment_item(
    ticket_id: str,
    attachment: Attachment,
    origin: str,
    internal: bool = False,
    declared_size: int | None = None,
) -> dict[str, Any]:
    """`origin`: "request" (checked in the request that sent it) or "presigned" (checked after upload).
    An internal note's attachments are `internal` too: never shown nor served to customers."""
    values = attachment.model_dump(mode="json")
    values |= {
        "pk": f"TICKET#{ticket_id}",
        "sk": f"ATT#{attachment.id}",
        "type": "attachment",
        "origin": origin,
        "internal": True if internal else None,
        "declared_size": declared_size,
    }
    return _item(values)


def _count(ticket_item: dict[str, Any]) -> int:
    return int(ticket_item.get("attachment_count", {}).get("N", "0"))


def _counted(added: int, values: dict[str, Any]) -> str:
    """The SET clause that adds `added` to the ticket's attachment count."""
    values |= {":no_attachments": {"N": "0"}, ":attachments_added": {"N": str(added)}}
    return "attachment_count = if_not_exists(attachment_count, :no_attachments) + :attachments_added"


def add_attachments(
    expected: Expectation,
    attachments: Sequence[Attachment],
    at: str,
    *,
    origin: str,
    declared_size: int | None = None,
) -> None:
    """Attach files to the ticket itself (not to a message): their records and the ticket's count,
    in one transaction conditioned on the ticket being the caller's, open, and with room for them."""
    expected = replace(expected, attachments=len(attachments))
    names: dict[str, str] = {"#version": "version"}
    values: dict[str, Any] = {":at": {"S": at}, ":one": {"N": "1"}}
    sets = ["updated_at = :at", "last_activity_at = :at", "#version = #version + :one"]
    sets.append(_counted(len(attachments), values))
    update = _conditional_update(expected, names, values, sets)
    records = (_attachment_item(expected.ticket_id, a, origin, declared_size=declared_size) for a in attachments)
    _transact([{"Update": update}, *({"Put": {"TableName": TABLE, "Item": item}} for item in records)], expected)


def reclaim_unused_uploads(ticket_id: str) -> int:
    """Mark the ticket's upload grants that were never used `expired` and give their room back, in
    one transaction (each only while still pending). Run only when a write finds the ticket full, so
    no other request pays for it. How many were reclaimed."""
    cutoff = datetime.now(UTC) - timedelta(seconds=UNUSED_UPLOAD_RECLAIMED_AFTER)
    response = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :attachment)",
        FilterExpression="#status = :pending AND created_at < :cutoff",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":pk": {"S": f"TICKET#{ticket_id}"},
            ":attachment": {"S": "ATT#"},
            ":pending": {"S": AttachmentStatus.PENDING_UPLOAD.value},
            ":cutoff": {"S": timestamp(cutoff)},
        },
        ProjectionExpression="id",
        ConsistentRead=True,
    )  # at most 20 records of one partition: one page
    unused = [item["id"]["S"] for item in response["Items"]]
    if not unused:
        return 0
    expire = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": attachment_key(ticket_id, attachment_id),
                "UpdateExpression": "SET #status = :expired",
                "ConditionExpression": "#status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":expired": {"S": AttachmentStatus.EXPIRED.value},
                    ":pending": {"S": AttachmentStatus.PENDING_UPLOAD.value},
                },
            }
        }
        for attachment_id in unused
    ]
    room = {
        "TableName": TABLE,
        "Key": ticket_key(ticket_id),
        "UpdateExpression": "SET attachment_count = attachment_count - :reclaimed",
        "ConditionExpression": "attachment_count >= :reclaimed",
        "ExpressionAttributeValues": {":reclaimed": {"N": str(len(unused))}},
    }
    try:
        client.transact_write_items(TransactItems=[{"Update": room}, *expire])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            return 0  # one was used or reclaimed meanwhile: the caller's limit stands
        raise
    return len(unused)


def get_attachment(ticket_id: str, attachment_id: str, org_id: str | None, include_internal: bool) -> Attachment:
    """An attachment's record, read with its ticket (one BatchGetItem) so the caller's org decides:
    another org's ticket, or a customer asking for an internal note's file, is not found."""
    keys = [ticket_key(ticket_id), attachment_key(ticket_id, attachment_id)]
    request: dict[str, Any] = {TABLE: {"Keys": keys, "ConsistentRead": True}}
    found: dict[str, dict[str, Any]] = {}
    for attempt in range(TRANSACTION_ATTEMPTS):
        response = client.batch_get_item(RequestItems=request)
        found |= {item["sk"]["S"]: item for item in response["Responses"].get(TABLE, [])}
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(0.02 * (attempt + 1))
    else:
        raise Conflict(f"Ticket {ticket_id} could not be read right now; retry.")
    ticket_item = found.get("TICKET")
    if ticket_item is None or (org_id is not None and ticket_item["org_id"]["S"] != org_id):
        raise TicketNotFound(ticket_id)
    item = found.get(f"ATT#{attachment_id}")
    if item is None or (item.get("internal", {}).get("BOOL") and not include_internal):
        raise AttachmentNotFound(ticket_id, attachment_id)
    return Attachment.model_validate(_plain(item))


@dataclass(frozen=True)
class AttachmentRecord:
    """An attachment as the upload check sees it (not scoped: a system process)."""

    ticket_id: str
    attachment: Attachment
    origin: str
    declared_size: int | None


def find_attachment(ticket_id: str, attachment_id: str) -> AttachmentRecord | None:
    response = client.get_item(TableName=TABLE, Key=attachment_key(ticket_id, attachment_id), ConsistentRead=True)
    if "Item" not in response:
        return None
    values = _plain(response["Item"])
    declared = values.get("declared_size")
    return AttachmentRecord(
        ticket_id=ticket_id,
        attachment=Attachment.model_validate(values),
        origin=str(values.get("origin", "")),
        declared_size=int(declared) if declared is not None else None,
    )


def settle_attachment(
    ticket_id: str,
    attachment_id: str,
    status: AttachmentStatus,
    content_type: str,
    size: int,
    reason: str | None = None,
) -> bool:
    """Record the check's verdict; False when the record is gone, or was already rejected or expired
    (both final, their room already given back). A rejection gives the ticket its room back, in the
    same transaction."""
    values: dict[str, Any] = {
        ":status": {"S": status.value},
        ":content_type": {"S": content_type},
        ":size": {"N": str(size)},
        ":rejected": {"S": AttachmentStatus.REJECTED.value},
        ":expired": {"S": AttachmentStatus.EXPIRED.value},
    }
    expression = "SET #status = :status, content_type = :content_type, #size = :size"
    if reason is not None:
        expression += ", rejection_reason = :reason"
        values[":reason"] = {"S": reason}
    else:
        expression += " REMOVE rejection_reason"
    record = {
        "TableName": TABLE,
        "Key": attachment_key(ticket_id, attachment_id),
        "UpdateExpression": expression,
        "ConditionExpression": "attribute_exists(pk) AND #status <> :rejected AND #status <> :expired",
        "ExpressionAttributeNames": {"#status": "status", "#size": "size"},
        "ExpressionAttributeValues": values,
    }
    try:
        if status is not AttachmentStatus.REJECTED:
            client.update_item(**record)
            return True
        room = {
            "TableName": TABLE,
            "Key": ticket_key(ticket_id),
            "UpdateExpression": "SET attachment_count = if_not_exists(attachment_count, :one) - :one",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        client.transact_write_items(TransactItems=[{"Update": record}, {"Update": room}])
        return True
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        reasons = exc.response.get("CancellationReasons") or [{}]
        if code == "ConditionalCheckFailedException" or (
            code == "TransactionCanceledException" and reasons[0].get("Code") == "ConditionalCheckFailed"
        ):
            return False
        raise
