"""What an attachment really is, decided from its bytes (SPEC §4): the allow-list behind 415s.

How much is read, so the cost does not grow with the file:
- magic numbers: the first `MAGIC_WINDOW` bytes (8 KiB; the farthest, tar's `ustar`, is at 257);
- text: the first `TEXT_WINDOW` bytes (64 KiB) must decode as UTF-8 (or UTF-16 with a BOM), hold
  no NUL and few control characters; HTML/SVG tags are looked for in its first `MARKUP_WINDOW`
  characters (512), and its root element is found past any prolog, comments and doctype;
- a JSON label needs the whole document to parse, up to `JSON_PARSE_LIMIT` (2 MiB; larger JSON is
  labelled text/plain); a YAML label looks at the first `YAML_LINES` lines;
- the last 64 KiB are searched for a ZIP end-of-central-directory record, because a ZIP appended
  to a PNG or a log still opens as a JAR or a DOCX.
A caller holding only a prefix (an S3 range read of more than 64 KiB) gets the same verdict minus
the last two refinements; `sniff_ranges` adds the ZIP check back from a range read of the end.

The filename never makes anything allowed: it only chooses between two allowed text labels
(`application/yaml` instead of `text/plain`). The `filetype` package knows no Mach-O, shebang or
markup, hence our own table of magic numbers; importing this module costs little once json, re
and dataclasses are loaded (as they are in every handler).
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass

MAGIC_WINDOW = 8 * 1024
TEXT_WINDOW = 64 * 1024
MARKUP_WINDOW = 512
JSON_PARSE_LIMIT = 2 * 1024 * 1024  # parsing costs ~20x the size in memory: larger JSON stays text/plain
YAML_LINES = 500
TAIL_WINDOW = 256 * 1024  # what `sniff_ranges` reads of a file's end

ALLOWED_TYPES = "plain text, logs, JSON, YAML, PNG, JPEG, GIF, WebP and PDF"
ALLOWED_CONTENT_TYPES = frozenset(
    {
        "text/plain",
        "application/json",
        "application/yaml",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The sniffed type of a file and whether it may be attached; `reason` is fit for a 415 detail."""

    allowed: bool
    content_type: str
    reason: str


def _allow(content_type: str, label: str) -> Verdict:
    return Verdict(True, content_type, label)


def _reject(content_type: str, label: str) -> Verdict:
    reason = f"{label} cannot be attached (judged by content, not by name). Allowed: {ALLOWED_TYPES}."
    return Verdict(False, content_type, reason)


