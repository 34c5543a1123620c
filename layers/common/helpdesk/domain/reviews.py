"""The AI review's models: what is reviewed, what a review finds, and the jobs of the review queue."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from helpdesk.domain.models import Category, Model, Person, ReviewStatus, Severity

SUMMARY_CHARS = 160
MAX_QUESTIONS = 4
REVIEW_DAYS = 7  # a draft's review can be filed for this long

ReviewJobKind = Literal["ticket", "draft", "index"]


class ReviewJob(Model):
    """A message on the review queue: review a ticket (`ticket`), or a draft (`draft`, POST
    /v1/tickets/review), or index a ticket for duplicates (`index`: filed from a review, or its
    subject edited)."""

    kind: ReviewJobKind
    org_id: str
    ticket_id: str | None = None
    review_id: str | None = None


class ReviewDraft(Model):
    """What is reviewed: a draft from POST /v1/tickets/review, or a filed ticket's first message."""

    subject: str | None = None
    body: str
    category: Category | None = None
    severity: Severity | None = None
    properties: dict[str, str] = Field(default_factory=dict)


class QualityIssue(BaseModel):
    code: str
    message: str


class Quality(BaseModel):
    score: int = Field(ge=0, le=100)
    issues: list[QualityIssue] = Field(default_factory=list)


class Duplicate(BaseModel):
    ticket_id: str
    subject: str
    status: str
    score: float = Field(ge=0, le=1)
    evidence: list[str] = Field(default_factory=list)


class ReviewResult(BaseModel):
    engine: str
    summary: str = Field(max_length=SUMMARY_CHARS)
    suggested_category: Category
    category_confidence: float = Field(ge=0, le=1)
    suggested_severity: Severity
    severity_confidence: float = Field(ge=0, le=1)
    quality: Quality
    questions: list[str] = Field(default_factory=list)
    duplicates: list[Duplicate] = Field(default_factory=list)


class Review(Model):
    """An AI review of a draft: pending until the reviewer has run; expires after a week (REVIEW_DAYS)."""

    review_id: str
    org_id: str
    created_by: Person
    status: ReviewStatus
    draft: ReviewDraft
    result: dict[str, Any] | None = None
    filed_ticket_id: str | None = None
    created_at: str
    expires_at: str
