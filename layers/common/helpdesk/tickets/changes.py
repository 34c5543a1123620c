"""Changing a ticket's fields (PATCH /v1/tickets/{id}): customers subject, category and severity;
the support team also status and assignee. Each change leaves a `system` message (the timeline)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from helpdesk.domain import lifecycle
from helpdesk.domain.errors import Forbidden, StaleVersion
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import ReviewStatus, Stamps, Ticket
from helpdesk.domain.reviews import ReviewJob
from helpdesk.observability import logger
from helpdesk.store import tickets

if TYPE_CHECKING:
    from helpdesk.api.schemas import TicketUpdate

CUSTOMER_FIELDS = frozenset({"subject", "category", "severity"})
SUPPORT_FIELDS = CUSTOMER_FIELDS | {"status", "assignee"}


def update_ticket(
    caller: Caller, ticket_id: str, update: "TicketUpdate", version: tuple[int, int | None] | None
) -> Ticket:
    """Customers may change subject, category and severity; support also status and assignee.
    `version`: the ETag the caller read (If-Match), the ticket must still be at."""
    requested = update.model_fields_set
    allowed = SUPPORT_FIELDS if caller.is_support else CUSTOMER_FIELDS
    if refused := sorted(requested - allowed):
        raise Forbidden(f"Only the support team may change {', '.join(refused)}.")
    fields = {name: getattr(update, name) for name in requested}
    read: list[Ticket] = []

    def act(ticket: Ticket, stamps: Stamps) -> tuple[lifecycle.Outcome, None]:
        read[:] = [ticket]
        if version is not None and (
            ticket.version != version[0] or (version[1] is not None and ticket.staff_version != version[1])
        ):
            raise StaleVersion(ticket_id)
        return lifecycle.update(ticket, fields, caller.author(), datetime.now(UTC), stamps), None

    ticket = tickets.change(ticket_id, caller.scope(), act).ticket
    if ticket.subject != read[0].subject and ticket.review.status is not ReviewStatus.PENDING:
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
