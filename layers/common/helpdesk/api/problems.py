"""problem+json (RFC 9457): every error the API answers, and the one place that maps domain
exceptions to HTTP statuses."""

import json
from typing import Any

from helpdesk.domain import errors

PROBLEM_JSON = "application/problem+json"

# The most specific class in an exception's MRO decides (multipart errors inherit from two).
STATUSES: dict[type[errors.HelpdeskError], tuple[int, str]] = {
    errors.MalformedRequest: (400, "Malformed request"),
    errors.Unauthenticated: (401, "Unauthenticated"),
    errors.Forbidden: (403, "Forbidden"),
    errors.NotFound: (404, "Not found"),
    errors.Conflict: (409, "Conflict"),
    errors.TicketClosed: (409, "Ticket is closed"),
    errors.AttachmentNotAvailable: (409, "Attachment not available"),
    errors.AttachmentLimitReached: (409, "Attachment limit reached"),
    errors.StaleVersion: (412, "Precondition failed"),
    errors.PayloadTooLarge: (413, "Payload too large"),
    errors.UnsupportedMediaType: (415, "Unsupported media type"),
    errors.InvalidRequest: (422, "Invalid request"),
    errors.TryAgain: (409, "Changed meanwhile, retry"),
    errors.ReviewStillRunning: (409, "Review still running"),
    errors.Busy: (503, "Service busy"),
}
# Refusals that a retry of the same request may get past: answered with Retry-After, and never
# stored by idempotency (a retry with the same Idempotency-Key runs again instead of replaying them).
RETRYABLE = (errors.TryAgain, errors.Busy)
RETRY_AFTER_SECONDS = 1


def status_of(exc: errors.HelpdeskError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 400, "Bad request"


def body(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> str:
    payload: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        payload["errors"] = errors
    return json.dumps(payload | extra)


def response(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    """A problem as a Lambda proxy response (payload format 2.0)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": body(status, title, detail, errors, **extra),
        "isBase64Encoded": False,
    }
