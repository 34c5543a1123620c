"""The reviewer's use cases (the review queue's worker): review a ticket filed without an accepted
review and open it, review a draft, or index a ticket filed from a review. Idempotent per job."""

from datetime import UTC, datetime
from typing import Protocol

from helpdesk.domain import lifecycle
from helpdesk.domain.errors import TicketClosed
from helpdesk.domain.lifecycle import Outcome
from helpdesk.domain.models import AI_REVIEWER, Message, ReviewStatus, Stamps, Ticket, TicketReview
from helpdesk.domain.reviews import ReviewDraft, ReviewJob, ReviewResult
from helpdesk.observability import logger
from helpdesk.review import context, engine
from helpdesk.review.candidates import TableCandidateSource
from helpdesk.review.findings import findings_markdown
from helpdesk.review.similarity import CandidateSource, IndexEntry, index_entry
from helpdesk.settings import settings
from helpdesk.store import duplicates, reviews, tickets
from helpdesk.store.tickets import Extra


class Engine(Protocol):
    def __call__(
        self, draft: ReviewDraft, org_id: str, source: CandidateSource, exclude_id: str | None = None
    ) -> ReviewResult: ...


class Reviewed(Exception):
    """The ticket's review is recorded already (a job delivered twice)."""


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


def reviewed_draft(draft: ReviewDraft, org_id: str, exclude_id: str | None = None) -> ReviewResult:
    """The engine's review of a draft, with the context of the cluster it names."""
    cluster, unavailable = context.lookup(org_id, draft.properties)
    result = review_engine()(draft, org_id, TableCandidateSource(), exclude_id=exclude_id)
    return context.applied(result, cluster, unavailable)


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
    result = reviewed_draft(draft, ticket.org_id, exclude_id=ticket.id)
    findings = result.model_dump(mode="json")
    entry = index_entry(ticket.subject, first.body)

    def act(current: Ticket, stamps: Stamps) -> tuple[Outcome, Extra]:
        if current.review.status is not ReviewStatus.PENDING:
            raise Reviewed
        note_id, noted_at = stamps.next()
        notes = [Message(id=note_id, author=AI_REVIEWER, body=findings_markdown(findings), created_at=noted_at)]
        notes += [message for message in [context.message(result, stamps)] if message]
        changes = {
            "review": TicketReview(status=ReviewStatus.COMPLETED, result=findings),
            "summary": result.summary or current.summary,
        }
        outcome = lifecycle.reviewed(current, changes, notes, datetime.now(UTC), stamps)
        return outcome, Extra(attributes=_duplicate_fields(entry))

    try:
        tickets.change(ticket_id, None, act)
    except (Reviewed, TicketClosed):
        return  # recorded already, or closed before its review ran: nothing lands after the close
    duplicates.post(ticket.org_id, ticket.id, entry.keys, engine.predicted_categories(ticket.subject, first.body))


def review_draft(review_id: str) -> None:
    review = reviews.get_review(review_id, None)
    if review.status is not ReviewStatus.PENDING:
        return
    result = reviewed_draft(review.draft, review.org_id)
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
    duplicates.post(ticket.org_id, ticket.id, entry.keys, engine.predicted_categories(ticket.subject, first.body))
