"""The local stack's figures (README): `python -m bench.local_stack`.

- start: from launching `python -m local.stack` to GET /_local/health answering 200 (median of
  BENCH_STARTS runs, default 3);
- GET /v1/tickets/{id} over HTTP on loopback, one keep-alive client, BENCH_REQUESTS requests
  (default 1,000) after 20 to warm up: p50, p99;
- from POST /v1/tickets to its review being visible (status `open`), and from a support reply to
  its mail in /_local/mail: median and max of BENCH_ASYNC rounds (default 10), when the template
  has the reviewer and the notifier. Both include the template's batching windows
  (MaximumBatchingWindowInSeconds), which the local stack honours.
The machine's load average is printed with the figures: they are only comparable on a quiet one."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
STARTS = int(os.environ.get("BENCH_STARTS", "3"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
ASYNC_ROUNDS = int(os.environ.get("BENCH_ASYNC", "10"))
DRAFT = {
    "category": "technical",
    "body": "Node provisioning is stuck in fra1 since 14:00 UTC.\n\nError: 0/3 nodes are available",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    def __init__(self, state: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = state
        env = {**os.environ, "PORT": str(self.port), "HELPDESK_LOCAL_DIR": str(state)}
        env.pop("AWS_ENDPOINT_URL", None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(state / "stack.log").open("wb"),
        )

    def wait_healthy(self, timeout: float = 60) -> float:
        deadline = time.perf_counter() + timeout
        with httpx.Client(timeout=1) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(f"the stack exited: see {self.state / 'stack.log'}")
                try:
                    if client.get(f"{self.url}/_local/health").status_code == 200:
                        return time.perf_counter() - self.started
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        raise SystemExit(f"the stack was not healthy within {timeout} s")

    def tokens(self) -> dict[str, str]:
        tokens: dict[str, str] = json.loads((self.state / "tokens.json").read_text())
        return tokens

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


def _functions_with(kind: str, source: str) -> bool:
    sys.path.insert(0, str(ROOT))
    from local import template

    for resource in template.resources("AWS::Serverless::Function").values():
        for event in resource["Properties"].get("Events", {}).values():
            if event.get("Type") == kind and source in json.dumps(event.get("Properties", {})):
                return True
    return False


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_start(tmp: Path) -> list[float]:
    times = []
    for run in range(STARTS):
        state = tmp / f"start{run}"
        state.mkdir()
        stack = Stack(state)
        try:
            times.append(stack.wait_healthy())
        finally:
            stack.stop()
    return times


def bench_get(stack: Stack, token: str) -> list[float]:
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        ticket_id = client.post("/v1/tickets", json=DRAFT).json()["id"]
        for _ in range(20):
            client.get(f"/v1/tickets/{ticket_id}")
        latencies = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = client.get(f"/v1/tickets/{ticket_id}")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return latencies


def _wait(check: Any, timeout: float = 15) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if check():
            return time.perf_counter() - started
        time.sleep(0.02)
    raise SystemExit("timed out waiting for an asynchronous result")


def bench_review(stack: Stack, token: str) -> list[float]:
    delays = []
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for _ in range(ASYNC_ROUNDS):
            started = time.perf_counter()
            ticket_id = client.post("/v1/tickets", json=DRAFT).json()["id"]
            _wait(lambda: client.get(f"/v1/tickets/{ticket_id}").json()["status"] == "open")  # noqa: B023
            delays.append(time.perf_counter() - started)
    return delays


def bench_mail(stack: Stack, customer: str, support: str) -> list[float]:
    delays = []
    with (
        httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {customer}"}, timeout=30) as as_customer,
        httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {support}"}, timeout=30) as as_support,
        httpx.Client(base_url=stack.url, timeout=30) as local,
    ):
        for round_ in range(ASYNC_ROUNDS):
            ticket_id = as_customer.post("/v1/tickets", json=DRAFT).json()["id"]
            text = f"Reply number {round_} from the bench."
            started = time.perf_counter()
            assert as_support.post(f"/v1/tickets/{ticket_id}/messages", json={"body": text}).status_code == 201
            _wait(lambda: any(text in m.get("text", "") for m in local.get("/_local/mail").json()))  # noqa: B023
            delays.append(time.perf_counter() - started)
    return delays


def main() -> int:
    load = os.getloadavg()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-local-") as tmp_name:
        tmp = Path(tmp_name)
        starts = bench_start(tmp)
        rows.append(
            (
                "start to healthy (make run)",
                f"median {statistics.median(starts):.2f} s",
                f"max {max(starts):.2f} s (≤ 10 s)",
            )
        )
        state = tmp / "main"
        state.mkdir()
        stack = Stack(state)
        try:
            stack.wait_healthy()
            tokens = stack.tokens()
            latencies = bench_get(stack, tokens["acme_user"])
            rows.append(
                (
                    f"GET /v1/tickets/{{id}} × {REQUESTS}",
                    f"p50 {_percentile(latencies, 0.5):.1f} ms",
                    f"p99 {_percentile(latencies, 0.99):.1f} ms (p50 ≤ 30 ms)",
                )
            )
            if _functions_with("SQS", "ReviewQueue"):
                delays = bench_review(stack, tokens["acme_admin"])
                rows.append(
                    (
                        "create → review visible",
                        f"median {statistics.median(delays):.2f} s",
                        f"max {max(delays):.2f} s (≤ 2 s)",
                    )
                )
            else:
                rows.append(("create → review visible", "n/a", "no reviewer in template.yaml"))
            if _functions_with("DynamoDB", "Table"):
                delays = bench_mail(stack, tokens["acme_user"], tokens["support"])
                rows.append(
                    (
                        "support reply → mail",
                        f"median {statistics.median(delays):.2f} s",
                        f"max {max(delays):.2f} s (≤ 2 s)",
                    )
                )
            else:
                rows.append(("support reply → mail", "n/a", "no notifier in template.yaml"))
        finally:
            stack.stop()
    width = max(len(row[0]) for row in rows)
    print(f"\nlocal stack ({os.cpu_count()} CPUs, load average {load[0]:.1f} at start)")
    print(f"{'measure':<{width}}  {'typical':<16}  worst / target")
    for name, typical, worst in rows:
        print(f"{name:<{width}}  {typical:<16}  {worst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
