"""The local stack's own commands as a user meets them: the banner's token command run as
printed, two stacks in one checkout (local.invoke picks the one asked for), local.invoke's
errors, and the gateway's answers to what HTTP API refuses before any route (JSON, not HTML)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack, start_stack, stop_stack

pytestmark = pytest.mark.integration


def run(command: list[str], stack: RunningStack | None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name not in ("PORT", "AWS_ENDPOINT_URL")}
    if stack is not None:
        environment["HELPDESK_LOCAL_DIR"] = str(stack.state)  # the checkout's .local/
    environment.update(env)
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def invoke(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "local.invoke", *arguments], stack)


def test_the_banners_token_command_works_as_printed(stack: RunningStack) -> None:
    # Given the command the banner offers to mint a token for anyone
    printed = re.search(r"any user:\s+TOKEN=\$\((.+)\)\s*$", stack.log(), re.M)
    assert printed, "the banner shows no token command"
    assert printed.group(1).startswith(".venv/bin/python -m local.token ")

    # When it is pasted into a shell in the checkout
    result = run(["bash", "-c", printed.group(1)], stack)

    # Then it prints a token the stack accepts
    assert result.returncode == 0, result.stderr
    with stack.client(result.stdout.strip()) as client:
        me = client.get("/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["org_id"] == "initech"


def test_a_second_stack_in_the_checkout_leaves_the_first_one_usable(stack: RunningStack, tmp_path: Path) -> None:
    first_port = stack.url.rsplit(":", 1)[1]
    # Given a second stack started in the same checkout (the same .local/)
    second = start_stack(tmp_path, state=stack.state)
    try:
        # Then local.invoke reaches the stack it is asked for
        chosen = invoke(stack, "GetMeFunction", "-e", "events/get_me.json", "--port", first_port)
        assert chosen.returncode == 0, chosen.stderr
        assert f"running stack's AWS ({stack.info['aws_endpoint']})" in chosen.stderr
        # And without --port it asks which one, in one line
        ambiguous = invoke(stack, "GetMeFunction", "-e", "events/get_me.json")
        assert ambiguous.returncode == 2
        assert ambiguous.stderr.strip().splitlines() == [
            f"error: several stacks are running (running: port {', '.join(sorted([first_port, second.url.rsplit(':', 1)[1]], key=int))}): choose one with --port"
        ]
    finally:
        # When the second one stops (SIGTERM), it does so at once and leaves the first one's state
        began = time.monotonic()
        code = stop_stack(second, signal.SIGTERM)
        stopped_in = time.monotonic() - began
    assert code == 0, second.log()[-2000:]
    assert stopped_in < 5
    assert json.loads((stack.state / first_port / "stack.json").read_text())["api_url"] == stack.url
    alone = invoke(stack, "GetMeFunction", "-e", "events/get_me.json")
    assert alone.returncode == 0, alone.stderr
    assert stack.info["aws_endpoint"] in alone.stderr


def test_invoke_with_throwaway_says_so(stack: RunningStack) -> None:
    result = invoke(stack, "GetMeFunction", "-e", "events/get_me.json", "--throwaway")
    assert result.returncode == 0, result.stderr
    assert "throwaway moto" in result.stderr
    assert "no stack is running" not in result.stderr


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        pytest.param(
            ["-e", "events/no-such-event.json"], "event file events/no-such-event.json does not exist", id="event"
        ),
        pytest.param(["-e", "README.md"], "event file README.md is not JSON", id="not json"),
        pytest.param(["-n", "missing-env.json"], "--env-vars file missing-env.json does not exist", id="env vars"),
    ],
)
def test_invoke_with_an_unusable_file_says_so_in_one_line(arguments: list[str], problem: str) -> None:
    result = run([sys.executable, "-m", "local.invoke", "GetMeFunction", *arguments], None)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {problem}")


def raw(stack: RunningStack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := connection.recv(65536)):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
        while len(body) < int(headers.get("content-length", 0)) and (chunk := connection.recv(65536)):
            body += chunk
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "text"),
    [
        pytest.param(
            b"GET /v1/tickets HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 11_000 + b"\r\n\r\n",
            431,
            "Request Header Fields Too Large",
            id="header values over 10,240 bytes",
        ),
        pytest.param(
            b"GET /v1/tickets HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
            431,
            "Request Header Fields Too Large",
            id="a header line over 64 KB",
        ),
        pytest.param(
            b"GET /v1/tickets HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(150)) + b"\r\n",
            431,
            "Request Header Fields Too Large",
            id="150 headers",
        ),
        pytest.param(b"GET /v1/tickets extra HTTP/1.1\r\n\r\n", 400, "Bad Request", id="malformed request line"),
    ],
)
def test_the_gateway_refuses_like_api_gateway_in_json(
    stack: RunningStack, request_bytes: bytes, status: int, text: str
) -> None:
    got_status, headers, body = raw(stack, request_bytes)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": text}


@pytest.mark.parametrize("method", [b"TRACE", b"QUERY", b"BREW"])
def test_any_method_reaches_the_default_route_not_an_html_page(stack: RunningStack, method: bytes) -> None:
    token = b"Authorization: Bearer " + stack.tokens["acme_user"].encode() + b"\r\n"
    got_status, headers, body = raw(stack, method + b" /v1/tickets HTTP/1.1\r\nHost: x\r\n" + token + b"\r\n")
    assert got_status == 405
    assert headers["content-type"] == "application/problem+json"
    assert headers["allow"] == "GET, POST"
    assert json.loads(body)["status"] == 405
    anonymous, _, body = raw(stack, method + b" /v1/tickets HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (anonymous, json.loads(body)) == (401, {"message": "Unauthorized"})


def test_a_request_within_the_header_limit_is_served(stack: RunningStack) -> None:
    response = httpx.get(f"{stack.url}/v1/tickets", headers={"X-Filler": "a" * 8000})
    assert response.status_code == 401  # through to the authorizer
    assert response.json() == {"message": "Unauthorized"}
