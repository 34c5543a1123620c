"""The local stack keeps AWS's semantics under concurrency: requests sent at the same moment to one
ticket, over HTTP through the gateway, each answered as DynamoDB would have it — every
acknowledged write is stored, every refused one is absent, and nothing fails with a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import time_ns
from typing import Any

import httpx
import pytest

from helpdesk.store.categories import mix_key, mix_of
from tests.integration.harness import RunningStack

pytestmark = pytest.mark.integration

DRAFT = {"category": "technical", "body": "The load balancer drops one request in ten since the upgrade."}


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls on as many threads, released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def no_5xx(responses: list[httpx.Response]) -> None:
    failed = [f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}" for r in responses]
    assert not [line for r, line in zip(responses, failed, strict=True) if r.status_code >= 500], failed


def reply_call(stack: RunningStack, token: str, ticket_id: str, body: str) -> Callable[[], httpx.Response]:
    def call() -> httpx.Response:
        with stack.client(token) as client:
            return client.post(f"/v1/tickets/{ticket_id}/messages", json={"body": body})

    return call


def conversation(stack: RunningStack, ticket_id: str) -> dict[str, Any]:
    with stack.as_user("support") as support:
        response = support.get(f"/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def test_replies_and_a_close_sent_together_are_stored_exactly_as_answered(stack: RunningStack) -> None:
    customer, support = stack.tokens["acme_user"], stack.tokens["support"]
    disagreements = []
    for round_ in range(20):
        # Given a ticket
        with stack.client(customer) as client:
            created = client.post("/v1/tickets", json=DRAFT)
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]

        # When six replies (customer and support) and a close arrive at the same moment
        bodies = [f"round {round_} reply {n}" for n in range(6)]
        calls = [reply_call(stack, customer if n % 2 else support, ticket_id, body) for n, body in enumerate(bodies)]

        def close(ticket_id: str = ticket_id) -> httpx.Response:
            with stack.client(customer) as client:
                return client.post(f"/v1/tickets/{ticket_id}/close")

        *replies, closed = at_once([*calls, close])

        # Then every answer is one DynamoDB could give, and the conversation agrees with the answers
        no_5xx([*replies, closed])
        assert {r.status_code for r in replies} <= {201, 409}, [r.text for r in replies]
        assert closed.status_code in (200, 409), closed.text
        ticket = conversation(stack, ticket_id)
        stored = [message["body"] for message in ticket["messages"]]
        acknowledged = {body for body, r in zip(bodies, replies, strict=True) if r.status_code == 201}
        refused = {body for body, r in zip(bodies, replies, strict=True) if r.status_code != 201}
        problems = []
        if missing := acknowledged - set(stored):
            problems.append(f"answered 201 but missing: {sorted(missing)}")
        if ghosts := refused & set(stored):
            problems.append(f"answered 409 but stored: {sorted(ghosts)}")
        if closed.status_code == 200:
            last = ticket["messages"][-1]
            if ticket["status"] != "closed":
                problems.append(f"close answered 200 but the ticket is {ticket['status']}")
            if last["author"]["kind"] != "system" or "closed" not in last["body"]:
                problems.append(f"close answered 200 but the last message is {last['body']!r}")
        if problems:
            disagreements.append(f"round {round_} ({ticket_id}): " + "; ".join(problems))
    assert not disagreements, "\n".join(disagreements)


def test_sixty_concurrent_replies_store_exactly_the_acknowledged_ones(stack: RunningStack) -> None:
    customer, support = stack.tokens["acme_user"], stack.tokens["support"]
    with stack.client(customer) as client:
        created = client.post("/v1/tickets", json=DRAFT)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]

    bodies = [f"reply {n} of 60" for n in range(60)]
    replies = at_once(
        [reply_call(stack, support if n % 3 == 0 else customer, ticket_id, b) for n, b in enumerate(bodies)]
    )

    no_5xx(replies)
    assert {r.status_code for r in replies} <= {201, 409}, {r.status_code for r in replies}
    acknowledged = {body for body, r in zip(bodies, replies, strict=True) if r.status_code == 201}
    assert acknowledged, "no reply was accepted"
    stored = {m["body"] for m in conversation(stack, ticket_id)["messages"] if m["body"] in set(bodies)}
    assert stored == acknowledged, (
        f"answered 201 but missing: {sorted(acknowledged - stored)}; refused but stored: {sorted(stored - acknowledged)}"
    )


@pytest.mark.parametrize("burst", [1, 2])
def test_fifty_concurrent_creates_are_all_readable(stack: RunningStack, burst: int) -> None:
    tokens = [stack.tokens[name] for name in ("acme_user", "acme_admin", "globex_user")]

    def create(n: int) -> Callable[[], httpx.Response]:
        def call() -> httpx.Response:
            with stack.client(tokens[n % len(tokens)]) as client:
                return client.post("/v1/tickets", json={**DRAFT, "subject": f"Concurrent ticket {burst}.{n}"})

        return call

    # When fifty tickets are filed at once (twice: the second time into a fuller table)
    responses = at_once([create(n) for n in range(50)])

    # Then each is answered 201 and can be read back as filed
    no_5xx(responses)
    assert all(r.status_code == 201 for r in responses), [r.text[:200] for r in responses if r.status_code != 201]
    unreadable = []
    for n, response in enumerate(responses):
        with stack.client(tokens[n % len(tokens)]) as client:
            got = client.get(f"/v1/tickets/{response.json()['id']}")
        if got.status_code != 200 or got.json()["subject"] != f"Concurrent ticket {burst}.{n}":
            unreadable.append(f"{response.json()['id']}: {got.status_code} {got.text[:200]}")
    assert not unreadable, unreadable


def test_an_orgs_category_mix_counts_exactly_what_is_settled_after_concurrent_changes(stack: RunningStack) -> None:
    # Given twelve tickets of a new org
    org = f"mix{time_ns()}"
    customer = stack.mint(sub="u-mix", org_id=org, email="mix@example.com", roles=["member"])
    support = stack.tokens["support"]
    ids = []
    with stack.client(customer) as client:
        for n in range(12):
            created = client.post("/v1/tickets", json={**DRAFT, "subject": f"Mix ticket {n}"})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

    def patch(token: str, ticket_id: str, body: dict[str, str]) -> Callable[[], httpx.Response]:
        def call() -> httpx.Response:
            with stack.client(token) as client:
                return client.patch(f"/v1/tickets/{ticket_id}", json=body)

        return call

    # When, at the same moment, support resolves each as a bug and its customer recategorises it as a wish
    answers = at_once(
        [patch(support, i, {"status": "resolved", "category": "bug"}) for i in ids]
        + [patch(customer, i, {"category": "feature_request"}) for i in ids]
    )

    # Then every change was answered, and the org's mix is exactly its settled tickets' categories now
    no_5xx(answers)
    assert {r.status_code for r in answers} <= {200, 409}, [r.text for r in answers]
    settled: Counter[str] = Counter()
    for ticket_id in ids:
        ticket = conversation(stack, ticket_id)
        if ticket["status"] in ("resolved", "closed"):
            settled[ticket["category"]] += 1
    assert sum(settled.values()) == sum(r.status_code == 200 for r in answers[:12]) > 0
    item = (
        stack.aws("dynamodb")
        .get_item(TableName=stack.info["names"]["Table"], Key=mix_key(org), ConsistentRead=True)
        .get("Item", {})
    )
    stored = {name: int(value["N"]) for name, value in item.items() if "N" in value}  # as stored: none below 0
    assert mix_of(item) == stored
    assert {name: n for name, n in stored.items() if n} == dict(settled)
