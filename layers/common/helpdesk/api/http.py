"""HTTP plumbing shared by every API function: one-route handlers over API Gateway payload v2.0,
typed bodies, problem+json, ETags and Idempotency-Key handling.

A handler declares its route once with `route(api, RouteSpec(...))`; the same declaration drives
dispatch (by the event's routeKey), body validation and the OpenAPI document (scripts/openapi.py).

Why not Powertools' APIGatewayHttpResolver: importing `aws_lambda_powertools.event_handler` imports
every resolver (AppSync brings asyncio) and all event data classes, a large share of the cold start
`make bench` measures, for a function that serves one route. Logger, Metrics, Tracer and
idempotency stay Powertools'."""

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from helpdesk.api import problems
from helpdesk.api.auth import caller_from_event, headers
from helpdesk.domain.errors import (
    HelpdeskError,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import Ticket
from helpdesk.observability import instrumented, logger

MULTIPART = "multipart/form-data"
MAX_JSON_BYTES = 1024 * 1024  # 50,000 emoji \u-escaped (surrogate pairs) are ~600 KB
# Lambda takes at most 6 MB per synchronous request (body, headers and context together); API Gateway
# answers a larger one with a bare 413 that no handler sees. A multipart body from 5.5 MB (about 4 MB
# of files once base64-encoded; the CLI sends up to 4 MB inline) gets our own 413 that points to the
# presigned upload, checked before parsing: the band where a handler can still say so.
MAX_INLINE_BODY = 5632 * 1024

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


@dataclass(frozen=True)
class RouteSpec:
    """One route as the template and the OpenAPI document know it."""

    method: str
    path: str
    summary: str
    operation_id: str
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    extra_content_types: tuple[str, ...] = ()  # MULTIPART: `body` from its JSON `payload` field, plus `files=`
    multipart_payload: bool = True  # False: a multipart body carries files only (`body=None`)
    conditional: bool = False  # answers If-None-Match with 304 (the response carries an ETag)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Response:
    status: int
    body: str | bytes = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        headers = {"Content-Type": self.content_type, **self.headers} if self.body != "" else dict(self.headers)
        if isinstance(self.body, bytes):
            body, encoded = base64.b64encode(self.body).decode(), True
        else:
            body, encoded = self.body, False
        return {"statusCode": self.status, "headers": headers, "body": body, "isBase64Encoded": encoded}


@dataclass
class Request:
    """The parts of an HTTP API (payload v2.0) event a handler reads."""

    event: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return headers(self.event)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.event.get("queryStringParameters") or {})

    @property
    def path_parameters(self) -> dict[str, str]:
        return dict(self.event.get("pathParameters") or {})

    def body_bytes(self) -> bytes:
        body = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            try:
                return base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedRequest("The body is not valid base64.") from exc
        return body.encode()


