"""The ticket lifecycle: what each action does to a ticket, as pure functions of the ticket as read.

Status is system-managed (SPEC §3): create -> pending_review; review done -> open; a support reply
-> waiting_customer; a customer reply on waiting_customer/resolved -> in_progress; support may set
triaging, in_progress, resolved; anyone in the org may close; closed is terminal.

Every action returns an `Outcome`: the ticket as it will be and the messages it adds. The timeline
is in those messages: each change of status, assignee, severity, category or subject adds a `system`
message (who, what, from -> to), internal when it is an internal matter (the assignee). Versions:
`version` (the customers' ETag) moves with every change a customer can see, `staff_version` (the
support team's) with every change at all; the store writes an outcome only if `staff_version` is
still what was read, so outcomes never interleave. Response targets: while the ticket waits on
support it carries `response_due_at` (domain.deadlines); resolved, it carries when it auto-closes."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from helpdesk.domain import deadlines
from helpdesk.domain.errors import InvalidRequest, TicketClosed
from helpdesk.domain.models import (
    AI_REVIEWER,
    SYSTEM,
    WAITING_ON,
    Author,
    AuthorKind,
    Change,
    Message,
    Person,
    Stamps,
    Status,
    Ticket,
    WaitingOn,
    timestamp,
)

__all__ = ["Outcome"]

SUPPORT_SETTABLE = frozenset({Status.TRIAGING, Status.IN_PROGRESS, Status.RESOLVED})
TIMELINE_FIELDS = ("status", "assignee", "severity", "category", "subject")
INTERNAL_FIELDS = frozenset({"assignee"})  # support's own business: internal system messages


@dataclass
class Outcome:
    """What an action makes of a ticket: the ticket as it will be stored, and the messages it adds."""

    ticket: Ticket
    messages: list[Message] = field(default_factory=list)
    visible: bool = True  # a change customers can see (moves `version`)


def can_support_set(status: Status) -> bool:
    return status in SUPPORT_SETTABLE


def after_customer_reply(status: Status) -> Status:
    """A customer answering a ticket that waits on them hands the ball back to support."""
    return Status.IN_PROGRESS if status in (Status.WAITING_CUSTOMER, Status.RESOLVED) else status


def open_for_changes(ticket: Ticket) -> None:
    if ticket.status is Status.CLOSED:
        raise TicketClosed(ticket.id)


# ---------------------------------------------------------------- the clock (response targets, auto-close)


def with_status(ticket: Ticket, status: Status, at: datetime, *, restart: bool = False) -> Ticket:
    """The ticket in `status`, with its response target and auto-close time as that status implies.
    A clock starts when the ticket comes to wait on support (or when `restart`); it keeps running
    while it still does (a new severity moves its due time); a support response stops it."""
    values: dict[str, object] = {"status": status}
    if deadlines.waits_on_us(status):
        running = ticket.response_clock is not None and deadlines.waits_on_us(ticket.status)
        clock = ticket.response_clock if running and not restart and ticket.response_clock else timestamp(at)
        due = deadlines.response_due(ticket.severity, deadlines.parse(clock), first=ticket.first_response_at is None)
        values |= {"response_clock": clock, "response_due_at": timestamp(due), "auto_close_at": None}
    elif status is Status.RESOLVED:
        values |= {
            "response_clock": None,
            "response_due_at": None,
            "auto_close_at": timestamp(deadlines.auto_close_at(at)),
        }
    else:
        values |= {"response_clock": None, "response_due_at": None, "auto_close_at": None}
    return ticket.model_copy(update=values)


def started(ticket: Ticket) -> Ticket:
    """A new ticket's clock: support owes a first response from its creation."""
    return with_status(
        ticket.model_copy(update={"response_clock": None}), ticket.status, deadlines.parse(ticket.created_at)
    )


# ---------------------------------------------------------------- the timeline


def change_message(field_name: str, before: object, after: object, by: Person, stamps: Stamps) -> Message:
    """A `system` message for one change of a ticket's field."""
    shown = {None: "nobody"} if field_name == "assignee" else {None: "-"}
    old, new = (shown.get(value, str(getattr(value, "value", value))) for value in (before, after))  # type: ignore[call-overload]
    who = by.email or by.id
    message_id, created_at = stamps.next()
    return Message(
        id=message_id,
        author=SYSTEM,
        body=f"{field_name.capitalize()} changed from **{old}** to **{new}** by {who}.",
        internal=field_name in INTERNAL_FIELDS,
        created_at=created_at,
        change=Change(
            field=field_name, before=None if before is None else old, after=None if after is None else new, by=by
        ),
    )


def _timeline(before: Ticket, after: Ticket, by: Person, stamps: Stamps) -> list[Message]:
    return [
        change_message(name, getattr(before, name), getattr(after, name), by, stamps)
        for name in TIMELINE_FIELDS
        if getattr(before, name) != getattr(after, name)
    ]


def _finish(
    before: Ticket,
    after: Ticket,
    messages: list[Message],
    at: datetime,
    *,
    activity: bool,
    by: Author = SYSTEM,
    seen: bool = False,
) -> Outcome:
    """Versions and times of an outcome: `version` moves when a customer can see any of it (`seen`:
    something besides the ticket and its messages, such as a file)."""
    if not messages and not seen and after == before:
        return Outcome(before, [], visible=False)  # nothing changed: nothing to write (a no-op PATCH)
    visible = seen or any(not message.internal for message in messages) or _public(before) != _public(after)
    values: dict[str, object] = {"staff_version": before.staff_version + 1, "changed_by": by}
    if messages:
        values["message_stamp"] = max(message.id for message in messages)
    if visible:
        values |= {"version": before.version + 1, "updated_at": timestamp(at)}
        if activity:
            values["last_activity_at"] = timestamp(at)
    return Outcome(after.model_copy(update=values), messages, visible)


