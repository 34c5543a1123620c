"""Changing a ticket's fields (PATCH /v1/tickets/{id}): customers subject, category and severity;
the support team also status and assignee."""

from typing import TYPE_CHECKING

from helpdesk.domain.errors import Forbidden, InvalidRequest
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import ReviewStatus, Ticket, now
from helpdesk.domain.reviews import ReviewJob
from helpdesk.domain.status import can_support_set
from helpdesk.observability import logger
from helpdesk.store import tickets
from helpdesk.store.tickets import Changes, Expectation, status_attributes

if TYPE_CHECKING:
    from helpdesk.api.schemas import TicketUpdate

CUSTOMER_FIELDS = frozenset({"subject", "category", "severity"})
SUPPORT_FIELDS = CUSTOMER_FIELDS | {"status", "assignee"}


def update_ticket(caller: Caller, ticket_id: str, update: "TicketUpdate", version: int | None) -> Ticket:
    """Customers may change subject, category and severity; support also status and assignee."""
    requested = update.model_fields_set
    allowed = SUPPORT_FIELDS if caller.is_support else CUSTOMER_FIELDS
    if refused := sorted(requested - allowed):
        raise Forbidden(f"Only the support team may change {', '.join(refused)}.")
    changes = Changes()
    for name in sorted(requested):
        value = getattr(update, name)
        if name == "status":
            if not can_support_set(value):
                raise InvalidRequest(
                    f"Support may set status to triaging, in_progress or resolved, not {value.value}; "
                    "replies and close move the other statuses.",
                    [{"field": "status", "message": "not settable"}],
                )
            changes.values |= status_attributes(ticket_id, value)
        elif name == "assignee" and value is None:
            changes.removed.append("assignee")
        else:
            changes.values[name] = value.value if hasattr(value, "value") else value
    expected = Expectation(ticket_id, caller.scope(), version=version)
    ticket = tickets.update_ticket(expected, changes, at=now())
    if "subject" in requested and ticket.review.status is not ReviewStatus.PENDING:
        _reindex(ticket)
    return ticket


def _reindex(ticket: Ticket) -> None:
    """A reviewed ticket's new subject: index it again (the reviewer's `index` job), so later drafts
    find it by what it now says. A pending review indexes the subject it reads then. The edit has
    landed; a queue outage loses only this refresh, so it is logged, not answered with a 5xx.
    Only a subject edit pays for the SQS client: imported here."""
    from helpdesk.adapters import queue

    try:
        queue.enqueue(ReviewJob(kind="index", org_id=ticket.org_id, ticket_id=ticket.id))
    except Exception:
        logger.exception("could not queue the duplicate index refresh", extra={"ticket_id": ticket.id})