_MACHO = "application/x-mach-binary"
# (content type, label, allowed, every (offset, bytes) that must match). First match wins.
_MAGIC: tuple[tuple[str, str, bool, tuple[tuple[int, bytes], ...]], ...] = (
    ("image/png", "PNG image", True, ((0, b"\x89PNG\r\n\x1a\n"), (12, b"IHDR"))),
    ("image/jpeg", "JPEG image", True, ((0, b"\xff\xd8\xff"),)),
    ("image/gif", "GIF image", True, ((0, b"GIF87a"),)),
    ("image/gif", "GIF image", True, ((0, b"GIF89a"),)),
    ("image/webp", "WebP image", True, ((0, b"RIFF"), (8, b"WEBPVP8"))),
    ("application/pdf", "PDF document", True, ((0, b"%PDF-"),)),
    ("application/x-executable", "An ELF executable", False, ((0, b"\x7fELF"),)),
    ("application/vnd.microsoft.portable-executable", "A Windows executable (MZ/PE)", False, ((0, b"MZ"),)),
    (_MACHO, "A Mach-O binary", False, ((0, b"\xfe\xed\xfa\xce"),)),
    (_MACHO, "A Mach-O binary", False, ((0, b"\xfe\xed\xfa\xcf"),)),
    (_MACHO, "A Mach-O binary", False, ((0, b"\xce\xfa\xed\xfe"),)),
    (_MACHO, "A Mach-O binary", False, ((0, b"\xcf\xfa\xed\xfe"),)),
    (_MACHO, "A Mach-O universal binary / Java class", False, ((0, b"\xca\xfe\xba\xbe"),)),
    (_MACHO, "A Mach-O universal binary", False, ((0, b"\xca\xfe\xba\xbf"),)),
    (_MACHO, "A Mach-O universal binary", False, ((0, b"\xbe\xba\xfe\xca"),)),
    (_MACHO, "A Mach-O universal binary", False, ((0, b"\xbf\xba\xfe\xca"),)),
    ("text/x-shellscript", "A script with a shebang (#!)", False, ((0, b"#!"),)),
    ("application/zip", "A ZIP archive (also JAR, DOCX, XLSX, APK)", False, ((0, b"PK\x03\x04"),)),
    ("application/zip", "A ZIP archive", False, ((0, b"PK\x05\x06"),)),
    ("application/zip", "A ZIP archive", False, ((0, b"PK\x07\x08"),)),
    ("application/gzip", "A gzip archive", False, ((0, b"\x1f\x8b"),)),
    ("application/x-bzip2", "A bzip2 archive", False, ((0, b"BZh"),)),
    ("application/x-xz", "An xz archive", False, ((0, b"\xfd7zXZ\x00"),)),
    ("application/x-7z-compressed", "A 7-Zip archive", False, ((0, b"7z\xbc\xaf\x27\x1c"),)),
    ("application/vnd.rar", "A RAR archive", False, ((0, b"Rar!\x1a\x07"),)),
    ("application/x-tar", "A tar archive", False, ((257, b"ustar"),)),
    ("application/zstd", "A Zstandard archive", False, ((0, b"\x28\xb5\x2f\xfd"),)),
    ("application/x-lz4", "An LZ4 archive", False, ((0, b"\x04\x22\x4d\x18"),)),
    ("application/vnd.ms-cab-compressed", "A cabinet archive", False, ((0, b"MSCF"),)),
    ("application/x-archive", "An ar archive (also .deb)", False, ((0, b"!<arch>\n"),)),
    ("application/x-ole-storage", "An OLE file (old Office format, MSI)", False, ((0, b"\xd0\xcf\x11\xe0"),)),
    ("application/wasm", "A WebAssembly module", False, ((0, b"\x00asm"),)),
    ("application/rtf", "An RTF document", False, ((0, b"{\\rtf"),)),
    ("application/postscript", "A PostScript program", False, ((0, b"%!PS"),)),
)

_BINARY = ("application/octet-stream", "A binary file of unknown type")
_SVG = ("image/svg+xml", "An SVG image")
_HTML = ("text/html", "An HTML document")

# WHATWG's "identify an unknown MIME type" HTML patterns, plus a few more elements that run code.
_HTML_ROOTS = frozenset(
    {"html", "head", "body", "script", "iframe", "frameset", "style", "title", "meta", "link", "base"}
    | {"object", "embed", "h1", "div", "font", "table", "a", "b", "br", "p"}
)
_SVG_NS, _XHTML_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"
_SPACE = re.compile(r"[\s\ufeff]*")
_TAG = re.compile(r"<(?:[\w.-]+:)?([A-Za-z][\w.-]*)")
_DOCTYPE = re.compile(r"<!doctype\s+([\w:.-]+)", re.IGNORECASE)
_MARKUP_TAG = re.compile(r"<(?:[\w.-]+:)?(svg|html|head|body|script|iframe)[\s/>]|<!doctype\s+(html|svg)\b")
# Controls never seen in text (NUL aside): all C0 but BS, TAB, LF, VT, FF, CR, ESC (ANSI colours); DEL.
_CONTROLS = tuple(chr(c) for c in (*range(1, 8), *range(14, 27), *range(28, 32), 127))
_CONTROL_RATIO = 100  # more than one control in this many characters: binary
# `key: value` (plain or quoted key), `- key: value` or `- item`. Possessive quantifiers keep it linear.
_YAML_ITEM = re.compile(
    r"""(?:-[ \t]++)*+(?:[^\s#'"\[{:,&*!|>%@`-][^:#]*+|"[^"]*+"|'[^']*+')[ \t]*+:(?:[ \t]|$)|-(?:[ \t]|$)"""
)
_YAML_SUFFIXES = (".yaml", ".yml")


