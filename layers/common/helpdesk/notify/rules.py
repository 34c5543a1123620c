"""Who gets which mail for a change in the table (SPEC section 5), and what the mail says.

The rules are pure functions of a typed stream record and a `Directory` (tickets and members,
read at most once per batch); they return the mails to send, one per recipient. Sending them
exactly once is helpdesk.notify.delivery's job.

  ticket INSERT                                  -> the support address
  message INSERT, support, not internal          -> every member of the ticket's org with email
                                                    notifications on
  message INSERT, customer (not the filing one)  -> the assignee, or the support address
  ticket MODIFY, status -> resolved | closed     -> the creator (unless they turned mail off)
  anything else (internal notes, ai and system messages, other items) -> nothing

markdown-it and nh3 are imported here, at module level, because only the notifier imports this
module: the API functions' cold starts never pay for them."""

import html
import re
from typing import Protocol, TypeGuard
from urllib.parse import quote

import nh3
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk.domain.models import AuthorKind, Member, Person, Status
from helpdesk.observability import logger
from helpdesk.settings import Settings, settings
from helpdesk.store import members, tickets
from helpdesk.store.stream import StreamRecord

EXCERPT_CHARS = 500
CLOSING_STATUSES = {Status.RESOLVED: "resolved", Status.CLOSED: "closed"}


class TicketView(BaseModel):
    """What mail needs of a ticket (from a stream image or a read)."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    id: str
    org_id: str
    subject: str
    status: Status
    summary: str = ""
    assignee: str | None = None
    created_by: Person
    created_at: str


class AuthorView(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    id: str
    email: str | None = None
    kind: AuthorKind


class MessageView(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    id: str
    author: AuthorView
    body: str
    internal: bool = False
    created_at: str


# ---------------------------------------------------------------- mail

_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")


def header_value(value: str) -> str:
    """A value safe for a mail header: CR, LF, NUL (and every other control or line break) become
    a space, so nobody can smuggle in a header of their own."""
    return " ".join(_HEADER_BREAKS.sub(" ", value).split())


def looks_like_email(value: str | None) -> TypeGuard[str]:
    return value is not None and len(value) <= 254 and _EMAIL.match(value) is not None


class Mail(BaseModel):
    """One mail to one recipient, caused by one stream record (`event_id`)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    to: str
    subject: str
    text: str
    html: str
    reply_to: tuple[str, ...] = Field(default_factory=tuple)

    @field_validator("to", "subject")
    @classmethod
    def _header(cls, value: str) -> str:
        return header_value(value)

    @field_validator("reply_to")
    @classmethod
    def _headers(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(header_value(value) for value in values)


_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}  # no remote images (tracking pixels) in mail
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown as HTML that is safe in a mail: raw HTML is not markup (markdown-it, html off), and
    what comes out is sanitised again (nh3) so no script, handler or javascript: link survives."""
    return nh3.clean(_markdown.render(text), tags=_TAGS, url_schemes=_SCHEMES)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(None, 1)[0] or text[:limit]
    return cut.rstrip() + " …"


def ticket_link(config: Settings, ticket_id: str) -> str:
    return f"{config.app_base_url.rstrip('/')}/tickets/{quote(ticket_id, safe='')}"


def compose(
    config: Settings,
    event_id: str,
    to: str,
    ticket: TicketView,
    event: str,
    intro: str,
    body: str,
    footer: str,
    reply_to: tuple[str, ...] = (),
) -> Mail:
    """The mail: `[#<id>] <subject> (<event>)`, an intro line, an excerpt of `body` (markdown), a link."""
    link = ticket_link(config, ticket.id)
    quoted = excerpt(body)
    text = f"{intro}\n\n{quoted}\n\nView ticket #{ticket.id}: {link}\n\n-- \n{footer}\n"
    page = (
        "<!doctype html>\n"
        '<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5">\n'
        f"<p>{html.escape(intro)}</p>\n"
        f'<div style="border-left:3px solid #d0d7de;padding-left:12px;color:#1f2328">{render_markdown(quoted)}</div>\n'
        f'<p><a href="{html.escape(link)}">View ticket #{html.escape(ticket.id)}</a></p>\n'
        f'<p style="color:#656d76;font-size:12px">{html.escape(footer)}</p>\n'
        "</body></html>\n"
    )
    return Mail(
        event_id=event_id,
        to=to,
        subject=f"[#{ticket.id}] {ticket.subject} ({event})",
        text=text,
        html=page,
        reply_to=reply_to,
    )


# ---------------------------------------------------------------- who gets what


class Directory(Protocol):
    """The reads the rules need. One per batch: see BatchDirectory."""

    def ticket(self, ticket_id: str) -> TicketView | None: ...

    def first_message(self, ticket_id: str) -> MessageView | None: ...

    def members(self, org_id: str) -> list[Member]: ...


class BatchDirectory:
    """Tickets and org members, each read at most once per batch (per invocation): a support reply
    to a busy org, or a burst of replies on one ticket, costs one read, not one per record."""

    def __init__(self) -> None:
        self._tickets: dict[str, TicketView | None] = {}
        self._members: dict[str, list[Member]] = {}

    def ticket(self, ticket_id: str) -> TicketView | None:
        if ticket_id not in self._tickets:
            found = tickets.find_ticket(ticket_id)
            self._tickets[ticket_id] = TicketView.model_validate(found) if found else None
        return self._tickets[ticket_id]

    def first_message(self, ticket_id: str) -> MessageView | None:
        found = tickets.first_message(ticket_id)
        return MessageView.model_validate(found) if found else None

    def members(self, org_id: str) -> list[Member]:
        if org_id not in self._members:
            self._members[org_id] = members.list_members(org_id)
        return self._members[org_id]


def mails_for(record: StreamRecord, directory: Directory, config: Settings | None = None) -> list[Mail]:
    """The mails a stream record causes (none for most records)."""
    config = config or settings()
    pk, sk = str(record.dynamodb.Keys.get("pk", "")), str(record.dynamodb.Keys.get("sk", ""))
    new, old = record.dynamodb.NewImage, record.dynamodb.OldImage
    if not pk.startswith("TICKET#") or new is None:
        return []
    if sk == "TICKET" and record.eventName == "INSERT":
        return new_ticket(record.eventID, TicketView.model_validate(new), directory, config)
    if sk == "TICKET" and record.eventName == "MODIFY" and old is not None:
        before, after = TicketView.model_validate(old), TicketView.model_validate(new)
        return status_changed(record.eventID, before, after, directory, config)
    if sk.startswith("MSG#") and record.eventName == "INSERT":
        message = MessageView.model_validate(new)
        return new_message(record.eventID, pk.removeprefix("TICKET#"), message, directory, config)
    return []


def new_ticket(event_id: str, ticket: TicketView, directory: Directory, config: Settings) -> list[Mail]:
    if not looks_like_email(config.support_email):
        logger.warning("No support address to tell of a new ticket", extra={"ticket_id": ticket.id})
        return []
    first = directory.first_message(ticket.id)
    who = ticket.created_by.email or ticket.created_by.id
    return [
        compose(
            config,
            event_id,
            config.support_email,
            ticket,
            "new ticket",
            f"New ticket from {who} ({ticket.org_id}):",
            first.body if first else ticket.summary,
            "You receive this as the support team's address.",
        )
    ]


def new_message(
    event_id: str, ticket_id: str, message: MessageView, directory: Directory, config: Settings
) -> list[Mail]:
    if message.internal or message.author.kind not in (AuthorKind.SUPPORT, AuthorKind.USER):
        return []  # internal notes are never mailed; ai and system notes are not news
    ticket = directory.ticket(ticket_id)
    if ticket is None:
        logger.warning("Message on a ticket that cannot be read", extra={"ticket_id": ticket_id})
        return []
    if message.author.kind is AuthorKind.SUPPORT:
        return support_replied(event_id, ticket, message, directory, config)
    return customer_replied(event_id, ticket, message, config)


def support_replied(
    event_id: str, ticket: TicketView, message: MessageView, directory: Directory, config: Settings
) -> list[Mail]:
    """Every member of the ticket's org (the ticket's, never the message's) who wants mail."""
    author = (message.author.email or "").lower()
    recipients: dict[str, str] = {}  # one mail per address, however many member records share it
    for member in directory.members(ticket.org_id):
        wants_mail = member.org_id == ticket.org_id and member.email_notifications
        if wants_mail and looks_like_email(member.email) and member.email.lower() != author:
            recipients.setdefault(member.email.lower(), member.email)
    reply_to = (config.support_email,) if looks_like_email(config.support_email) else ()
    return [
        compose(
            config,
            event_id,
            email,
            ticket,
            "new reply",
            "The support team replied to your organisation's ticket:",
            message.body,
            "You receive this because email notifications are on for your account; turn them off in your profile.",
            reply_to=reply_to,
        )
        for email in recipients.values()
    ]


