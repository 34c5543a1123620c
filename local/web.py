"""The web support center on the local stack (SPEC §8: "the web support center at `/`").

- `GET /config.json`: the app's runtime configuration: the API is this gateway (same origin),
  sign-in is `local`, the support role is the stack's `SupportRoleName` (default `support`).
- `GET /_local/tenants`: the demo tenants with freshly minted tokens, for the app's sign-in page.
  Local only: nothing like it exists in the template.
- Every other GET/HEAD that no API route serves: a file of `web/dist` (the built app), or its
  `index.html` for any path without a file extension (the SPA's client-side routes), with the
  security headers CloudFront adds in AWS (a Content-Security-Policy whose connect-src is this
  origin and the local AWS endpoint, where presigned uploads go) and gzip for text.

`make run` builds `web/dist` when it is missing or older than the web sources (`make web`)."""

from __future__ import annotations

import gzip
import json
import mimetypes
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local import config, template
from local.gateway import HttpRequest, HttpResponse, message
from local.template import ROOT

if TYPE_CHECKING:
    from local.gateway import Gateway
    from local.stack import LocalStack

DIST = Path(os.environ.get("HELPDESK_WEB_DIST") or ROOT / "web" / "dist").resolve()
API_PREFIXES = ("/v1/", "/_local/")
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/manifest+json")
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def security_headers(aws_endpoint: str) -> list[tuple[str, str]]:
    """The headers of the template's WebSecurityHeaders policy, with the local origins."""
    connect = " ".join(part for part in ("'self'", aws_endpoint) if part)
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


class WebApp:
    def __init__(self, stack: LocalStack, dist: Path = DIST) -> None:
        self.stack = stack
        self.dist = dist
        self._cache: dict[tuple[Path, float], tuple[bytes, bytes | None]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ endpoints

    def config_json(self, request: HttpRequest) -> HttpResponse:
        host = request.header("host") or f"{self.stack.host}:{self.stack.port}"
        document = {
            "apiUrl": f"http://{host}",
            "auth": "local",
            "supportRole": self.stack.parameters.get("SupportRoleName") or _default("SupportRoleName") or "support",
        }
        return _json(200, document, [("Cache-Control", "no-cache")])

    def tenants(self, _: HttpRequest) -> HttpResponse:
        tokens = self.stack._mint_tokens()  # fresh ones: a long-running stack's printed tokens expire
        document = [
            {
                "key": user.key,
                "email": user.email,
                "org": user.org,
                "roles": list(user.roles),
                "token": tokens[user.key],
            }
            for user in config.DEMO_USERS
        ]
        return _json(200, document, [("Cache-Control", "no-store")])

    def static(self, request: HttpRequest) -> HttpResponse | None:
        """A file of the built app, index.html for a client-side route; None for what is not ours."""
        if request.method not in ("GET", "HEAD") or request.raw_path.startswith(API_PREFIXES):
            return None
        if request.raw_path == "/v1":
            return None
        headers = security_headers(getattr(self.stack, "aws_url", ""))
        index = self.dist / "index.html"
        if not index.is_file():
            return HttpResponse(
                503,
                [("Content-Type", "text/plain; charset=utf-8"), *headers],
                b"The web app is not built: run `make web` (make run does it for you).\n",
            )
        relative = request.raw_path.lstrip("/")
        path = (self.dist / relative).resolve()
        if relative and path.is_file() and path.is_relative_to(self.dist):
            cache = "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"
        elif "." in relative.rsplit("/", 1)[-1]:
            return message(404, "Not Found", headers)  # a missing file is not a page
        else:
            path, cache = index, "no-cache"
        kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        raw, packed = self._read(path, kind)
        body = raw
        extra = [
            ("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else "")),
            ("Cache-Control", cache),
        ]
        if packed is not None:
            extra.append(("Vary", "Accept-Encoding"))
            if "gzip" in (request.header("accept-encoding") or ""):
                body = packed
                extra.append(("Content-Encoding", "gzip"))
        return HttpResponse(200, [*extra, *headers], body)

    def _read(self, path: Path, kind: str) -> tuple[bytes, bytes | None]:
        key = (path, path.stat().st_mtime)
        with self._lock:
            if key not in self._cache:
                raw = path.read_bytes()
                packed = gzip.compress(raw, 6) if kind.startswith(COMPRESSIBLE) and len(raw) > 512 else None
                self._cache[key] = (raw, packed)
            return self._cache[key]


def _default(parameter: str) -> str | None:
    """A template parameter's default."""
    value = template.load().get("Parameters", {}).get(parameter, {}).get("Default")
    return None if value is None else str(value)


def _json(status: int, document: Any, extra: list[tuple[str, str]]) -> HttpResponse:
    body = json.dumps(document, indent=1).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *extra], body)


def install(gateway: Gateway, stack: LocalStack) -> WebApp:
    """Serve the web app on the gateway: /config.json, /_local/tenants, and the static fallback."""
    app = WebApp(stack)
    gateway.local[("GET", "/config.json")] = app.config_json
    gateway.local[("GET", "/_local/tenants")] = app.tenants
    gateway.fallback = app.static
    return app
