"""The ticket lifecycle: who owes the next response, and which moves are allowed.

Status is system-managed (SPEC section 3): create -> pending_review; review done -> open;
a support reply -> waiting_customer; a customer reply on waiting_customer/resolved ->
in_progress; support may set triaging, in_progress, resolved; anyone in the org may close;
closed is terminal.
"""

from helpdesk.domain.models import WAITING_ON, Category, Status, Ticket

__all__ = ["WAITING_ON", "after_customer_reply", "after_review", "can_support_set", "settled_as"]

SUPPORT_SETTABLE = frozenset({Status.TRIAGING, Status.IN_PROGRESS, Status.RESOLVED})
SETTLED = frozenset({Status.RESOLVED, Status.CLOSED})


def after_customer_reply(status: Status) -> Status:
    """A customer answering a ticket that waits on them hands the ball back to support."""
    if status in (Status.WAITING_CUSTOMER, Status.RESOLVED):
        return Status.IN_PROGRESS
    return status


def after_review(status: Status) -> Status:
    return Status.OPEN if status is Status.PENDING_REVIEW else status


def can_support_set(status: Status) -> bool:
    return status in SUPPORT_SETTABLE


def settled_as(ticket: Ticket) -> Category | None:
    """The category the ticket counts under in its org's category mix (what the org's settled tickets
    were about, the reviewer's prior): its category once it is resolved or closed, else none."""
    return ticket.category if ticket.status in SETTLED else None
