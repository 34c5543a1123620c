"""Opaque list cursors: where a page ended, bound to the partition (org or queue) it was read from."""

import base64
import binascii
import json

from helpdesk.domain.errors import MalformedRequest, NotFound


def encode(index: str, partition: str, key: dict[str, str]) -> str:
    raw = json.dumps({"i": index, "p": partition, "k": key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, index: str, partition: str, org_of: str | None) -> dict[str, str]:
    """The start key stored in `cursor`, checked against the query it is replayed with.

    A cursor minted for another org's partition is 404, as its tickets would be; a cursor that
    belongs to a different query (other filters) or was tampered with is 400."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, cursor_partition, cursor_index = data["k"], data["p"], data["i"]
        valid = isinstance(key, dict) and all(isinstance(v, str) for v in key.values())
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise MalformedRequest("The cursor is not one this API returned.") from exc
    if not valid or not isinstance(cursor_partition, str):
        raise MalformedRequest("The cursor is not one this API returned.")
    if org_of is not None and cursor_partition.split("|")[0] != f"ORG#{org_of}":
        raise NotFound("The cursor was not found.")
    if cursor_index != index or cursor_partition != partition:
        raise MalformedRequest("The cursor belongs to a list with other filters; start again without it.")
    return key
