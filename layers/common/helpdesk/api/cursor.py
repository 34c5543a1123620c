"""Opaque list cursors: where a page ended, signed for the list and the caller it was issued to.

A cursor is `<payload>.<mac>`: the payload is the page's last key (base64url JSON), the MAC an
HMAC-SHA256 (truncated to 128 bits) of the payload together with what the cursor is bound to: the
index and partition it was read from, the list's filters and the caller's scope (their org, or the
support team). The key is the template's generated CursorSigningSecret (CURSOR_KEY). So a cursor
the API did not issue, one changed by a single byte, or one replayed with other filters or by
another org is a 400, and never reaches DynamoDB."""

import base64
import binascii
import hashlib
import hmac
import json

from helpdesk.domain.errors import MalformedRequest
from helpdesk.settings import settings

MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Strict: only the one canonical spelling of the bytes (no padding, no spare bits) is taken."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("not a canonical base64url text")
    return raw


def _mac(payload: str, binding: str) -> bytes:
    key = settings().cursor_key.encode()
    if not key:
        raise RuntimeError("CURSOR_KEY is not set: the template gives it to the list function")
    return hmac.new(key, f"{binding}\n{payload}".encode(), hashlib.sha256).digest()[:MAC_BYTES]


def encode(key: dict[str, str], binding: str) -> str:
    payload = _b64(json.dumps(key, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64(_mac(payload, binding))}"


def decode(cursor: str, binding: str) -> dict[str, str]:
    """The start key stored in `cursor`, if this API issued it for this `binding`; else a 400."""
    refused = MalformedRequest(
        "The cursor is not one this API returned for this list (same filters, same caller); start again without it."
    )
    payload, _, mac = cursor.partition(".")
    try:
        valid = hmac.compare_digest(_unb64(mac), _mac(payload, binding))
        key = json.loads(_unb64(payload)) if valid else None
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise refused from exc
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise refused
    return key
