"""An in-memory stand-in for the Helpdesk HTTP API (SPEC section 4), for client tests.

`FakeHelpdesk.handle(httpx.Request) -> httpx.Response` is the whole API; use it
- in-process with `httpx.MockTransport(fake.handle)` (CLI tests), or
- over real TCP with `serve(fake)` (a stdlib ThreadingHTTPServer on 127.0.0.1), e.g. for the
  MCP server spawned as a subprocess.

It also plays the object store: `GET /v1/tickets/{id}/attachments/{aid}` answers 302 to
`https://storage.helpdesk.test/...` (MockTransport) and, like S3 with a presigned URL, refuses a
request that carries an Authorization header. `fail_next` injects failures (HTTP statuses or
httpx exceptions) for retry tests; `requests` records everything received.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

STORAGE_HOST = "storage.helpdesk.test"
CATEGORIES = {"technical", "bug", "feature_request", "account", "billing", "general", "other"}
SEVERITIES = {"low", "medium", "high", "critical"}
DRAFT_FIELDS = {
    "category",
    "body",
    "description",
    "subject",
    "severity",
    "properties",
    "source",
    "review_id",
    "answers",
}
WAITING_ON = {
    "pending_review": "us",
    "open": "us",
    "triaging": "us",
    "in_progress": "us",
    "waiting_customer": "user",
    "resolved": "user",
    "closed": None,
}


@dataclass
class Recorded:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes

    @property
    def path(self) -> str:
        return self.url.path

    def json(self) -> Any:
        return json.loads(self.body)

    def multipart(self) -> tuple[dict[str, Any], list[tuple[str, str, bytes]]]:
        return parse_multipart(self.headers.get("content-type", ""), self.body)


@dataclass
class Caller:
    token: str
    id: str
    email: str
    org_id: str
    roles: list[str] = field(default_factory=list)


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], list[tuple[str, str, bytes]]]:
    """(form fields, [(field, filename, content)]) of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, Any] = {}
    files: list[tuple[str, str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        content = part.get_payload(decode=True) or b""
        if filename is not None:
            files.append((name, filename, content))
        else:
            fields[name] = content.decode()
    return fields, files


def problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> httpx.Response:
    doc: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        doc["errors"] = errors
    return httpx.Response(status, headers={"content-type": "application/problem+json"}, content=json.dumps(doc))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeHelpdesk:
    def __init__(self, storage_base: str = f"https://{STORAGE_HOST}") -> None:
        self.storage_base = storage_base
        self.callers = {
            "test-token": Caller("test-token", "u-alice", "alice@acme.test", "acme"),
            "support-token": Caller("support-token", "u-sam", "sam@support.test", "support", ["support"]),
        }
        #: tokens the gateway refuses, with the reason it gives (anything else unknown: "invalid token")
        self.token_problems = {"expired-token": "the token has expired"}
        self.tickets: dict[str, dict[str, Any]] = {}
        self.reviews: dict[str, dict[str, Any]] = {}
        self.review_polls_pending = 1  # GETs that still answer `pending` before `completed`
        self.review_result: dict[str, Any] | None = None
        self.blobs: dict[str, bytes] = {}
        self.requests: list[Recorded] = []
        self.fail_next: list[int | Exception] = []
        self.idempotency: dict[tuple[str, str], tuple[str, int, list[tuple[str, str]], bytes]] = {}
        self.page_size_cap = 100
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- helpers for tests ----------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):024d}"[:26]

    def api_requests(self, method: str | None = None, path: str = "/v1/") -> list[Recorded]:
        """Recorded API requests (not storage ones); `path` is exact, or a prefix when it ends with '/'."""
        return [
            r
            for r in self.requests
            if r.url.host != STORAGE_HOST
            and not r.path.startswith("/_storage")
            and (r.path.startswith(path) if path.endswith("/") else r.path == path)
            and (method is None or r.method == method)
        ]

    def seed_ticket(
        self, body: str = "Node provisioning is stuck in fra1 since 14:00 UTC.", **fields: Any
    ) -> dict[str, Any]:
        """A ticket of alice@acme; `fields` overwrite the stored ticket (status, subject, summary, ...)."""
        ticket = self._new_ticket(self.callers["test-token"], {"category": "technical", "body": body})
        ticket.update(fields)
        return ticket

    def add_message(
        self, ticket_id: str, body: str, *, token: str = "support-token", internal: bool = False
    ) -> dict[str, Any]:
        message = self._message(self.callers[token], body, internal)
        self.tickets[ticket_id]["messages"].append(message)
        return message

    def add_attachment(self, ticket_id: str, filename: str, content: bytes, message_index: int = 0) -> str:
        ticket = self.tickets[ticket_id]
        message = ticket["messages"][message_index]
        aid = self.new_id("A")
        meta = {
            "id": aid,
            "filename": filename,
            "content_type": "text/plain",
            "size": len(content),
            "status": "available",
            "message_id": message["id"],
            "created_at": now(),
        }
        message["attachments"].append(meta)
        ticket["attachments"].append(meta)
        self.blobs[aid] = content
        return aid

    # -- the API --------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        with self._lock:
            self.requests.append(Recorded(request.method, request.url, request.headers, body))
            if self.fail_next:
                failure = self.fail_next.pop(0)
                if isinstance(failure, Exception):
                    raise failure
                return problem(failure, "Injected failure", f"Injected HTTP {failure}.")
            if request.url.host == STORAGE_HOST or request.url.path.startswith("/_storage/"):
                return self._storage(request, body)
            caller = self._caller(request)
            if caller is None:
                return self._unauthorized(request)
            key = request.headers.get("idempotency-key")
            if request.method in ("POST", "PATCH", "DELETE") and key:
                fingerprint = hashlib.sha256(request.method.encode() + request.url.path.encode() + body).hexdigest()
                seen = self.idempotency.get((caller.token, key))
                if seen is not None:
                    if seen[0] != fingerprint:
                        return problem(422, "Idempotency key reused", "This key was used with a different request.")
                    return httpx.Response(seen[1], headers=seen[2], content=seen[3])
                response = self._route(request, body, caller)
                response.read()
                if response.status_code < 500:
                    self.idempotency[(caller.token, key)] = (
                        fingerprint,
                        response.status_code,
                        list(response.headers.multi_items()),
                        response.content,
                    )
                return response
            return self._route(request, body, caller)

    def _unauthorized(self, request: httpx.Request) -> httpx.Response:
        """What API Gateway's JWT authorizer answers: a bare message, the reason in WWW-Authenticate."""
        _, _, token = request.headers.get("authorization", "").partition(" ")
        reason = self.token_problems.get(token, "invalid token" if token else "missing token")
        return httpx.Response(
            401,
            headers={"www-authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
            json={"message": "Unauthorized"},
        )

    def _caller(self, request: httpx.Request) -> Caller | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.callers.get(token) if scheme.lower() == "bearer" else None

    def _route(self, request: httpx.Request, body: bytes, caller: Caller) -> httpx.Response:
        parts = [p for p in request.url.path.split("/") if p]
        method = request.method
        if parts[:1] != ["v1"]:
            return problem(404, "Not found", "No such route.")
        parts = parts[1:]
        match (method, parts):
            case ("GET", ["me"]):
                return httpx.Response(
                    200,
                    json={
                        "id": caller.id,
                        "email": caller.email,
                        "org_id": caller.org_id,
                        "roles": caller.roles,
                        "email_notifications": True,
                    },
                )
            case ("GET", ["tickets"]):
                return self._list(request, caller)
            case ("POST", ["tickets"]):
                return self._create(request, body, caller)
            case ("POST", ["tickets", "review"]):
                return self._start_review(body, caller)
            case ("GET", ["tickets", "reviews", review_id]):
                return self._get_review(review_id, caller)
            case ("GET", ["tickets", ticket_id]):
                ticket = self._visible(ticket_id, caller)
                if ticket is None:
                    return problem(404, "Not found", f"Ticket {ticket_id} was not found.")
                return httpx.Response(
                    200, json=self._public(ticket, caller), headers={"etag": f'"{ticket["version"]}"'}
                )
            case ("POST", ["tickets", ticket_id, "messages" | "comments"]):
                return self._reply(ticket_id, request, body, caller)
            case ("POST", ["tickets", ticket_id, "close"]) | ("DELETE", ["tickets", ticket_id]):
                return self._close(ticket_id, caller)
            case ("POST", ["tickets", ticket_id, "attachments"]):
                return self._presign(ticket_id, body, caller)
            case ("GET", ["tickets", ticket_id, "attachments", attachment_id]):
                ticket = self._visible(ticket_id, caller)
                if ticket is None or not any(a["id"] == attachment_id for a in ticket["attachments"]):
                    return problem(404, "Not found", f"Attachment {attachment_id} was not found.")
                return httpx.Response(
                    302, headers={"location": f"{self.storage_base}/obj/{attachment_id}?X-Amz-Signature=fake"}
                )
        return problem(404, "Not found", "No such route.")

    def _visible(self, ticket_id: str, caller: Caller) -> dict[str, Any] | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ("support" not in caller.roles and ticket["org_id"] != caller.org_id):
            return None
        return ticket

    def _public(self, ticket: dict[str, Any], caller: Caller, *, with_messages: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in ticket.items() if k not in ("messages", "attachments")}
        out["waiting_on"] = WAITING_ON[ticket["status"]]
        if with_messages:
            support = "support" in caller.roles
            out["messages"] = [m for m in ticket["messages"] if support or not m["internal"]]
            out["attachments"] = list(ticket["attachments"])
        return out

    def _list(self, request: httpx.Request, caller: Caller) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        try:
            limit = int(query.get("limit", ["25"])[0])
            offset = int(query.get("cursor", ["0"])[0])
        except ValueError:
            return problem(400, "Malformed request", "limit and cursor must be integers here.")
        if not 1 <= limit <= self.page_size_cap:
            return problem(
                422,
                "Invalid request",
                "limit must be between 1 and 100.",
                [{"field": "limit", "message": "must be between 1 and 100"}],
            )
        items = [
            t
            for t in sorted(self.tickets.values(), key=lambda t: t["id"], reverse=True)
            if self._visible(t["id"], caller) is not None
        ]
        if statuses := query.get("status"):
            items = [t for t in items if t["status"] in statuses]
        for name in ("category", "severity"):
            if name in query:
                items = [t for t in items if t[name] == query[name][0]]
        if "cluster_id" in query:
            items = [t for t in items if t["properties"].get("cluster_id") == query["cluster_id"][0]]
        if "q" in query:
            words = query["q"][0].lower().split()
            items = [
                t for t in items if all(w in (t["subject"] + " " + t["messages"][0]["body"]).lower() for w in words)
            ]
        page = items[offset : offset + limit]
        next_cursor = str(offset + limit) if offset + limit < len(items) else None
        return httpx.Response(
            200,
            json={"items": [self._public(t, caller, with_messages=False) for t in page], "next_cursor": next_cursor},
        )

    def _payload(
        self, request: httpx.Request, body: bytes
    ) -> tuple[dict[str, Any] | httpx.Response, list[tuple[str, str, bytes]]]:
        content_type = request.headers.get("content-type", "")
        files: list[tuple[str, str, bytes]] = []
        if content_type.startswith("multipart/form-data"):
            fields, files = parse_multipart(content_type, body)
            raw = fields.get("payload", "")
            if any(name != "attachments" for name, _, _ in files):
                return problem(422, "Invalid request", "Files go in `attachments`."), []
            if len(files) > 3:
                return problem(422, "Invalid request", "At most 3 attachments per message."), []
        elif content_type.startswith("application/json"):
            raw = body.decode()
        else:
            return problem(
                415, "Unsupported media type", f"Send JSON or multipart, not {content_type or 'nothing'}."
            ), []
        try:
            payload = json.loads(raw)
        except ValueError:
            return problem(400, "Malformed request", "The body is not valid JSON."), []
        if not isinstance(payload, dict):
            return problem(422, "Invalid request", "The body must be a JSON object."), []
        return payload, files

    def _new_ticket(self, caller: Caller, payload: dict[str, Any]) -> dict[str, Any]:
        body = payload.get("body") or payload.get("description")
        ticket_id = self.new_id("T")
        stamp = now()
        review_id = payload.get("review_id")
        review = self.reviews.get(review_id) if review_id else None
        ticket = {
            "id": ticket_id,
            "org_id": caller.org_id,
            "subject": payload.get("subject") or body.splitlines()[0][:200],
            "category": payload["category"],
            "severity": payload.get("severity") or "medium",
            "status": "open" if review else "pending_review",
            "properties": payload.get("properties") or {},
            "summary": (review or {}).get("result", {}).get("summary") or body.splitlines()[0][:120],
            "review": {"status": "completed", "review_id": review_id, "result": review["result"]}
            if review
            else {"status": "pending", "review_id": None, "result": None},
            "assignee": None,
            "created_by": {"id": caller.id, "email": caller.email},
            "source": payload.get("source") or "api",
            "created_at": stamp,
            "updated_at": stamp,
            "last_activity_at": stamp,
            "version": 1,
            "messages": [self._message(caller, body, False)],
            "attachments": [],
        }
        self.tickets[ticket_id] = ticket
        return ticket

    def _message(self, caller: Caller, body: str, internal: bool) -> dict[str, Any]:
        kind = "support" if "support" in caller.roles else "user"
        return {
            "id": self.new_id("M"),
            "author": {"id": caller.id, "email": caller.email, "kind": kind},
            "body": body,
            "attachments": [],
            "created_at": now(),
            "internal": internal,
        }

    def _store_files(
        self, ticket: dict[str, Any], message: dict[str, Any], files: list[tuple[str, str, bytes]]
    ) -> None:
        for _, filename, content in files:
            aid = self.new_id("A")
            meta = {
                "id": aid,
                "filename": filename,
                "content_type": "text/plain",
                "size": len(content),
                "status": "available",
                "message_id": message["id"],
                "created_at": now(),
            }
            message["attachments"].append(meta)
            ticket["attachments"].append(meta)
            self.blobs[aid] = content

    def _create(self, request: httpx.Request, body: bytes, caller: Caller) -> httpx.Response:
        payload, files = self._payload(request, body)
        if isinstance(payload, httpx.Response):
            return payload
        unknown = sorted(set(payload) - DRAFT_FIELDS)
        if unknown:
            return problem(
                422,
                "Invalid request",
                "The request body does not match the schema.",
                [{"field": name, "message": "Extra inputs are not permitted"} for name in unknown],
            )
        errors = []
        if payload.get("category") not in CATEGORIES:
            errors.append(
                {"field": "category", "message": "Field required" if "category" not in payload else "Invalid category"}
            )
        if not (payload.get("body") or payload.get("description")):
            errors.append({"field": "body", "message": "Field required"})
        if payload.get("severity") is not None and payload["severity"] not in SEVERITIES:
            errors.append({"field": "severity", "message": "Invalid severity"})
        if errors:
            return problem(422, "Invalid request", "The request body does not match the schema.", errors)
        if payload.get("review_id") and payload["review_id"] not in self.reviews:
            return problem(404, "Not found", f"Review {payload['review_id']} was not found.")
        ticket = self._new_ticket(caller, payload)
        self._store_files(ticket, ticket["messages"][0], files)
        return httpx.Response(
            201,
            json=self._public(ticket, caller, with_messages=False),
            headers={"location": f"/v1/tickets/{ticket['id']}"},
        )

    def _reply(self, ticket_id: str, request: httpx.Request, body: bytes, caller: Caller) -> httpx.Response:
        ticket = self._visible(ticket_id, caller)
        if ticket is None:
            return problem(404, "Not found", f"Ticket {ticket_id} was not found.")
        payload, files = self._payload(request, body)
        if isinstance(payload, httpx.Response):
            return payload
        unknown = sorted(set(payload) - {"body", "internal"})
        if unknown or not payload.get("body"):
            return problem(
                422,
                "Invalid request",
                "The request body does not match the schema.",
                [{"field": n, "message": "Extra inputs are not permitted"} for n in unknown]
                or [{"field": "body", "message": "Field required"}],
            )
        if ticket["status"] == "closed":
            return problem(
                409, "Ticket is closed", f"Ticket {ticket_id} is closed; open a new ticket and reference this one."
            )
        internal = bool(payload.get("internal"))
        if internal and "support" not in caller.roles:
            return problem(403, "Forbidden", "Only support can write internal notes.")
        message = self._message(caller, payload["body"], internal)
        self._store_files(ticket, message, files)
        ticket["messages"].append(message)
        if not internal:
            if "support" in caller.roles:
                ticket["status"] = "waiting_customer"
            elif ticket["status"] in ("waiting_customer", "resolved"):
                ticket["status"] = "in_progress"
        ticket["version"] += 1
        ticket["updated_at"] = ticket["last_activity_at"] = message["created_at"]
        return httpx.Response(201, json=message, headers={"location": f"/v1/tickets/{ticket_id}"})

    def _close(self, ticket_id: str, caller: Caller) -> httpx.Response:
        ticket = self._visible(ticket_id, caller)
        if ticket is None:
            return problem(404, "Not found", f"Ticket {ticket_id} was not found.")
        if ticket["status"] == "closed":
            return problem(
                409, "Ticket is closed", f"Ticket {ticket_id} is closed; open a new ticket and reference this one."
            )
        ticket["status"] = "closed"
        ticket["version"] += 1
        ticket["updated_at"] = now()
        return httpx.Response(200, json={"id": ticket_id, "status": "closed", "closed_at": ticket["updated_at"]})

    def _presign(self, ticket_id: str, body: bytes, caller: Caller) -> httpx.Response:
        ticket = self._visible(ticket_id, caller)
        if ticket is None:
            return problem(404, "Not found", f"Ticket {ticket_id} was not found.")
        spec = json.loads(body)
        aid = self.new_id("A")
        meta = {
            "id": aid,
            "filename": spec["filename"],
            "content_type": spec["content_type"],
            "size": spec["size"],
            "status": "pending_upload",
            "message_id": None,
            "created_at": now(),
        }
        ticket["attachments"].append(meta)
        return httpx.Response(
            201,
            json={
                "attachment_id": aid,
                "upload_url": f"{self.storage_base}/upload",
                "fields": {"key": f"{ticket_id}/{aid}", "policy": "e30=", "x-amz-signature": "fake"},
                "expires_at": now(),
            },
        )

    def _start_review(self, body: bytes, caller: Caller) -> httpx.Response:
        draft = json.loads(body)
        unknown = sorted(set(draft) - {"category", "body", "description", "subject", "severity", "properties"})
        if unknown:
            return problem(
                422,
                "Invalid request",
                "The request body does not match the schema.",
                [{"field": n, "message": "Extra inputs are not permitted"} for n in unknown],
            )
        review_id = self.new_id("R")
        result = self.review_result or {
            "summary": "Node provisioning stuck in fra1",
            "suggested_category": "technical",
            "category_confidence": 0.9,
            "suggested_severity": "high",
            "severity_confidence": 0.7,
            "quality": {"score": 55, "issues": [{"code": "no_error_output", "message": "No error output included."}]},
            "questions": ["Which cluster is affected?"],
            "duplicates": [],
        }
        self.reviews[review_id] = {
            "review_id": review_id,
            "status": "pending",
            "org_id": caller.org_id,
            "draft": draft,
            "result": result,
            "polls": 0,
        }
        return httpx.Response(202, json={"review_id": review_id, "status": "pending"})

    def _get_review(self, review_id: str, caller: Caller) -> httpx.Response:
        review = self.reviews.get(review_id)
        if review is None or review["org_id"] != caller.org_id:
            return problem(404, "Not found", f"Review {review_id} was not found.")
        review["polls"] += 1
        if review["polls"] > self.review_polls_pending:
            review["status"] = "completed"
        out = {"review_id": review_id, "status": review["status"]}
        if review["status"] == "completed":
            out["result"] = review["result"]
        return httpx.Response(200, json=out)

    def _storage(self, request: httpx.Request, body: bytes) -> httpx.Response:
        if "authorization" in request.headers:
            # What S3 does with a presigned URL plus a second credential.
            return httpx.Response(
                400,
                headers={"content-type": "application/xml"},
                content=(
                    b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>"
                ),
            )
        path = request.url.path.removeprefix("/_storage")
        if request.method == "GET" and path.startswith("/obj/"):
            aid = path.removeprefix("/obj/")
            if aid not in self.blobs:
                return httpx.Response(404, content=b"<Error><Message>NoSuchKey</Message></Error>")
            return httpx.Response(
                200,
                content=self.blobs[aid],
                headers={
                    "content-type": "application/octet-stream",
                    "content-disposition": 'attachment; filename="blob.bin"',
                    "x-content-type-options": "nosniff",
                },
            )
        if request.method == "POST" and path == "/upload":
            fields, files = parse_multipart(request.headers.get("content-type", ""), body)
            _, aid = fields["key"].split("/")
            self.blobs[aid] = files[0][2]
            for ticket in self.tickets.values():
                for meta in ticket["attachments"]:
                    if meta["id"] == aid:
                        meta["status"] = "available"
            return httpx.Response(204)
        return httpx.Response(404)


# -- over TCP ----------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(fake: FakeHelpdesk) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1:<free port>; yields the base URL. Storage URLs point back at it (/_storage)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            url = f"http://{self.headers.get('host', '127.0.0.1')}{self.path}"
            request = httpx.Request(self.command, url, headers=list(self.headers.items()), content=body)
            try:
                response = fake.handle(request)
                response.read()
            except httpx.TransportError:
                self.close_connection = True
                return
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fake.storage_base = f"{base}/_storage"
    thread = threading.Thread(target=server.serve_forever, name="fake-helpdesk", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
