"""The one HTTP client the CLI and the MCP server share.

- base URL + `Authorization: Bearer <token>` on every API request;
- an `Idempotency-Key` (uuid4 unless the caller picks one) on every write, the *same* key on
  every retry of that call, so a retried create/reply/close is applied once;
- up to 3 tries with exponential backoff (honouring `Retry-After`) on network errors,
  429 / 502 / 503 / 504, and a 409 that says Retry-After ("changed meanwhile, retry");
- non-2xx answers become `ApiError` built from the application/problem+json body;
- object storage (presigned download/upload URLs) is reached with a *separate* client that
  never carries the API token.

Tests inject an `httpx` transport (e.g. `httpx.MockTransport`) with `transport=` or by setting
the module-level `TRANSPORT`.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urljoin

import httpx

from tickets_cli import __version__
from tickets_cli.errors import ApiError, ConfigError, NetworkError, ReviewFailed, TicketsError

ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 10.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: The title of the API's 409 for a write to a closed ticket (a close included).
TICKET_CLOSED = "Ticket is closed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHUNK = 64 * 1024
USER_AGENT = f"tickets-cli/{__version__}"

#: Transport used when a client is built without one (tests set an httpx.MockTransport here).
TRANSPORT: httpx.BaseTransport | None = None
#: How the client waits between tries (tests replace it to run instantly).
sleep: Callable[[float], None] = time.sleep

#: progress(bytes_done, bytes_total); called with 0 at the start of every try.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Upload:
    """One file to send: name, bytes and declared type (the server decides from the content anyway)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return len(self.content)


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def normalise_api_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"API URL must start with http:// or https:// (got {url!r}).")
    # Accept a pasted ".../v1" base: every path below already starts with /v1.
    return url[: -len("/v1")] if url.endswith("/v1") else url


def problem_from(response: httpx.Response) -> ApiError:
    """An ApiError from any non-2xx answer: problem+json when present, else the status line and a snippet."""
    status = response.status_code
    with contextlib.suppress(httpx.HTTPError):
        response.read()
    doc: Any = None
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            doc = response.json()
        except ValueError:
            doc = None
    if isinstance(doc, dict) and ("title" in doc or "detail" in doc):
        errors = doc.get("errors")
        return ApiError(
            status=int(doc.get("status") or status),
            title=str(doc.get("title") or response.reason_phrase or "Error"),
            detail=str(doc.get("detail") or ""),
            errors=errors if isinstance(errors, list) else None,
            type_=str(doc.get("type") or "about:blank"),
            document=doc,
        )
    if status in (401, 403) and (status == 401 or "www-authenticate" in response.headers):
        return refused_token(status, response.headers.get("www-authenticate", ""))
    if isinstance(doc, dict) and "message" in doc:  # API Gateway's own errors: {"message": "Unauthorized"}
        return ApiError(status, response.reason_phrase or "Error", str(doc["message"]))
    text = response.text if response.content else ""
    xml_message = re.search(r"<Message>(.*?)</Message>", text, re.S)  # S3 errors are XML
    detail = xml_message.group(1) if xml_message else text.strip()[:300]
    return ApiError(status, response.reason_phrase or f"HTTP {status}", detail)


def challenge_params(header: str) -> dict[str, str]:
    """The auth-params of a `WWW-Authenticate: Bearer k="v", k="v"` challenge (commas optional, as
    API Gateway's JWT authorizer leaves them out)."""
    return {key.lower(): value.replace('\\"', '"') for key, value in _AUTH_PARAM.findall(header)}


_AUTH_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*"((?:[^"\\]|\\.)*)"')
LOGIN_HINT = "run `tickets login` (or set TICKETS_TOKEN) with a new token"


