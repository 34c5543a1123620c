"""Invoke the template's functions as Lambda does: an execution environment (a process forked by
local.worker) serves one invocation at a time; concurrent invocations get more environments, up
to a limit per function; a function that outlives its Timeout is killed and its environment
replaced; a code change under a function's paths retires its environments, so the next request
runs the new code (the template itself is read once, at start)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import worker
from local.functions import FunctionSpec
from local.template import ROOT

log = logging.getLogger("local.runtime")

DEFAULT_CONCURRENCY = int(os.environ.get("LOCAL_CONCURRENCY", "4"))
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # Lambda's synchronous request and response limit


@dataclass
class Invocation:
    """What Lambda returns for one invocation: the response, or the function's error."""

    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None  # set when the invocation paid for a cold start

    @property
    def ok(self) -> bool:
        return self.error is None


class _Environment:
    def __init__(self, sock: socket.socket, pid: int, generation: int) -> None:
        self.sock, self.pid, self.generation = sock, pid, generation
        self.init_ms: float | None = None
        self.init_cpu_ms: float | None = None
        self.fresh = True

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """Closing the socket ends the environment (it reads EOF and exits)."""
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass
class _Pool:
    spec: FunctionSpec
    limit: int
    idle: list[_Environment] = field(default_factory=list)
    count: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)


