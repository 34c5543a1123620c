"""When a ticket counts as settled: resolved or closed (the org's category mix counts its settled
tickets per category, and the reviewer reads that mix as a prior)."""

from helpdesk.domain.models import Category, Status, Ticket

__all__ = ["SETTLED", "settled_as"]

SETTLED = frozenset({Status.RESOLVED, Status.CLOSED})


def settled_as(ticket: Ticket) -> Category | None:
    """The category the ticket counts under in its org's category mix (what the org's settled tickets
    were about, the reviewer's prior): its category once it is resolved or closed, else none."""
    return ticket.category if ticket.status in SETTLED else None
