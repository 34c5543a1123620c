"""Domain exceptions: what went wrong, in the domain's words. They carry no HTTP status: the API maps
them to problem+json in one place (helpdesk.api.problems)."""

from typing import Any


class HelpdeskError(Exception):
    """Base of every error a caller can cause: `detail` says what and why, `errors` names the fields."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidRequest(HelpdeskError):
    """Well-formed, but not a request the API can carry out (a field's value, a limit)."""

    @classmethod
    def unknown_query(cls, names: list[str]) -> "InvalidRequest":
        return cls(
            f"Unknown query parameter(s): {', '.join(names)}.",
            [{"field": name, "message": "unknown query parameter"} for name in names],
        )


class MalformedRequest(HelpdeskError):
    """Not parseable (JSON, base64, multipart, a header, a cursor)."""


class Unauthenticated(HelpdeskError):
    """No verified identity."""


class Forbidden(HelpdeskError):
    """The caller may not do this (their role or their token's claims)."""


class NotFound(HelpdeskError):
    """Nothing there for this caller (another org's data is not found either)."""


class TicketNotFound(NotFound):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} was not found.")


class ReviewNotFound(NotFound):
    def __init__(self, review_id: str) -> None:
        super().__init__(f"Review {review_id} was not found (reviews expire after 7 days).")


class AttachmentNotFound(NotFound):
    def __init__(self, ticket_id: str, attachment_id: str) -> None:
        super().__init__(f"Attachment {attachment_id} was not found on ticket {ticket_id}.")


class Conflict(HelpdeskError):
    """The ticket's state does not allow it now."""


class TryAgain(Conflict):
    """The ticket was being changed by someone else at the same moment; nothing was written. A retry
    (the same request) will most likely succeed."""


class ReviewStillRunning(TryAgain):
    def __init__(self, review_id: str) -> None:
        super().__init__(f"Review {review_id} is still running; file it once it has completed.")


class TicketClosed(Conflict):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} is closed; open a new ticket and reference this one.")


class AttachmentNotAvailable(Conflict):
    """The attachment exists but cannot be downloaded: still being uploaded/checked, or rejected."""


class AttachmentLimitReached(Conflict):
    def __init__(self, ticket_id: str, limit: int, adding: int) -> None:
        super().__init__(
            f"A ticket may have at most {limit} attachments (rejected uploads do not count); "
            f"ticket {ticket_id} has no room for {adding} more."
        )


class StaleVersion(HelpdeskError):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} has changed since it was read; fetch it again (If-Match is stale).")


class PayloadTooLarge(HelpdeskError):
    """A file or a body over its limit."""


class UnsupportedMediaType(HelpdeskError):
    """A file of a type that may not be attached, or a body of a type the API does not take."""


class Busy(HelpdeskError):
    """AWS could not serve the request right now (throttled); nothing was changed. Retry."""
