"""Client-side errors and the exit codes they map to. Stdlib only: imported on every run."""

from __future__ import annotations

from typing import Any

EXIT_CLIENT_ERROR = 1  # the API answered 4xx (also: aborted at a prompt)
EXIT_USAGE = 2  # bad flags or arguments, missing login (click/typer's own code)
EXIT_SERVER_ERROR = 3  # the API answered 5xx, or a review failed on the server
EXIT_NETWORK = 4  # the API could not be reached (DNS, connect, timeout) after retries


class TicketsError(Exception):
    """Anything the CLI reports on stderr and turns into a non-zero exit code."""

    exit_code = EXIT_CLIENT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TicketsError):
    """No API URL or token, unreadable profile file, bad URL."""

    exit_code = EXIT_USAGE


class NetworkError(TicketsError):
    exit_code = EXIT_NETWORK


class ReviewFailed(TicketsError):
    """The AI review ended `failed`, or did not finish in time."""

    exit_code = EXIT_SERVER_ERROR


class ApiError(TicketsError):
    """A non-2xx answer, parsed from its application/problem+json body when it has one."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
        type_: str = "about:blank",
        document: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.type = type_
        self.document = document
        super().__init__(self.summary())

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return EXIT_SERVER_ERROR if self.status >= 500 else EXIT_CLIENT_ERROR

    def summary(self) -> str:
        """`title: detail` plus one `field: message` per field error, for people and assistants."""
        head = f"{self.title}: {self.detail}" if self.detail and self.detail != self.title else self.title
        lines = [f"{head} (HTTP {self.status})"]
        for err in self.errors:
            if isinstance(err, dict):
                where = err.get("field") or err.get("name") or err.get("pointer") or ""
                what = err.get("message") or err.get("detail") or err.get("msg") or ""
                lines.append(f"  - {where}: {what}" if where else f"  - {what}")
        return "\n".join(lines)

    def problem(self) -> dict[str, Any]:
        """The problem document as received (or rebuilt when the body was not problem+json)."""
        if self.document is not None:
            return self.document
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            doc["errors"] = self.errors
        return doc
