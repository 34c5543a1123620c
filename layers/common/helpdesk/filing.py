"""Filing a ticket: store it with its first message, then queue its AI review."""

import re

from helpdesk import repository, review_queue
from helpdesk.auth import Caller
from helpdesk.errors import NotFound
from helpdesk.models import (
    Message,
    ReviewJob,
    ReviewStatus,
    Severity,
    Status,
    Ticket,
    TicketReview,
    new_id,
    now,
)
from helpdesk.schemas import TicketDraft
from helpdesk.tickets import author_of, member_of

SUBJECT_CHARS = 200
SUMMARY_CHARS = 160
_MARKUP = re.compile(r"^[#>*\-\s`]+")


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut + "…"


def derive_subject(body: str) -> str:
    """The body's first line that says something, without markdown decoration."""
    for line in body.splitlines():
        line = _MARKUP.sub("", line).strip()
        if line:
            return shorten(line, SUBJECT_CHARS)
    return "Support request"


def search_text(*parts: str) -> str:
    return " ".join(" ".join(parts).lower().split())


def file_ticket(caller: Caller, draft: TicketDraft) -> Ticket:
    """Create the ticket as `pending_review` (one transaction) and put its review on the queue."""
    if draft.review_id is not None or draft.category is None or draft.body is None:
        raise NotFound(f"Review {draft.review_id} was not found.")
    at = now()
    subject = draft.subject or derive_subject(draft.body)
    ticket = Ticket(
        id=new_id(),
        org_id=caller.org_id,
        subject=subject,
        category=draft.category,
        severity=draft.severity or Severity.MEDIUM,
        status=Status.PENDING_REVIEW,
        properties=draft.properties,
        summary=shorten(draft.body, SUMMARY_CHARS),
        review=TicketReview(status=ReviewStatus.PENDING),
        created_by={"id": caller.user_id, "email": caller.email},
        source=draft.source,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        version=1,
    )
    first = Message(id=new_id(), author=author_of(caller), body=draft.body, created_at=at)
    repository.create_ticket(ticket, first, member_of(caller), search_text(subject, draft.body))
    review_queue.enqueue(ReviewJob(kind="ticket", org_id=ticket.org_id, ticket_id=ticket.id))
    return ticket
