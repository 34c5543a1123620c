"""Amazon EventBridge: the Helpdesk event bus (domain events for integrations)."""

from typing import Any

import boto3

client = boto3.client("events")
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per request


class NotPublished(Exception):
    """EventBridge refused some entries; the stream record is retried (the same event ids)."""


def publish(entries: list[dict[str, Any]]) -> None:
    for start in range(0, len(entries), MAX_ENTRIES):
        chunk = entries[start : start + MAX_ENTRIES]
        response = client.put_events(Entries=chunk)
        if response.get("FailedEntryCount"):
            codes = sorted({e.get("ErrorCode", "?") for e in response["Entries"] if e.get("ErrorCode")})
            raise NotPublished(f"{response['FailedEntryCount']} of {len(chunk)} events refused: {', '.join(codes)}")
