"""Filing a ticket: store it with its first message, then queue its AI review."""

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from helpdesk import repository, review_queue
from helpdesk.auth import Caller
from helpdesk.errors import Conflict
from helpdesk.models import (
    Author,
    AuthorKind,
    Category,
    Message,
    Review,
    ReviewJob,
    ReviewStatus,
    Severity,
    Status,
    Ticket,
    TicketReview,
    stamp,
)
from helpdesk.reviews import findings_markdown
from helpdesk.schemas import TicketDraft
from helpdesk.tickets import attached, author_of, member_of

if TYPE_CHECKING:
    from helpdesk.multipart import UploadedFile

SUBJECT_CHARS = 200
SUMMARY_CHARS = 160
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


def search_text(*parts: str) -> str:
    return " ".join(" ".join(parts).lower().split())


def file_ticket(caller: Caller, draft: TicketDraft, files: "Sequence[UploadedFile]" = ()) -> Ticket:
    """Create the ticket as `pending_review` (one transaction, with the first message's files) and put
    its review on the queue."""
    if draft.review_id is not None:
        return file_reviewed(caller, draft, repository.get_review(draft.review_id, caller.org_id), files)
    assert draft.category is not None  # the schema requires them without a review_id
    assert draft.body is not None
    ticket_id, at = stamp()
    subject = draft.subject or derive_subject(draft.body)
    ticket = Ticket(
        id=ticket_id,
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
    first = Message(
        id=ticket.id, author=author_of(caller), body=draft.body, created_at=at
    )  # MSG#<ticket id>: one GetItem away
    with attached(ticket.id, first, files) as attachments:
        text = search_text(subject, draft.body)
        repository.create_ticket(ticket, [first], member_of(caller), text, attachments=attachments)
    review_queue.enqueue(ReviewJob(kind="ticket", org_id=ticket.org_id, ticket_id=ticket.id))
    return ticket


def with_answers(body: str, answers: dict[str, str] | None) -> str:
    if not answers:
        return body
    return (
        body
        + "\n\n**Answers to the review's questions**\n"
        + "\n".join(f"\n*{question}*\n\n{answer}" for question, answer in answers.items())
    )


def file_reviewed(caller: Caller, draft: TicketDraft, review: Review, files: "Sequence[UploadedFile]" = ()) -> Ticket:
    """File an accepted review: the draft (with any overrides and answers) goes straight to `open`
    with the review attached and its findings as an `ai` message; then it is indexed for duplicates."""
    if review.status is ReviewStatus.PENDING:
        raise Conflict(f"Review {review.review_id} is still running; file it once it has completed.")
    result = review.result or {}
    body = with_answers(draft.body or review.draft.body, draft.answers)
    category = draft.category or review.draft.category or Category(result.get("suggested_category", "general"))
    severity = draft.severity or review.draft.severity or Severity(result.get("suggested_severity", "medium"))
    subject = draft.subject or review.draft.subject or derive_subject(body)
    ticket_id, at = stamp()
    ticket = Ticket(
        id=ticket_id,
        org_id=caller.org_id,
        subject=subject,
        category=category,
        severity=severity,
        status=Status.OPEN,
        properties={**review.draft.properties, **draft.properties},
        summary=shorten(result.get("summary") or body, SUMMARY_CHARS),
        review=TicketReview(status=review.status, review_id=review.review_id, result=review.result),
        created_by={"id": caller.user_id, "email": caller.email},
        source=draft.source,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        version=1,
    )
    messages = [Message(id=ticket.id, author=author_of(caller), body=body, created_at=at)]
    if review.result:
        ai = Author(id="ai-review", email=None, kind=AuthorKind.AI)
        note_id, noted_at = stamp()
        messages.append(Message(id=note_id, author=ai, body=findings_markdown(review.result), created_at=noted_at))
    with attached(ticket.id, messages[0], files) as attachments:
        text = search_text(subject, body)
        repository.create_ticket(ticket, messages, member_of(caller), text, review.review_id, attachments)
    review_queue.enqueue(ReviewJob(kind="index", org_id=ticket.org_id, ticket_id=ticket.id))
    return ticket
