"""The deadlines sweep (a scheduled function): response targets that passed are recorded as breached
(once: the `Response Target Breached` event), and resolved tickets idle for AutoCloseDays close with
a system message (the closed mail and the `Ticket Closed` event follow from the stream). Both read
the ByDeadline index up to now, never a scan, at most MAX_PER_RUN tickets each per run."""

from dataclasses import dataclass
from datetime import UTC, datetime

from helpdesk.domain import lifecycle
from helpdesk.domain.errors import TicketClosed, TicketNotFound, TryAgain
from helpdesk.domain.models import timestamp
from helpdesk.observability import logger
from helpdesk.settings import settings
from helpdesk.store import tickets

MAX_PER_RUN = 200


@dataclass
class Swept:
    breached: int = 0
    closed: int = 0


def sweep(at: datetime | None = None) -> Swept:
    at = at or datetime.now(UTC)
    swept = Swept()
    for ticket_id in tickets.due(tickets.RESPONSE, timestamp(at), MAX_PER_RUN):
        swept.breached += _apply(ticket_id, lambda ticket, _: (lifecycle.breached(ticket, at), None))
    days = settings().auto_close_days
    for ticket_id in tickets.due(tickets.AUTOCLOSE, timestamp(at), MAX_PER_RUN):
        swept.closed += _apply(ticket_id, lambda ticket, stamps: (lifecycle.auto_close(ticket, at, stamps, days), None))
    return swept


def _apply(ticket_id: str, act: tickets.Act) -> int:
    """1 when the ticket changed; a ticket another writer holds is left for the next run."""
    try:
        outcome = tickets.change(ticket_id, None, act)
    except (TicketClosed, TicketNotFound, TryAgain) as exc:
        logger.info("deadline left as it is", extra={"ticket_id": ticket_id, "reason": type(exc).__name__})
        return 0
    return 1 if outcome.messages or outcome.visible else 0
