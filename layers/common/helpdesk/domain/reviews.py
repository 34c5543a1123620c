"""The AI review's models: what is reviewed, what a review finds, and the jobs of the review queue."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    cluster_context: dict[str, Any] | None = Field(default=None, description="What the cluster-context provider said")
    cluster_context_unavailable: str | None = Field(default=None, description="Why there is no cluster context")


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


class NodeCounts(BaseModel):
    ready: int = Field(ge=0)
    total: int = Field(ge=0)


class WarningEvent(BaseModel):
    reason: str = Field(max_length=200)
    message: str = Field(max_length=1000)
    count: int = Field(default=1, ge=1)
    last_seen: str | None = Field(default=None, max_length=40)


class ClusterContext(BaseModel):
    """What the cluster-context provider says of a ticket's cluster (SPEC §6): bounded, validated."""

    model_config = ConfigDict(extra="ignore")

    cluster_id: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=64)
    version: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=64, description="e.g. healthy, degraded, unreachable")
    nodes: NodeCounts | None = None
    recent_warnings: list[WarningEvent] = Field(default_factory=list, max_length=20)

    @property
    def degraded(self) -> bool:
        return (self.status or "").lower() not in ("", "healthy", "ok", "running") or (
            self.nodes is not None and self.nodes.ready < self.nodes.total
        )
