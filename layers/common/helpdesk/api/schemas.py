"""Request bodies, query strings and response shapes of the HTTP API: explicit, strict, no mass
assignment. Domain models (helpdesk.domain.models) are answered as they are."""

from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from helpdesk.domain.models import Attachment, Category, Severity, Source, Status, Ticket

MAX_BODY_CHARS = 50_000
MAX_PROPERTIES = 20

PropertyKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
PropertyValue = Annotated[str, StringConstraints(max_length=1024)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS)]
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]


class Input(BaseModel):
    """Every request body: unknown fields are refused and types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class TicketDraft(Input):
    category: Category | None = None
    body: Body | None = Field(default=None, validation_alias=AliasChoices("body", "description"))
    subject: Subject | None = None
    severity: Severity | None = None
    properties: dict[PropertyKey, PropertyValue] = Field(default_factory=dict, max_length=MAX_PROPERTIES)
    source: Source = Source.API
    review_id: str | None = Field(default=None, max_length=64)
    answers: dict[Annotated[str, StringConstraints(max_length=500)], Body] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _category_and_body_unless_filed_from_review(self) -> "TicketDraft":
        if self.review_id is None:
            missing = [name for name in ("category", "body") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)} required (or file an accepted review with review_id)")
        return self


class ReviewRequest(Input):
    """A draft to review before filing: the fields of a ticket, category optional."""

    category: Category | None = None
    body: Body = Field(validation_alias=AliasChoices("body", "description"))
    subject: Subject | None = None
    severity: Severity | None = None
    properties: dict[PropertyKey, PropertyValue] = Field(default_factory=dict, max_length=MAX_PROPERTIES)


class TicketUpdate(Input):
    subject: Subject | None = None
    category: Category | None = None
    severity: Severity | None = None
    status: Status | None = None
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "TicketUpdate":
        if not self.model_fields_set:
            raise ValueError("nothing to update")
        return self


class Reply(Input):
    body: Body
    internal: bool = False


class MemberUpdate(Input):
    email_notifications: bool


# A media type as RFC 6838 names it, with optional parameters: it becomes the presigned POST's exact
# Content-Type condition (the type an attachment really has is decided from its bytes).
MEDIA_TYPE = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"""(?:[ \t]*;[ \t]*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\\x00-\x1f\x7f]*"))*$"""
)


def _safe_filename(name: str) -> str:
    from helpdesk.api.multipart import clean_filename

    cleaned = clean_filename(name)
    if not cleaned:
        raise ValueError("a file name is needed (its base name, without directories)")
    return cleaned


class UploadRequest(Input):
    """POST /v1/tickets/{id}/attachments as JSON: ask for a presigned upload of one file."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_safe_filename)]
    content_type: Annotated[str, StringConstraints(max_length=255, pattern=MEDIA_TYPE)]
    size: int = Field(ge=1, description="bytes; at most 10 MB (larger: 413)")


class UploadGrant(BaseModel):
    """A presigned S3 POST: send `fields` as form fields, then the file as the last field, `file`."""

    attachment_id: str
    upload_url: str
    fields: dict[str, str]
    expires_at: str


class UploadedAttachments(BaseModel):
    """Files sent inline (multipart), already checked and stored."""

    attachments: list[Attachment]


class UploadResult(RootModel[UploadGrant | UploadedAttachments]):
    """A presigned upload (JSON request) or the stored files (multipart request)."""


class ListParams(BaseModel):
    """The query string of GET /v1/tickets."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(default_factory=list, max_length=7)
    category: Category | None = None
    severity: Severity | None = None
    cluster_id: str | None = Field(default=None, min_length=1, max_length=128)
    q: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)
    org_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """HTTP API joins a repeated parameter with commas (status=open&status=triaging)."""
        return [part for part in value.split(",") if part] if isinstance(value, str) else value


class TicketPage(BaseModel):
    items: list[Ticket]
    next_cursor: str | None


class Closed(BaseModel):
    id: str
    status: Status
    closed_at: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
