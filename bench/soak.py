"""The local stack under sustained load (README, Performance): `python -m bench.soak`.

A fresh `python -m local.stack` is filled with BENCH_SOAK_TICKETS tickets (default 10,000) through
its gateway by BENCH_SOAK_CLIENTS clients at a time (default 4), as local.seed files them: users
of several orgs, some multipart with a log attached, some reviewed before filing, replies from the
customer and support, some closed; and after each ticket one GET of a ticket filed earlier (any
of them, at random). The reviewer and the notifier work as for any request (reviews, mail).

Every BENCH_SOAK_EVERY tickets (default 1,000) a row: the stack's memory (RSS of the stack's
process — moto, gateway, event sources — and the summed PSS of the function environments, its
child processes, apart), p50/p99 of the creates and of the GETs sent in that stretch, 5xx so far,
lost writes in a sample of 50 acknowledged tickets read back, the review queue's depth (whether
the reviewer keeps up), and the machine's load average (the latencies are only comparable
between rows of similar load). At the end every acknowledged
ticket is read back (lost writes: a ticket answered 201 not found, a message answered 201
missing, a close answered 200 not closed), the review and mail pipelines are drained (for up to
BENCH_SOAK_DRAIN_SECONDS, default 1,800), and the
stack is stopped with BENCH_SOAK_SIGNAL (SIGINT; or SIGTERM): the seconds until it has exited.

Rows are printed as they come (run it in the background: `python -m bench.soak > soak.txt`)."""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench.local_stack import Stack, _percentile

TICKETS = int(os.environ.get("BENCH_SOAK_TICKETS", "10000"))
EVERY = int(os.environ.get("BENCH_SOAK_EVERY", "1000"))
CLIENTS = int(os.environ.get("BENCH_SOAK_CLIENTS", "4"))
SIGNAL = os.environ.get("BENCH_SOAK_SIGNAL", "SIGINT")
DRAIN = float(os.environ.get("BENCH_SOAK_DRAIN_SECONDS", "1800"))
SAMPLE = 50


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[ppid].append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def memory(pid: int) -> tuple[float, float, int]:
    """MB: RSS of the stack's process, summed PSS of its descendants (function environments);
    and how many descendants."""
    descendants = _descendants(pid)
    return _rss_kb(pid) / 1024, sum(_pss_kb(child) for child in descendants) / 1024, len(descendants)