def sniff(data: bytes, filename: str | None = None) -> Verdict:
    """The real type of `data`, and whether it is an allowed attachment (see the module docstring)."""
    verdict = _by_magic(data[:MAGIC_WINDOW]) or _by_text(data, filename)
    if verdict.allowed and _ends_with_zip(data):
        return _reject("application/zip", "A file carrying a ZIP archive at its end")
    return verdict


def sniff_ranges(head: bytes, tail: bytes, filename: str | None = None) -> Verdict:
    """`sniff` for a file read in two ranges (an S3 object too large to read whole): `head`, its first
    `TEXT_WINDOW` + 1 bytes or more, and `tail`, its last `TAIL_WINDOW` bytes (enough for a ZIP's end
    record and a central directory of ~190 KiB). Same verdict, except that JSON longer than `head`
    is labelled text/plain."""
    verdict = _by_magic(head[:MAGIC_WINDOW]) or _by_text(head, filename)
    if verdict.allowed and _ends_with_zip(tail):
        return _reject("application/zip", "A file carrying a ZIP archive at its end")
    return verdict


def _by_magic(head: bytes) -> Verdict | None:
    for content_type, label, allowed, signature in _MAGIC:
        if all(head.startswith(magic, offset) for offset, magic in signature):
            return _allow(content_type, label) if allowed else _reject(content_type, label)
    return None


def _by_text(data: bytes, filename: str | None) -> Verdict:
    decoded = _decode(data[:TEXT_WINDOW], truncated=len(data) > TEXT_WINDOW)
    if decoded is None:
        return _reject(*_BINARY)
    text, charset = decoded
    markup = _markup_root(text)
    if markup is not None:
        return _reject(*markup)
    if text.startswith("#!"):
        return _reject("text/x-shellscript", "A script with a shebang (#!)")
    if not _is_clean(text):
        return _reject(*_BINARY)
    is_json = charset == "utf-8" and _is_json(data, text)
    # A JSON document quoting an error page is data, not a page: browsers never render it as HTML.
    markup = None if is_json else _markup_near_start(text)
    if markup is not None:
        return _reject(*markup)
    if is_json:
        return _allow("application/json", "JSON document")
    if charset != "utf-8":
        return _allow(f"text/plain; charset={charset}", f"Text ({charset.upper()})")
    if _is_yaml(text, filename):
        return _allow("application/yaml", "YAML document")
    return _allow("text/plain", "Plain text")


def _decode(prefix: bytes, *, truncated: bool) -> tuple[str, str] | None:
    """The prefix as text (BOM dropped) and its charset: UTF-8, or UTF-16 when it has a BOM."""
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, charset = "utf-16", "utf-16"
    else:
        encoding, charset = "utf-8-sig", "utf-8"
    try:
        # Incremental, so a character cut in two by the window is not mistaken for bad UTF-8.
        return codecs.getincrementaldecoder(encoding)().decode(prefix, final=not truncated), charset
    except UnicodeDecodeError:
        return None


def _is_clean(text: str) -> bool:
    """No NUL, and control characters rarer than one in `_CONTROL_RATIO` (logs keep ESC, BS, FF)."""
    if "\x00" in text:
        return False
    return sum(map(text.count, _CONTROLS)) * _CONTROL_RATIO <= len(text)


def _markup_root(text: str) -> tuple[str, str] | None:
    """SVG or HTML by root element or doctype (after BOM, space, prolog, comments) or by namespace."""
    root = _root_name(text)
    if root is None:
        return None
    if root == "svg" or _SVG_NS in text:
        return _SVG
    if root in _HTML_ROOTS or _XHTML_NS in text:
        return _HTML
    return None


