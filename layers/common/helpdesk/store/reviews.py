"""Data access: AI reviews. A draft's review (REVIEW#<id> / REVIEW, expiring with the table's TTL),
and the reviewer's reads and writes of the tickets it reviews."""

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.domain.errors import ReviewNotFound
from helpdesk.domain.models import Message, ReviewStatus, Status, Ticket, TicketReview, now
from helpdesk.domain.reviews import REVIEW_DAYS, Review
from helpdesk.domain.status import after_review
from helpdesk.store.core import (
    TABLE,
    Update,
    batch_get_all,
    client,
    from_item,
    message_key,
    refused,
    review_key,
    ticket_key,
    to_item,
)
from helpdesk.store.tickets import message_item, status_attributes, to_ticket

# ---------------------------------------------------------------- reviews of drafts


def put_review(review: Review) -> None:
    values = review.model_dump(mode="json", exclude={"draft", "result"})
    values |= {
        "pk": f"REVIEW#{review.review_id}",
        "sk": "REVIEW",
        "type": "review",
        "draft": review.draft.model_dump_json(),
        "ttl": int(time.time()) + REVIEW_DAYS * 86_400,
    }
    client.put_item(TableName=TABLE, Item=to_item(values), ConditionExpression="attribute_not_exists(pk)")


def get_review(review_id: str, org_id: str | None) -> Review:
    """The review, if the org (None: any, for the reviewer) asked for it and it has not expired."""
    item = client.get_item(TableName=TABLE, Key=review_key(review_id), ConsistentRead=True).get("Item")
    if item is None or (org_id is not None and item["org_id"]["S"] != org_id) or int(item["ttl"]["N"]) < time.time():
        raise ReviewNotFound(review_id)
    values = from_item(item)
    values["draft"] = json.loads(values["draft"])
    values["result"] = json.loads(values["result"]) if values.get("result") else None
    return Review.model_validate(values)


def complete_review(review_id: str, status: ReviewStatus, result: dict[str, Any] | None) -> None:
    update = Update().set_all({"status": status.value, "result": json.dumps(result)}).require("attribute_exists(pk)")
    client.update_item(**update.request(review_key(review_id)))


# ---------------------------------------------------------------- the reviewer's reads and writes of tickets


def ticket_for_review(ticket_id: str) -> tuple[Ticket, Message] | None:
    """A ticket and the message it was filed with (MSG#<ticket id>), in one BatchGetItem."""
    items = batch_get_all([ticket_key(ticket_id), message_key(ticket_id, ticket_id)], consistent=True)
    found = {item["sk"]["S"]: item for item in items}
    if "TICKET" not in found or f"MSG#{ticket_id}" not in found:
        return None
    return to_ticket(found["TICKET"]), Message.model_validate(from_item(found[f"MSG#{ticket_id}"]))


def record_ticket_review(
    ticket: Ticket, review: TicketReview, summary: str, note: Message, duplicate_fields: dict[str, str]
) -> bool:
    """Store a completed review on the ticket (opening a ticket still waiting for it) with its `ai`
    note, in one transaction conditioned on the review still pending and the ticket not closed: a
    job delivered twice records nothing more, and nothing lands on a closed ticket. The note's id
    is derived from the ticket's (MSG#<ticket id>-ai, right after the message it reviews). Returns
    False when nothing was recorded."""
    note_item = message_item(ticket.id, note.model_copy(update={"id": f"{ticket.id}-ai"}))
    for opening in (ticket.status is Status.PENDING_REVIEW, False):
        update = Update().set_all(
            {"review": review.model_dump_json(), "review_status": review.status.value, "summary": summary}
        )
        update.set_all({"updated_at": now(), **duplicate_fields}).add("version", 1)
        update.require(f"{update.name('review_status')} = {update.value(ReviewStatus.PENDING.value)}")
        update.require(f"{update.name('status')} <> {update.value(Status.CLOSED.value)}")
        if opening:
            update.require(f"{update.name('status')} = {update.value(Status.PENDING_REVIEW.value)}")
            update.set_all(status_attributes(ticket.id, after_review(ticket.status)))
        ticket_update = update.request(ticket_key(ticket.id), ReturnValuesOnConditionCheckFailure="ALL_OLD")
        note_put = {"TableName": TABLE, "Item": note_item, "ConditionExpression": "attribute_not_exists(pk)"}
        try:
            client.transact_write_items(TransactItems=[{"Update": ticket_update}, {"Put": note_put}])
            return True
        except ClientError as exc:
            found = refused(exc)
            if found is None:
                raise
            index, old = found
            if index != 0 or not old:
                return False  # the note is there already: recorded (a job delivered twice)
            if old.get("review_status", {}).get("S") != ReviewStatus.PENDING.value:
                return False  # recorded already
            if old.get("status", {}).get("S") == Status.CLOSED.value:
                return False  # closed before its review ran: nothing lands after the close
            # else: the status moved on while the review ran (support triaged it): keep that status
    return False


def set_duplicate_fields(ticket_id: str, duplicate_fields: dict[str, str]) -> None:
    update = Update().set_all(duplicate_fields).require("attribute_exists(pk)")
    client.update_item(**update.request(ticket_key(ticket_id)))
