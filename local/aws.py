"""AWS on loopback: moto's server, plus what the local stack needs from it that moto leaves out.

- The mailbox: every mail SES accepted (v2 SendEmail, v1 SendEmail / SendRawEmail), read off the
  wire. Moto keeps only the HTML part of a v2 "Simple" mail that has both, and no reply-to, so
  the requests themselves are recorded (only those moto answered 200: an unverified sender is
  refused as SES would).
- Presigned S3 requests checked as S3 checks them, where moto does not: a presigned GET past its
  X-Amz-Expires is 403, and a presigned POST must match its policy (signature, expiration,
  conditions, content-length-range), so upload limits set by a function hold locally too.
- Resources the template implies beyond tables, queues and buckets: the SES identity of the
  sender, the bucket's CORS rules."""

from __future__ import annotations

import base64
import collections
import contextlib
import ctypes
import datetime
import email
import email.policy
import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from local import config, dynamodb, sqs, template
from local.events import EventHub

# Lambda's Invoke API, answered by the local stack's own functions: (method, path, query, headers,
# body) -> (status, headers, body)
FunctionCalls = Callable[[str, str, str, dict[str, str], bytes], tuple[int, list[tuple[str, str]], bytes]]
_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$")

HOUSEKEEPING_SECONDS = 60.0
MAILS_KEPT = 10_000  # /_local/mail keeps the most recent ones
SES_MAILS_KEPT = 100  # moto's SES keeps these (nothing reads them: /_local/mail is the mailbox)
RECEIPTS_KEPT = 50_000  # moto's SQS remembers every deleted receipt handle; beyond this it forgets them

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


# ---------------------------------------------------------------------------------- mailbox


class Mailbox:
    """The most recent MAILS_KEPT mails, each kept as compressed JSON (older ones are dropped, so
    that memory stays bounded)."""

    def __init__(self, keep: int = MAILS_KEPT) -> None:
        self._mails: collections.deque[bytes] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, mail: dict[str, Any]) -> None:
        packed = zlib.compress(json.dumps(mail, ensure_ascii=False).encode(), 1)
        with self._lock:
            self._mails.append(packed)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            packed = list(self._mails)
        return [json.loads(zlib.decompress(mail)) for mail in packed]

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()


