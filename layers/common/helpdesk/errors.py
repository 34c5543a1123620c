"""Domain exceptions. The HTTP layer maps them to problem+json in one place (helpdesk.http)."""

from typing import Any


class HelpdeskError(Exception):
    """Base of every error a caller can cause. `status` and `title` shape the problem response."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    @classmethod
    def unknown_query(cls, names: list[str]) -> "HelpdeskError":
        return InvalidRequest(
            f"Unknown query parameter(s): {', '.join(names)}.",
            [{"field": name, "message": "unknown query parameter"} for name in names],
        )


class InvalidRequest(HelpdeskError):
    status = 422
    title = "Invalid request"


class MalformedRequest(HelpdeskError):
    status = 400
    title = "Malformed request"


class Unauthenticated(HelpdeskError):
    status = 401
    title = "Unauthenticated"


class Forbidden(HelpdeskError):
    status = 403
    title = "Forbidden"


class NotFound(HelpdeskError):
    status = 404
    title = "Not found"


class TicketNotFound(NotFound):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} was not found.")


class TicketClosed(HelpdeskError):
    status = 409
    title = "Ticket is closed"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} is closed; open a new ticket and reference this one.")


class Conflict(HelpdeskError):
    status = 409
    title = "Conflict"


class StaleVersion(HelpdeskError):
    status = 412
    title = "Precondition failed"

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id} has changed since it was read; fetch it again (If-Match is stale).")


class PayloadTooLarge(HelpdeskError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(HelpdeskError):
    status = 415
    title = "Unsupported media type"


class ReviewNotFound(NotFound):
    def __init__(self, review_id: str) -> None:
        super().__init__(f"Review {review_id} was not found (reviews expire after 7 days).")


class AttachmentNotFound(NotFound):
    def __init__(self, ticket_id: str, attachment_id: str) -> None:
        super().__init__(f"Attachment {attachment_id} was not found on ticket {ticket_id}.")


class AttachmentNotAvailable(Conflict):
    """The attachment exists but cannot be downloaded: still being uploaded/checked, or rejected."""

    title = "Attachment not available"


class AttachmentLimitReached(Conflict):
    title = "Attachment limit reached"

    def __init__(self, ticket_id: str, limit: int, adding: int) -> None:
        super().__init__(
            f"A ticket may have at most {limit} attachments (rejected uploads do not count); "
            f"ticket {ticket_id} has no room for {adding} more."
        )
