"""AI reviews as the API sees them: ask for one (queued), read it back, and the note a review adds
to a ticket's conversation. The reviewing itself is helpdesk.reviewer (the queue's worker)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk import repository, review_queue
from helpdesk.auth import Caller
from helpdesk.models import Person, Review, ReviewDraft, ReviewJob, ReviewStatus, new_id, now
from helpdesk.schemas import ReviewRequest


def request_review(caller: Caller, request: ReviewRequest) -> Review:
    at = datetime.now(UTC)
    review = Review(
        review_id=new_id(),
        org_id=caller.org_id,
        created_by=Person(id=caller.user_id, email=caller.email),
        status=ReviewStatus.PENDING,
        draft=ReviewDraft.model_validate(request.model_dump()),
        created_at=now(),
        expires_at=(at + timedelta(days=repository.REVIEW_DAYS)).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    repository.put_review(review)
    review_queue.enqueue(ReviewJob(kind="draft", org_id=caller.org_id, review_id=review.review_id))
    return review


def get_review(caller: Caller, review_id: str) -> Review:
    return repository.get_review(review_id, caller.scope())


def findings_markdown(result: dict[str, Any]) -> str:
    """The `ai` message a review adds to the ticket: what it found, for the support team and the user."""
    lines = ["**AI review**", "", f"> {result.get('summary', '')}", ""]
    category, severity = result.get("suggested_category"), result.get("suggested_severity")
    if category:
        lines.append(f"- Suggested category: `{category}` ({result.get('category_confidence', 0):.0%} confident)")
    if severity:
        lines.append(f"- Suggested severity: `{severity}` ({result.get('severity_confidence', 0):.0%} confident)")
    quality = result.get("quality") or {}
    if quality:
        lines.append(f"- Quality: {quality.get('score', 0)}/100")
        lines += [f"  - {issue.get('message', issue.get('code', ''))}" for issue in quality.get("issues", [])]
    if result.get("questions"):
        lines += ["", "**Questions that would help**", *(f"- {question}" for question in result["questions"])]
    if result.get("duplicates"):
        lines += ["", "**Possibly related tickets**"]
        for duplicate in result["duplicates"]:
            evidence = "; ".join(f"“{phrase}”" for phrase in duplicate.get("evidence", [])[:3])
            lines.append(
                f"- {duplicate['ticket_id']} ({duplicate.get('status', '?')}, {duplicate.get('score', 0):.0%}): "
                f"{duplicate.get('subject', '')}" + (f" — {evidence}" if evidence else "")
            )
    return "\n".join(lines)
