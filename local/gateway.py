"""The HTTP API on loopback: the template's HttpApi routes, its JWT authorizer and CORS
configuration, and payload format 2.0 events and responses as API Gateway builds and reads them.

Routes come from the functions' `HttpApi` events (no second list): the most specific route wins
(literal segments over `{param}`, `{param+}` last, `$default` after all); an unmatched request is
404 `{"message":"Not Found"}` and a failed authorizer check 401 `{"message":"Unauthorized"}`, as
in API Gateway. `/_local/*` belongs to the local stack (health, sent mail, key set, routes)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from local import config, template
from local.authorizer import Denied, JwtAuthorizer, flatten_claims
from local.functions import FunctionSpec
from local.runtime import MAX_SYNC_PAYLOAD, Runtime

log = logging.getLogger("local.gateway")

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API's payload limit
MAX_HEADER_BYTES = 10240  # HTTP API's limit on the request line and header values together
TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/x-yaml", "application/yaml")
HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "date"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------------- routes


@dataclass
class Cors:
    allow_origins: list[str]
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: int | None
    allow_credentials: bool

    def allows(self, origin: str) -> bool:
        for allowed in self.allow_origins:
            if allowed == "*" or allowed.lower() == origin.lower():
                return True
            if "*" in allowed and re.fullmatch(re.escape(allowed).replace(r"\*", "[^/]+"), origin, re.IGNORECASE):
                return True
        return False

    def origin_header(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins and not self.allow_credentials else origin


@dataclass
class Route:
    api: str  # logical id of the HttpApi
    method: str  # GET, POST, … or ANY
    path: str  # as the template writes it, e.g. /v1/tickets/{ticket_id}; "$default" for the catch-all
    function: str  # logical id
    authorizer: JwtAuthorizer | None
    scopes: list[str]
    cors: Cors | None
    params: list[str] = field(default_factory=list)
    pattern: re.Pattern[str] | None = None

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def rank(self) -> tuple[int, int, int]:
        """Sort key, most specific first."""
        if self.path == "$default":
            return (0, 0, 0)
        segments = self.path.strip("/").split("/")
        literal = sum(1 for segment in segments if not segment.startswith("{"))
        greedy = any(segment.endswith("+}") for segment in segments)
        return (1 if greedy else 2, literal, len(segments) * (0 if self.method == "ANY" else 1))

    def compile(self) -> Route:
        if self.path != "$default":
            parts = []
            for segment in self.path.strip("/").split("/"):
                if segment.startswith("{") and segment.endswith("+}"):
                    self.params.append(segment[1:-2])
                    parts.append("(.+)")
                elif segment.startswith("{") and segment.endswith("}"):
                    self.params.append(segment[1:-1])
                    parts.append("([^/]+)")
                else:
                    parts.append(re.escape(segment))
            self.pattern = re.compile("/" + "/".join(parts))
        return self

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        if self.pattern is None:  # $default
            return {}
        found = self.pattern.fullmatch(raw_path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in zip(self.params, found.groups(), strict=True)}


def routes_from_template(
    specs: dict[str, FunctionSpec], stack: template.Stack, parameters: dict[str, str], key_set: dict[str, Any]
) -> list[Route]:
    """Every HttpApi event of every function, with its API's authorizer and CORS settings."""
    doc = template.load()
    apis = dict(template.resources("AWS::Serverless::HttpApi"))
    implicit = {"Properties": doc.get("Globals", {}).get("HttpApi", {})}
    routes: list[Route] = []
    for logical_id, spec in specs.items():
        for event_name, event in spec.events_of("HttpApi").items():
            props = event.get("Properties") or {}
            api_ref = props.get("ApiId", {}).get("Ref") if isinstance(props.get("ApiId"), dict) else None
            api_id = api_ref or "ServerlessHttpApi"
            api = apis.get(api_ref, implicit) if api_ref else implicit
            api_props = api.get("Properties", {})
            version = str(props.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                log.warning(
                    "%s.%s asks for payload format %s; the local gateway sends 2.0", logical_id, event_name, version
                )
            auth = props.get("Auth") or {}
            authorizer_name = auth.get("Authorizer", api_props.get("Auth", {}).get("DefaultAuthorizer"))
            authorizer = None
            if authorizer_name and authorizer_name != "NONE":
                authorizer = _authorizer(
                    api_props, authorizer_name, stack, parameters, key_set, f"{logical_id}.{event_name}"
                )
            method = str(props.get("Method", "ANY")).upper()
            path = str(props.get("Path", "$default"))
            if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                method = "ANY"
            routes.append(
                Route(
                    api=api_id,
                    method=method,
                    path=path,
                    function=logical_id,
                    authorizer=authorizer,
                    scopes=list(auth.get("AuthorizationScopes", [])),
                    cors=_cors(api_props.get("CorsConfiguration"), stack, parameters),
                ).compile()
            )
    keys = [route.key for route in routes]
    for duplicate in sorted({key for key in keys if keys.count(key) > 1}):
        log.warning("route %s is declared more than once; the first declaration serves it", duplicate)
    return sorted(routes, key=lambda route: route.rank, reverse=True)


def _authorizer(
    api_props: dict[str, Any],
    name: str,
    stack: template.Stack,
    parameters: dict[str, str],
    key_set: dict[str, Any],
    where: str,
) -> JwtAuthorizer | None:
    definition = api_props.get("Auth", {}).get("Authorizers", {}).get(name)
    if not definition or "JwtConfiguration" not in definition:
        log.warning("%s: authorizer %s is not a JWT authorizer; the local gateway lets no request through", where, name)
        return JwtAuthorizer(issuer="\0", audiences=[], key_set=key_set)
    jwt_config = definition["JwtConfiguration"]
    issuer = template.resolve(jwt_config.get("issuer", ""), stack, parameters)
    audience = jwt_config.get("audience", [])
    audiences = [
        template.resolve(item, stack, parameters) for item in (audience if isinstance(audience, list) else [audience])
    ]
    audiences = [part.strip() for item in audiences for part in item.split(",") if part.strip()]
    source = definition.get("IdentitySource", "$request.header.Authorization")
    return JwtAuthorizer(issuer=issuer, audiences=audiences, key_set=key_set, identity_source=source)


def _cors(value: Any, stack: template.Stack, parameters: dict[str, str]) -> Cors | None:
    if not value:
        return None
    if value is True:
        value = {"AllowOrigins": ["*"], "AllowHeaders": ["*"], "AllowMethods": ["*"]}

    def strings(name: str) -> list[str]:
        items = value.get(name, [])
        return [template.resolve(item, stack, parameters) for item in (items if isinstance(items, list) else [items])]

    max_age = value.get("MaxAge")
    return Cors(
        allow_origins=strings("AllowOrigins"),
        allow_methods=[method.upper() for method in strings("AllowMethods")],
        allow_headers=[header.lower() for header in strings("AllowHeaders")],
        expose_headers=[header.lower() for header in strings("ExposeHeaders")],
        max_age=int(template.resolve(max_age, stack, parameters)) if max_age is not None else None,
        allow_credentials=bool(value.get("AllowCredentials", False)),
    )


# ---------------------------------------------------------------------------------- events


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query as sent
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name]
        return ",".join(values) if values else None


