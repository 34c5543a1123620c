"""Keeping the word index (helpdesk.store.search) from the table's stream: the index_tickets function.

  ticket INSERT                             -> the words of its subject and summary
  ticket MODIFY, subject or summary changed -> those words again (a word no source has any more is
                                               taken out of the index)
  message INSERT, not internal, not system  -> the message's new words
  anything else (internal notes, the timeline's system messages, other changes, other items) -> nothing

Each record compares the words it brings with what the index holds of the ticket (INDEXED#<id>) and
writes only the difference: postings first, then counts, then the ticket's record. So a replayed
record writes the same items again (or nothing), and a message adds only words the ticket did not
have. The stream delivers a ticket's records in order, one batch of a shard at a time. Internal
notes never reach the index (the event source's filter drops them; checked again here), nor do
attachments."""

from pydantic import BaseModel, ConfigDict

from helpdesk.domain.models import AuthorKind
from helpdesk.observability import logger
from helpdesk.store import search as index
from helpdesk.store import tickets
from helpdesk.store.search import IndexedWords
from helpdesk.store.stream import StreamRecord
from helpdesk.tickets.search import MAX_WORDS_PER_TICKET, words


class TicketText(BaseModel):
    """What the index takes of a ticket item."""

    model_config = ConfigDict(extra="ignore")

    org_id: str
    subject: str
    summary: str = ""


class MessageAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: AuthorKind


class MessageText(BaseModel):
    model_config = ConfigDict(extra="ignore")

    body: str
    internal: bool = False
    author: MessageAuthor


# ---------------------------------------------------------------- records


def index_record(record: StreamRecord) -> None:
    """Bring the index up to date with one change of the table."""
    pk, sk = str(record.dynamodb.Keys.get("pk", "")), str(record.dynamodb.Keys.get("sk", ""))
    new, old = record.dynamodb.NewImage, record.dynamodb.OldImage
    if not pk.startswith("TICKET#") or new is None:
        return
    ticket_id = pk.removeprefix("TICKET#")
    if sk == "TICKET" and record.eventName in ("INSERT", "MODIFY"):
        ticket = TicketText.model_validate(new)
        if record.eventName == "MODIFY" and old is not None and TicketText.model_validate(old) == ticket:
            return  # a status, a reply's stamp, an assignee: nothing the index holds
        index_ticket(ticket_id, ticket)
    elif sk.startswith("MSG#") and record.eventName == "INSERT":
        message = MessageText.model_validate(new)
        if not message.internal and message.author.kind is not AuthorKind.SYSTEM:  # the timeline's
            index_message(ticket_id, message)


def index_ticket(ticket_id: str, ticket: TicketText) -> None:
    """The ticket's subject and summary words become these (its messages' words stay)."""
    before = index.indexed_words(ticket_id)
    after = IndexedWords(
        ticket.org_id,
        set(words(ticket.subject)),
        set(words(ticket.summary)),
        before.messages if before is not None else set(),
    )
    _update(ticket_id, before, after)


def index_message(ticket_id: str, message: MessageText) -> None:
    """The message's words join the ticket's (up to MAX_WORDS_PER_TICKET in all)."""
    before = index.indexed_words(ticket_id)
    if before is None:  # its ticket's record has not been indexed (yet): start from the ticket
        ticket = tickets.find_ticket(ticket_id)
        if ticket is None:
            logger.warning("Message of a ticket that cannot be read", extra={"ticket_id": ticket_id})
            return
        start = IndexedWords(ticket.org_id, set(words(ticket.subject)), set(words(ticket.summary)))
    else:
        start = before
    known, said = start.all(), words(message.body)
    room = max(0, MAX_WORDS_PER_TICKET - len(known))
    new_words = [word for word in said if word not in known][:room]
    repeated = [word for word in said if word in known]  # the message's too: kept if the subject loses them
    after = IndexedWords(start.org_id, start.subject, start.summary, start.messages | {*new_words, *repeated})
    _update(ticket_id, before, after)


def _update(ticket_id: str, before: IndexedWords | None, after: IndexedWords) -> None:
    """Write the difference: postings, then counts, then the ticket's record (so a failure half-way
    leaves the record as it was, and the record's replay writes it all again)."""
    had = before.all() if before is not None else set()
    added, removed = after.all() - had, had - after.all()
    if before == after:
        return
    index.post(after.org_id, ticket_id, added, removed)
    index.count(after.org_id, added, removed)
    index.save(ticket_id, after)
