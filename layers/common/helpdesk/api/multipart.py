"""multipart/form-data bodies of HTTP API (payload v2.0) events: a JSON `payload` and `attachments` files.

The body is fed to python-multipart's streaming `MultipartParser` in `CHUNK` pieces (a base64 body
is decoded piece by piece), and the limits are enforced while parsing: the fourth file or the
byte past `max_file_bytes` stops the parse at once, so nothing beyond the limits is ever
buffered. What is kept is each allowed file's bytes and the payload text.

python-multipart (with tempfile, shutil, bz2, lzma) is costly to import (`make bench`), so it is
imported on the first parse: a cold start that only serves JSON requests never pays for it.

Errors are domain exceptions (helpdesk.domain.errors), turned into problem+json by the one error
mapper (helpdesk.api.problems): malformed → 400, missing payload / unknown field / too many files
→ 422, file or payload too large → 413.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from helpdesk.domain.errors import HelpdeskError, InvalidRequest, MalformedRequest, PayloadTooLarge
from helpdesk.domain.models import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

PAYLOAD_FIELD = "payload"
FILES_FIELD = "attachments"
MAX_FILES = MAX_ATTACHMENTS_PER_MESSAGE
MAX_FILE_BYTES = MAX_ATTACHMENT_BYTES
MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_BOUNDARY_LENGTH = 70  # RFC 2046 §5.1.1
MAX_FILENAME_LENGTH = 255
CHUNK = 64 * 1024  # a multiple of 4, so base64 pieces decode on their own
DEFAULT_FILE_TYPE = "application/octet-stream"


class MultipartError(HelpdeskError):
    """Base of every problem with a multipart/form-data body."""


class MalformedMultipart(MultipartError, MalformedRequest):
    """Not parseable as multipart/form-data (no boundary, bad base64, truncated, bad part headers)."""


class MissingPayload(MultipartError, InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            f"The multipart body has no '{PAYLOAD_FIELD}' field; send the JSON request in it.",
            [{"field": PAYLOAD_FIELD, "message": "field required"}],
        )


class UnknownField(MultipartError, InvalidRequest):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Unknown multipart field '{name}'; only '{PAYLOAD_FIELD}' and '{FILES_FIELD}' are accepted.",
            [{"field": name, "message": "unknown field"}],
        )
        self.name = name


class TooManyFiles(MultipartError, InvalidRequest):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"At most {limit} attachments may be sent with one message.",
            [{"field": FILES_FIELD, "message": f"at most {limit} files"}],
        )
        self.limit = limit


class FileTooLarge(MultipartError, PayloadTooLarge):
    def __init__(self, filename: str, limit: int) -> None:
        super().__init__(
            f"Attachment '{filename}' is larger than {_size(limit)}. Files larger than a few MB do not fit "
            "in an API request: ask POST /v1/tickets/{id}/attachments for a presigned upload instead."
        )
        self.filename = filename
        self.limit = limit


class FieldTooLarge(MultipartError, PayloadTooLarge):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"The multipart field '{name}' is larger than {_size(limit)}.")
        self.name = name
        self.limit = limit


@dataclass(frozen=True, slots=True)
class UploadedFile:
    field_name: str
    filename: str
    content_type: str  # as declared by the client: never trusted, see helpdesk.tickets.content.sniff
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class MultipartForm:
    payload: str | None
    files: tuple[UploadedFile, ...]


def parse_multipart(
    body: str,
    is_base64: bool,
    content_type_header: str,
    *,
    require_payload: bool = True,
    max_files: int = MAX_FILES,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> MultipartForm:
    """The `payload` field and the `attachments` files of an HTTP API event's multipart body.

    A non-base64 body is taken as UTF-8 text (as `helpdesk.api.http.Request.body_bytes` does). A file
    part without a filename is called "attachment"; a browser's empty file input (empty filename, no
    bytes) is skipped.
    """
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser

    if not body:
        raise MalformedMultipart("The multipart body is empty.")
    collector = _Collector(max_files, max_file_bytes)
    parser = MultipartParser(_boundary(content_type_header), collector.callbacks())
    try:
        for chunk in _chunks(body, is_base64):
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise MalformedMultipart(f"The multipart body is malformed: {exc}") from exc
    if not collector.ended:
        raise MalformedMultipart("The multipart body is truncated: its closing boundary is missing.")
    if require_payload and collector.payload is None:
        raise MissingPayload()
    return MultipartForm(collector.payload, tuple(collector.files))


def _boundary(content_type_header: str) -> bytes:
    media_type, options = _options(content_type_header or "")
    if media_type != b"multipart/form-data":
        raise MalformedMultipart("The Content-Type is not multipart/form-data.")
    boundary = options.get(b"boundary", b"")
    if not 0 < len(boundary) <= MAX_BOUNDARY_LENGTH:
        raise MalformedMultipart(
            f"The multipart Content-Type needs a boundary of 1 to {MAX_BOUNDARY_LENGTH} characters."
        )
    return boundary


def _chunks(body: str, is_base64: bool) -> Iterator[bytes]:
    """The body's bytes, CHUNK by CHUNK, without decoding or encoding it whole."""
    for start in range(0, len(body), CHUNK):
        piece = body[start : start + CHUNK]
        try:
            yield binascii.a2b_base64(piece, strict_mode=True) if is_base64 else piece.encode()
        except (binascii.Error, ValueError) as exc:  # UnicodeError is a ValueError
            raise MalformedMultipart("The multipart body is not valid base64 / UTF-8.") from exc


