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

from helpdesk.api.http import Api, RouteSpec  # noqa: E402
from helpdesk.api.schemas import Problem  # noqa: E402
from local import template  # noqa: E402

REF = "#/components/schemas/{model}"
REASONS = {
    400: "Malformed request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
    412: "Precondition failed (If-Match is stale)", 413: "Payload too large", 415: "Unsupported media type",
    422: "Invalid request", 429: "Too many requests",
}  # fmt: skip


def function_apis() -> dict[str, Api]:
    """Each API function's `api`, loaded from its code folder as Lambda would."""
    apis = {}
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        events = resource["Properties"].get("Events", {}).values()
        if not any(event["Type"] == "HttpApi" for event in events):
            continue
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
            parameters.append(
                {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            )
    if spec.method in {"POST", "PATCH", "DELETE"}:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    if spec.method == "PATCH" and "{ticket_id}" in spec.path:
        parameters.append({"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}})
    op: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary, "parameters": parameters}
    if spec.body is not None:
        content = {"application/json": {"schema": refs[spec.body]}}
        for extra in spec.extra_content_types:
            schema = multipart_schema(spec) if extra == "multipart/form-data" else {"type": "object"}
            content[extra] = {"schema": schema}
        op["requestBody"] = {"required": True, "content": content}
    ok: dict[str, Any] = {"description": "OK" if spec.status < 300 else "Redirect"}
    if 300 <= spec.status < 400:
        ok["headers"] = {"Location": {"description": "Where to go (a short-lived URL)", "schema": {"type": "string"}}}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": refs[spec.response]}}
    responses = {str(spec.status): ok}
    for status in (*spec.errors, 429):
        responses[str(status)] = {
            "description": REASONS.get(status, "Error"),
            "content": {"application/problem+json": {"schema": refs[Problem]}},
        }
    op["responses"] = responses
    return op


def multipart_schema(spec: RouteSpec) -> dict[str, Any]:
    """The form a multipart route takes: its JSON body in a `payload` field (unless files only) and
    up to 3 `attachments` files (helpdesk.multipart)."""
    from helpdesk.api.multipart import FILES_FIELD, MAX_FILES, PAYLOAD_FIELD

    files = {"type": "array", "maxItems": MAX_FILES, "items": {"type": "string", "format": "binary"}}
    if not spec.multipart_payload:
        return {"type": "object", "properties": {FILES_FIELD: files}, "required": [FILES_FIELD]}
    payload = {"type": "string", "contentMediaType": "application/json", "description": "the JSON body"}
    return {"type": "object", "properties": {PAYLOAD_FIELD: payload, FILES_FIELD: files}, "required": [PAYLOAD_FIELD]}


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True))
