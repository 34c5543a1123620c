"""Attachments (SPEC §4): judged by their bytes, stored under keys the server chooses, recorded as
ATT# items of their ticket, served only once checked and only through short-lived presigned GETs.

Two ways in:
- inline, in a multipart request (create, reply, or POST .../attachments): every file is sniffed in
  the request (415 at once; 413 / 422 come from the parser), put to S3, then recorded `available`
  in the same transaction as its message or ticket; when that transaction is refused (closed ticket,
  another org's, no room left), the bytes are deleted again, so a failed request leaves nothing;
- presigned (POST .../attachments with JSON {filename, content_type, size}): the record is written
  `pending_upload` and counted against the ticket's limit, the client POSTs the file straight to
  S3 under a policy that pins the key, the Content-Type and 1..size bytes, and the bucket's
  object-created event runs `check_upload`: it sniffs the stored bytes and marks the record
  `available` or `rejected` (deleting the bytes). A grant never used is marked `expired` and gives
  its room back when a later write finds the ticket full (store.attachments.reclaim_unused_uploads).

This module brings the S3 client (helpdesk.adapters.storage): create/reply import it only for a multipart
request, so a JSON request never pays for it. What only one path needs (sniffing, the multipart and
schema types) is imported on that path: a download's cold start pays for none of it."""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

from helpdesk.adapters import storage
from helpdesk.domain.errors import (
    AttachmentNotAvailable,
    AttachmentNotFound,
    InvalidRequest,
    PayloadTooLarge,
    TicketNotFound,
    UnsupportedMediaType,
)
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import MAX_ATTACHMENT_BYTES as MAX_FILE_BYTES
from helpdesk.domain.models import UPLOAD_EXPIRES_IN, Attachment, AttachmentStatus, Message, new_id, now
from helpdesk.observability import logger
from helpdesk.store import attachments as records
from helpdesk.store import tickets
from helpdesk.store.tickets import Expectation

if TYPE_CHECKING:
    from helpdesk.api.multipart import UploadedFile
    from helpdesk.api.schemas import UploadGrant, UploadRequest
    from helpdesk.tickets.content import Verdict

DOWNLOAD_EXPIRES_IN = 60  # seconds a presigned GET works: the client follows the 302 at once
_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # ULIDs (helpdesk.domain.models.new_id): anything else names nothing


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


# ---------------------------------------------------------------- inline (multipart) uploads


def check_files(files: "Sequence[UploadedFile]") -> "list[tuple[UploadedFile, Verdict]]":
    """Each file with its verdict; the first one that may not be attached is a 415 naming it."""
    from helpdesk.tickets import content

    checked = []
    for file in files:
        if file.size > MAX_FILE_BYTES:  # the parser stops earlier; kept for callers that did not parse
            raise PayloadTooLarge(f"Attachment '{file.filename}' is larger than {_megabytes(MAX_FILE_BYTES)}.")
        verdict = content.sniff(file.data, file.filename)
        if not verdict.allowed:
            raise UnsupportedMediaType(f"Attachment '{file.filename}': {verdict.reason}")
        checked.append((file, verdict))
    return checked


@contextmanager
def stored(
    ticket_id: str, files: "Sequence[UploadedFile]", message: Message | None = None
) -> Iterator[list[Attachment]]:
    """Check `files`, put their bytes to S3, and yield their records (`available`, on `message` when
    given) for the caller to write in its transaction. If anything fails before the block ends, the
    bytes are deleted again."""
    _known_ticket(ticket_id)
    checked = check_files(files)
    at = message.created_at if message is not None else now()
    records = [
        Attachment(
            id=new_id(),
            message_id=message.id if message is not None else None,
            filename=file.filename,
            content_type=verdict.content_type,
            size=file.size,
            status=AttachmentStatus.AVAILABLE,
            created_at=at,
        )
        for file, verdict in checked
    ]
    keys: list[str] = []
    try:
        for record, (file, _) in zip(records, checked, strict=True):
            key = storage.object_key(ticket_id, record.id)
            keys.append(key)
            storage.put(key, file.data, record.content_type)
        if message is not None:
            message.attachments = records
        yield records
    except BaseException:
        _forget(keys)
        raise


def _forget(keys: list[str]) -> None:
    """Delete the bytes of a write that failed, without hiding why it failed."""
    try:
        storage.delete(keys)
    except Exception:
        logger.exception("could not delete the attachments of a failed write", extra={"keys": keys})


def upload(caller: Caller, ticket_id: str, files: "Sequence[UploadedFile]") -> list[Attachment]:
    """Attach small files to the ticket itself (multipart POST .../attachments)."""
    from helpdesk.api.multipart import FILES_FIELD

    if not files:
        raise InvalidRequest(
            f"Send at least one file in '{FILES_FIELD}' (or JSON {{filename, content_type, size}} for a presigned upload).",
            [{"field": FILES_FIELD, "message": "at least one file"}],
        )
    with stored(ticket_id, files) as records:
        tickets.add_attachments(
            Expectation(ticket_id, caller.scope()), records, records[0].created_at, origin="request"
        )
    return records


# ---------------------------------------------------------------- presigned uploads


