"""Every request no route takes (the HTTP API's `$default` route): 405 with `Allow` when the path is
one of the API's resources and only the method is wrong, else 404; problem+json either way, after
the JWT authorizer like every route (an anonymous caller learns nothing of the route map).

routes.json, the API's paths and their methods, is written from openapi.json by `make openapi`."""

import json
import re
from pathlib import Path
from typing import Any

from helpdesk.api import problems

ROUTES: dict[str, list[str]] = json.loads((Path(__file__).with_name("routes.json")).read_text())
PATTERNS = [
    (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path.count("{"), methods)
    for path, methods in ROUTES.items()
]


def allowed_methods(path: str) -> list[str]:
    """The methods of the resource the path names: of the most specific template it fits, as API
    Gateway and the OpenAPI document see it (/v1/tickets/review is that resource, not a ticket id)."""
    fits = [(parameters, methods) for pattern, parameters, methods in PATTERNS if pattern.match(path)]
    if not fits:
        return []
    fewest = min(parameters for parameters, _ in fits)
    return sorted({method for parameters, methods in fits if parameters == fewest for method in methods})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = str(event.get("rawPath", ""))
    method = str(event.get("requestContext", {}).get("http", {}).get("method", ""))
    allowed = allowed_methods(path)
    if not allowed:
        return problems.response(404, "Not found", f"No such resource: {path}")
    answer = problems.response(405, "Method not allowed", f"{method} is not allowed here; use {', '.join(allowed)}")
    answer["headers"]["Allow"] = ", ".join(allowed)
    return answer
