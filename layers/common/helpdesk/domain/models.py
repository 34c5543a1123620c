"""Domain models: what a ticket, a message, an attachment and a member are."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field
from ulid import ULID


class Category(StrEnum):
    TECHNICAL = "technical"
    BUG = "bug"
    FEATURE_REQUEST = "feature_request"
    ACCOUNT = "account"
    BILLING = "billing"
    GENERAL = "general"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    PENDING_REVIEW = "pending_review"
    OPEN = "open"
    TRIAGING = "triaging"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class WaitingOn(StrEnum):
    US = "us"
    USER = "user"


WAITING_ON: dict[Status, WaitingOn | None] = {
    Status.PENDING_REVIEW: WaitingOn.US,
    Status.OPEN: WaitingOn.US,
    Status.TRIAGING: WaitingOn.US,
    Status.IN_PROGRESS: WaitingOn.US,
    Status.WAITING_CUSTOMER: WaitingOn.USER,
    Status.RESOLVED: WaitingOn.USER,
    Status.CLOSED: None,
}


class Source(StrEnum):
    PORTAL = "portal"
    API = "api"
    CLI = "cli"
    AGENT = "agent"


class AuthorKind(StrEnum):
    USER = "user"
    SUPPORT = "support"
    AI = "ai"
    SYSTEM = "system"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class AttachmentStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    AVAILABLE = "available"
    REJECTED = "rejected"
    EXPIRED = "expired"  # a presigned upload never used: it gave its room back


# How an attachment came in: checked in the request that sent it (multipart), or after a presigned upload.
AttachmentOrigin = Literal["request", "presigned"]

MAX_ATTACHMENTS_PER_TICKET = 20  # SPEC §4
MAX_ATTACHMENTS_PER_MESSAGE = 3
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
UPLOAD_EXPIRES_IN = 300  # seconds a presigned POST may be used (and the object overwritten)
# An unused upload grant gives its room back only this long after it was granted: its policy has
# expired, and an upload S3 accepted just before that has been delivered and checked.
UNUSED_UPLOAD_RECLAIMED_AFTER = UPLOAD_EXPIRES_IN + 15 * 60


def new_id() -> str:
    """Sortable by creation time, unguessable (80 random bits), stable."""
    return str(ULID())


def timestamp(at: datetime) -> str:
    """How the API writes a time: UTC, milliseconds, `Z` (so stored times sort as strings)."""
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> str:
    return timestamp(datetime.now(UTC))


def stamp() -> tuple[str, str]:
    """An id and its creation time from one clock reading, to the same millisecond: a message's
    place in its conversation (its id) and its created_at never disagree."""
    at = datetime.now(UTC)
    return str(ULID.from_datetime(at)), timestamp(at)


class Stamps:
    """Ids (and times) for the messages one change adds: later than `after` (the conversation's
    newest message, so a clock behind another machine's cannot put them before it) and strictly
    increasing, so messages added together keep their order."""

    def __init__(self, after: str | None = None) -> None:
        at = datetime.now(UTC)
        if after:
            at = max(at, ULID.from_str(after).datetime + timedelta(milliseconds=1))
        self.at = at

    def next(self) -> tuple[str, str]:
        at, self.at = self.at, self.at + timedelta(milliseconds=1)
        return str(ULID.from_datetime(at)), timestamp(at)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


class Person(Model):
    id: str
    email: str | None = None


class Author(Person):
    kind: AuthorKind


AI_REVIEWER = Author(id="ai-review", email=None, kind=AuthorKind.AI)
SYSTEM = Author(id="system", email=None, kind=AuthorKind.SYSTEM)


class Attachment(Model):
    """A file of a ticket: on a message, or on the ticket itself (`message_id` None). Until it is
    checked (`pending_upload`), `content_type` and `size` are the uploader's; then the real ones."""

    id: str
    message_id: str | None = None
    filename: str
    content_type: str
    size: int
    status: AttachmentStatus
    rejection_reason: str | None = None
    created_at: str


class Change(Model):
    """What a `system` message records: a field of the ticket that changed, from what to what, by whom
    (an attachment the content check rejected: field `attachment`, `to` the reason)."""

    field: str
    before: str | None = None
    after: str | None = None
    by: Person | None = None


class Message(Model):
    id: str
    author: Author
    body: str
    internal: bool = False
    created_at: str
    change: Change | None = None  # on system messages of the timeline
    attachments: list[Attachment] = Field(default_factory=list)


class TicketReview(Model):
    status: ReviewStatus
    review_id: str | None = None
    result: dict[str, Any] | None = None


class Ticket(Model):
    id: str
    org_id: str
    subject: str
    category: Category
    severity: Severity
    status: Status
    properties: dict[str, str] = Field(default_factory=dict)
    summary: str
    review: TicketReview
    assignee: str | None = None
    created_by: Person
    source: Source
    created_at: str
    updated_at: str
    last_activity_at: str
    version: int = Field(description="Changes with every change this ticket's customers can see (the ETag).")
    response_due_at: str | None = Field(
        default=None, description="While support owes the next response: by when (the severity's response target)."
    )
    response_breached_at: str | None = Field(default=None, description="When the response target was found passed.")
    first_response_at: str | None = None
    auto_close_at: str | None = Field(default=None, description="Resolved: when it closes unless the customer replies.")
    closed_at: str | None = None
    # what only the system needs: never answered
    staff_version: int = Field(default=0, exclude=True)  # every change at all (support's ETag)
    response_clock: str | None = Field(default=None, exclude=True)  # since when support owes the response
    message_stamp: str | None = Field(default=None, exclude=True)  # the newest message's id
    changed_by: Author | None = Field(default=None, exclude=True)  # who made the latest change (for events)
    settled_category: Category | None = Field(default=None, exclude=True)  # what it counts as in its org's mix

    @computed_field  # type: ignore[prop-decorator]
    @property
    def waiting_on(self) -> WaitingOn | None:
        """Who owes the next response: `us` (support), `user`, or nobody once closed."""
        return WAITING_ON[self.status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def response_breached(self) -> bool:
        """Support owes a response and its target has passed."""
        return self.response_due_at is not None and (
            self.response_breached_at is not None or self.response_due_at < now()
        )


class Conversation(Ticket):
    """A ticket with its whole conversation, as GET /v1/tickets/{id} shows it."""

    messages: list[Message] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)


class Member(Model):
    id: str
    email: str | None = None
    org_id: str
    roles: list[str] = Field(default_factory=list)
    email_notifications: bool = True