def request_upload(caller: Caller, ticket_id: str, request: "UploadRequest") -> "UploadGrant":
    """Record a `pending_upload` attachment (counted against the ticket's limit) and grant a presigned
    POST for its bytes; the upload check decides whether it becomes downloadable."""
    from helpdesk.api.schemas import UploadGrant

    _known_ticket(ticket_id)
    if request.size > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"Attachments may be at most {_megabytes(MAX_FILE_BYTES)}; this one is {request.size} bytes."
        )
    at = now()
    record = Attachment(
        id=new_id(),
        filename=request.filename,
        content_type=request.content_type,
        size=request.size,
        status=AttachmentStatus.PENDING_UPLOAD,
        created_at=at,
    )
    expected = Expectation(ticket_id, caller.scope())
    tickets.add_attachments(expected, [record], at, origin="presigned", declared_size=request.size)
    key = storage.object_key(ticket_id, record.id)
    url, fields, expires_at = storage.presigned_post(key, request.content_type, request.size, UPLOAD_EXPIRES_IN)
    return UploadGrant(attachment_id=record.id, upload_url=url, fields=fields, expires_at=expires_at)


# ---------------------------------------------------------------- the upload check (bucket events)


def check_upload(bucket: str, key: str) -> AttachmentStatus | None:
    """Judge a presigned upload by its stored bytes and record the verdict (rejected bytes are
    deleted). Idempotent: a repeated or late event judges the object as it is now, and a rejection
    is final. Returns the status recorded, or None for an object it has nothing to say about
    (another bucket, a key it did not choose, an inline upload, an object already gone)."""
    ids = storage.parse_key(key) if bucket == storage.BUCKET else None
    record = records.find_attachment(*ids) if ids and all(_ID.fullmatch(part) for part in ids) else None
    if record is None or record.origin != "presigned":
        logger.info("not a presigned upload awaiting a check: ignored", extra={"bucket": bucket, "key": key})
        return None
    ticket_id, attachment = record.ticket_id, record.attachment
    if attachment.status in (AttachmentStatus.REJECTED, AttachmentStatus.EXPIRED):
        storage.delete([key])  # uploaded again after its rejection, or after its grant expired: never kept
        return attachment.status
    size = storage.size(key)
    if size is None:
        return None
    verdict = _judge(key, size, attachment.filename, record.declared_size or MAX_FILE_BYTES)
    logger.info("upload checked", extra={"key": key, "size": size, "verdict": verdict.content_type})
    if verdict.allowed and records.settle_attachment(
        ticket_id, attachment.id, AttachmentStatus.AVAILABLE, verdict.content_type, size
    ):
        return AttachmentStatus.AVAILABLE
    if not verdict.allowed:
        records.settle_attachment(
            ticket_id, attachment.id, AttachmentStatus.REJECTED, verdict.content_type, size, verdict.reason
        )
    storage.delete([key])
    return AttachmentStatus.REJECTED


def _judge(key: str, size: int, filename: str, declared: int) -> "Verdict":
    """The verdict on the stored object, reading only what it takes: all of it up to the size a JSON
    label needs (the verdict an inline upload gets), else its head and its tail."""
    from helpdesk.tickets import content

    if size > MAX_FILE_BYTES:
        return content.Verdict(
            False, "application/octet-stream", f"The upload is larger than {_megabytes(MAX_FILE_BYTES)}."
        )
    if size > declared:
        return content.Verdict(
            False, "application/octet-stream", f"The upload is larger than the {declared} bytes declared for it."
        )
    if size <= content.JSON_PARSE_LIMIT:
        return content.sniff(storage.read(key, 0, size - 1) if size else b"", filename)
    head = storage.read(key, 0, content.TEXT_WINDOW)  # one byte past the text window: the text goes on
    tail = storage.read(key, max(0, size - content.TAIL_WINDOW), size - 1)
    return content.sniff_ranges(head, tail, filename)


# ---------------------------------------------------------------- downloads


def download_url(caller: Caller, ticket_id: str, attachment_id: str) -> str:
    """A short-lived presigned GET of a checked attachment of the caller's org, as a download."""
    _known_ticket(ticket_id)
    if not _ID.fullmatch(attachment_id):
        raise AttachmentNotFound(ticket_id, attachment_id)
    attachment = records.get_attachment(ticket_id, attachment_id, caller.scope(), include_internal=caller.is_support)
    if attachment.status is AttachmentStatus.PENDING_UPLOAD:
        raise AttachmentNotAvailable(
            f"Attachment {attachment_id} is not downloadable yet: it is being uploaded or checked (409 until then). "
            "Retry in a few seconds."
        )
    if attachment.status is AttachmentStatus.REJECTED:
        raise AttachmentNotAvailable(
            f"Attachment {attachment_id} was rejected by the content check and can never be downloaded (409): "
            f"{attachment.rejection_reason or 'its content is not an allowed type.'}"
        )
    if attachment.status is AttachmentStatus.EXPIRED:
        raise AttachmentNotAvailable(
            f"Attachment {attachment_id} was never uploaded: its presigned upload expired (409). Ask for a new upload."
        )
    media_type = "text/plain; charset=utf-8" if attachment.content_type == "text/plain" else attachment.content_type
    key = storage.object_key(ticket_id, attachment_id)
    return storage.presigned_get(key, media_type, content_disposition(attachment.filename), DOWNLOAD_EXPIRES_IN)


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice: an ASCII fallback (quotes, backslashes, percent signs and
    anything outside printable ASCII replaced) and the exact name, percent-encoded (RFC 6266, 8187)."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\%' else "_" for char in filename).strip()
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _known_ticket(ticket_id: str) -> None:
    if not _ID.fullmatch(ticket_id):
        raise TicketNotFound(ticket_id)