def build_event(
    request: HttpRequest, route: Route, path_parameters: dict[str, str], authorizer_context: dict[str, Any] | None
) -> dict[str, Any]:
    """A genuine payload format 2.0 event."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies += [cookie.strip() for cookie in value.split(";") if cookie.strip()]
        elif name in headers:
            headers[name] = f"{headers[name]},{value}"
        else:
            headers[name] = value
    port = headers.get("host", "").rpartition(":")[2] if ":" in headers.get("host", "") else "80"
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", port)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}")
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    stamp = time.gmtime(now)
    domain = headers.get("host", "127.0.0.1").split(":")[0]
    context: dict[str, Any] = {
        "accountId": config.ACCOUNT_ID,
        "apiId": _api_id(route.api),
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": base64.b64encode(os.urandom(10)).decode(),
        "routeKey": route.key,
        "stage": "$default",
        "time": f"{stamp.tm_mday:02d}/{MONTHS[stamp.tm_mon - 1]}/{stamp.tm_year}:"
        f"{stamp.tm_hour:02d}:{stamp.tm_min:02d}:{stamp.tm_sec:02d} +0000",
        "timeEpoch": int(now * 1000),
    }
    if authorizer_context is not None:
        context["authorizer"] = authorizer_context
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"], event["isBase64Encoded"] = request.body.decode("utf-8"), False
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode(), True
    else:
        event["isBase64Encoded"] = False
    return event


def _is_text(content_type: str | None) -> bool:
    """API Gateway passes text bodies as they are and base64-encodes the rest (multipart included)."""
    if not content_type:
        return False
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind in TEXT_TYPES or kind.endswith(("+json", "+xml"))


def _api_id(logical_id: str) -> str:
    return (re.sub(r"[^a-z0-9]", "", logical_id.lower()) + "0000000000")[:10]


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def message(status: int, text: str, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *(extra or [])], body)


def map_response(payload: Any) -> HttpResponse:
    """A function's result as API Gateway turns it into an HTTP response (payload format 2.0)."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        # no statusCode: the result itself is the JSON body of a 200
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(payload).encode())
    try:
        status = int(payload["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
        headers = [(str(name), _header_value(value)) for name, value in (payload.get("headers") or {}).items()]
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            headers += [(str(name), _header_value(value)) for value in values]
        headers += [("Set-Cookie", str(cookie)) for cookie in payload.get("cookies") or []]
        body = payload.get("body")
        if body is None:
            raw = b""
        elif not isinstance(body, str):
            raise TypeError("body must be a string")
        elif payload.get("isBase64Encoded"):
            raw = base64.b64decode(body, validate=True)
        else:
            raw = body.encode()
    except (TypeError, ValueError, AttributeError) as exc:
        log.error("malformed Lambda proxy response: %s", exc)
        return message(500, "Internal Server Error")
    headers = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
    if raw and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, raw)


def _header_value(value: Any) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    return text.replace("\r", " ").replace("\n", " ")


# ---------------------------------------------------------------------------------- server


LocalHandler = Callable[[HttpRequest], HttpResponse]


class Gateway:
    def __init__(self, routes: list[Route], runtime: Runtime) -> None:
        self.routes = routes
        self.runtime = runtime
        self.local: dict[tuple[str, str], LocalHandler] = {}  # ("GET", "/_local/health") -> handler
        # what no route serves (GET/HEAD): the web app (local.web); None answers the usual 404
        self.fallback: Callable[[HttpRequest], HttpResponse | None] | None = None

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str | None]:
        """The response, and the function that produced it (for the access log)."""
        local = self.local.get((request.method, request.raw_path))
        if local is not None:
            return local(request), None
        if request.raw_path.startswith("/_local/"):
            return message(404, "Not Found"), None
        origin = request.header("origin")
        preflight = request.method == "OPTIONS" and origin and request.header("access-control-request-method")
        if preflight:
            cors = next((route.cors for route in self.routes if route.cors), None)
            if cors is not None:
                return self._preflight(cors, origin or ""), None
        found = self._route(request)
        if found is None:
            return message(404, "Not Found"), None
        if isinstance(found, HttpResponse):
            return found, None
        route, path_parameters = found
        response = self._invoke(request, route, path_parameters)
        if origin and route.cors and route.cors.allows(origin):
            response.headers = [(n, v) for n, v in response.headers if not n.lower().startswith("access-control-")]
            response.headers.append(("Access-Control-Allow-Origin", route.cors.origin_header(origin)))
            if route.cors.expose_headers:
                response.headers.append(("Access-Control-Expose-Headers", ",".join(route.cors.expose_headers)))
            if route.cors.allow_credentials:
                response.headers.append(("Access-Control-Allow-Credentials", "true"))
        return response, route.function

    def _route(self, request: HttpRequest) -> tuple[Route, dict[str, str]] | HttpResponse | None:
        """The route that takes the request; else the web app's answer (what the site serves on its
        own origin in AWS: it shares this port locally), before the API's `$default` route."""
        catch_all = None
        for route in self.routes:
            path_parameters = route.match(request.method, request.raw_path)
            if path_parameters is None:
                continue
            if route.path != "$default":
                return route, path_parameters
            catch_all = route, path_parameters
        served = self.fallback(request) if self.fallback is not None else None
        return served or catch_all

    def _invoke(self, request: HttpRequest, route: Route, path_parameters: dict[str, str]) -> HttpResponse:
        authorizer_context = None
        if route.authorizer is not None:
            query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
            token = route.authorizer.token({n.lower(): v for n, v in request.headers}, query)
            try:
                claims, scopes = route.authorizer.authorize(token, route.scopes)
            except Denied as denied:
                text = "Forbidden" if denied.status == 403 else "Unauthorized"
                return message(denied.status, text, [("www-authenticate", denied.www_authenticate)])
            authorizer_context = {"jwt": {"claims": flatten_claims(claims), "scopes": scopes}}
        event = build_event(request, route, path_parameters, authorizer_context)
        encoded = json.dumps(event)
        if len(encoded) > MAX_SYNC_PAYLOAD:
            return message(413, "Request Entity Too Large")
        invocation = self.runtime.invoke(route.function, event)
        if not invocation.ok:
            return message(500, "Internal Server Error")
        response = map_response(invocation.payload)
        if len(response.body) > MAX_SYNC_PAYLOAD:
            log.error("%s returned more than Lambda's 6 MB response limit", route.function)
            return message(500, "Internal Server Error")
        response.headers.append(("apigw-requestid", event["requestContext"]["requestId"]))
        return response

    @staticmethod
    def _preflight(cors: Cors, origin: str) -> HttpResponse:
        headers: list[tuple[str, str]] = []
        if cors.allows(origin):
            headers.append(("Access-Control-Allow-Origin", cors.origin_header(origin)))
            headers.append(("Access-Control-Allow-Methods", ",".join(cors.allow_methods)))
            if cors.allow_headers:
                headers.append(("Access-Control-Allow-Headers", ",".join(cors.allow_headers)))
            if cors.max_age is not None:
                headers.append(("Access-Control-Max-Age", str(cors.max_age)))
            if cors.allow_credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        return HttpResponse(204, headers, b"")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small responses on keep-alive connections must not wait for ACKs
    server: _Server
    server_version = "helpdesk-local"
    sys_version = ""

    def _serve(self) -> None:
        started = time.perf_counter()
        if len(self.requestline) + sum(len(value) for value in self.headers.values()) > MAX_HEADER_BYTES:
            self.close_connection = True
            self._send(message(431, "Request Header Fields Too Large"))
            return
        try:
            body = self._read_body()
        except _TooLarge:
            self._send(message(413, "Request Entity Too Large"))
            self.close_connection = True
            return
        except ValueError:
            self._send(message(400, "Bad Request"))
            self.close_connection = True
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            protocol=self.request_version,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        try:
            response, function = self.server.gateway.handle(request)
        except Exception:
            log.exception("the local gateway failed on %s %s", self.command, self.path)
            response, function = message(500, "Internal Server Error"), None
        self._send(response)
        elapsed = (time.perf_counter() - started) * 1000
        log.info(
            '"%s %s" %s %.1f ms%s',
            self.command,
            self.path,
            response.status,
            elapsed,
            f" {function}" if function else "",
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    raise _TooLarge
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        if length > MAX_REQUEST_BYTES:
            raise _TooLarge
        return self.rfile.read(length) if length else b""

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        """Every method is routed, as by API Gateway: a route of that method or ANY (the `$default`
        route takes TRACE, CONNECT, QUERY or BREW as any other), else 404."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message_: str | None = None, explain: str | None = None) -> None:
        """What http.server refuses itself (a malformed request line, a line or header block too
        long, an unknown method), answered as API Gateway answers: JSON, not an HTML page."""
        self.close_connection = True
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Error"
        log.info('"%s" %s (%s)', self.requestline[:200] if hasattr(self, "requestline") else "", code, message_)
        self._send(message(code, reason))

    def log_message(self, format: str, *args: Any) -> None:  # access is logged by _serve
        log.debug(format, *args)

    def version_string(self) -> str:
        return self.server_version


class _TooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is not an error of the gateway's."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        log.exception("error while serving %s", client_address)


class Server:
    """The gateway served on a thread until stop()."""

    def __init__(self, gateway: Gateway, host: str, port: int) -> None:
        self._server = _Server((host, port), gateway)
        self.host, self.port = str(self._server.server_address[0]), int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
