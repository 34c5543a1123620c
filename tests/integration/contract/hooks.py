"""Schemathesis hooks for the contract test: what a client of this API is told in the schema but a
generator cannot know by itself. Nothing here hides a response; it only makes generated requests
behave like a client following the document:

- an `Idempotency-Key` identifies ONE request (the document says a key reused for another request is
  422): a positive request gets a fresh key, as every client sends;
- a `cursor` is a value the API returned (`x-opaque-token`: anything else is 400): a positive request
  never invents one (negative requests still send garbage, and must get a 4xx);
- attachments are of the types the document's multipart `encoding` lists: Schemathesis is told how
  to make real bytes of text, PNG, JPEG, GIF, WebP and PDF (it cannot make them on its own). JSON and
  YAML files are left out: a strategy registered for application/json would also make every JSON
  request body;
- Schemathesis' coverage phase, making an example of a multipart body with custom encodings, sends
  the JSON `payload` part empty (it makes bytes only for the file types registered below) and takes
  that for a valid request: such a positive case is sent with the smallest draft the schema allows
  instead (and no file: Schemathesis checks the case again, and takes raw bytes for a wrong type)."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from hypothesis import strategies as st

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db00000000049454e44ae426082"
)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + bytes(64) + bytes.fromhex("ffd9")
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

lines = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=80)
schemathesis.openapi.media_type(
    "text/plain", st.lists(lines, min_size=1, max_size=5).map(lambda ls: "\n".join(ls).encode())
)
for media_type, sample in {"image/png": PNG, "image/jpeg": JPEG, "image/gif": GIF, "image/webp": WEBP}.items():
    schemathesis.openapi.media_type(media_type, st.just(sample))
schemathesis.openapi.media_type("application/pdf", st.just(PDF))


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is None or meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if not _positive(case):
        return
    for name in list(case.headers or {}):
        if name.lower() == "idempotency-key":
            case.headers[name] = str(uuid.uuid4())
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    if isinstance(case.body, dict) and case.body.get("payload") == "":
        draft = {"body": "The contract test's draft."}
        case.body = {"payload": draft | {"category": "bug"} if case.path == "/v1/tickets" else draft}
