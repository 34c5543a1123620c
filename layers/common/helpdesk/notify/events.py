"""Domain events for integrations (SPEC §5): what each change of the table means, as EventBridge events
on the Helpdesk bus (source `helpdesk`), one per change, derived from the table's stream.

  ticket INSERT                               -> Ticket Created
  message INSERT by a user or support         -> Ticket Replied (an internal note: `internal: true`,
                                                 and never any text)
  ticket MODIFY, status changed               -> Ticket Status Changed (closed: Ticket Closed instead)
  ticket MODIFY, assignee changed             -> Ticket Assigned
  ticket MODIFY, review pending -> completed  -> Review Completed (and a draft's review item, too)
  ticket MODIFY, response target breached     -> Response Target Breached (recorded once)
  attachment MODIFY -> rejected               -> Attachment Rejected

`event_id` is derived from the stream record's id and the event's type, so a record delivered twice
yields the same event (consumers deduplicate on it). Details carry ids, who acted and what changed,
never a message's text. Every detail model here has its JSON Schema in schemas/events/
(`make openapi` writes them; a test holds them current)."""

import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.models import Status
from helpdesk.notify.rules import Directory
from helpdesk.store.stream import StreamRecord

SOURCE = "helpdesk"
SCHEMA_VERSION = "1"
_NAMESPACE = uuid.UUID("2f8c1b6e-7d3a-4c0e-9a55-5e1f0c9d7b21")


class Actor(BaseModel):
    id: str
    kind: str = Field(description="user, support, ai or system")


