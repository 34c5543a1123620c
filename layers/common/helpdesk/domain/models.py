"""Domain models: what a ticket, a message, an attachment and a member are."""

from datetime import UTC, datetime
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


class Message(Model):
    id: str
    author: Author
    body: str
    internal: bool = False
    created_at: str
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
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def waiting_on(self) -> WaitingOn | None:
        """Who owes the next response: `us` (support), `user`, or nobody once closed."""
        return WAITING_ON[self.status]


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
