"""Data access: attachments' records (TICKET#<id> / ATT#<attachment id>). The ticket item counts them
(`attachment_count`), so the 20-per-ticket limit is a condition of the write that adds them
(store.tickets); rejected uploads and upload grants never used give their room back here."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.domain.errors import AttachmentNotFound, TicketNotFound
from helpdesk.domain.models import (
    UNUSED_UPLOAD_RECLAIMED_AFTER,
    Attachment,
    AttachmentOrigin,
    AttachmentStatus,
    timestamp,
)
from helpdesk.store.core import (
    TABLE,
    Item,
    Update,
    attachment_key,
    batch_get_all,
    client,
    from_item,
    refused,
    ticket_key,
    to_item,
)


def attachment_item(
    ticket_id: str,
    attachment: Attachment,
    origin: AttachmentOrigin,
    internal: bool = False,
    declared_size: int | None = None,
) -> Item:
    """An internal note's attachments are `internal` too: never shown nor served to customers."""
    values = attachment.model_dump(mode="json")
    values |= {
        "pk": f"TICKET#{ticket_id}",
        "sk": f"ATT#{attachment.id}",
        "type": "attachment",
        "origin": origin,
        "internal": True if internal else None,
        "declared_size": declared_size,
    }
    return to_item(values)


def count(ticket_item: Item) -> int:
    """How many attachments a ticket item counts (rejected and expired ones do not count)."""
    return int(ticket_item.get("attachment_count", {}).get("N", "0"))


def _expire(ticket_id: str, attachment_id: str) -> dict[str, Any]:
    update = Update().set("status", AttachmentStatus.EXPIRED.value)
    update.require(f"{update.name('status')} = {update.value(AttachmentStatus.PENDING_UPLOAD.value)}")
    return update.request(attachment_key(ticket_id, attachment_id))


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
    room = Update().add("attachment_count", -len(unused))
    room.require(f"{room.name('attachment_count')} >= {room.value(len(unused))}")
    try:
        client.transact_write_items(
            TransactItems=[
                {"Update": room.request(ticket_key(ticket_id))},
                *({"Update": _expire(ticket_id, attachment_id)} for attachment_id in unused),
            ]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "TransactionCanceledException":
            return 0  # one was used or reclaimed meanwhile: the caller's limit stands
        raise
    return len(unused)


def get_attachment(ticket_id: str, attachment_id: str, org_id: str | None, include_internal: bool) -> Attachment:
    """An attachment's record, read with its ticket (one BatchGetItem) so the caller's org decides:
    another org's ticket, or a customer asking for an internal note's file, is not found."""
    items = batch_get_all([ticket_key(ticket_id), attachment_key(ticket_id, attachment_id)], consistent=True)
    found = {item["sk"]["S"]: item for item in items}
    ticket_item = found.get("TICKET")
    if ticket_item is None or (org_id is not None and ticket_item["org_id"]["S"] != org_id):
        raise TicketNotFound(ticket_id)
    item = found.get(f"ATT#{attachment_id}")
    if item is None or (item.get("internal", {}).get("BOOL") and not include_internal):
        raise AttachmentNotFound(ticket_id, attachment_id)
    return Attachment.model_validate(from_item(item))


@dataclass(frozen=True)
class AttachmentRecord:
    """An attachment as the upload check sees it (not scoped: a system process)."""

    ticket_id: str
    attachment: Attachment
    origin: AttachmentOrigin
    declared_size: int | None


def find_attachment(ticket_id: str, attachment_id: str) -> AttachmentRecord | None:
    response = client.get_item(TableName=TABLE, Key=attachment_key(ticket_id, attachment_id), ConsistentRead=True)
    if "Item" not in response:
        return None
    values = from_item(response["Item"])
    declared = values.get("declared_size")
    return AttachmentRecord(
        ticket_id=ticket_id,
        attachment=Attachment.model_validate(values),
        origin=values.get("origin", "request"),
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
    record = Update().set_all({"status": status.value, "content_type": content_type, "size": size})
    if reason is not None:
        record.set("rejection_reason", reason)
    else:
        record.remove("rejection_reason")
    final = [record.value(AttachmentStatus.REJECTED.value), record.value(AttachmentStatus.EXPIRED.value)]
    record.require("attribute_exists(pk)")
    record.require(" AND ".join(f"{record.name('status')} <> {value}" for value in final))
    try:
        if status is not AttachmentStatus.REJECTED:
            client.update_item(**record.request(attachment_key(ticket_id, attachment_id)))
            return True
        room = Update().add("attachment_count", -1, start=1).require("attribute_exists(pk)")
        client.transact_write_items(
            TransactItems=[
                {"Update": record.request(attachment_key(ticket_id, attachment_id))},
                {"Update": room.request(ticket_key(ticket_id))},
            ]
        )
        return True
    except ClientError as exc:
        if refused(exc) is not None:
            return False
        raise
