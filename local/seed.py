"""`python -m local.seed --tickets 2000`: fill a running local stack with realistic tickets, through
its API as customers and the support team would, to try the system, the CLI and the web page at
volume.

Tickets are drawn from eval/tickets.jsonl (real-looking reports: pods crash-looping, 502s after an
upgrade, invoices…) with their cluster, region and times varied, filed by several users of several
orgs (the demo ones included: `acme_user` sees its share); some as multipart with a small log
attached, some reviewed first and filed from their review. Then the conversation goes on: replies
from the customer and from support, and some tickets closed. The reviewer and the notifier run as
they do for any request, so reviews, duplicates and mail follow. `--clients` requests at a time."""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import config, keys
from local.template import ROOT

CORPUS = ROOT / "eval" / "tickets.jsonl"
ORGS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")
CLUSTERS = ("prod-eu-1", "prod-eu-2", "prod-us-1", "staging-eu", "dev-shared", "batch-ap-1")
REGIONS = ("fra1", "ams3", "lon1", "nyc3", "sfo3", "sgp1")
CUSTOMER_REPLIES = (
    "Still failing after a restart.",
    "Attached is the output you asked for; the error is the same.",
    "It happened again at {hour}:{minute:02d} UTC, this time on {cluster} as well.",
    "Thanks, that worked. We will keep an eye on it.",
    "Any update? This blocks our release.",
    "We rolled back the change and it is stable for now.",
)
SUPPORT_REPLIES = (
    "Thanks for the report, we are looking into it.",
    "Could you send the output of `kubectl describe node` for an affected node?",
    "We found the cause on our side; a fix is rolling out in {region} now. Please confirm when it looks good.",
    "This is expected with the current limits; raising them needs a plan change. Details below.",
    "We could not reproduce it on {cluster}. Does it still happen?",
)
LOG_LINES = (
    "{at} kubelet[{pid}]: E0423 node {cluster}-node-{node} not ready: PLEG is not healthy",
    '{at} containerd[{pid}]: level=error msg="failed to pull image" error="429 Too Many Requests"',
    "{at} kernel: Out of memory: Killed process {pid} (java) total-vm:4194304kB",
    "{at} ingress-nginx: upstream timed out (110: Connection timed out) while reading response header",
)


@dataclass(frozen=True)
class User:
    key: str
    org: str
    token: str
    support: bool = False


@dataclass
class Tally:
    """What a seeding or soak run did, and what failed."""

    counts: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, status: int | None = None) -> None:
        with self.lock:
            self.counts[what] += 1
            if status is not None and status >= 400:
                self.statuses[f"{what} {status}"] += 1


