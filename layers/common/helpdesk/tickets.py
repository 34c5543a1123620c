"""Ticket use cases: read, list, update, reply, close; and the caller's own member record.

Every function takes the verified caller first and limits what it touches to the caller's org
(the support team is not limited)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk import repository
from helpdesk.auth import Caller
from helpdesk.errors import Conflict, Forbidden, InvalidRequest
from helpdesk.models import (
    Attachment,
    Author,
    AuthorKind,
    Category,
    Conversation,
    Member,
    Message,
    ReviewJob,
    ReviewStatus,
    Severity,
    Status,
    Ticket,
    now,
    stamp,
)
from helpdesk.observability import logger
from helpdesk.repository import Changes, Expectation, TicketQuery
from helpdesk.status import can_support_set

if TYPE_CHECKING:  # request bodies: only the functions that take them import their schemas
    from helpdesk.multipart import UploadedFile
    from helpdesk.schemas import MemberUpdate, Reply, TicketUpdate

CUSTOMER_FIELDS = frozenset({"subject", "category", "severity"})
SUPPORT_FIELDS = CUSTOMER_FIELDS | {"status", "assignee"}
NULLABLE_FIELDS = frozenset({"assignee"})
WRITE_ATTEMPTS = 5  # stamps tried when other messages land at the same moment


def member_of(caller: Caller) -> Member:
    return Member(id=caller.user_id, email=caller.email, org_id=caller.org_id, roles=sorted(caller.roles))


def author_of(caller: Caller) -> Author:
    kind = AuthorKind.SUPPORT if caller.is_support else AuthorKind.USER
    return Author(id=caller.user_id, email=caller.email, kind=kind)


def get_conversation(caller: Caller, ticket_id: str) -> Conversation:
    return repository.get_conversation(ticket_id, caller.scope(), include_internal=caller.is_support)


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


def list_tickets(caller: Caller, params: ListParams) -> TicketPage:
    if params.org_id is not None and not caller.is_support:
        raise Forbidden("Only the support team may list another organisation's tickets.")
    org_id = params.org_id if caller.is_support else caller.org_id
    words = sorted({word for word in (params.q or "").lower().split() if word})[:10]
    query = TicketQuery(
        org_id=org_id,
        statuses=list(dict.fromkeys(params.status)),
        category=params.category,
        severity=params.severity,
        cluster_id=params.cluster_id,
        words=words,
        limit=params.limit,
        cursor=params.cursor,
    )
    items, next_cursor = repository.list_tickets(query, scope=caller.scope())
    return TicketPage(items=items, next_cursor=next_cursor)


def update_ticket(caller: Caller, ticket_id: str, update: "TicketUpdate", version: int | None) -> Ticket:
    """Customers may change subject, category and severity; support also status and assignee."""
    requested = update.model_fields_set
    allowed = SUPPORT_FIELDS if caller.is_support else CUSTOMER_FIELDS
    if refused := sorted(requested - allowed):
        raise Forbidden(f"Only the support team may change {', '.join(refused)}.")
    if nulls := sorted(name for name in requested - NULLABLE_FIELDS if getattr(update, name) is None):
        raise InvalidRequest(f"{', '.join(nulls)} cannot be null.", [{"field": n, "message": "null"} for n in nulls])
    changes = Changes()
    for name in sorted(requested):
        value = getattr(update, name)
        if name == "status":
            if not can_support_set(value):
                raise InvalidRequest(
                    f"Support may set status to triaging, in_progress or resolved, not {value.value}; "
                    "replies and close move the other statuses.",
                    [{"field": "status", "message": "not settable"}],
                )
            changes.values |= repository.status_attributes(ticket_id, value)
        elif name == "assignee" and value is None:
            changes.removed.append("assignee")
        else:
            changes.values[name] = value.value if hasattr(value, "value") else value
    expected = Expectation(ticket_id, caller.scope(), version=version)
    ticket = repository.update_ticket(expected, changes, at=now())
    if "subject" in requested and ticket.review.status is not ReviewStatus.PENDING:
        _reindex(ticket)
    return ticket


def _reindex(ticket: Ticket) -> None:
    """A reviewed ticket's new subject: index it again (the reviewer's `index` job), so later drafts
    find it by what it now says. A pending review indexes the subject it reads then. The edit has
    landed; a queue outage loses only this refresh, so it is logged, not answered with a 5xx.
    Only a subject edit pays for the SQS client: imported here."""
    from helpdesk import review_queue

    try:
        review_queue.enqueue(ReviewJob(kind="index", org_id=ticket.org_id, ticket_id=ticket.id))
    except Exception:
        logger.exception("could not queue the duplicate index refresh", extra={"ticket_id": ticket.id})


@contextmanager
def attached(ticket_id: str, message: Message, files: "Sequence[UploadedFile]") -> Iterator[list[Attachment]]:
    """The records of a message's files, for the transaction that writes the message: none for a
    JSON request; for multipart, the files checked and stored (deleted again if the block fails).
    Only multipart requests pay for the S3 client and the checks: they are imported here."""
    if not files:
        yield []
        return
    from helpdesk import attachments

    with attachments.stored(ticket_id, files, message) as records:
        yield records


def reply(caller: Caller, ticket_id: str, reply: "Reply", files: "Sequence[UploadedFile]" = ()) -> Message:
    """Add a message (with up to 3 files). A support reply waits on the customer; a customer reply
    hands the ball back; an internal note (support only) moves nothing and is never shown to
    customers, nor are its files.

    Messages land in the order of their stamps: a message is written only while the ticket's last
    activity is older than its own stamp (if a later-stamped one landed first, it is stamped again),
    so the ticket's `message_stamp` only grows and a close can rely on it (see `close`)."""
    if reply.internal and not caller.is_support:
        raise Forbidden("Only the support team may write internal notes.")
    message_id, at = stamp()
    message = Message(id=message_id, author=author_of(caller), body=reply.body, internal=reply.internal, created_at=at)
    moves = None if reply.internal else ("support" if caller.is_support else "customer")
    with attached(ticket_id, message, files) as records:
        for _ in range(WRITE_ATTEMPTS):
            expected = Expectation(ticket_id, caller.scope(), quiet_before=message.created_at)
            try:
                repository.add_message(expected, message, member_of(caller), moves, records)
                return message
            except repository.MessageRaced:
                message_id, at = stamp()
                records[:] = [
                    record.model_copy(update={"message_id": message_id, "created_at": at}) for record in records
                ]
                message = message.model_copy(update={"id": message_id, "created_at": at, "attachments": list(records)})
        raise Conflict(f"Ticket {ticket_id} is being changed by someone else right now; retry.")


