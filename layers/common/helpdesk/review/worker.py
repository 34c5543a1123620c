"""The reviewer's use cases (the review queue's worker): review a ticket filed without an accepted
review and open it, review a draft, or index a ticket filed from a review. Idempotent per job."""

from typing import Protocol

from helpdesk.domain.models import AI_REVIEWER, Message, ReviewStatus, TicketReview, new_id, now
from helpdesk.domain.reviews import ReviewDraft, ReviewJob, ReviewResult
from helpdesk.observability import logger
from helpdesk.review import engine
from helpdesk.review.candidates import TableCandidateSource
from helpdesk.review.findings import findings_markdown
from helpdesk.review.similarity import CandidateSource, IndexEntry, index_entry
from helpdesk.settings import settings
from helpdesk.store import duplicates, reviews


class Engine(Protocol):
    def __call__(
        self, draft: ReviewDraft, org_id: str, source: CandidateSource, exclude_id: str | None = None
    ) -> ReviewResult: ...


def run(job: ReviewJob) -> None:
    if job.kind == "ticket":
        review_ticket(job.ticket_id or "")
    elif job.kind == "draft":
        review_draft(job.review_id or "")
    else:
        index_ticket(job.ticket_id or "")


def review_engine() -> Engine:
    """The engine the template's ReviewEngine parameter chose (Bedrock is imported only when chosen)."""
    if settings().review_engine == "bedrock":
        from helpdesk.review import bedrock

        return bedrock.review
    return engine.review


def _duplicate_fields(entry: IndexEntry) -> dict[str, str]:
    return {"dup_signature": entry.signature, "dup_snippet": entry.snippet}


def review_ticket(ticket_id: str) -> None:
    found = reviews.ticket_for_review(ticket_id)
    if found is None:
        logger.warning("Ticket to review not found", extra={"ticket_id": ticket_id})
        return
    ticket, first = found
    if ticket.review.status is not ReviewStatus.PENDING:
        return  # reviewed already: a job delivered twice
    draft = ReviewDraft(
        subject=ticket.subject, body=first.body, category=ticket.category, severity=ticket.severity,
        properties=ticket.properties,
    )  # fmt: skip
    result = review_engine()(draft, ticket.org_id, TableCandidateSource(), exclude_id=ticket.id)
    findings = result.model_dump(mode="json")
    entry = index_entry(ticket.subject, first.body)
    note = Message(id=new_id(), author=AI_REVIEWER, body=findings_markdown(findings), created_at=now())
    review = TicketReview(status=ReviewStatus.COMPLETED, result=findings)
    if reviews.record_ticket_review(ticket, review, result.summary or ticket.summary, note, _duplicate_fields(entry)):
        duplicates.post(ticket.org_id, ticket.id, entry.keys)


def review_draft(review_id: str) -> None:
    review = reviews.get_review(review_id, None)
    if review.status is not ReviewStatus.PENDING:
        return
    result = review_engine()(review.draft, review.org_id, TableCandidateSource())
    reviews.complete_review(review_id, ReviewStatus.COMPLETED, result.model_dump(mode="json"))


def index_ticket(ticket_id: str) -> None:
    """A ticket filed from an accepted review, or one whose subject changed: make it findable as a
    duplicate of later ones."""
    found = reviews.ticket_for_review(ticket_id)
    if found is None:
        return
    ticket, first = found
    entry = index_entry(ticket.subject, first.body)
    reviews.set_duplicate_fields(ticket.id, _duplicate_fields(entry))
    duplicates.post(ticket.org_id, ticket.id, entry.keys)
