"""The reviewer's use cases (the review queue's worker): review a ticket filed without an accepted
review and open it, review a draft, or index a ticket filed from a review. Idempotent per job."""

from typing import Protocol

from helpdesk import duplicate_index, repository
from helpdesk.models import Author, AuthorKind, Message, ReviewJob, ReviewStatus, TicketReview, new_id, now
from helpdesk.observability import logger
from helpdesk.review import engine
from helpdesk.review.similarity import CandidateSource, IndexEntry, index_entry
from helpdesk.reviews import findings_markdown
from helpdesk.settings import settings

AI = Author(id="ai-review", email=None, kind=AuthorKind.AI)


class Engine(Protocol):
    def __call__(
        self, draft: engine.ReviewDraft, org_id: str, source: CandidateSource, exclude_id: str | None = None
    ) -> engine.ReviewResult: ...


def run(job: ReviewJob) -> None:
    if job.kind == "ticket":
        review_ticket(job.ticket_id or "")
    elif job.kind == "draft":
        review_draft(job.review_id or "")
    elif job.kind == "index":
        index_ticket(job.ticket_id or "")
    else:
        logger.warning("Unknown review job", extra={"job": job.model_dump()})


def review_engine() -> Engine:
    """The engine the template's ReviewEngine parameter chose (Bedrock is imported only when chosen)."""
    if settings().review_engine == "bedrock":
        from helpdesk.review import bedrock

        return bedrock.review
    return engine.review


def _duplicate_fields(entry: IndexEntry) -> dict[str, str]:
    return {"dup_signature": entry.signature, "dup_snippet": entry.snippet}


def review_ticket(ticket_id: str) -> None:
    found = repository.ticket_for_review(ticket_id)
    if found is None:
        logger.warning("Ticket to review not found", extra={"ticket_id": ticket_id})
        return
    ticket, first = found
    if ticket.review.status is not ReviewStatus.PENDING:
        return  # reviewed already: a job delivered twice
    draft = engine.ReviewDraft(
        subject=ticket.subject, body=first.body, category=ticket.category, severity=ticket.severity,
        properties=ticket.properties,
    )  # fmt: skip
    result = review_engine()(draft, ticket.org_id, duplicate_index.TableCandidateSource(), exclude_id=ticket.id)
    findings = result.model_dump(mode="json")
    entry = index_entry(ticket.subject, first.body)
    note = Message(id=new_id(), author=AI, body=findings_markdown(findings), created_at=now())
    review = TicketReview(status=ReviewStatus.COMPLETED, result=findings)
    if repository.record_ticket_review(
        ticket, review, result.summary or ticket.summary, note, _duplicate_fields(entry)
    ):
        duplicate_index.post(ticket.org_id, ticket.id, entry.keys)


def review_draft(review_id: str) -> None:
    review = repository.get_review(review_id, None)
    if review.status is not ReviewStatus.PENDING:
        return
    draft = engine.ReviewDraft.model_validate(review.draft.model_dump())
    result = review_engine()(draft, review.org_id, duplicate_index.TableCandidateSource())
    repository.complete_review(review_id, ReviewStatus.COMPLETED, result.model_dump(mode="json"))


def index_ticket(ticket_id: str) -> None:
    """A ticket filed from an accepted review: make it findable as a duplicate of later ones."""
    found = repository.ticket_for_review(ticket_id)
    if found is None:
        return
    ticket, first = found
    entry = index_entry(ticket.subject, first.body)
    repository.set_duplicate_fields(ticket.id, _duplicate_fields(entry))
    duplicate_index.post(ticket.org_id, ticket.id, entry.keys)
