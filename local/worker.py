"""Lambda execution environments for the local stack, one process per environment.

`python -m local.worker` is a zygote: it imports what every function shares (boto3, botocore,
pydantic, Powertools) once, then forks an execution environment per request of local.runtime.
A forked environment takes its function's environment variables, code and layer paths *before*
importing the handler, so each function sees exactly its own environment at import time (the
shared package reads settings and creates its AWS clients at import), and its `app` module is
its own, as in Lambda. It then serves invocations one at a time over a Unix socket: a frame is a
4-byte big-endian length and a JSON document (events and responses cross as JSON, as in Lambda).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

# Imported by the zygote so that every environment forks with them loaded. None of them reads a
# function's environment at import time.
PRELOAD = (
    "boto3",
    "boto3.session",
    "botocore.client",
    "botocore.session",
    "botocore.loaders",
    "urllib3",
    "pydantic",
    "yaml",
    "ulid",
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parser",
)

WARM_SERVICES = ("dynamodb", "sqs", "s3", "sesv2", "sts")

_HEADER = struct.Struct(">I")


def send(sock: socket.socket, document: Any) -> None:
    send_raw(sock, json.dumps(document).encode())


def send_raw(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def receive(sock: socket.socket) -> Any:
    """The next document, or None when the other side has closed the socket."""
    header = _read(sock, _HEADER.size)
    if header is None:
        return None
    payload = _read(sock, _HEADER.unpack(header)[0])
    return None if payload is None else json.loads(payload)


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class LambdaContext:
    """The context object of the Python runtime."""

    def __init__(self, request_id: str, function_arn: str, deadline_ms: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def error_document(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _InitError(exc, "Runtime.UserCodeSyntaxError") from exc
    except ImportError as exc:
        raise _InitError(
            ImportError(f"Unable to import module '{module_name}': {exc}"), "Runtime.ImportModuleError"
        ) from exc
    function = getattr(module, attribute, None)
    if function is None:
        error = AttributeError(f"Handler '{attribute}' missing on module '{module_name}'")
        raise _InitError(error, "Runtime.HandlerNotFound")
    return function


class _InitError(Exception):
    def __init__(self, cause: BaseException, error_type: str) -> None:
        super().__init__(str(cause))
        self.cause, self.error_type = cause, error_type


def environment(request: dict[str, Any]) -> None:
    """One execution environment: set up, import the handler, serve invocations until EOF."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.path[:0] = request["paths"]
    os.chdir(request["code_dir"])
    # Function output is its log: it goes to the stack's stderr (stdout stays the stack's own).
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(request["socket"])
    send(sock, {"token": request["token"], "pid": os.getpid()})
    started = time.perf_counter()
    try:
        handler = _load_handler(request["handler"])
    except _InitError as exc:
        traceback.print_exception(exc.cause)
        send(sock, {"init_ms": _ms(started), "error": error_document(exc.cause, exc.error_type)})
        return
    except Exception as exc:
        traceback.print_exc()
        send(sock, {"init_ms": _ms(started), "error": error_document(exc, "Runtime.InitError")})
        return
    send(sock, {"init_ms": _ms(started), "init_cpu_ms": round(time.process_time() * 1000, 1), "error": None})
    with contextlib.suppress(OSError):  # the stack went away: so does this environment
        _serve(sock, handler)


def _serve(sock: socket.socket, handler: Any) -> None:
    while (message := receive(sock)) is not None:
        os.environ["_X_AMZN_TRACE_ID"] = message.get("trace_id", "")
        context = LambdaContext(message["request_id"], message["function_arn"], message["deadline_ms"])
        try:
            result = handler(message["event"], context)
        except Exception as exc:
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            send(sock, {"error": {**error_document(exc), "requestId": context.aws_request_id}})
            continue
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            error = error_document(exc, "Runtime.MarshalError")
            send(sock, {"error": {**error, "errorMessage": f"Unable to marshal response: {exc}"}})
            continue
        send_raw(sock, b'{"result":' + payload + b"}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _warm_botocore() -> None:
    """Load the service models the functions' clients need into boto3's default session, whose
    loader caches them: an environment then creates its clients without parsing them again.
    Nothing else of the session is settled here (region, endpoint and credentials are read
    when a client is created, from the environment's own variables)."""
    try:
        import boto3

        loader = boto3._get_default_session()._session.get_component("data_loader")
    except Exception:  # a cache warm-up: nothing depends on it
        return
    for service in WARM_SERVICES:
        try:
            for kind in ("service-2", "paginators-1", "waiters-2", "endpoint-rule-set-1"):
                loader.load_service_model(service, kind)
        except Exception:  # noqa: S112 - as above
            continue


def zygote() -> None:
    # Ctrl-C in the terminal is the stack's to handle: it closes our stdin and its sockets.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # environments are reaped by the kernel
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _warm_botocore()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        if os.fork() == 0:
            code = 0
            try:
                environment(request)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)


if __name__ == "__main__":
    zygote()
