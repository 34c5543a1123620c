"""Print the OpenAPI 3.1 document of the whole API, generated from the functions' own route
declarations (`route(api, RouteSpec(...))` in functions/*/app.py). `make openapi` writes it to
openapi.json; tests/infrastructure checks the checked-in copy is current."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers/common"), str(ROOT)]
for name, value in {
    "TABLE_NAME": "openapi",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ.setdefault(name, value)

from pydantic import BaseModel  # noqa: E402
from pydantic.json_schema import models_json_schema  # noqa: E402

from helpdesk.api.http import IF_MATCH, Api, RouteSpec  # noqa: E402
from helpdesk.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH  # noqa: E402
from helpdesk.api.schemas import Problem  # noqa: E402
from local import template  # noqa: E402

REF = "#/components/schemas/{model}"
REASONS = {
    400: "Malformed request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
    412: "Precondition failed (If-Match is stale)", 413: "Payload too large", 415: "Unsupported media type",
    422: "Invalid request", 429: "Too many requests", 500: "Internal error (problem+json with a correlation id)",
    503: "Service busy, retry (Retry-After)",
}  # fmt: skip


def function_apis() -> dict[str, Api]:
    """Each API function's `api`, loaded from its code folder as Lambda would."""
    apis = {}
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        events = resource["Properties"].get("Events", {}).values()
        if not any(event["Type"] == "HttpApi" and "Path" in event["Properties"] for event in events):
            continue  # not an API function, or the `$default` route's
        path = ROOT / resource["Properties"]["CodeUri"] / "app.py"
        spec = importlib.util.spec_from_file_location(f"openapi_{logical_id}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        apis[logical_id] = module.api
    return apis


def document() -> dict[str, Any]:
    routes: list[RouteSpec] = [spec for api in function_apis().values() for spec, _ in api.routes.values()]
    models: set[type[BaseModel]] = {Problem}
    for spec in routes:
        models |= {model for model in (spec.body, spec.response) if model is not None}
    keyed, definitions = models_json_schema(
        [(model, "validation" if model in {r.body for r in routes} else "serialization") for model in models],
        ref_template=REF,
    )
    refs: dict[type[BaseModel], dict[str, Any]] = {model: keyed[(model, mode)] for model, mode in keyed}  # type: ignore[misc]
    schemas = definitions.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for spec in sorted(routes, key=lambda r: (r.path, r.method)):
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation(spec, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Helpdesk API", "version": "1.0.0", "description": "Support tickets (SPEC section 4)."},
        "servers": [{"url": "https://{api}.execute-api.{region}.amazonaws.com", "variables": {
            "api": {"default": "api"}, "region": {"default": "eu-west-1"}}}],
        "security": [{"jwt": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }  # fmt: skip


def operation(spec: RouteSpec, refs: dict[type[BaseModel], dict[str, Any]], schemas: dict[str, Any]) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    if spec.query is not None:
        schema = spec.query.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        for name, prop in schema.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            if "x-opaque-token" in prop:  # the server alone can make a valid one: any other value is 400
                parameter["description"] = prop.get("description", "")
            parameters.append(parameter)
    if spec.method in {"POST", "PATCH", "DELETE"}:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "A retry with the same key replays the first answer (kept 24 h; per org and user).",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
            }
        )
    if spec.method == "PATCH" and "{ticket_id}" in spec.path:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of the ticket as read; a stale one is 412.",
                "schema": {"type": "string", "pattern": IF_MATCH},
            }
        )
    if spec.conditional:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag read before: 304 while nothing this caller can see has changed.",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    op: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary, "parameters": parameters}
    if spec.body is not None:
        content: dict[str, Any] = {"application/json": {"schema": refs[spec.body]}}
        for extra in spec.extra_content_types:
            content[extra] = multipart_content(spec, refs) if extra == "multipart/form-data" else {"schema": {}}
        op["requestBody"] = {"required": True, "content": content}
    ok: dict[str, Any] = {"description": "OK" if spec.status < 300 else "Redirect"}
    if 300 <= spec.status < 400:
        ok["headers"] = {"Location": {"description": "Where to go (a short-lived URL)", "schema": {"type": "string"}}}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": refs[spec.response]}}
    if spec.conditional:
        ok["headers"] = {
            "ETag": {"description": "The ticket's version as this caller sees it", "schema": {"type": "string"}}
        }
    responses = {str(spec.status): ok}
    if spec.conditional:
        responses["304"] = {"description": "Not modified (If-None-Match named the current ETag)"}
    for status in sorted({*spec.errors, 400, 422, 429, 500, 503}):
        responses[str(status)] = {
            "description": REASONS.get(status, "Error"),
            "content": {"application/problem+json": {"schema": refs[Problem]}},
        }
    # API Gateway answers these itself, before any function runs: its own JSON, not problem+json.
    for status in (401, 413, 429):
        responses[str(status)] = {
            "description": REASONS[status] + " (from API Gateway, before the function runs)",
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
                },
                **responses.get(str(status), {}).get("content", {}),
            },
            **({"headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}} if status == 401 else {}),
        }
    op["responses"] = responses
    return op


def multipart_content(spec: RouteSpec, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    """The form a multipart route takes: its JSON body in a `payload` part (unless files only) and up
    to 3 `attachments` files of the types the content check allows (helpdesk.api.multipart)."""
    from helpdesk.api.multipart import FILES_FIELD, MAX_FILES, PAYLOAD_FIELD
    from helpdesk.tickets.content import ALLOWED_CONTENT_TYPES

    files = {"type": "array", "minItems": 1, "maxItems": MAX_FILES, "items": {"type": "string", "format": "binary"}}
    encoding = {FILES_FIELD: {"contentType": ", ".join(sorted(ALLOWED_CONTENT_TYPES))}}
    schema: dict[str, Any]
    if not spec.multipart_payload:
        schema = {"type": "object", "properties": {FILES_FIELD: files}, "required": [FILES_FIELD]}
    else:
        assert spec.body is not None
        schema = {
            "type": "object",
            "properties": {PAYLOAD_FIELD: refs[spec.body], FILES_FIELD: {**files, "minItems": 0}},
            "required": [PAYLOAD_FIELD],
        }
        encoding[PAYLOAD_FIELD] = {"contentType": "application/json"}
    schema["additionalProperties"] = False
    return {"schema": schema, "encoding": encoding}


def routes(openapi: dict[str, Any]) -> dict[str, list[str]]:
    """Each path and its methods: what the `$default` route's function answers 405 with (`--routes`)."""
    return {path: sorted(method.upper() for method in operations) for path, operations in openapi["paths"].items()}


if __name__ == "__main__":
    if sys.argv[1:] == ["--routes"]:
        print(json.dumps(routes(json.loads((ROOT / "openapi.json").read_text())), indent=2, sort_keys=True))
    else:
        print(json.dumps(document(), indent=2, sort_keys=True))
