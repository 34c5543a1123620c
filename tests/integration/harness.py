"""The local stack as its users run it: `python -m local.stack` in a subprocess, on free ports,
with its own state directory, driven over HTTP with httpx (the stack fixtures are in conftest)."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local import template
from local.template import ROOT

STARTUP_SECONDS = 60  # generous: the suite may share two cores with the unit tests


def template_with_absolute_paths() -> dict[str, Any]:
    """template.yaml with its code paths absolute, for a test to add its own resources and write elsewhere."""
    doc = copy.deepcopy(template.load())
    for resource in doc["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = str((template.TEMPLATE.parent / props[key]).resolve())
    return doc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    url: str
    state: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def as_user(self, name: str) -> httpx.Client:
        return self.client(self.tokens[name])

    def mint(self, **claims: Any) -> str:
        """A token signed with the stack's key; `ttl`, `issuer` and `audience` as keys.mint takes them."""
        from local import keys

        options = {name: claims.pop(name) for name in ("ttl", "issuer", "audience") if name in claims}
        return keys.mint(claims, directory=self.state, **options)

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.info["aws_endpoint"],
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """wait_for, with the stack's recent errors in the failure message."""
        try:
            return wait_for(check, timeout=timeout, what=what)
        except AssertionError as exc:
            errors = [line for line in self.log().splitlines() if " E local." in line or " W local." in line]
            raise AssertionError(f"{exc}; the stack's last errors:\n" + "\n".join(errors[-8:])) from None


def start_stack(
    tmp: Path, template: Path | None = None, state: Path | None = None, env: dict[str, str] | None = None
) -> RunningStack:
    """A stack on a free port, its log in `tmp`; its state (key set, tokens, stack.json) in `state`
    (like a checkout's .local/, which two stacks may share), else in `tmp`/state; `env` adds to
    its environment (e.g. LOCAL_SCHEDULE_SECONDS)."""
    port = free_port()
    state = state or tmp / "state"
    env = {**os.environ, "PORT": str(port), "HELPDESK_LOCAL_DIR": str(state), "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("AWS_ENDPOINT_URL", None)
    if template is not None:
        env["HELPDESK_TEMPLATE"] = str(template)
    log_path = tmp / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--quiet"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    stack = RunningStack(url=f"http://127.0.0.1:{port}", state=state, process=process, log_path=log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the local stack exited with {process.returncode}:\n{stack.log()[-5000:]}")
        try:
            if httpx.get(f"{stack.url}/_local/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        stop_stack(stack)
        raise AssertionError(f"the local stack was not healthy within {STARTUP_SECONDS} s:\n{stack.log()[-5000:]}")
    stack.info = json.loads((stack.state / str(port) / "stack.json").read_text())
    stack.tokens = json.loads((stack.state / str(port) / "tokens.json").read_text())
    return stack


def stop_stack(stack: RunningStack, signum: int = signal.SIGINT) -> int:
    if stack.process.poll() is None:
        stack.process.send_signal(signum)
        try:
            stack.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    return stack.process.returncode


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def template_functions() -> dict[str, dict[str, Any]]:
    from local import template

    return template.resources("AWS::Serverless::Function")


def function_with_event(kind: str, source: str) -> str | None:
    """The logical id of a function the template triggers from `source` (a resource logical id)."""
    for logical_id, resource in template_functions().items():
        for event in resource["Properties"].get("Events", {}).values():
            if event.get("Type") == kind and source in json.dumps(event.get("Properties", {})):
                return logical_id
    return None


def has_route(method: str, path: str) -> bool:
    for resource in template_functions().values():
        for event in resource["Properties"].get("Events", {}).values():
            props = event.get("Properties", {})
            if (
                event.get("Type") == "HttpApi"
                and props.get("Method", "").upper() == method
                and props.get("Path") == path
            ):
                return True
    return False