class Closed(BaseModel):
    id: str
    status: Status
    closed_at: str


def close(caller: Caller, ticket_id: str) -> Closed:
    """Close for good (anyone in the org, or support); closing a closed ticket is a conflict.

    A message is stamped (id, created_at) before it is written, so a reply stamped after this
    close's note could still commit before it and sort after it. The close is therefore written
    only while the ticket's newest message is older than its note (one conditional write, no read);
    when a message stamped later landed first, the note is stamped again."""
    who = caller.email or caller.user_id
    for _ in range(WRITE_ATTEMPTS):
        note_id, at = stamp()
        note = Message(
            id=note_id,
            author=Author(id="system", email=None, kind=AuthorKind.SYSTEM),
            body=f"Ticket closed by {who}.",
            created_at=at,
        )
        try:
            repository.close_ticket(Expectation(ticket_id, caller.scope(), quiet_before=note.created_at), note)
        except repository.MessageRaced:
            continue  # a message stamped after the note landed first: stamp the note again
        return Closed(id=ticket_id, status=Status.CLOSED, closed_at=note.created_at)
    raise Conflict(f"Ticket {ticket_id} is being changed by someone else right now; retry.")


def me(caller: Caller) -> Member:
    stored = repository.get_member(caller.org_id, caller.user_id)
    current = member_of(caller)
    return current.model_copy(update={"email_notifications": stored.email_notifications}) if stored else current


def update_me(caller: Caller, update: "MemberUpdate") -> Member:
    return repository.save_member(
        member_of(caller).model_copy(update={"email_notifications": update.email_notifications})
    )
