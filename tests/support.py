"""Test helpers: sample events from events/, handlers loaded the way Lambda loads them."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

ACME_USER = {"sub": "u-acme-user", "email": "user@acme.test", "org_id": "acme", "roles": "[member]"}
ACME_ADMIN = {"sub": "u-acme-admin", "email": "admin@acme.test", "org_id": "acme", "roles": "[admin]"}
GLOBEX_USER = {"sub": "u-globex-user", "email": "user@globex.test", "org_id": "globex", "roles": "[member]"}
SUPPORT = {"sub": "u-support", "email": "agent@helpdesk.test", "org_id": "helpdesk", "roles": "[support]"}


class LambdaContext:
    function_name = "helpdesk-test"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:helpdesk-test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py as its own module (every function's module is called `app`)."""
    module_name = f"function_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    module.lambda_handler = _as_function(name, module.lambda_handler)
    return module


def _as_function(name: str, handler: Any) -> Any:
    """The handler, its AWS calls checked against the function's role (tests.iam)."""
    from tests import iam

    def handle(event: Any, context: Any) -> Any:
        with iam.as_function(name):
            return handler(event, context)

    return handle


def token_for(claims: dict[str, Any]) -> str:
    """A bearer token whose payload holds `claims` with their JSON types, as the one API Gateway's
    authorizer verified (its signature is not checked again by the functions)."""

    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.c2lnbmF0dXJl"


def flattened(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to a function: every value a string."""
    from local.authorizer import flatten_claims

    return flatten_claims(claims)


def event(
    name: str,
    *,
    claims: dict[str, Any] | None = None,
    path: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
    route_path: str | None = None,
) -> dict[str, Any]:
    """The sample event events/<name>.json, adjusted."""
    sample = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    if claims is not None:
        sample["requestContext"]["authorizer"]["jwt"]["claims"] = flattened(claims)
        sample["headers"]["authorization"] = f"Bearer {token_for(claims)}"
    if path is not None:
        sample["pathParameters"] = dict(path)
        raw_path = sample["routeKey"].split(" ", 1)[1]
        for key, value in path.items():
            raw_path = raw_path.replace("{" + key + "}", value)
        sample["rawPath"] = sample["requestContext"]["http"]["path"] = raw_path
    if method is not None and route_path is not None:
        sample["routeKey"] = f"{method} {route_path}"
        sample["requestContext"]["http"]["method"] = method
        raw_path = route_path
        for key, value in (path or sample.get("pathParameters") or {}).items():
            raw_path = raw_path.replace("{" + key + "}", value)
        sample["rawPath"] = sample["requestContext"]["http"]["path"] = raw_path
    if body is not None:
        sample["body"] = json.dumps(body)
        sample["isBase64Encoded"] = False
    if raw_body is not None:
        sample["body"] = raw_body
        sample["isBase64Encoded"] = False
    if query is not None:
        sample["queryStringParameters"] = dict(query)
        sample["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers is not None:
        sample["headers"] = {**sample["headers"], **{k.lower(): v for k, v in headers.items()}}
    return sample


def invoke(name: str, sample: dict[str, Any]) -> Response:
    response = load_function(name).lambda_handler(sample, LambdaContext())
    return Response(response)


class Response:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        body = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        self.text = body

    def json(self) -> Any:
        return json.loads(self.text)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.text[:300]}>"
