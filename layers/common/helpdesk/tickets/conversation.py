"""A ticket's conversation: read it whole, reply (with files), close.

Every function takes the verified caller first and limits what it touches to the caller's org
(the support team is not limited)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from helpdesk.domain.errors import Forbidden, TryAgain
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import SYSTEM, Attachment, Conversation, Message, Status, stamp
from helpdesk.store import tickets
from helpdesk.store.tickets import Expectation, MessageRaced, Moves

if TYPE_CHECKING:  # request bodies: only the functions that take them import their schemas
    from helpdesk.api.multipart import UploadedFile
    from helpdesk.api.schemas import Closed, Reply

WRITE_ATTEMPTS = 5  # stamps tried when other messages land at the same moment


def get_conversation(caller: Caller, ticket_id: str) -> Conversation:
    return tickets.get_conversation(ticket_id, caller.scope(), include_internal=caller.is_support)


@contextmanager
def attached(ticket_id: str, message: Message, files: "Sequence[UploadedFile]") -> Iterator[list[Attachment]]:
    """The records of a message's files, for the transaction that writes the message: none for a
    JSON request; for multipart, the files checked and stored (deleted again if the block fails).
    Only multipart requests pay for the S3 client and the checks: they are imported here."""
    if not files:
        yield []
        return
    from helpdesk.tickets import attachments

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
    message = Message(id=message_id, author=caller.author(), body=reply.body, internal=reply.internal, created_at=at)
    moves: Moves | None = None if reply.internal else ("support" if caller.is_support else "customer")
    with attached(ticket_id, message, files) as records:
        for _ in range(WRITE_ATTEMPTS):
            expected = Expectation(ticket_id, caller.scope(), quiet_before=message.created_at)
            try:
                tickets.add_message(expected, message, caller.member(), moves, records)
                return message
            except MessageRaced:
                message_id, at = stamp()
                records[:] = [
                    record.model_copy(update={"message_id": message_id, "created_at": at}) for record in records
                ]
                message = message.model_copy(update={"id": message_id, "created_at": at, "attachments": list(records)})
        raise TryAgain(f"Ticket {ticket_id} is being changed by someone else right now; retry.")


def close(caller: Caller, ticket_id: str) -> "Closed":
    """Close for good (anyone in the org, or support); closing a closed ticket is a conflict.

    A message is stamped (id, created_at) before it is written, so a reply stamped after this
    close's note could still commit before it and sort after it. The close is therefore written
    only while the ticket's newest message is older than its note (one conditional write, no read);
    when a message stamped later landed first, the note is stamped again."""
    from helpdesk.api.schemas import Closed

    who = caller.email or caller.user_id
    for _ in range(WRITE_ATTEMPTS):
        note_id, at = stamp()
        note = Message(id=note_id, author=SYSTEM, body=f"Ticket closed by {who}.", created_at=at)
        try:
            tickets.close_ticket(Expectation(ticket_id, caller.scope(), quiet_before=note.created_at), note)
        except MessageRaced:
            continue  # a message stamped after the note landed first: stamp the note again
        return Closed(id=ticket_id, status=Status.CLOSED, closed_at=note.created_at)
    raise TryAgain(f"Ticket {ticket_id} is being changed by someone else right now; retry.")