class Tickets:
    """Realistic drafts, replies and attachments, from eval/tickets.jsonl and a seeded generator."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.corpus = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
        if not self.corpus:
            raise SystemExit(f"no tickets in {CORPUS}")

    def _vary(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "cluster": rng.choice(CLUSTERS),
            "region": rng.choice(REGIONS),
            "hour": rng.randrange(24),
            "minute": rng.randrange(60),
            "node": rng.randrange(1, 40),
            "pid": rng.randrange(300, 40000),
            "at": f"2026-11-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        }

    def draft(self) -> dict[str, Any]:
        with self.lock:
            rng = self.rng
            source = rng.choice(self.corpus)
            values = self._vary()
            body = (
                f"{source['body']}\n\nCluster `{values['cluster']}` in {values['region']}, "
                f"first seen {values['at']} (ref {rng.randrange(16**6):06x})."
            )
            draft: dict[str, Any] = {"subject": source["subject"][:200], "body": body, "category": source["category"]}
            if rng.random() < 0.5:
                draft["severity"] = source["severity"]
            if rng.random() < 0.5:
                draft["properties"] = {"cluster_id": f"{rng.randrange(16**24):024x}", "region": values["region"]}
            return draft

    def reply(self, support: bool) -> str:
        with self.lock:
            template = self.rng.choice(SUPPORT_REPLIES if support else CUSTOMER_REPLIES)
            return template.format(**self._vary())

    def log_file(self) -> tuple[str, bytes, str]:
        with self.lock:
            lines = [self.rng.choice(LOG_LINES).format(**self._vary()) for _ in range(self.rng.randrange(5, 40))]
            name = self.rng.choice(("kubelet.log", "events.txt", "ingress.log"))
        return name, ("\n".join(lines) + "\n").encode(), "text/plain"

    def chance(self, probability: float) -> bool:
        with self.lock:
            return self.rng.random() < probability


def users(
    parameters: dict[str, str], demo_tokens: dict[str, str], state: Path | None = None, per_org: int = 3
) -> list[User]:
    """The demo users, plus members of more orgs and two more support agents (tokens minted with
    the key in `state` (.local/) for the stack's issuer and audience)."""
    audience = parameters["JwtAudience"].split(",")[0].strip()
    org_claim, roles_claim = parameters.get("OrgClaim", "org_id"), parameters.get("RolesClaim", "roles")

    def mint(sub: str, org: str, roles: tuple[str, ...]) -> str:
        claims = keys.user_claims(sub, f"{sub}@{org}.test", org, roles, org_claim=org_claim, roles_claim=roles_claim)
        return keys.mint(claims, issuer=parameters["JwtIssuer"], audience=audience, directory=state)

    found = [
        User(demo.key, demo.org, demo_tokens[demo.key], support="support" in demo.roles)
        for demo in config.DEMO_USERS
        if demo.key in demo_tokens
    ]
    for org in ORGS:
        for n in range(per_org):
            found.append(User(f"{org}-{n}", org, mint(f"seed-{org}-{n}", org, ("admin",) if n == 0 else ("member",))))
    for n in range(2):
        found.append(User(f"agent-{n}", "helpdesk", mint(f"seed-agent-{n}", "helpdesk", ("support",)), support=True))
    return found


def multipart(draft: dict[str, Any], files: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    """httpx arguments for a multipart request: the JSON as `payload`, the files as `attachments`."""
    return {
        "data": {"payload": json.dumps(draft)},
        "files": [("attachments", (name, content, kind)) for name, content, kind in files],
    }


@dataclass
class Acknowledged:
    """What the API acknowledged for one ticket: it must all be readable afterwards."""

    owner: User
    messages: list[str] = field(default_factory=list)  # ids of the messages answered 201
    closed: bool = False


class Seeder:
    """Files one ticket and carries its conversation on (used by `local.seed` and the soak bench).
    `request(user, method, path, what=..., **httpx arguments)` sends one request; what the API
    acknowledged is kept in `acknowledged` (ticket id → messages, closed)."""

    def __init__(self, request: Callable[..., Any], people: list[User], tickets: Tickets) -> None:
        self.request, self.tickets = request, tickets
        self.customers = [user for user in people if not user.support]
        self.agents = [user for user in people if user.support]
        self.acknowledged: dict[str, Acknowledged] = {}

    def ticket(self) -> str | None:
        """One ticket with its conversation; its id, or None when it could not be filed."""
        tickets = self.tickets
        with tickets.lock:
            customer = tickets.rng.choice(self.customers)
            agent = tickets.rng.choice(self.agents)
        draft = tickets.draft()
        if tickets.chance(0.03):
            ticket_id = self._reviewed_first(customer, draft)
        elif tickets.chance(0.1):
            response = self.request(
                customer, "POST", "/v1/tickets", **multipart(draft, [tickets.log_file()]), what="create"
            )
            ticket_id = response.json()["id"] if response.status_code == 201 else None
        else:
            response = self.request(customer, "POST", "/v1/tickets", json=draft, what="create")
            ticket_id = response.json()["id"] if response.status_code == 201 else None
        if ticket_id is None:
            return None
        record = self.acknowledged[ticket_id] = Acknowledged(customer)
        for turn in range(4):
            if not tickets.chance(0.6 if turn == 0 else 0.35):
                break
            speaker = agent if turn % 2 == 0 else customer
            response = self.request(
                speaker,
                "POST",
                f"/v1/tickets/{ticket_id}/messages",
                json={"body": tickets.reply(speaker.support)},
                what="reply",
            )
            if response.status_code == 201:
                record.messages.append(response.json()["id"])
        if tickets.chance(0.25):
            closed = self.request(customer, "POST", f"/v1/tickets/{ticket_id}/close", what="close")
            record.closed = closed.status_code == 200
        return ticket_id

    def lost(self, ticket_id: str, ticket: dict[str, Any] | None) -> list[str]:
        """What the API acknowledged for a ticket and the ticket as read back does not hold."""
        record = self.acknowledged[ticket_id]
        if ticket is None:
            return [f"{ticket_id}: acknowledged (201) but not found"]
        stored = {message["id"] for message in ticket.get("messages", [])}
        problems = [
            f"{ticket_id}: message {mid} acknowledged but missing" for mid in record.messages if mid not in stored
        ]
        if record.closed and ticket.get("status") != "closed":
            problems.append(f"{ticket_id}: close acknowledged but the ticket is {ticket.get('status')}")
        return problems

    def _reviewed_first(self, customer: User, draft: dict[str, Any]) -> str | None:
        """A draft reviewed first (the reviewer may also choose its category), then filed from its review."""
        if self.tickets.chance(0.5):
            draft.pop("category")
        review = self.request(customer, "POST", "/v1/tickets/review", json=draft, what="review")
        if review.status_code not in (200, 201, 202):
            return None
        review_id = review.json()["review_id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = self.request(customer, "GET", f"/v1/tickets/reviews/{review_id}", what="get review")
            if got.status_code == 200 and got.json()["status"] != "pending":
                break
            time.sleep(0.5)
        filed = self.request(customer, "POST", "/v1/tickets", json={"review_id": review_id}, what="create")
        return str(filed.json()["id"]) if filed.status_code == 201 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=500, help="how many tickets to file (default 500)")
    parser.add_argument("--clients", type=int, default=4, help="requests at a time (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (the same seed, the same tickets)")
    parser.add_argument("--port", type=int, help="the stack to fill, by its gateway port (default: the one running)")
    args = parser.parse_args(argv)

    import httpx

    try:
        running = config.running_stack(args.port)
    except config.StackChoice as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if running is None:
        print("error: no local stack is running; start one with `make run`", file=sys.stderr)
        return 2
    port = int(running["api_url"].rsplit(":", 1)[1])
    demo_tokens = json.loads((config.stack_dir(port) / "tokens.json").read_text())
    people = users(running["parameters"], demo_tokens)
    tally = Tally()
    local = threading.local()

    def request(user: User, method: str, path: str, *, what: str, **kwargs: Any) -> httpx.Response:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=running["api_url"], timeout=60)
        response = client.request(method, path, headers={"Authorization": f"Bearer {user.token}"}, **kwargs)
        tally.add(what, response.status_code)
        return response

    seeder = Seeder(request, people, Tickets(args.seed))
    started = time.monotonic()
    filed = 0
    print(f"Filing {args.tickets:,} tickets into {running['api_url']} ({args.clients} at a time)…", file=sys.stderr)
    with ThreadPoolExecutor(max(1, args.clients)) as pool:
        for done, ticket_id in enumerate(pool.map(lambda _: seeder.ticket(), range(args.tickets)), start=1):
            filed += ticket_id is not None
            if done % 250 == 0 or done == args.tickets:
                rate = done / max(time.monotonic() - started, 1e-3)
                print(f"  {done:,} tickets ({rate:.1f}/s), {tally.counts['reply']:,} replies", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(
        f"Filed {filed:,} of {args.tickets:,} tickets in {elapsed:.0f} s: {tally.counts['reply']:,} replies, "
        f"{tally.counts['close']:,} closed, {tally.counts['review']:,} reviewed before filing, across "
        f"{len({user.org for user in people if not user.support})} orgs.",
        file=sys.stderr,
    )
    if tally.statuses:
        print(f"Refused: {dict(tally.statuses)}", file=sys.stderr)
    print("Reviews and mail follow as the queue and the stream are worked through.", file=sys.stderr)
    return 0 if filed == args.tickets else 1


if __name__ == "__main__":
    sys.exit(main())
