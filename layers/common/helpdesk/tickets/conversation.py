"""A ticket's conversation: read it whole, reply (with files), close.

Every function takes the verified caller first and limits what it touches to the caller's org
(the support team is not limited). Writes read the ticket, let the lifecycle decide, and write the
outcome only if nobody changed the ticket meanwhile (helpdesk.store.tickets.change)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from helpdesk.domain import lifecycle
from helpdesk.domain.errors import Forbidden
from helpdesk.domain.identity import Caller
from helpdesk.domain.lifecycle import Outcome
from helpdesk.domain.models import Attachment, Conversation, Message, Stamps, Status, Ticket, stamp
from helpdesk.store import tickets
from helpdesk.store.tickets import Extra

if TYPE_CHECKING:  # request bodies: only the functions that take them import their schemas
    from helpdesk.api.multipart import UploadedFile
    from helpdesk.api.schemas import Closed, Reply


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
    customers, nor are its files. Messages land in order: each is stamped after the newest one."""
    if reply.internal and not caller.is_support:
        raise Forbidden("Only the support team may write internal notes.")
    message_id, at = stamp()
    drafted = Message(id=message_id, author=caller.author(), body=reply.body, internal=reply.internal, created_at=at)
    written: list[Message] = []
    with attached(ticket_id, drafted, files) as records:

        def act(ticket: Ticket, stamps: Stamps) -> tuple[Outcome, Extra]:
            stamped_id, stamped_at = stamps.next()
            files = [r.model_copy(update={"message_id": stamped_id, "created_at": stamped_at}) for r in records]
            message = drafted.model_copy(update={"id": stamped_id, "created_at": stamped_at, "attachments": files})
            written[:] = [message]
            outcome = lifecycle.reply(ticket, message, caller.author(), datetime.now(UTC), stamps)
            saved = [(record, "request", message.internal, None) for record in files]
            return outcome, Extra(attachments=saved, count=len(files), member=caller.member())  # type: ignore[arg-type]

        tickets.change(ticket_id, caller.scope(), act)
    return written[0]


def close(caller: Caller, ticket_id: str) -> "Closed":
    """Close for good (anyone in the org, or support); closing a closed ticket is a conflict."""
    from helpdesk.api.schemas import Closed

    outcome = tickets.change(
        ticket_id,
        caller.scope(),
        lambda ticket, stamps: (lifecycle.close(ticket, caller.author(), datetime.now(UTC), stamps), None),
    )
    return Closed(id=ticket_id, status=Status.CLOSED, closed_at=outcome.ticket.closed_at or "")