def _markup_near_start(text: str) -> tuple[str, str] | None:
    """SVG or HTML by an `<svg`, `<html`, `<head`, `<body`, `<script`, `<iframe` tag in the first bytes."""
    match = _MARKUP_TAG.search(text[:MARKUP_WINDOW].lower())
    if match is None:
        return None
    return _SVG if "svg" in match.groups() else _HTML


def _root_name(text: str) -> str | None:
    """The lower-case local name of the first element or doctype, or None when the text is not markup."""
    at = 0
    while 0 <= at < len(text):
        space = _SPACE.match(text, at)
        at = space.end() if space else at
        if text.startswith("<?", at):
            at = _after(text, "?>", at)
        elif text.startswith("<!--", at):
            at = _after(text, "-->", at)
        elif (doctype := _DOCTYPE.match(text, at)) is not None:
            name = doctype.group(1).lower()
            if name in ("html", "svg"):
                return name
            at = _after_doctype(text, at)
        else:
            tag = _TAG.match(text, at)
            return None if tag is None else tag.group(1).lower()
    return None


def _after_doctype(text: str, start: int) -> int:
    """Past a non-HTML doctype, including an internal subset `[...]` that may hold `>`."""
    close = text.find(">", start)
    subset = text.find("[", start, close if close >= 0 else len(text))
    return _after(text, "]>" if subset >= 0 else ">", start)


def _after(text: str, end: str, start: int) -> int:
    found = text.find(end, start)
    return -1 if found < 0 else found + len(end)


def _is_json(data: bytes, text: str) -> bool:
    """An object or array that parses, judged on the whole document (bounded by `JSON_PARSE_LIMIT`)."""
    if text.lstrip()[:1] not in ("{", "[") or len(data) > JSON_PARSE_LIMIT:
        return False
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _is_yaml(text: str, filename: str | None) -> bool:
    """YAML structure, claimed by a .yaml/.yml name or a `---` / `apiVersion:` start."""
    lines = [line for line in text.splitlines()[:YAML_LINES] if line.strip() and line.lstrip()[0] != "#"]
    if not lines:
        return False
    first = lines[0]
    claimed = first.startswith(("---", "apiVersion:")) or (filename or "").lower().endswith(_YAML_SUFFIXES)
    return claimed and _has_yaml_structure([line for line in lines if line.rstrip() not in ("---", "...")])


def _has_yaml_structure(lines: list[str]) -> bool:
    """Mostly `key: value`, `- item` or indented lines, starting with a key or an item."""
    if not lines or _YAML_ITEM.match(lines[0]) is None:
        return False
    yamlish = sum(1 for line in lines if line[:1] in (" ", "\t") or _YAML_ITEM.match(line) is not None)
    return yamlish * 10 >= len(lines) * 8


def _ends_with_zip(data: bytes) -> bool:
    """True when a ZIP reader would find an archive at the end (polyglots such as GIFAR or a log + JAR)."""
    floor = max(0, len(data) - 22 - 0xFFFF)
    at = data.rfind(b"PK\x05\x06", floor)
    while at >= 0:
        if _is_zip_end_record(data, at):
            return True
        at = data.rfind(b"PK\x05\x06", floor, at)
    return False


def _is_zip_end_record(data: bytes, at: int) -> bool:
    """An end-of-central-directory record at `at` whose central directory really precedes it."""
    record = data[at : at + 22]
    if len(record) < 22:
        return False
    entries = int.from_bytes(record[10:12], "little")
    directory_size = int.from_bytes(record[12:16], "little")
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
        return data.startswith(b"PK\x06\x07", at - 20)  # ZIP64 locator
    start = at - directory_size
    return entries > 0 and start >= 0 and data.startswith(b"PK\x01\x02", start)
