"""Request bodies, query strings and response shapes of the HTTP API: explicit, strict, no mass
assignment. Domain models (helpdesk.domain.models) are answered as they are."""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from helpdesk.domain.models import MAX_ATTACHMENT_BYTES, Attachment, Category, Severity, Source, Status, Ticket

MAX_BODY_CHARS = 50_000
MAX_PROPERTIES = 20
PROPERTY_KEY = r"^[A-Za-z0-9_.:-]+$"
# Text that says something: not empty once surrounding white space is stripped, no control characters.
TEXT_LINE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"

PropertyKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PROPERTY_KEY)]
PropertyValue = Annotated[str, StringConstraints(max_length=1024)]
Properties = Annotated[
    dict[PropertyKey, PropertyValue],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_PROPERTIES,
            "propertyNames": {"pattern": PROPERTY_KEY, "minLength": 1, "maxLength": 64},
            "additionalProperties": {"type": "string", "maxLength": 1024},
            "description": "Free-form string -> string (cluster_id, cluster_name, region, ...).",
        }
    ),
]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=TEXT_LINE)]


def _no_nulls(schema: dict[str, Any], model: type[Any]) -> None:
    """The JSON schema says what the validator enforces: an optional field may be left out, but it
    is null only where the model says so (`nullable`)."""
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [])
        if name in model.nullable or not any(option.get("type") == "null" for option in options):
            continue
        kept = [option for option in options if option.get("type") != "null"]
        prop.pop("anyOf")
        prop.pop("default", None)
        prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})


class Input(BaseModel):
    """Every request body: unknown fields are refused, types are not coerced, and null is a value
    only where `nullable` says so (leave a field out instead)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, json_schema_extra=_no_nulls)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _no_explicit_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(str(name) for name, value in data.items() if value is None and name not in cls.nullable)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may not be null; leave the field out instead")
        return data


def _draft_schema(schema: dict[str, Any], model: type[Any]) -> None:
    _no_nulls(schema, model)
    schema["anyOf"] = [
        {"required": ["review_id"]},
        {"required": ["category", "body"]},
        {"required": ["category", "description"]},
    ]


def _update_schema(schema: dict[str, Any], model: type[Any]) -> None:
    _no_nulls(schema, model)
    schema["minProperties"] = 1


class TicketDraft(Input):
    model_config = ConfigDict(json_schema_extra=_draft_schema)

    category: Category | None = None
    body: Body | None = Field(default=None, validation_alias=AliasChoices("body", "description"))
    subject: Subject | None = None
    severity: Severity | None = None
    properties: Properties = Field(default_factory=dict, max_length=MAX_PROPERTIES)
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
    properties: Properties = Field(default_factory=dict, max_length=MAX_PROPERTIES)


SUPPORT_SETTABLE = [Status.TRIAGING.value, Status.IN_PROGRESS.value, Status.RESOLVED.value]


class TicketUpdate(Input):
    """Customers may change subject, category, severity; the support team also status (to one of the
    statuses it may set) and assignee (null: unassign)."""

    model_config = ConfigDict(json_schema_extra=_update_schema)
    nullable: ClassVar[frozenset[str]] = frozenset({"assignee"})

    subject: Subject | None = None
    category: Category | None = None
    severity: Severity | None = None
    status: Annotated[Status, WithJsonSchema({"type": "string", "enum": SUPPORT_SETTABLE})] | None = None
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


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 1024.0 is the integer 1024 (JSON Schema says so too)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _safe_filename(name: str) -> str:
    """Its base name, without directories or control characters ("attachment" if nothing is left)."""
    from helpdesk.api.multipart import clean_filename

    return clean_filename(name) or "attachment"


class UploadRequest(Input):
    """POST /v1/tickets/{id}/attachments as JSON: ask for a presigned upload of one file."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_safe_filename)]
    content_type: Annotated[str, StringConstraints(max_length=255, pattern=MEDIA_TYPE)]
    size: Annotated[int, BeforeValidator(_whole_number)] = Field(
        ge=1,
        description=f"bytes; at most {MAX_ATTACHMENT_BYTES} (10 MB; a larger one is refused with 413)",
        json_schema_extra={"maximum": MAX_ATTACHMENT_BYTES},
    )


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
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="The `next_cursor` of the previous page of this same list, as the API returned it (signed "
        "for this list and caller): any other value, or one changed in any way, is 400.",
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$", "x-opaque-token": True},
    )
    org_id: str | None = Field(default=None, min_length=1, max_length=128)
    sort: Literal["created", "response_due"] = Field(
        default="created",
        description="created: newest first. response_due (support): soonest response target first, passed ones first.",
    )
    breached: Literal["true", "false"] | None = Field(
        default=None, description="true (support): only tickets whose response target has passed."
    )

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