class Detail(BaseModel):
    """What every event's detail carries."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(default=SCHEMA_VERSION, description="The detail's schema version")
    event_id: str = Field(description="Stable per change: the same for a redelivered stream record")
    org_id: str
    ticket_id: str | None = None
    actor: Actor | None = None
    occurred_at: str


class TicketCreated(Detail):
    subject: str
    category: str
    severity: str
    status: str
    source: str
    cluster_id: str | None = None


class TicketReplied(Detail):
    message_id: str
    internal: bool = Field(description="An internal note of the support team (no text is ever carried)")


class Transition(BaseModel):
    before: str | None = Field(alias="from", default=None)
    after: str | None = Field(alias="to", default=None)

    model_config = ConfigDict(populate_by_name=True)


class TicketStatusChanged(Detail):
    status: Transition


class TicketAssigned(Detail):
    assignee: Transition


class TicketClosed(Detail):
    closed_at: str


class ReviewCompleted(Detail):
    review_id: str | None = None
    suggested_category: str | None = None
    suggested_severity: str | None = None
    duplicates: int = 0


class AttachmentRejected(Detail):
    attachment_id: str
    reason: str | None = None


class ResponseTargetBreached(Detail):
    severity: str
    response_due_at: str


DETAILS: dict[str, type[Detail]] = {
    "Ticket Created": TicketCreated,
    "Ticket Replied": TicketReplied,
    "Ticket Status Changed": TicketStatusChanged,
    "Ticket Assigned": TicketAssigned,
    "Ticket Closed": TicketClosed,
    "Review Completed": ReviewCompleted,
    "Attachment Rejected": AttachmentRejected,
    "Response Target Breached": ResponseTargetBreached,
}


class Event(BaseModel):
    """One PutEvents entry."""

    detail_type: str
    detail: Detail

    def entry(self, bus: str) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": self.detail.model_dump_json(by_alias=True),
            "EventBusName": bus,
            "Resources": [],
        }


def _actor(image: dict[str, Any], field: str) -> Actor | None:
    person = image.get(field)
    if not isinstance(person, dict) or "id" not in person:
        return None
    return Actor(id=str(person["id"]), kind=str(person.get("kind", "user")))


def events_for(record: StreamRecord, directory: Directory) -> list[Event]:
    """The domain events one stream record means (none for most records). A message's or an
    attachment's org is its ticket's (read through `directory`, once per batch)."""
    pk, sk = str(record.dynamodb.Keys.get("pk", "")), str(record.dynamodb.Keys.get("sk", ""))
    new, old = record.dynamodb.NewImage or {}, record.dynamodb.OldImage or {}
    occurred = str(new.get("updated_at") or new.get("created_at") or "")
    found: list[tuple[str, dict[str, Any]]] = []
    if pk.startswith("TICKET#") and sk == "TICKET":
        base = {"org_id": new.get("org_id"), "ticket_id": new.get("id"), "actor": _actor(new, "changed_by")}
        if record.eventName == "INSERT":
            base["actor"] = Actor(id=str(new["created_by"]["id"]), kind="user")
            found.append(("Ticket Created", base | {
                "subject": new["subject"], "category": new["category"], "severity": new["severity"],
                "status": new["status"], "source": new["source"],
                "cluster_id": (new.get("properties") or {}).get("cluster_id"),
            }))  # fmt: skip
        elif record.eventName == "MODIFY":
            if new.get("status") == Status.CLOSED.value != old.get("status"):  # a close is its own event
                found.append(("Ticket Closed", base | {"closed_at": new.get("closed_at") or occurred}))
            elif old.get("status") != new.get("status"):
                found.append(
                    ("Ticket Status Changed", base | {"status": {"from": old.get("status"), "to": new.get("status")}})
                )
            if old.get("assignee") != new.get("assignee"):
                found.append(
                    ("Ticket Assigned", base | {"assignee": {"from": old.get("assignee"), "to": new.get("assignee")}})
                )
            if old.get("review_status") == "pending" and new.get("review_status") == "completed":
                found.append(("Review Completed", base | _review(new.get("review"))))
            if new.get("response_breached_at") and not old.get("response_breached_at"):
                found.append(("Response Target Breached", base | {
                    "severity": new["severity"], "response_due_at": new.get("response_due_at") or "",
                }))  # fmt: skip
    elif pk.startswith("TICKET#") and sk.startswith("MSG#") and record.eventName == "INSERT":
        author = _actor(new, "author")
        filing = new.get("id") == pk.removeprefix("TICKET#")  # the message a ticket is filed with: Ticket Created
        if author is not None and author.kind in ("user", "support") and not filing:
            found.append(("Ticket Replied", {
                "org_id": None, "ticket_id": pk.removeprefix("TICKET#"), "actor": author,
                "message_id": new["id"], "internal": bool(new.get("internal")),
            }))  # fmt: skip
            occurred = str(new.get("created_at") or occurred)
    elif pk.startswith("TICKET#") and sk.startswith("ATT#") and record.eventName == "MODIFY":
        if new.get("status") == "rejected" and old.get("status") != "rejected":
            found.append(("Attachment Rejected", {
                "org_id": None, "ticket_id": pk.removeprefix("TICKET#"), "actor": Actor(id="system", kind="system"),
                "attachment_id": new["id"], "reason": new.get("rejection_reason"),
            }))  # fmt: skip
    elif (
        pk.startswith("REVIEW#")
        and record.eventName == "MODIFY"
        and (old.get("status"), new.get("status"))
        == (
            "pending",
            "completed",
        )
    ):
        result = json.loads(new["result"]) if isinstance(new.get("result"), str) else None
        found.append(("Review Completed", {
            "org_id": new.get("org_id"), "actor": Actor(id="ai-review", kind="ai"),
            "review_id": new.get("review_id"), **_review_result(result),
        }))  # fmt: skip
    events = []
    for detail_type, values in found:
        if values.get("org_id") is None and values.get("ticket_id"):
            ticket = directory.ticket(values["ticket_id"])
            if ticket is None:
                continue  # a message of a ticket that is gone: nobody to tell
            values["org_id"] = ticket.org_id
        events.append(_event(record, detail_type, values, occurred))
    return events


def _review(raw: Any) -> dict[str, Any]:
    review = json.loads(raw) if isinstance(raw, str) else {}
    return {"review_id": review.get("review_id"), **_review_result(review.get("result"))}


def _review_result(result: dict[str, Any] | None) -> dict[str, Any]:
    result = result or {}
    return {
        "suggested_category": result.get("suggested_category"),
        "suggested_severity": result.get("suggested_severity"),
        "duplicates": len(result.get("duplicates") or []),
    }


def _event(record: StreamRecord, detail_type: str, values: dict[str, Any], occurred: str) -> Event:
    event_id = str(uuid.uuid5(_NAMESPACE, f"{record.eventID}/{detail_type}"))
    detail = DETAILS[detail_type].model_validate({**values, "event_id": event_id, "occurred_at": occurred})
    return Event(detail_type=detail_type, detail=detail)
