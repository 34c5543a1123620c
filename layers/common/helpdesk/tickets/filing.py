"""Filing a ticket: store it with its first message, then queue its AI review (or, filed from an
accepted review, open it at once with the review attached, and queue its indexing)."""

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from helpdesk.adapters import queue
from helpdesk.api.schemas import MAX_BODY_CHARS, MAX_PROPERTIES, TicketDraft
from helpdesk.domain import lifecycle
from helpdesk.domain.errors import InvalidRequest, ReviewStillRunning
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import (
    AI_REVIEWER,
    Category,
    Message,
    ReviewStatus,
    Severity,
    Status,
    Ticket,
    TicketReview,
    stamp,
)
from helpdesk.domain.reviews import SUMMARY_CHARS, Review, ReviewJob
from helpdesk.review.findings import findings_markdown
from helpdesk.store import reviews, tickets
from helpdesk.tickets.conversation import attached

if TYPE_CHECKING:
    from helpdesk.api.multipart import UploadedFile

SUBJECT_CHARS = 200
_MARKUP = re.compile(r"^[#>*\-\s`]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # what schemas.Subject refuses


def shorten(text: str, limit: int) -> str:
    text = _CONTROL.sub("", " ".join(text.split()))  # one line, no control characters (terminals, mail)
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


def new_ticket(
    caller: Caller,
    draft: TicketDraft,
    *,
    body: str,
    category: Category,
    severity: Severity,
    subject: str,
    properties: dict[str, str],
    summary: str,
    status: Status,
    review: TicketReview,
) -> tuple[Ticket, Message]:
    """A new ticket of the caller's org and the message it is filed with (MSG#<ticket id>: one
    GetItem away), stamped together."""
    ticket_id, at = stamp()
    ticket = Ticket(
        id=ticket_id,
        org_id=caller.org_id,
        subject=subject,
        category=category,
        severity=severity,
        status=status,
        properties=properties,
        summary=shorten(summary, SUMMARY_CHARS),
        review=review,
        created_by={"id": caller.user_id, "email": caller.email},
        source=draft.source,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        version=1,
        staff_version=1,
        message_stamp=ticket_id,
    )
    return lifecycle.started(ticket), Message(id=ticket_id, author=caller.author(), body=body, created_at=at)


def file_ticket(caller: Caller, draft: TicketDraft, files: "Sequence[UploadedFile]" = ()) -> Ticket:
    """Create the ticket as `pending_review` (one transaction, with the first message's files) and put
    its review on the queue."""
    if draft.review_id is not None:
        return file_reviewed(caller, draft, reviews.get_review(draft.review_id, caller.org_id), files)
    if draft.category is None or draft.body is None:  # the schema requires them without a review_id
        raise InvalidRequest("category and body are required (or file an accepted review with review_id).")
    ticket, first = new_ticket(
        caller,
        draft,
        body=draft.body,
        category=draft.category,
        severity=draft.severity or Severity.MEDIUM,
        subject=draft.subject or derive_subject(draft.body),
        properties=draft.properties,
        summary=draft.body,
        status=Status.PENDING_REVIEW,
        review=TicketReview(status=ReviewStatus.PENDING),
    )
    with attached(ticket.id, first, files) as attachments:
        tickets.create_ticket(ticket, [first], caller.member(), attachments=attachments)
    queue.enqueue(ReviewJob(kind="ticket", org_id=ticket.org_id, ticket_id=ticket.id))
    return ticket


def with_answers(body: str, answers: dict[str, str] | None) -> str:
    if not answers:
        return body
    return (
        body
        + "\n\n**Answers to the review's questions**\n"
        + "\n".join(f"\n*{question}*\n\n{answer}" for question, answer in answers.items())
    )


def _within_limits(body: str, properties: dict[str, str]) -> None:
    """What filing from a review merges (the draft, overrides, answers) must still fit the limits
    a ticket filed directly has."""
    if len(body) > MAX_BODY_CHARS:
        raise InvalidRequest(
            f"With the answers appended, the body has {len(body):,} characters; at most {MAX_BODY_CHARS:,} are allowed. "
            "Shorten the answers or the description.",
            [{"field": "answers", "message": f"body with answers over {MAX_BODY_CHARS} characters"}],
        )
    if len(properties) > MAX_PROPERTIES:
        raise InvalidRequest(
            f"The review's properties and yours make {len(properties)}; a ticket may have at most {MAX_PROPERTIES}.",
            [{"field": "properties", "message": f"more than {MAX_PROPERTIES} properties after merging the review's"}],
        )


def file_reviewed(caller: Caller, draft: TicketDraft, review: Review, files: "Sequence[UploadedFile]" = ()) -> Ticket:
    """File an accepted review: the draft (with any overrides and answers) goes straight to `open`
    with the review attached and its findings as an `ai` message; then it is indexed for duplicates."""
    if review.status is ReviewStatus.PENDING:
        raise ReviewStillRunning(review.review_id)
    result = review.result or {}
    body = with_answers(draft.body or review.draft.body, draft.answers)
    properties = {**review.draft.properties, **draft.properties}
    _within_limits(body, properties)
    ticket, first = new_ticket(
        caller,
        draft,
        body=body,
        category=draft.category or review.draft.category or Category(result.get("suggested_category", "general")),
        severity=draft.severity or review.draft.severity or Severity(result.get("suggested_severity", "medium")),
        subject=draft.subject or review.draft.subject or derive_subject(body),
        properties=properties,
        summary=result.get("summary") or body,
        status=Status.OPEN,
        review=TicketReview(status=review.status, review_id=review.review_id, result=review.result),
    )
    messages = [first]
    if review.result:
        note_id, noted_at = stamp()
        messages.append(
            Message(id=note_id, author=AI_REVIEWER, body=findings_markdown(review.result), created_at=noted_at)
        )
    with attached(ticket.id, first, files) as attachments:
        tickets.create_ticket(ticket, messages, caller.member(), review.review_id, attachments)
    queue.enqueue(ReviewJob(kind="index", org_id=ticket.org_id, ticket_id=ticket.id))
    return ticket