def _public(ticket: Ticket) -> dict[str, object]:
    return ticket.model_dump(mode="json", exclude={"assignee", "version", "updated_at", "last_activity_at"})


# ---------------------------------------------------------------- actions


def reply(ticket: Ticket, message: Message, by: Author, at: datetime, stamps: Stamps) -> Outcome:
    """A message (stamped from `stamps`: the caller's first): a support reply waits on the customer,
    a customer reply hands the ball back, an internal note changes nothing a customer sees. Its
    clocks run from the message's own time."""
    open_for_changes(ticket)
    at = deadlines.parse(message.created_at)
    after = ticket
    if message.internal:
        pass
    elif by.kind is AuthorKind.SUPPORT:
        after = ticket.model_copy(update={"first_response_at": ticket.first_response_at or timestamp(at)})
        after = with_status(after, Status.WAITING_CUSTOMER, at)
    elif WAITING_ON[ticket.status] is WaitingOn.USER:
        after = with_status(ticket, after_customer_reply(ticket.status), at, restart=True)
    timeline = _timeline(ticket, after, by, stamps) if after.status != ticket.status else []
    return _finish(ticket, after, [message, *timeline], at, activity=not message.internal, by=by)


def update(ticket: Ticket, fields: dict[str, object], by: Author, at: datetime, stamps: Stamps) -> Outcome:
    """A PATCH: the fields as given (the caller's rights are checked by the use case)."""
    open_for_changes(ticket)
    status = fields.get("status")
    if status is not None and not can_support_set(status):  # type: ignore[arg-type]
        raise InvalidRequest(
            f"Support may set status to triaging, in_progress or resolved, not {status}; "
            "replies and close move the other statuses.",
            [{"field": "status", "message": "not settable"}],
        )
    after = ticket.model_copy(update={name: value for name, value in fields.items() if name != "status"})
    new_status = status if isinstance(status, Status) else ticket.status
    if new_status != ticket.status or after.severity != ticket.severity:
        after = with_status(after, new_status, at, restart=not deadlines.waits_on_us(ticket.status))
    return _finish(ticket, after, _timeline(ticket, after, by, stamps), at, activity=True, by=by)


def close(ticket: Ticket, by: Author, at: datetime, stamps: Stamps, reason: str = "") -> Outcome:
    open_for_changes(ticket)
    message_id, created_at = stamps.next()
    who = by.email or by.id
    note = Message(
        id=message_id,
        author=SYSTEM,
        body=f"Ticket closed by {who}.{f' {reason}' if reason else ''}",
        created_at=created_at,
        change=Change(field="status", before=ticket.status.value, after=Status.CLOSED.value, by=by),
    )
    after = with_status(ticket, Status.CLOSED, at).model_copy(update={"closed_at": created_at})
    return _finish(ticket, after, [note], at, activity=True, by=by)


def reviewed(ticket: Ticket, changes: dict[str, object], notes: list[Message], at: datetime, stamps: Stamps) -> Outcome:
    """The AI review's findings recorded (its notes stamped from `stamps` first): a ticket waiting
    for it opens (unless support moved it on meanwhile)."""
    open_for_changes(ticket)
    after = ticket.model_copy(update=changes)
    if ticket.status is Status.PENDING_REVIEW:
        after = with_status(after, Status.OPEN, at)
    timeline = _timeline(ticket, after, SYSTEM, stamps)
    return _finish(ticket, after, [*notes, *timeline], at, activity=False, by=AI_REVIEWER)


def attachments_added(ticket: Ticket, internal: bool, at: datetime) -> Outcome:
    """Files attached to the ticket itself (an internal note's files are internal)."""
    open_for_changes(ticket)
    return _finish(ticket, ticket, [], at, activity=not internal, seen=not internal)


def attachment_checked(ticket: Ticket, name: str, reason: str | None, internal: bool, stamps: Stamps) -> Outcome:
    """A presigned upload judged: available (its readers see it become downloadable), or rejected by
    the content check (a `system` message says which file and why). Nothing lands on a closed ticket."""
    open_for_changes(ticket)
    at = datetime.now(UTC)
    if reason is None:
        return _finish(ticket, ticket, [], at, activity=False, seen=not internal)
    message_id, created_at = stamps.next()
    rejection = Message(
        id=message_id,
        author=SYSTEM,
        body=f"Attachment **{name}** was rejected by the content check: {reason}",
        internal=internal,
        created_at=created_at,
        change=Change(field="attachment", before=name, after="rejected"),
    )
    return _finish(ticket, ticket, [rejection], at, activity=False)


def breached(ticket: Ticket, at: datetime) -> Outcome:
    """The response target passed: recorded once (for the `Response Target Breached` event); nothing
    when support answered meanwhile or it was recorded already."""
    due = ticket.response_due_at
    if due is None or ticket.response_breached_at is not None or due > timestamp(at):
        return Outcome(ticket, [], visible=False)
    after = ticket.model_copy(update={"response_breached_at": timestamp(at)})
    return _finish(ticket, after, [], at, activity=False)


def auto_close(ticket: Ticket, at: datetime, stamps: Stamps, days: int) -> Outcome:
    """A resolved ticket nobody replied to for `days` closes by itself (nothing if it moved on)."""
    if ticket.status is not Status.RESOLVED or ticket.auto_close_at is None or ticket.auto_close_at > timestamp(at):
        return Outcome(ticket, [], visible=False)
    return close(ticket, SYSTEM, at, stamps, reason=f"No reply for {days} days since it was resolved.")