class Soak:
    def __init__(self, stack: Stack, state: Path) -> None:
        from local import seed

        self.stack = stack
        self.info: dict[str, Any] = json.loads((state / str(stack.port) / "stack.json").read_text())
        self.people = seed.users(self.info["parameters"], stack.tokens(), state)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.filed: list[str] = []  # acknowledged ticket ids, in order
        self.block = 0
        self.latencies: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.server_errors: list[str] = []
        self.rng = random.Random(7)
        self.seeder = seed.Seeder(self.request, self.people, seed.Tickets(11))
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=self.info["aws_endpoint"],
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def client(self) -> httpx.Client:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.stack.url, timeout=120)
        return client

    def request(self, user: Any, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        block = self.block
        started = time.perf_counter()
        response = self.client().request(method, path, headers={"Authorization": f"Bearer {user.token}"}, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[(block, what)].append(elapsed)
            if response.status_code >= 500:
                self.server_errors.append(f"{method} {path} {response.status_code} {response.text[:200]}")
        return response

    def one(self) -> None:
        ticket_id = self.seeder.ticket()
        with self.lock:
            if ticket_id is not None:
                self.filed.append(ticket_id)
            earlier = self.rng.choice(self.filed) if self.filed else None
        if earlier is not None:
            owner = self.seeder.acknowledged[earlier].owner
            self.request(owner, "GET", f"/v1/tickets/{earlier}", what="get")

    def review_queue(self) -> int:
        """Messages in the review queue (waiting or being reviewed): whether the reviewer keeps up."""
        url = self.info["names"].get("ReviewQueue")
        if not url:
            return 0
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def read_back(self, ticket_ids: list[str]) -> list[str]:
        def check(ticket_id: str) -> list[str]:
            owner = self.seeder.acknowledged[ticket_id].owner
            response = self.request(owner, "GET", f"/v1/tickets/{ticket_id}", what="verify")
            return self.seeder.lost(ticket_id, response.json() if response.status_code == 200 else None)

        with ThreadPoolExecutor(CLIENTS) as pool:
            return [problem for problems in pool.map(check, ticket_ids) for problem in problems]


def main() -> int:
    load = os.getloadavg()
    print(
        f"soak: {TICKETS:,} tickets, {CLIENTS} clients, a row every {EVERY:,} "
        f"({os.cpu_count()} CPUs, load average {load[0]:.1f} at start)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        state = Path(tmp)
        stack = Stack(state)
        stack.wait_healthy()
        soak = Soak(stack, state)
        rows: list[dict[str, Any]] = []
        print(
            f"{'tickets':>8} {'stack RSS':>10} {'functions PSS':>14} {'create p50/p99 ms':>18} "
            f"{'GET p50/p99 ms':>15} {'5xx':>4} {'lost':>5} {'queued':>6} {'elapsed':>8} {'load':>5}",
            flush=True,
        )
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                for stretch in range(0, TICKETS, EVERY):
                    soak.block = stretch // EVERY
                    count = min(EVERY, TICKETS - stretch)
                    list(pool.map(lambda _: soak.one(), range(count)))
                    with soak.lock:
                        sample = soak.rng.sample(soak.filed, min(SAMPLE, len(soak.filed)))
                    lost = soak.read_back(sample)
                    rss, functions, processes = memory(stack.process.pid)
                    queued = soak.review_queue()
                    creates = soak.latencies[(soak.block, "create")]
                    gets = soak.latencies[(soak.block, "get")]
                    row = {
                        "tickets": len(soak.filed),
                        "rss_mb": round(rss),
                        "functions_pss_mb": round(functions),
                        "processes": processes,
                        "create_p50": round(statistics.median(creates), 1),
                        "create_p99": round(_percentile(creates, 0.99), 1),
                        "get_p50": round(statistics.median(gets), 1),
                        "get_p99": round(_percentile(gets, 0.99), 1),
                        "server_errors": len(soak.server_errors),
                        "lost_in_sample": len(lost),
                        "review_queue": queued,
                        "elapsed_s": round(time.monotonic() - started),
                        "load": round(os.getloadavg()[0], 1),
                    }
                    rows.append(row)
                    print(
                        f"{row['tickets']:>8,} {row['rss_mb']:>7,} MB {row['functions_pss_mb']:>8,} MB ({processes:>2}) "
                        f"{row['create_p50']:>8} / {row['create_p99']:<7} {row['get_p50']:>6} / {row['get_p99']:<6} "
                        f"{row['server_errors']:>4} {row['lost_in_sample']:>5} {row['review_queue']:>6} {row['elapsed_s']:>7}s"
                        f" {row['load']:>5}",
                        flush=True,
                    )
                    for problem in lost[:5]:
                        print(f"    lost: {problem}", flush=True)
            drained = drain(soak, DRAIN)
            lost = soak.read_back(list(soak.filed))
            counts = soak.seeder.acknowledged
            print(
                f"\nread back all {len(soak.filed):,} acknowledged tickets "
                f"({sum(len(a.messages) for a in counts.values()):,} replies, "
                f"{sum(a.closed for a in counts.values()):,} closes): {len(lost)} lost writes",
                flush=True,
            )
            for problem in lost[:20]:
                print(f"    lost: {problem}", flush=True)
            print(f"5xx answers: {len(soak.server_errors)}", flush=True)
            for error in soak.server_errors[:10]:
                print(f"    {error}", flush=True)
            print(drained, flush=True)
            errors = [line for line in (state / "stack.log").read_text(errors="replace").splitlines() if " E " in line]
            print(f"errors in the stack's log: {len(errors)}", flush=True)
            for line in errors[:10]:
                print(f"    {line[:300]}", flush=True)
            first, last = rows[0], rows[-1]
            print(
                f"ratios {last['tickets']:,} vs {first['tickets']:,} tickets: stack RSS ×{last['rss_mb'] / first['rss_mb']:.2f}, "
                f"create p50 ×{last['create_p50'] / first['create_p50']:.2f}, "
                f"GET p50 ×{last['get_p50'] / first['get_p50']:.2f}",
                flush=True,
            )
        finally:
            rss, functions, _ = memory(stack.process.pid)
            began = time.perf_counter()
            stack.process.send_signal(getattr(signal, SIGNAL))
            try:
                stack.process.wait(timeout=300)
                stopped = f"{time.perf_counter() - began:.2f} s"
            except Exception:
                stack.process.kill()
                stopped = "more than 300 s (killed)"
            print(
                f"stop with {SIGNAL} holding {len(soak.filed):,} tickets (stack RSS {rss:,.0f} MB): {stopped}, "
                f"exit code {stack.process.returncode}",
                flush=True,
            )
    return 0


def drain(soak: Soak, timeout: float = 1800) -> str:
    """Wait until the review queue is empty (every filed ticket and draft reviewed); how long it took."""
    began = time.monotonic()
    while soak.review_queue() and time.monotonic() - began < timeout:
        time.sleep(2)
    if soak.review_queue():
        return f"the review queue still held {soak.review_queue()} messages {timeout:.0f} s after the last request"
    mails = httpx.get(f"{soak.stack.url}/_local/mail", timeout=60).json()
    return (
        f"review queue drained {time.monotonic() - began:.0f} s after the last request; "
        f"{len(mails):,} mails in /_local/mail"
    )


if __name__ == "__main__":
    sys.exit(main())
