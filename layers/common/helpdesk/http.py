"""HTTP plumbing shared by every API function: one-route resolvers, typed bodies, problem+json,
ETags and Idempotency-Key handling. Handlers declare a route once with `route(...)`; the same
declaration drives routing, body validation and the OpenAPI document (scripts/openapi.py)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from helpdesk.auth import Caller, caller_from_event
from helpdesk.errors import HelpdeskError, MalformedRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from helpdesk.observability import logger, metrics, tracer

PROBLEM_JSON = "application/problem+json"
MAX_JSON_BYTES = 256 * 1024

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
    response: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    extra_content_types: tuple[str, ...] = ()


@dataclass
class Api:
    """A one-route Powertools resolver plus the declarations of the routes it serves."""

    resolver: APIGatewayHttpResolver
    routes: list[RouteSpec] = field(default_factory=list)

    @property
    def event(self) -> dict[str, Any]:
        return self.resolver.current_event.raw_event

    def caller(self) -> Caller:
        return caller_from_event(self.event)

    def header(self, name: str) -> str | None:
        return self.resolver.current_event.headers.get(name.lower())


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None) -> Response:
    payload: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        payload["errors"] = errors
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(payload))


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def make_api() -> Api:
    resolver = APIGatewayHttpResolver()

    @resolver.exception_handler(HelpdeskError)
    def _domain_error(exc: HelpdeskError) -> Response:
        return problem(exc.status, exc.title, exc.detail, exc.errors)

    @resolver.exception_handler(ValidationError)
    def _invalid_body(exc: ValidationError) -> Response:
        return problem(422, "Invalid request", "The request body does not match the schema.", field_errors(exc))

    @resolver.not_found
    def _no_route(exc: Exception) -> Response:
        return problem(404, "Not found", "No such route.")

    return Api(resolver=resolver)


def json_response(status: int, model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(),
        headers=headers or {},
    )


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(api: Api) -> int | None:
    """The version an If-Match header pins, None when absent or `*`; a malformed value is a 400."""
    value = api.header("if-match")
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise MalformedRequest("If-Match must be an ETag returned by this API, e.g. \"3\".")
    return int(tag)


def json_body(api: Api, model: type[BaseModel]) -> BaseModel:
    """The request body validated against `model` (strict, no unknown fields)."""
    current = api.resolver.current_event
    content_type = (current.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type}.")
    raw = current.decoded_body if current.body is not None else ""
    if len(raw.encode()) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"A JSON body may be at most {MAX_JSON_BYTES} bytes.")
    if not raw.strip():
        raise MalformedRequest("The request needs a JSON body.")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise MalformedRequest("The body is not valid JSON.") from exc
        raise


def route(api: Api, spec: RouteSpec, *aliases: RouteSpec) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register `fn` for `spec` (and alias routes). `fn` receives the path parameters and, when
    the route declares a body model, `body=<validated model>`."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        def endpoint(**path_params: str) -> Response:
            if spec.body is not None:
                return fn(**path_params, body=json_body(api, spec.body))
            return fn(**path_params)

        for declared in (spec, *aliases):
            api.routes.append(declared)
            api.resolver.route(declared.path.replace("{", "<").replace("}", ">"), declared.method)(endpoint)
        return fn

    return register


def lambda_handler_for(api: Api, *, idempotent: bool = False) -> Handler:
    """The Lambda entry point: correlation ids, tracing, metrics, and (for writes) Idempotency-Key."""
    resolve: Handler = api.resolver.resolve
    if idempotent:
        from helpdesk.idempotency import idempotent_resolve

        resolve = idempotent_resolve(api.resolver.resolve)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return resolve(event, context)

    return lambda_handler


__all__ = ["Api", "NotFound", "RouteSpec", "etag", "json_response", "lambda_handler_for", "make_api", "route"]