def _mail(message_id: str, sender: str, to: list[str], subject: str, **extra: Any) -> dict[str, Any]:
    mail: dict[str, Any] = {"id": message_id, "from": sender, "to": to, "subject": subject}
    mail.update({name: value for name, value in extra.items() if value not in (None, [], "")})
    mail["sent_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return mail


def _raw_parts(raw: bytes) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts: dict[str, Any] = {"subject": str(message.get("subject", "")), "from": str(message.get("from", ""))}
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        if body is not None:
            parts["text" if kind == "plain" else "html"] = body.get_content()
    parts["to"] = [str(address) for address in message.get_all("to", [])]
    parts["reply_to"] = [str(address) for address in message.get_all("reply-to", [])]
    return parts


def mail_from_v2(request: dict[str, Any], message_id: str) -> dict[str, Any]:
    destination = request.get("Destination", {})
    content = request.get("Content", {})
    sender = request.get("FromEmailAddress", "")
    to, cc, bcc = (destination.get(key, []) for key in ("ToAddresses", "CcAddresses", "BccAddresses"))
    reply_to = request.get("ReplyToAddresses", [])
    if "Simple" in content:
        simple = content["Simple"]
        body = simple.get("Body", {})
        return _mail(
            message_id,
            sender,
            to,
            simple.get("Subject", {}).get("Data", ""),
            cc=cc,
            bcc=bcc,
            reply_to=reply_to,
            text=body.get("Text", {}).get("Data"),
            html=body.get("Html", {}).get("Data"),
        )
    if "Raw" in content:
        parts = _raw_parts(base64.b64decode(content["Raw"]["Data"]))
        return _mail(
            message_id,
            sender or parts["from"],
            to or parts["to"],
            parts["subject"],
            cc=cc,
            bcc=bcc,
            reply_to=reply_to or parts["reply_to"],
            text=parts.get("text"),
            html=parts.get("html"),
        )
    template_ = content.get("Template", {})
    return _mail(
        message_id,
        sender,
        to,
        f"(template {template_.get('TemplateName', '')})",
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        template=template_.get("TemplateName"),
        template_data=template_.get("TemplateData"),
    )


def mail_from_v1(form: dict[str, list[str]], message_id: str) -> dict[str, Any]:
    def members(prefix: str) -> list[str]:
        keys = sorted((k for k in form if k.startswith(prefix + ".member.")), key=lambda k: int(k.rsplit(".", 1)[1]))
        return [form[key][0] for key in keys]

    def one(name: str) -> str | None:
        return form.get(name, [None])[0]

    if one("Action") == "SendRawEmail":
        parts = _raw_parts(base64.b64decode(one("RawMessage.Data") or ""))
        return _mail(
            message_id,
            one("Source") or parts["from"],
            members("Destinations") or parts["to"],
            parts["subject"],
            reply_to=parts["reply_to"],
            text=parts.get("text"),
            html=parts.get("html"),
        )
    return _mail(
        message_id,
        one("Source") or "",
        members("Destination.ToAddresses"),
        one("Message.Subject.Data") or "",
        cc=members("Destination.CcAddresses"),
        bcc=members("Destination.BccAddresses"),
        reply_to=members("ReplyToAddresses"),
        text=one("Message.Body.Text.Data"),
        html=one("Message.Body.Html.Data"),
    )


# ---------------------------------------------------------------------------------- middleware


class LocalAwsMiddleware:
    """WSGI middleware in front of moto's application (see the module docstring)."""

    def __init__(
        self,
        app: Callable[[Environ, StartResponse], Iterable[bytes]],
        mailbox: Mailbox,
        events: EventHub | None = None,
        functions: FunctionCalls | None = None,
    ) -> None:
        self.app, self.mailbox = app, mailbox
        self.events = events
        self.functions = functions  # Lambda's Invoke API, once the stack's functions run (local.lambda_api)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if method == "POST" and self.events is not None and environ.get("HTTP_X_AMZ_TARGET") == "AWSEvents.PutEvents":
            return self._put_events(environ, start_response, self.events)
        if self.functions is not None and _INVOKE.match(path):
            return self._invoke(environ, start_response, self.functions)
        if method == "POST" and path == "/v2/email/outbound-emails":
            body = _body(environ)
            return self._capture(environ, start_response, lambda mid: mail_from_v2(json.loads(body or b"{}"), mid))
        if method == "POST" and "/ses/aws4_request" in authorization:
            form = parse_qs(_body(environ).decode(errors="replace"))
            if form.get("Action", [""])[0] in ("SendEmail", "SendRawEmail"):
                return self._capture(environ, start_response, lambda mid: mail_from_v1(form, mid))
        query = environ.get("QUERY_STRING", "")
        presigned = ("X-Amz-Expires=" in query and "%2Fs3%2Faws4_request" in query) or (
            "AWSAccessKeyId=" in query and "Signature=" in query and "Expires=" in query
        )
        if presigned and not authorization:
            problem = _presigned_expired(parse_qs(query))
            if problem:
                return _s3_error(start_response, *problem)
        content_type = environ.get("CONTENT_TYPE", "")
        if method == "POST" and content_type.startswith("multipart/form-data") and not authorization:
            problem = _check_post_policy(environ, _body(environ))
            if problem:
                return _s3_error(start_response, *problem)
        return self.app(environ, start_response)

    def _put_events(self, environ: Environ, start_response: StartResponse, hub: EventHub) -> Iterable[bytes]:
        """PutEvents goes to moto; the entries it accepted go to the hub (recorded and delivered)."""
        request = _body(environ)
        status, body = self._forward(environ, start_response)
        if status.startswith("200"):
            try:
                hub.published(json.loads(request or b"{}"), json.loads(body or b"{}"))
            except ValueError:
                logging.getLogger("local.aws").warning("a PutEvents request or answer was not JSON; not recorded")
        return [body]

    def _invoke(self, environ: Environ, start_response: StartResponse, functions: FunctionCalls) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        status, reply_headers, body = functions(
            environ.get("REQUEST_METHOD", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            headers,
            _body(environ),
        )
        reason = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 404: "Not Found"}.get(status, "")
        start_response(f"{status} {reason}".strip(), [*reply_headers, ("Content-Length", str(len(body)))])
        return [body]

    def _forward(self, environ: Environ, start_response: StartResponse) -> tuple[str, bytes]:
        """moto's answer to the request, passed on; its status line and body."""
        seen: dict[str, Any] = {}

        def capture_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.app(environ, capture_status)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        return str(seen.get("status", "")), body

    def _capture(
        self, environ: Environ, start_response: StartResponse, build: Callable[[str], dict[str, Any]]
    ) -> Iterable[bytes]:
        status, body = self._forward(environ, start_response)
        _forget_sent_mail()
        if status.startswith("200"):
            found = re.search(rb'"MessageId"\s*:\s*"([^"]+)"|<MessageId>([^<]+)</MessageId>', body)
            message_id = (found.group(1) or found.group(2)).decode() if found else str(uuid.uuid4())
            try:
                self.mailbox.add(build(message_id))
            except (ValueError, KeyError, TypeError):  # a mail we cannot read is still sent
                self.mailbox.add(_mail(message_id, "", [], "(unreadable)"))
        return [body]


def _forget_sent_mail() -> None:
    """moto's SES keeps every mail it sent (the mailbox above is what the stack shows): only the last few."""
    from moto.ses.models import ses_backends

    sent = ses_backends[config.ACCOUNT_ID][config.REGION].sent_messages
    if len(sent) > SES_MAILS_KEPT:
        del sent[: len(sent) - SES_MAILS_KEPT]


def _body(environ: Environ) -> bytes:
    """Read the request body and put it back for the application behind."""
    if "local.body" in environ:
        return bytes(environ["local.body"])
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["local.body"] = body
    return bytes(body)


def _s3_error(start_response: StartResponse, status: int, code: str, text: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{_xml(text)}</Message><RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    reason = {400: "Bad Request", 403: "Forbidden"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _presigned_expired(query: dict[str, list[str]]) -> tuple[int, str, str] | None:
    """A presigned URL (SigV4: X-Amz-Date + X-Amz-Expires; SigV2: Expires) past its expiry."""
    try:
        if "Expires" in query:
            expires_at = float(query["Expires"][0])
        else:
            signed = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
            expires_at = signed.timestamp() + int(query["X-Amz-Expires"][0])
    except (KeyError, ValueError):
        return (403, "AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires must be valid")
    if time.time() > expires_at:
        return (403, "AccessDenied", "Request has expired")
    return None


def _check_post_policy(environ: Environ, body: bytes) -> tuple[int, str, str] | None:
    """A browser-based (presigned POST) upload checked against its policy, as S3 does."""
    from werkzeug.formparser import parse_form_data

    probe = dict(environ)
    probe["wsgi.input"] = io.BytesIO(body)
    _, form, files = parse_form_data(probe)
    fields = {name.lower(): value for name, value in form.items()}
    if "policy" not in fields:
        return None  # not a policy upload: moto answers
    try:
        policy = json.loads(base64.b64decode(fields["policy"]))
    except ValueError:
        return (400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    credential = fields.get("x-amz-credential", "")
    try:
        _, day, region, service, _ = credential.split("/")
    except ValueError:
        return (403, "AccessDenied", "Invalid according to Policy: x-amz-credential is missing or malformed")
    key = f"AWS4{config.FAKE_CREDENTIALS['AWS_SECRET_ACCESS_KEY']}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        expiration = datetime.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return (400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.")
    if expiration.timestamp() < time.time():
        return (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    upload = files.get("file")
    size = len(upload.read()) if upload is not None else 0
    values = {**fields, "bucket": environ.get("PATH_INFO", "/").strip("/").split("/")[0]}
    covered = {"policy", "x-amz-signature", "file", "bucket"}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            for name, value in condition.items():
                covered.add(name.lower())
                if values.get(name.lower()) != value:
                    return (
                        403,
                        "AccessDenied",
                        f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
                    )
            continue
        operator, *arguments = condition
        if operator == "content-length-range":
            low, high = (int(argument) for argument in arguments)
            if size > high:
                return (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if size < low:
                return (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            continue
        name = str(arguments[0]).lstrip("$").lower()
        covered.add(name)
        value = values.get(name, "")
        failed = (operator == "eq" and value != arguments[1]) or (
            operator == "starts-with" and not value.startswith(str(arguments[1]))
        )
        if failed:
            return (
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )
    extra = sorted(name for name in fields if name not in covered and not name.startswith("x-ignore-"))
    if extra:
        return (403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    return None


# ---------------------------------------------------------------------------------- server


_tracking_new: list[Any] = []  # moto's BaseModel.__new__ while untracked


def untrack_models() -> None:
    """Stop moto keeping every model object it ever made. moto's BaseModel appends each instance
    to its class's `instances_tracked` list (for its dashboard, /moto-api/data.json, which the
    local stack does not serve): every DynamoDB item, the copy of each result of each Query, each
    stream record, SQS and SES message, S3 key, shard iterator — never released, so memory grew
    with every request. Idempotent; track_models() undoes it."""
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    if _tracking_new:
        return

    def untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]

    _tracking_new.append(BaseModel.__dict__["__new__"])
    BaseModel.__new__ = staticmethod(untracked)  # type: ignore[method-assign]
    reset_model_data()  # forget what was tracked so far


def track_models() -> None:
    from moto.core.common_models import BaseModel

    if _tracking_new:
        BaseModel.__new__ = _tracking_new.pop()  # type: ignore[method-assign]


class LocalAws:
    """moto's server (ThreadedMotoServer) on loopback with the middleware above."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        dynamodb.install()
        sqs.install()
        untrack_models()
        self.mailbox = Mailbox()
        self.events = EventHub()
        mailbox, events = self.mailbox, self.events
        self._stopped = threading.Event()
        middleware: list[LocalAwsMiddleware] = []
        self._middleware = middleware

        class _Server(ThreadedMotoServer):
            def _server_entry(self) -> None:
                app = LocalAwsMiddleware(DomainDispatcherApplication(create_backend_app), mailbox, events)
                middleware.append(app)
                self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
                self._server_ready_event.set()
                self._server.serve_forever()

        self._server = _Server(ip_address=host, port=port, verbose=False)

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        threading.Thread(target=self._housekeeping, name="aws-housekeeping", daemon=True).start()
        return self.url

    def serve_functions(self, functions: FunctionCalls | None) -> None:
        """Answer Lambda's Invoke API with these (the stack's functions); None: moto answers."""
        for app in self._middleware:
            app.functions = functions

    def _housekeeping(self) -> None:
        while not self._stopped.wait(HOUSEKEEPING_SECONDS):
            try:
                housekeeping()
            except Exception:  # never let it stop: the next round tries again
                logging.getLogger("local.aws").exception("housekeeping failed")

    def stop(self) -> None:
        self._stopped.set()
        self._server.stop()


def housekeeping() -> None:
    """What moto keeps forever and AWS does not: stream records and shard iterators (local.dynamodb),
    every mail SES sent, every receipt handle of every message SQS deleted. Then the C allocator
    gives back what Python freed."""
    from moto.sqs.models import sqs_backends

    dynamodb.housekeeping()
    _forget_sent_mail()
    for queue in list(sqs_backends[config.ACCOUNT_ID][config.REGION].queues.values()):
        if len(queue.deleted_messages) > RECEIPTS_KEPT:
            queue.deleted_messages = set()
    trim_malloc()


def trim_malloc() -> None:
    """glibc keeps memory Python has freed in its arenas; give it back to the system."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# ---------------------------------------------------------------------------------- resources


def create_extras(session: Any, stack: template.Stack, parameters: dict[str, str], endpoint_url: str) -> None:
    """The SES identity mail is sent from (template parameter SenderEmail), and the buckets' CORS."""
    sender = parameters.get("SenderEmail")
    if sender:
        session.client("sesv2", endpoint_url=endpoint_url).create_email_identity(EmailIdentity=sender)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    for logical_id, resource in template.resources("AWS::S3::Bucket").items():
        rules = resource.get("Properties", {}).get("CorsConfiguration", {}).get("CorsRules", [])
        if rules:
            s3.put_bucket_cors(
                Bucket=stack.names[logical_id],
                CORSConfiguration={"CORSRules": [_cors_rule(rule, stack, parameters) for rule in rules]},
            )


def _cors_rule(rule: dict[str, Any], stack: template.Stack, parameters: dict[str, str]) -> dict[str, Any]:
    def strings(name: str) -> list[str]:
        return [template.resolve(value, stack, parameters) for value in rule.get(name, [])]

    converted: dict[str, Any] = {
        "AllowedOrigins": strings("AllowedOrigins"),
        "AllowedMethods": strings("AllowedMethods"),
    }
    if "AllowedHeaders" in rule:
        converted["AllowedHeaders"] = strings("AllowedHeaders")
    if "ExposedHeaders" in rule:
        converted["ExposeHeaders"] = strings("ExposedHeaders")
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = int(rule["MaxAge"])
    return converted