def customer_replied(event_id: str, ticket: TicketView, message: MessageView, config: Settings) -> list[Mail]:
    """The assignee, or the support address while nobody is assigned (or the assignee is no address)."""
    if message.created_at == ticket.created_at:
        return []  # the message the ticket was filed with: its mail is the new-ticket one
    to = ticket.assignee if looks_like_email(ticket.assignee) else config.support_email
    if not looks_like_email(to):
        logger.warning("No address to tell of a customer reply", extra={"ticket_id": ticket.id})
        return []
    who = message.author.email or message.author.id
    return [
        compose(
            config,
            event_id,
            to,
            ticket,
            "new reply",
            f"{who} ({ticket.org_id}) replied:",
            message.body,
            "You receive this as the ticket's assignee (or the support team's address while unassigned).",
        )
    ]


def status_changed(
    event_id: str, old: TicketView, new: TicketView, directory: Directory, config: Settings
) -> list[Mail]:
    """Resolved or closed: the creator hears of it, unless they turned email notifications off."""
    event = CLOSING_STATUSES.get(new.status)
    if event is None or old.status == new.status:
        return []
    to = new.created_by.email
    if not looks_like_email(to):
        return []
    creator = next((m for m in directory.members(new.org_id) if m.id == new.created_by.id), None)
    if creator is not None and not creator.email_notifications:
        return []
    intro = (
        "Your ticket was marked resolved. Reply to it if the problem is not solved."
        if new.status is Status.RESOLVED
        else "Your ticket was closed. Open a new ticket if you need more help."
    )
    reply_to = (config.support_email,) if looks_like_email(config.support_email) else ()
    return [
        compose(
            config,
            event_id,
            to,
            new,
            event,
            intro,
            new.summary,
            "You receive this because you filed this ticket.",
            reply_to=reply_to,
        )
    ]