def refused_token(status: int, challenge: str) -> ApiError:
    """The gateway's refusal of the token (`{"message":"Unauthorized"}`, the reason in the
    WWW-Authenticate challenge), said as what happened and what to do about it."""
    params = challenge_params(challenge)
    reason = params.get("error_description", "").strip().rstrip(".")
    error = params.get("error", "")
    if status == 403 or error == "insufficient_scope":
        return ApiError(
            status,
            "Forbidden",
            f"The token lacks the scope this call needs ({reason or 'insufficient_scope'}); "
            "ask for a token with it, then run `tickets login`.",
        )
    lowered = reason.lower()
    if "expired" in lowered:
        return ApiError(status, "Token expired", f"The token has expired: {LOGIN_HINT}.")
    if "not valid yet" in lowered or "in the future" in lowered:
        return ApiError(
            status,
            "Token not valid yet",
            f"The API says {reason}: check this computer's clock, or {LOGIN_HINT}.",
        )
    if any(word in lowered for word in ("issuer", "audience", "signing key")):
        return ApiError(
            status,
            "Token not for this API",
            f"The API refused the token ({reason}): check the API URL (--api-url, TICKETS_API_URL, "
            f"the profile), or {LOGIN_HINT} issued for it.",
        )
    if lowered == "missing token":
        return ApiError(status, "Unauthorized", f"No token reached the API: {LOGIN_HINT}.")
    why = f" ({reason})" if reason else ""
    return ApiError(status, "Unauthorized", f"The API refused the token{why}: {LOGIN_HINT}.")


def _chunks(body: bytes, progress: Progress | None) -> Iterator[bytes]:
    total = len(body)
    if progress:
        progress(0, total)
    for start in range(0, total, CHUNK):
        piece = body[start : start + CHUNK]
        yield piece
        if progress:
            progress(min(start + CHUNK, total), total)


def encode_multipart(fields: Mapping[str, str], files: list[tuple[str, Upload]]) -> tuple[bytes, str]:
    """multipart/form-data body and its Content-Type (with boundary), built once so retries resend it."""
    request = httpx.Request(
        "POST",
        "http://multipart.invalid/",
        data=dict(fields),
        files=[(field, (f.filename, f.content, f.content_type)) for field, f in files],
    )
    return request.read(), request.headers["Content-Type"]


def _retryable(response: httpx.Response) -> bool:
    """429/502/503/504, and a 409 that says Retry-After: the API's "changed meanwhile, retry" and
    "request in progress", which a retry with the same Idempotency-Key gets past."""
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 409 and "retry-after" in response.headers


def _retry_delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        retry_after = response.headers.get("retry-after", "")
        if retry_after.strip().isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
    return BACKOFF_SECONDS * (2 ** (attempt - 1))