@dataclass
class Api:
    """The route(s) one function serves, and the request being handled."""

    routes: dict[str, tuple[RouteSpec, Callable[..., Response]]] = field(default_factory=dict)
    request: Request = field(default_factory=lambda: Request({}))

    def caller(self) -> Caller:
        return caller_from_event(self.request.event)

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name.lower())

    def resolve(self, event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
        self.request = Request(event)
        try:
            return self._dispatch(event).to_event()
        except HelpdeskError as exc:
            status, title = problems.status_of(exc)
            answer = problem(status, title, exc.detail, exc.errors)
            if isinstance(exc, problems.RETRYABLE):
                answer.headers["Retry-After"] = str(problems.RETRY_AFTER_SECONDS)
            return answer.to_event()
        except ValidationError as exc:
            detail = "The request does not match the schema."
            return problem(422, "Invalid request", detail, field_errors(exc)).to_event()
        except Exception:  # a bug, or AWS failing: our problem+json, never API Gateway's bare 500
            request_id = event.get("requestContext", {}).get("requestId", "")
            logger.exception("Unhandled error", extra={"route": event.get("routeKey"), "request_id": request_id})
            body = problems.body(
                500,
                "Internal error",
                "The request failed on our side; nothing may have been changed. Retry, and quote the "
                "correlation id to support if it keeps failing.",
                correlation_id=request_id,
            )
            return Response(500, body, problems.PROBLEM_JSON, {"Retry-After": "1"}).to_event()

    def _dispatch(self, event: dict[str, Any]) -> Response:
        declared = self.routes.get(event.get("routeKey", ""))
        if declared is None:
            return problem(404, "Not found", "No such route.")
        spec, endpoint = declared
        arguments: dict[str, Any] = dict(self.request.path_parameters)
        if spec.body is not None and MULTIPART in spec.extra_content_types and content_type(self.request) == MULTIPART:
            arguments |= multipart_arguments(self.request, spec)
        elif spec.body is not None:
            arguments["body"] = json_body(self.request, spec.body)
        if spec.query is not None:
            arguments["query"] = spec.query.model_validate(self.request.query)
        elif self.request.query:
            raise InvalidRequest.unknown_query(sorted(self.request.query))
        return endpoint(**arguments)


def make_api() -> Api:
    return Api()


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> Response:
    return Response(status, problems.body(status, title, detail, errors), problems.PROBLEM_JSON)


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def json_response(status: int, model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    return Response(status, model.model_dump_json(), headers=headers or {})


def etag(ticket: Ticket, caller: Caller) -> str:
    """The ticket's ETag for this caller: its `version` (every change its customers can see), and for
    the support team also its `staff_version` (internal notes and internal changes too)."""
    return f'"{ticket.version}.{ticket.staff_version}"' if caller.is_support else f'"{ticket.version}"'


# The ETags this API hands out, weak or bare, or `*`: the OpenAPI document says the same.
IF_MATCH = r'^(\*|(W/)?"[0-9]{1,18}(\.[0-9]{1,18})?"|[0-9]{1,18}(\.[0-9]{1,18})?)$'


def if_match_version(api: Api) -> tuple[int, int | None] | None:
    """The version (and staff version) an If-Match header pins; None when absent or `*`; a malformed
    value is a 400."""
    value = api.header("if-match")
    if value is None:
        return None
    value = value.strip()
    if not re.fullmatch(IF_MATCH, value):
        raise MalformedRequest('If-Match must be an ETag returned by this API, e.g. "3" (or *).')
    if value == "*":
        return None
    version, _, staff = value.removeprefix("W/").strip('"').partition(".")
    return int(version), int(staff) if staff else None


def not_modified(api: Api, tag: str) -> Response | None:
    """304 when the caller's If-None-Match names the ETag it would get (RFC 9110: weak comparison)."""
    header = api.header("if-none-match")
    if header is None:
        return None
    if not header.strip():
        raise MalformedRequest('If-None-Match must name ETags returned by this API, e.g. "3" (or *).')
    tags = {part.strip().removeprefix("W/") for part in header.split(",")}
    return Response(304, headers={"ETag": tag}) if "*" in tags or tag in tags else None


def content_type(request: Request) -> str:
    return (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()


def json_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The request body validated against `model` (strict, no unknown fields)."""
    kind = content_type(request)
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"Send the body as application/json, not {kind}.")
    raw = request.body_bytes()
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES} bytes.")
    if not raw.strip():
        raise MalformedRequest("The request needs a JSON body.")
    return _validated(raw, model, "The body")


def _validated(raw: bytes, model: type[BaseModel], what: str) -> BaseModel:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise MalformedRequest(f"{what} is not valid JSON (UTF-8).") from exc
        raise


def multipart_arguments(request: Request, spec: RouteSpec) -> dict[str, Any]:
    """`body` (the JSON `payload` field, validated against the route's model) and `files`, from a
    multipart/form-data body; the body's size is checked first, so an oversized request is a 413
    that points to the presigned upload, not a parse."""
    body = request.event.get("body") or ""
    if len(body) > MAX_INLINE_BODY:
        raise PayloadTooLarge(
            f"The request is larger than the {MAX_INLINE_BODY / (1024 * 1024):g} MB an API request may carry "
            "(about 4 MB of files; requests over 6 MB never reach the API). Send larger files through a "
            "presigned upload: POST /v1/tickets/{ticket_id}/attachments with JSON "
            "{filename, content_type, size} (up to 10 MB per file)."
        )
    from helpdesk.api.multipart import FILES_FIELD, PAYLOAD_FIELD, parse_multipart

    form = parse_multipart(
        body,
        bool(request.event.get("isBase64Encoded")),
        request.headers.get("content-type", ""),
        require_payload=spec.multipart_payload,
    )
    if form.payload is not None and not spec.multipart_payload:
        raise InvalidRequest(
            f"This multipart body takes '{FILES_FIELD}' files only, no '{PAYLOAD_FIELD}' field.",
            [{"field": PAYLOAD_FIELD, "message": "unknown field"}],
        )
    payload = None
    if form.payload is not None and spec.body is not None:
        raw = form.payload.encode()
        if len(raw) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"The '{PAYLOAD_FIELD}' field may be at most {MAX_JSON_BYTES} bytes.")
        payload = _validated(raw, spec.body, f"The '{PAYLOAD_FIELD}' field")
    return {"body": payload, "files": form.files}


def route(
    api: Api, spec: RouteSpec, *aliases: RouteSpec
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register `fn` for `spec` (and alias routes). `fn` receives the path parameters, plus
    `body=` and `query=` models when the route declares them."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        for declared in (spec, *aliases):
            api.routes[declared.route_key] = (declared, fn)
        return fn

    return register


def lambda_handler_for(api: Api, *, idempotent: bool = False) -> Handler:
    """The Lambda entry point: correlation ids, tracing, metrics, and (for writes) Idempotency-Key."""
    resolve: Handler = api.resolve
    if idempotent:
        from helpdesk.api.idempotency import idempotent_resolve

        resolve = idempotent_resolve(api.resolve)

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return resolve(event, context)

    return instrumented(lambda_handler, correlation_paths.API_GATEWAY_HTTP)
