"""The single DynamoDB table: the client, its layout, and the idioms every aggregate module shares.

Layout (one partition per ticket, so a whole conversation is one Query):
  TICKET#<id> / TICKET          the ticket (+ index keys; `on_customer_reply` holds what a customer
                                 reply sets, so a reply is one conditional transaction, no read)
  TICKET#<id> / MSG#<msg id>     a message
  TICKET#<id> / ATT#<att id>     an attachment's record (its bytes: helpdesk.adapters.storage)
  ORG#<org>   / MEMBER#<user>    a member of an org: email, notification preference
  ORG#<org>   / CATEGORIES       the org's category mix: its settled tickets per category (store.categories)
  REVIEW#<id> / REVIEW           an AI review of a draft (POST /v1/tickets/review); expires (ttl)
  DUPIDX#<org>#<key> / POSTINGS  the duplicate index (store.duplicates)
  NOTIFIED#<stream event id> / <recipient>   a mail the notifier sent (store.claims); expires (ttl)
Indexes (newest first, ULIDs sort by time; only ticket items carry their keys): see store.tickets.

Only modules of `helpdesk.store` speak DynamoDB. They take and return domain models, and tell refused
writes apart here (`refused`, `conflicted`) for the domain exceptions they raise, with `raise … from`."""

import time
from collections.abc import Sequence
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from helpdesk.domain.errors import Busy
from helpdesk.settings import settings

client = boto3.client("dynamodb")
TABLE = settings().table_name

Item = dict[str, Any]  # an item in DynamoDB JSON ({"S": ...})
BATCH_GET_LIMIT = 100  # keys per BatchGetItem request
BATCH_GET_ATTEMPTS = 6  # requests for the same keys before the read gives up (backoff between them)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# ---------------------------------------------------------------- values


def attribute(value: Any) -> dict[str, Any]:
    """A Python value in DynamoDB JSON (None is NULL)."""
    return {"NULL": True} if value is None else _serializer.serialize(value)


def to_item(values: dict[str, Any]) -> Item:
    """Attributes in DynamoDB JSON; None values are left out."""
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: Item) -> dict[str, Any]:
    """An item as plain Python values."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


# ---------------------------------------------------------------- keys


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def ticket_key(ticket_id: str) -> Item:
    return key(f"TICKET#{ticket_id}", "TICKET")


def message_key(ticket_id: str, message_id: str) -> Item:
    return key(f"TICKET#{ticket_id}", f"MSG#{message_id}")


def attachment_key(ticket_id: str, attachment_id: str) -> Item:
    return key(f"TICKET#{ticket_id}", f"ATT#{attachment_id}")


def member_key(org_id: str, user_id: str) -> Item:
    return key(f"ORG#{org_id}", f"MEMBER#{user_id}")


def review_key(review_id: str) -> Item:
    return key(f"REVIEW#{review_id}", "REVIEW")


# ---------------------------------------------------------------- update expressions


class Update:
    """An UpdateExpression (and its condition) being built, with generated placeholders, so no
    caller writes `#name`/`:value` bookkeeping of its own."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.conditions: list[str] = []

    def name(self, path: str) -> str:
        """A placeholder for an attribute path (`a.b` names a map's member)."""
        parts = []
        for part in path.split("."):
            placeholder = f"#{part}" if part.isidentifier() else f"#n{len(self.names)}"
            self.names[placeholder] = part
            parts.append(placeholder)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attribute(value)
        return placeholder

    def set(self, path: str, value: Any) -> "Update":
        self.sets.append(f"{self.name(path)} = {self.value(value)}")
        return self

    def set_all(self, values: dict[str, Any]) -> "Update":
        for path, value in values.items():
            self.set(path, value)
        return self

    def set_if_absent(self, path: str, value: Any) -> "Update":
        name = self.name(path)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(value)})")
        return self

    def add(self, path: str, amount: int, start: int = 0) -> "Update":
        """`path` grows by `amount` (from `start` when absent)."""
        name = self.name(path)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(start)}) + {self.value(amount)}")
        return self

    def copy(self, path: str, source: str) -> "Update":
        """`path` takes the value stored at `source` (another attribute of the same item)."""
        self.sets.append(f"{self.name(path)} = {self.name(source)}")
        return self

    def remove(self, path: str) -> "Update":
        self.removes.append(self.name(path))
        return self

    def require(self, condition: str) -> "Update":
        """A condition, written with this update's `name()` and `value()` placeholders."""
        self.conditions.append(condition)
        return self

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)

    def request(self, item_key: Item, **extra: Any) -> dict[str, Any]:
        """The UpdateItem request (or transaction item) for the item at `item_key`."""
        request: dict[str, Any] = {"TableName": TABLE, "Key": item_key, "UpdateExpression": self.expression()}
        if self.conditions:
            request["ConditionExpression"] = " AND ".join(f"({c})" for c in self.conditions)
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request | extra


# ---------------------------------------------------------------- reads


def query_all(request: dict[str, Any]) -> list[Item]:
    """Every item a Query matches, page after page."""
    request = {"TableName": TABLE, **request}
    items: list[Item] = []
    while True:
        response = client.query(**request)
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def batch_get_all(
    keys: Sequence[Item],
    *,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    consistent: bool = False,
) -> list[Item]:
    """Every item of `keys` that exists, in requests of 100 keys. DynamoDB may leave keys
    unprocessed (throttling, 16 MB per response): they are asked for again, with backoff, and a
    read that still cannot get them raises `Busy` rather than answer as if they did not exist."""
    found: list[Item] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request: dict[str, Any] = {"Keys": list(keys[start : start + BATCH_GET_LIMIT]), "ConsistentRead": consistent}
        if projection:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = names
        pending: dict[str, Any] = {TABLE: request}
        for attempt in range(BATCH_GET_ATTEMPTS):
            if attempt:
                time.sleep(min(1.0, 0.05 * 2**attempt))
            response = client.batch_get_item(RequestItems=pending)
            found += response["Responses"].get(TABLE, [])
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise Busy("The table is busy right now; retry in a moment.")
    return found


# ---------------------------------------------------------------- refused writes


def refused(exc: ClientError) -> tuple[int, Item | None] | None:
    """For a write refused by its condition: which item of the request (0 for a single write) and
    that item's old image (when asked for with ReturnValuesOnConditionCheckFailure). None when the
    error is anything else."""
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return 0, exc.response.get("Item")
    if code == "TransactionCanceledException":
        for index, reason in enumerate(exc.response.get("CancellationReasons") or []):
            if reason.get("Code") == "ConditionalCheckFailed":
                return index, reason.get("Item")
    return None


def conflicted(exc: ClientError) -> bool:
    """A transaction cancelled because another one touched the same item at the same moment."""
    reasons = exc.response.get("CancellationReasons") or []
    return any(reason.get("Code") == "TransactionConflict" for reason in reasons)
