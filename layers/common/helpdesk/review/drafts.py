"""Reviews of drafts as the API sees them: ask for one (queued), read it back. The reviewing itself is
helpdesk.review.worker (the queue's worker)."""

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from helpdesk.adapters import queue
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import Person, ReviewStatus, new_id, now, timestamp
from helpdesk.domain.reviews import REVIEW_DAYS, Review, ReviewDraft, ReviewJob
from helpdesk.store import reviews

if TYPE_CHECKING:
    from helpdesk.api.schemas import ReviewRequest


def request_review(caller: Caller, request: "ReviewRequest") -> Review:
    at = datetime.now(UTC)
    review = Review(
        review_id=new_id(),
        org_id=caller.org_id,
        created_by=Person(id=caller.user_id, email=caller.email),
        status=ReviewStatus.PENDING,
        draft=ReviewDraft.model_validate(request.model_dump()),
        created_at=now(),
        expires_at=timestamp(at + timedelta(days=REVIEW_DAYS)),
    )
    reviews.put_review(review)
    queue.enqueue(ReviewJob(kind="draft", org_id=caller.org_id, review_id=review.review_id))
    return review


def get_review(caller: Caller, review_id: str) -> Review:
    return reviews.get_review(review_id, caller.scope())