class Runtime:
    """The functions' execution environments. The zygote starts (and preloads) at once; functions
    can be given later (set_functions), so that it warms up while the resources are created."""

    def __init__(self, specs: dict[str, FunctionSpec], base_env: dict[str, str], *, watch: bool = True) -> None:
        self._base_env = dict(base_env)
        self._dir = Path(tempfile.mkdtemp(prefix="helpdesk-lambda-"))
        self._socket_path = str(self._dir / "runtime.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self._socket_path)
        self._listener.listen(64)
        self._spawn_lock = threading.Lock()
        self._closed = threading.Event()
        self._generation = 0
        self._watch_code = watch
        self.specs: dict[str, FunctionSpec] = {}
        self._pools: dict[str, _Pool] = {}
        self._live: set[_Environment] = set()  # every environment started and not yet ended
        self._zygote = subprocess.Popen(
            [sys.executable, "-m", "local.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._base_env,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the stack only; it ends its environments itself
            text=True,
        )
        self._zygote_ready = False
        self._watcher = threading.Thread(target=self._watch, name="code-watcher", daemon=True)
        if specs:
            self.set_functions(specs)

    def set_functions(self, specs: dict[str, FunctionSpec], env: dict[str, str] | None = None) -> None:
        """The functions to run, and environment variables for all of them (the AWS endpoint)."""
        self._base_env.update(env or {})
        self.specs = specs
        self._pools = {logical_id: _Pool(spec, _limit(spec)) for logical_id, spec in specs.items()}
        self._fingerprint = self._code_fingerprint()
        if self._watch_code and not self._watcher.is_alive():
            self._watcher.start()

    # ------------------------------------------------------------------ invoking

    def invoke(self, logical_id: str, event: Any, *, timeout: float | None = None) -> Invocation:
        """Invoke synchronously (RequestResponse); errors come back in the Invocation, never raised."""
        spec = self.specs[logical_id]
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            environment = self._acquire(logical_id)
        except _InitFailed as failed:
            return Invocation(request_id, error={**failed.error, "requestId": request_id}, init_ms=failed.init_ms)
        init_ms = environment.init_ms if environment.fresh else None
        environment.fresh = False
        limit = timeout or spec.timeout
        message = {
            "event": event,
            "request_id": request_id,
            "function_arn": spec.arn,
            "deadline_ms": time.time() * 1000 + limit * 1000,
            "trace_id": _trace_id(),
        }
        healthy = False
        try:
            try:
                worker.send(environment.sock, message)
                environment.sock.settimeout(limit)
                answer = worker.receive(environment.sock)
                environment.sock.settimeout(None)
            except TimeoutError:
                log.warning("%s: Task timed out after %.2f seconds (request %s)", logical_id, limit, request_id)
                error = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {limit:.2f} seconds"}
                return Invocation(request_id, error=error, duration_ms=_ms(started), init_ms=init_ms)
            except OSError as exc:
                answer, error_text = None, str(exc)
            else:
                error_text = "the environment exited"
            if answer is None:
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: {error_text}",
                }
                return Invocation(request_id, error=error, duration_ms=_ms(started), init_ms=init_ms)
            healthy = True
            if "error" in answer:
                return Invocation(
                    request_id,
                    error={**answer["error"], "requestId": request_id},
                    duration_ms=_ms(started),
                    init_ms=init_ms,
                )
            return Invocation(request_id, payload=answer["result"], duration_ms=_ms(started), init_ms=init_ms)
        finally:
            self._release(logical_id, environment, healthy)

    def limit(self, logical_id: str) -> int:
        """How many environments the function may have at once (its concurrency)."""
        pool = self._pools.get(logical_id)
        return pool.limit if pool is not None else _limit(self.specs[logical_id])

    def warm(self, logical_ids: list[str] | None = None) -> dict[str, str]:
        """Start one environment per function (in parallel); the init errors, by function."""
        errors: dict[str, str] = {}
        threads = []

        def start(logical_id: str) -> None:
            try:
                self._release(logical_id, self._acquire(logical_id), True)
            except _InitFailed as failed:
                errors[logical_id] = f"{failed.error.get('errorType')}: {failed.error.get('errorMessage')}"

        for logical_id in logical_ids or list(self.specs):
            thread = threading.Thread(target=start, args=(logical_id,), name=f"warm-{logical_id}")
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return errors

    # ------------------------------------------------------------------ environments

    def _acquire(self, logical_id: str) -> _Environment:
        pool = self._pools[logical_id]
        with pool.cond:
            while True:
                if self._closed.is_set():
                    raise _InitFailed({"errorType": "Runtime.Shutdown", "errorMessage": "the local stack is stopping"})
                while pool.idle:
                    environment = pool.idle.pop()
                    if environment.generation == self._generation:
                        return environment
                    environment.close()  # code changed since it started
                    self._live.discard(environment)
                    pool.count -= 1
                if pool.count < pool.limit:
                    pool.count += 1
                    break
                pool.cond.wait()
        try:
            return self._start(pool.spec)
        except BaseException:
            with pool.cond:
                pool.count -= 1
                pool.cond.notify()
            raise

    def _release(self, logical_id: str, environment: _Environment, healthy: bool) -> None:
        pool = self._pools[logical_id]
        with pool.cond:
            if healthy and not self._closed.is_set() and environment.generation == self._generation:
                pool.idle.append(environment)
            else:
                environment.kill() if not healthy else environment.close()
                self._live.discard(environment)
                pool.count -= 1
            pool.cond.notify()

    def _start(self, spec: FunctionSpec) -> _Environment:
        token = uuid.uuid4().hex
        request = {
            "token": token,
            "socket": self._socket_path,
            "env": {**self._base_env, **spec.environment, **spec.runtime_environment()},
            "paths": [str(path) for path in spec.paths],
            "code_dir": str(spec.code_dir),
            "handler": spec.handler,
        }
        with self._spawn_lock:
            generation = self._generation
            if not self._zygote_ready:
                assert self._zygote.stdout is not None
                if self._zygote.stdout.readline().strip() != "ready":
                    raise _InitFailed(
                        {"errorType": "Runtime.Unavailable", "errorMessage": "python -m local.worker did not start"}
                    )
                self._zygote_ready = True
            assert self._zygote.stdin is not None
            try:
                self._zygote.stdin.write(_json_line(request))
                self._zygote.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise _InitFailed({"errorType": "Runtime.Unavailable", "errorMessage": str(exc)}) from exc
            self._listener.settimeout(30)
            try:
                sock, _ = self._listener.accept()
            except TimeoutError as exc:
                raise _InitFailed(
                    {"errorType": "Runtime.Unavailable", "errorMessage": "no environment started"}
                ) from exc
        hello = worker.receive(sock)
        if not hello or hello.get("token") != token:
            sock.close()
            raise _InitFailed({"errorType": "Runtime.Unavailable", "errorMessage": "an environment did not say hello"})
        environment = _Environment(sock, int(hello["pid"]), generation)
        self._live.add(environment)
        ready = worker.receive(sock)
        if ready is None:
            environment.kill()
            raise _InitFailed({"errorType": "Runtime.ExitError", "errorMessage": "the environment exited during init"})
        environment.init_ms = ready.get("init_ms")
        environment.init_cpu_ms = ready.get("init_cpu_ms")
        if ready.get("error"):
            environment.kill()
            log.error("%s failed to start: %s", spec.logical_id, ready["error"].get("errorMessage"))
            raise _InitFailed(ready["error"], environment.init_ms)
        log.debug("%s: environment %s ready in %s ms", spec.logical_id, environment.pid, environment.init_ms)
        return environment

    # ------------------------------------------------------------------ code changes

    def _code_fingerprint(self) -> tuple[float, int]:
        latest, count = 0.0, 0
        roots = {path for spec in self.specs.values() for path in spec.paths}
        for root in roots:
            for directory, dirs, files in os.walk(root):
                dirs[:] = [name for name in dirs if not name.startswith((".", "__pycache__"))]
                for name in files:
                    if name.endswith(".py"):
                        count += 1
                        with contextlib.suppress(OSError):
                            latest = max(latest, os.stat(os.path.join(directory, name)).st_mtime)
        return latest, count

    def _watch(self) -> None:
        while not self._closed.wait(1.0):
            fingerprint = self._code_fingerprint()
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                with self._spawn_lock:
                    self._generation += 1
                log.info("code changed: the next invocations start fresh environments")

    # ------------------------------------------------------------------ shutdown

    def close(self) -> None:
        """End every environment: idle ones read EOF and exit, busy ones are killed."""
        self._closed.set()
        for pool in self._pools.values():
            with pool.cond:
                for environment in pool.idle:
                    environment.close()
                    self._live.discard(environment)
                pool.count -= len(pool.idle)
                pool.idle.clear()
                pool.cond.notify_all()
        for environment in list(self._live):
            environment.kill()
        if self._zygote.stdin is not None:
            with contextlib.suppress(OSError):
                self._zygote.stdin.close()
        try:
            self._zygote.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._zygote.kill()
            self._zygote.wait()
        if self._zygote.stdout is not None:
            self._zygote.stdout.close()
        self._listener.close()
        shutil.rmtree(self._dir, ignore_errors=True)


class _InitFailed(Exception):
    def __init__(self, error: dict[str, Any], init_ms: float | None = None) -> None:
        super().__init__(error.get("errorMessage", ""))
        self.error, self.init_ms = error, init_ms


def _limit(spec: FunctionSpec) -> int:
    reserved = spec.properties.get("ReservedConcurrentExecutions")
    return max(1, min(int(reserved), DEFAULT_CONCURRENCY)) if isinstance(reserved, int) else DEFAULT_CONCURRENCY


def _json_line(document: Any) -> str:
    return json.dumps(document) + "\n"


def _trace_id() -> str:
    epoch = f"{int(time.time()):08x}"
    return f"Root=1-{epoch}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