@dataclass
class _Part:
    """The part being parsed: its headers while they come, then where its bytes go."""

    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    content_type: str = DEFAULT_FILE_TYPE
    data: bytearray = field(default_factory=bytearray)
    limit: int = 0

    def header(self, name: str) -> str:
        """A header's raw value, latin-1 decoded (lossless: UTF-8 in parameters is decoded later)."""
        return self.headers.get(name, b"").decode("latin-1")


class _Collector:
    """python-multipart callbacks that keep the payload and the files, enforcing the limits."""

    def __init__(self, max_files: int, max_file_bytes: int) -> None:
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.payload: str | None = None
        self.files: list[UploadedFile] = []
        self.ended = False
        self.part = _Part()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        part = self.part
        part.headers[part.header_name.decode("latin-1").strip().lower()] = bytes(part.header_value).strip()
        part.header_name, part.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        part = self.part
        disposition, options = _options(part.header("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise MalformedMultipart("Every part needs 'Content-Disposition: form-data; name=\"…\"'.")
        if part.headers.get("content-transfer-encoding", b"binary").lower() not in (
            b"binary",
            b"8bit",
            b"7bit",
        ):
            raise MalformedMultipart("Parts may not use a Content-Transfer-Encoding (RFC 7578 §4.7).")
        part.name = _text(options[b"name"])
        part.filename = _filename(options[b"filename"]) if b"filename" in options else None
        if part.name == PAYLOAD_FIELD:
            self._begin_payload()
        elif part.name == FILES_FIELD:
            self._begin_file()
        else:
            raise UnknownField(part.name)

    def _begin_payload(self) -> None:
        if self.payload is not None:
            raise MalformedMultipart(f"The '{PAYLOAD_FIELD}' field is sent more than once.")
        self.part.limit = MAX_PAYLOAD_BYTES

    def _begin_file(self) -> None:
        part = self.part
        if len(self.files) >= self.max_files and (part.filename or part.filename is None):
            raise TooManyFiles(self.max_files)
        content_type, _ = _options(part.header("content-type"))
        part.content_type = content_type.decode("latin-1") or DEFAULT_FILE_TYPE
        part.limit = self.max_file_bytes

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if len(part.data) + (end - start) > part.limit:
            if part.name == PAYLOAD_FIELD:
                raise FieldTooLarge(PAYLOAD_FIELD, part.limit)
            raise FileTooLarge(part.filename or "attachment", part.limit)
        part.data += memoryview(data)[start:end]

    def on_part_end(self) -> None:
        part = self.part
        if part.name == PAYLOAD_FIELD:
            self.payload = _text(part.data, what=f"The '{PAYLOAD_FIELD}' field")
        elif part.filename or part.data or part.filename is None:  # an empty file input: filename="", no bytes
            if len(self.files) >= self.max_files:
                raise TooManyFiles(self.max_files)
            name = part.filename or "attachment"
            self.files.append(UploadedFile(part.name, name, part.content_type, bytes(part.data)))
        self.part = _Part()

    def on_end(self) -> None:
        self.ended = True


def _options(header: str) -> tuple[bytes, dict[bytes, bytes]]:
    """A header's value and its parameters, by python-multipart's parser (quotes, escapes, IE paths)."""
    from python_multipart.multipart import parse_options_header

    return parse_options_header(header)


def _text(raw: bytes | bytearray, what: str = "A part header") -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMultipart(f"{what} is not valid UTF-8.") from exc


def _filename(raw: bytes) -> str:
    return clean_filename(_text(raw))


def clean_filename(name: str) -> str:
    """The client's filename reduced to a safe base name: no directories, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return "" if name in (".", "..") else name[:MAX_FILENAME_LENGTH]


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