class HelpdeskClient:
    """Synchronous client for the Helpdesk API (the MCP server runs it in a worker thread)."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        attempts: int = ATTEMPTS,
    ) -> None:
        if not token:
            raise ConfigError("Not logged in: run `tickets login` or set TICKETS_TOKEN.")
        self.api_url = normalise_api_url(api_url)
        self.attempts = max(1, attempts)
        self._transport = transport if transport is not None else TRANSPORT
        self._timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=self._transport,
            timeout=self._timeout,
            follow_redirects=False,
        )
        self._storage_http: httpx.Client | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()
        if self._storage_http is not None:
            self._storage_http.close()

    def __enter__(self) -> HelpdeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def storage(self) -> httpx.Client:
        """For presigned object-storage URLs: no Authorization header, no cookies, no base URL."""
        if self._storage_http is None:
            self._storage_http = httpx.Client(
                headers={"User-Agent": USER_AGENT},
                transport=self._transport,
                timeout=self._timeout,
                follow_redirects=False,
            )
        return self._storage_http

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        files: list[Upload] | None = None,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one API call with retries. JSON body, or multipart (`payload` JSON + `attachments`)
        when `files` are given. Returns the response when 2xx (or in `ok_statuses`), else raises."""
        method = method.upper()
        headers: dict[str, str] = {}
        body: bytes | None = None
        if files:
            fields = {"payload": json.dumps(json_body if json_body is not None else {})}
            body, headers["Content-Type"] = encode_multipart(fields, [("attachments", f) for f in files])
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if method in WRITE_METHODS:
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        return self._send(
            self._http,
            method,
            path,
            params=params,
            headers=headers,
            body=body,
            progress=progress if files else None,
            ok_statuses=ok_statuses,
        )

    def _send(
        self,
        http: httpx.Client,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        progress: Progress | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Length"] = str(len(body))
        for attempt in range(1, self.attempts + 1):
            content: Any = None
            if body is not None:
                content = _chunks(body, progress) if progress else body
            try:
                response = http.request(method, url, params=params, headers=headers, content=content)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise ConfigError(f"Bad API URL: {exc}") from exc
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise NetworkError(f"Cannot reach {self._where(http, url)}: {exc or type(exc).__name__}") from exc
                sleep(_retry_delay(attempt, None))
                continue
            if _retryable(response) and attempt < self.attempts:
                response.close()
                sleep(_retry_delay(attempt, response))
                continue
            if response.is_success or response.status_code in ok_statuses:
                return response
            raise problem_from(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _where(self, http: httpx.Client, url: str) -> str:
        if http is self._http:
            return self.api_url
        return httpx.URL(url).host or url

    def _json(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "Unexpected response", "The API did not answer JSON.") from None

    # -- the API ----------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self._json(self.request("GET", "/v1/me"))

    def list_tickets(
        self,
        *,
        status: list[str] | None = None,
        category: str | None = None,
        severity: str | None = None,
        cluster_id: str | None = None,
        q: str | None = None,
        org_id: str | None = None,
        sort: str | None = None,
        breached: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params: list[tuple[str, Any]] = [("status", s) for s in status or []]
        for key, value in (
            ("category", category),
            ("severity", severity),
            ("cluster_id", cluster_id),
            ("q", q),
            ("org_id", org_id),
            ("sort", sort),
            ("breached", breached),
            ("limit", limit),
            ("cursor", cursor),
        ):
            if value is not None and value != "":
                params.append((key, value))
        return self._json(self.request("GET", "/v1/tickets", params=params))

    def iter_pages(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every page, following `next_cursor` until it is null."""
        seen: set[str] = set()
        while True:
            page = self.list_tickets(**filters)
            yield page
            cursor = page.get("next_cursor")
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            filters["cursor"] = cursor

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        return self._json(self.request("GET", f"/v1/tickets/{_seg(ticket_id)}"))

    def create_ticket(
        self,
        payload: dict[str, Any],
        files: list[Upload] | None = None,
        *,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        response = self.request(
            "POST", "/v1/tickets", json_body=payload, files=files, idempotency_key=idempotency_key, progress=progress
        )
        return self._json(response)

    def reply(
        self,
        ticket_id: str,
        payload: dict[str, Any],
        files: list[Upload] | None = None,
        *,
        idempotency_key: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        response = self.request(
            "POST",
            f"/v1/tickets/{_seg(ticket_id)}/messages",
            json_body=payload,
            files=files,
            idempotency_key=idempotency_key,
            progress=progress,
        )
        return self._json(response)

    def close_ticket(self, ticket_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Close the ticket; closing one that is already closed is a success too, answered
        `{"id", "status": "closed", "already_closed": true}` (closing is idempotent for the caller).

        The API refuses a second close with 409 "Ticket is closed". Other 409s ("Changed meanwhile,
        retry") are not that: when one is left after the retries, the ticket is read again, and only
        a ticket that is closed by then counts as already closed."""
        try:
            response = self.request("POST", f"/v1/tickets/{_seg(ticket_id)}/close", idempotency_key=idempotency_key)
        except ApiError as exc:
            if exc.status != 409 or not (exc.title == TICKET_CLOSED or self._is_closed(ticket_id)):
                raise
            return {"id": ticket_id, "status": "closed", "already_closed": True}
        return self._json(response) or {"id": ticket_id, "status": "closed"}

    def _is_closed(self, ticket_id: str) -> bool:
        try:
            return self.get_ticket(ticket_id).get("status") == "closed"
        except TicketsError:
            return False

    def start_review(self, draft: dict[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._json(self.request("POST", "/v1/tickets/review", json_body=draft, idempotency_key=idempotency_key))

    def get_review(self, review_id: str) -> dict[str, Any]:
        return self._json(self.request("GET", f"/v1/tickets/reviews/{_seg(review_id)}"))

    def wait_review(
        self,
        review_id: str,
        *,
        timeout: float = 120.0,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> dict[str, Any]:
        """Poll until the review is `completed` or `failed`; `pending` is returned when time runs out."""
        deadline = clock() + timeout
        delay = interval
        while True:
            review = self.get_review(review_id)
            if review.get("status") in ("completed", "failed"):
                return review
            if clock() + delay > deadline:
                return review
            sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def review_draft(self, draft: dict[str, Any], *, timeout: float = 120.0) -> dict[str, Any]:
        started = self.start_review(draft)
        review_id = started.get("review_id")
        if not review_id:
            raise ReviewFailed("The API did not return a review_id.")
        if started.get("status") in ("completed", "failed"):
            return started
        return self.wait_review(review_id, timeout=timeout)

    # -- attachments ------------------------------------------------------------------------

    def presign_attachment(
        self, ticket_id: str, upload: Upload, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        body = {"filename": upload.filename, "content_type": upload.content_type, "size": upload.size}
        response = self.request(
            "POST", f"/v1/tickets/{_seg(ticket_id)}/attachments", json_body=body, idempotency_key=idempotency_key
        )
        return self._json(response)

    def upload_presigned(self, grant: Mapping[str, Any], upload: Upload, *, progress: Progress | None = None) -> None:
        """POST the file to the presigned storage URL (policy fields first, file last), without the token."""
        url = str(grant.get("upload_url") or "")
        if not url:
            raise ApiError(502, "Bad upload grant", "The API returned no upload_url.")
        fields = {str(k): str(v) for k, v in (grant.get("fields") or {}).items()}
        body, content_type = encode_multipart(fields, [("file", upload)])
        self._send(self.storage, "POST", url, headers={"Content-Type": content_type}, body=body, progress=progress)

    def upload_attachment(self, ticket_id: str, upload: Upload, *, progress: Progress | None = None) -> str | None:
        """Presigned path for a file too big for an inline multipart request; returns its attachment id."""
        grant = self.presign_attachment(ticket_id, upload)
        self.upload_presigned(grant, upload, progress=progress)
        return grant.get("attachment_id")

    def download_attachment(
        self,
        ticket_id: str,
        attachment_id: str,
        sink: IO[bytes],
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Resolve the API's 302 and stream the object into `sink`.

        The API answers 302 to a short-lived presigned URL; that second request goes through the
        storage client, so the bearer token never leaves for the storage host."""
        path = f"/v1/tickets/{_seg(ticket_id)}/attachments/{_seg(attachment_id)}"
        first = self.request("GET", path, ok_statuses=(301, 302, 303, 307, 308))
        if not first.is_redirect:  # served inline by the API itself
            first.read()
            _write(sink, [first.content], len(first.content), progress)
            return _download_info(first, len(first.content))
        location = first.headers.get("location")
        if not location:
            raise ApiError(first.status_code, "Bad redirect", "The API redirected without a Location.")
        target = urljoin(str(first.url), location)
        for attempt in range(1, self.attempts + 1):
            written = 0
            try:
                with self.storage.stream("GET", target) as response:
                    if response.status_code in RETRY_STATUSES and attempt < self.attempts:
                        sleep(_retry_delay(attempt, response))
                        continue
                    if not response.is_success:
                        raise problem_from(response)
                    total = int(response.headers.get("content-length") or 0)
                    if progress:
                        progress(0, total)
                    for piece in response.iter_bytes(CHUNK):
                        sink.write(piece)
                        written += len(piece)
                        if progress:
                            progress(written, max(total, written))
                    return _download_info(response, written)
            except httpx.TransportError as exc:
                if attempt == self.attempts or (written and not _rewind(sink)):
                    raise NetworkError(f"Download from {httpx.URL(target).host} failed: {exc}") from exc
                sleep(_retry_delay(attempt, None))
        raise NetworkError("Download failed after retries.")  # pragma: no cover


def _seg(value: str) -> str:
    """One path segment: ids are ULIDs; anything else is percent-encoded rather than trusted."""
    from urllib.parse import quote

    return quote(str(value), safe="")


def _write(sink: IO[bytes], pieces: list[bytes], total: int, progress: Progress | None) -> None:
    for piece in pieces:
        sink.write(piece)
    if progress:
        progress(total, total)


def _rewind(sink: IO[bytes]) -> bool:
    try:
        sink.seek(0)
        sink.truncate()
        return True
    except (OSError, ValueError, AttributeError):
        return False


def _download_info(response: httpx.Response, size: int) -> dict[str, Any]:
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
    return {
        "bytes": size,
        "content_type": response.headers.get("content-type"),
        "filename": match.group(1) if match else None,
    }
