"""multipart/form-data bodies of HTTP API events: payload + attachments, limits enforced while parsing."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from helpdesk.api.multipart import (
    CHUNK,
    MAX_FILE_BYTES,
    MAX_PAYLOAD_BYTES,
    FieldTooLarge,
    FileTooLarge,
    MalformedMultipart,
    MissingPayload,
    MultipartError,
    MultipartForm,
    TooManyFiles,
    UnknownField,
    UploadedFile,
    parse_multipart,
)
from helpdesk.api.problems import status_of
from helpdesk.domain.errors import HelpdeskError

BOUNDARY = "----helpdeskBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
PAYLOAD = json.dumps({"category": "technical", "body": "Pods restart — logs attached", "severity": "high"})
# Bytes that trip naive parsers: every byte value, CRLFs, and lines that almost look like the boundary.
NASTY = bytes(range(256)) + b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n\r\n--\r\n" + bytes(range(255, -1, -1))

Part = tuple[str, str | None, str | None, bytes]  # name, filename, content type, data


def form(parts: list[Part], boundary: str = BOUNDARY, close: bool = True) -> bytes:
    """A multipart/form-data body written by hand, as browsers and curl send it."""
    out = bytearray()
    for name, filename, content_type, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += disposition.encode() + b"\r\n"
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def payload_part(payload: str = PAYLOAD) -> Part:
    return ("payload", None, None, payload.encode())


def file_part(filename: str, data: bytes, content_type: str | None = "application/octet-stream") -> Part:
    return ("attachments", filename, content_type, data)


MINIMAL = form([payload_part()])


def parse(
    raw: bytes,
    *,
    is_base64: bool = True,
    content_type: str = CONTENT_TYPE,
    **options: Any,
) -> MultipartForm:
    """As a handler does with an event: base64 as API Gateway sends binary bodies, else the text."""
    body = base64.b64encode(raw).decode() if is_base64 else raw.decode()
    return parse_multipart(body, is_base64, content_type, **options)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


def test_payload_and_files_round_trip_byte_for_byte() -> None:
    # Given a payload and three files, one larger than a parser chunk and full of CRLFs and near-boundaries
    big = random.Random(3).randbytes(3 * CHUNK + 17).replace(b"\n", b"\r\n") + NASTY
    raw = form(
        [
            payload_part(),
            file_part("kubelet.log", b"line 1\r\nline 2\n\r\n", "text/plain"),
            file_part("core.bin", big),
            file_part("trailing-crlf.txt", b"ends with a blank line\r\n\r\n", None),
        ]
    )

    # When API Gateway hands it over base64-encoded
    result = parse(raw)

    # Then the payload and every byte of every file come back, in order
    assert result == MultipartForm(
        PAYLOAD,
        (
            UploadedFile("attachments", "kubelet.log", "text/plain", b"line 1\r\nline 2\n\r\n"),
            UploadedFile("attachments", "core.bin", "application/octet-stream", big),
            UploadedFile(
                "attachments",
                "trailing-crlf.txt",
                "application/octet-stream",
                b"ends with a blank line\r\n\r\n",
            ),
        ),
    )
    assert [f.size for f in result.files] == [17, len(big), 26]


def test_a_text_body_that_is_not_base64_round_trips() -> None:
    # Given a body that API Gateway passed as text (UTF-8, not base64)
    log = "2024-05-01 ERROR été → ✗\r\n".encode() * (CHUNK // 10)
    raw = form([payload_part(), file_part("app.log", log, "text/plain; charset=utf-8")])

    result = parse(raw, is_base64=False)

    assert result.payload == PAYLOAD
    assert result.files == (UploadedFile("attachments", "app.log", "text/plain", log),)


def test_a_body_encoded_by_urllib3_parses() -> None:
    # Given a body from another encoder (random boundary, its own header layout)
    body, content_type = encode_multipart_formdata(
        [
            ("payload", PAYLOAD),
            ("attachments", ("dump.bin", NASTY, "application/octet-stream")),
            ("attachments", ("Grüße.txt", "héllo\r\n".encode(), "text/plain")),
        ]
    )

    result = parse(body, content_type=content_type)

    assert result.payload == PAYLOAD
    assert [(f.filename, f.content_type, f.data) for f in result.files] == [
        ("dump.bin", "application/octet-stream", NASTY),
        ("Grüße.txt", "text/plain", "héllo\r\n".encode()),
    ]


def test_files_only_when_no_payload_is_required() -> None:
    raw = form([file_part("a.txt", b"a"), file_part("b.txt", b"b")])

    result = parse(raw, require_payload=False)

    assert result.payload is None
    assert [f.filename for f in result.files] == ["a.txt", "b.txt"]


def test_payload_only() -> None:
    assert parse(form([payload_part()])) == MultipartForm(PAYLOAD, ())


def test_an_empty_file_input_is_ignored() -> None:
    # Given a browser form whose file input was left empty: filename="" and no bytes
    raw = form([payload_part(), file_part("", b""), file_part("", b"", None)])

    assert parse(raw).files == ()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\me\\Desktop\\app.log", "app.log"),
        ("../../etc/passwd", "passwd"),
        ("résumé 2024.pdf", "résumé 2024.pdf"),
        ("tab\there.txt", "tabhere.txt"),
        (".env", ".env"),
    ],
)
def test_filenames_are_reduced_to_a_base_name(sent: str, kept: str) -> None:
    raw = form([payload_part(), file_part(sent, b"x")])

    assert parse(raw).files[0].filename == kept


def test_a_quoted_boundary_and_upper_case_media_type_are_understood() -> None:
    raw = form([payload_part()], boundary="a b:c")

    assert parse(raw, content_type='Multipart/Form-Data; charset=utf-8; boundary="a b:c"').payload == PAYLOAD


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


def test_a_fourth_file_is_too_many() -> None:
    raw = form([payload_part(), *(file_part(f"{i}.txt", b"x") for i in range(4))])

    with pytest.raises(TooManyFiles) as caught:
        parse(raw)

    assert status_of(caught.value)[0] == 422
    assert caught.value.errors == [{"field": "attachments", "message": "at most 3 files"}]


def test_the_fourth_file_stops_the_parse_before_its_bytes() -> None:
    # Given a fourth file whose part is cut off right after its headers
    raw = form([payload_part(), *(file_part(f"{i}.txt", b"x") for i in range(3))], close=False)
    raw += f"--{BOUNDARY}\r\n".encode()
    raw += b'Content-Disposition: form-data; name="attachments"; filename="4.bin"\r\n\r\n'

    # Then the limit is reported, not the truncation: the parser never needed the rest
    with pytest.raises(TooManyFiles):
        parse(raw)


def test_a_file_of_exactly_the_limit_is_accepted() -> None:
    data = b"\xab" * MAX_FILE_BYTES

    result = parse(form([payload_part(), file_part("max.bin", data)]))

    assert result.files[0].size == MAX_FILE_BYTES


def test_a_file_one_byte_over_the_limit_is_too_large() -> None:
    raw = form([payload_part(), file_part("big.bin", b"\xab" * (MAX_FILE_BYTES + 1))])

    with pytest.raises(FileTooLarge) as caught:
        parse(raw)

    assert status_of(caught.value)[0] == 413
    assert "'big.bin' is larger than 10 MB" in caught.value.detail
    assert "presigned" in caught.value.detail  # says how large files do get in


def test_the_file_limit_stops_the_parse_without_reading_on() -> None:
    # Given a body cut off well past the limit, inside the file
    whole = form([payload_part(), file_part("big.bin", b"\x00" * (MAX_FILE_BYTES + CHUNK))], close=False)
    raw = whole[:-CHUNK]

    with pytest.raises(FileTooLarge):
        parse(raw, is_base64=False)


def test_limits_can_be_tightened_by_the_caller() -> None:
    raw = form([payload_part(), file_part("a.txt", b"12345")])

    with pytest.raises(FileTooLarge):
        parse(raw, max_file_bytes=4)
    with pytest.raises(TooManyFiles):
        parse(raw, max_files=0)


def test_an_oversized_payload_field_is_too_large() -> None:
    raw = form([payload_part(json.dumps({"body": "x" * MAX_PAYLOAD_BYTES}))])

    with pytest.raises(FieldTooLarge) as caught:
        parse(raw)

    assert status_of(caught.value)[0] == 413


# ---------------------------------------------------------------------------------------------
# Malformed requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        f"multipart/form-data; boundary={'x' * 71}",
        f"application/json; boundary={BOUNDARY}",
        "",
    ],
)
def test_a_content_type_without_a_usable_boundary_is_malformed(content_type: str) -> None:
    with pytest.raises(MalformedMultipart) as caught:
        parse(form([payload_part()]), content_type=content_type)

    assert status_of(caught.value)[0] == 400


def test_a_missing_payload_is_a_field_error() -> None:
    with pytest.raises(MissingPayload) as caught:
        parse(form([file_part("a.txt", b"a")]))

    assert status_of(caught.value)[0] == 422
    assert caught.value.errors == [{"field": "payload", "message": "field required"}]


@pytest.mark.parametrize("name", ["attachment", "files[]", "payload2", "attachments[]"])
def test_an_unknown_field_is_refused_by_name(name: str) -> None:
    raw = form([payload_part(), (name, "a.txt", "text/plain", b"a")])

    with pytest.raises(UnknownField) as caught:
        parse(raw)

    assert status_of(caught.value)[0] == 422
    assert caught.value.name == name
    assert caught.value.errors == [{"field": name, "message": "unknown field"}]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(form([payload_part()], close=False), id="no closing boundary"),
        pytest.param(form([payload_part()])[:-40], id="cut in the middle"),
        pytest.param(form([payload_part(), payload_part()]), id="payload twice"),
        pytest.param(MINIMAL.replace(b"form-data; ", b"attachment; "), id="not form-data"),
        pytest.param(MINIMAL.replace(b"Content-Disposition", b"Content-Type"), id="no disposition"),
        pytest.param(form([payload_part()], boundary="other"), id="other boundary"),
        pytest.param(b"preamble" + form([payload_part()]), id="garbage before the boundary"),
        pytest.param(form([("payload", None, None, b"\xff\xfe{}")]), id="payload not utf-8"),
        pytest.param(
            MINIMAL.replace(b"\r\n\r\n", b"\r\nContent-Transfer-Encoding: base64\r\n\r\n", 1),
            id="transfer encoding",
        ),
    ],
)
def test_malformed_bodies_are_a_clear_400(raw: bytes) -> None:
    with pytest.raises(MalformedMultipart) as caught:
        parse(raw)

    assert status_of(caught.value)[0] == 400
    assert caught.value.detail


@pytest.mark.parametrize("body", ["not base64!!", "QUJD=", "QUJDRA", "", "ÿ"])
def test_a_body_that_is_not_base64_is_malformed(body: str) -> None:
    with pytest.raises(MalformedMultipart):
        parse_multipart(body, True, CONTENT_TYPE)


def test_every_error_is_a_helpdesk_error_for_the_one_error_mapper() -> None:
    for error in (
        MalformedMultipart,
        MissingPayload,
        UnknownField,
        TooManyFiles,
        FileTooLarge,
        FieldTooLarge,
    ):
        assert issubclass(error, MultipartError)
        assert issubclass(error, HelpdeskError)


def test_a_file_part_without_a_filename_is_called_attachment() -> None:
    raw = form([payload_part(), file_part("a", b"kubelet: started")]).replace(b'; filename="a"', b"")
    [file] = parse(raw).files
    assert (file.filename, file.data) == ("attachment", b"kubelet: started")
