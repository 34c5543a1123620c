"""Replies racing a close: a reply either lands before the close or is refused, never after it.

A message is stamped (id, created_at) by the function before it is written; the conversation is
ordered by message id. So "never after the close" means: every accepted reply's id and created_at
are below the close's system message's, whatever order the writes reach the table in."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from helpdesk.observability import metrics
from helpdesk.store import tickets as repository
from tests.support import ACME_ADMIN, ACME_USER, SUPPORT, Response, load_function
from tests.unit.api.helpers import close, conversation, empty_aws, new_ticket, reply

ROUNDS = 20
REPLIES_PER_ROUND = 5


def _message(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return args[1] if len(args) > 1 else kwargs["message"]


def _assert_the_close_is_last(ticket_id: str, closed: Response, accepted: list[str]) -> None:
    """The conversation: the first message, the accepted replies, then the close's note."""
    messages = conversation(ticket_id, SUPPORT)["messages"]
    closed_at = closed.json()["closed_at"]
    order = [(m["id"], m["created_at"], m["author"]["kind"], m["body"][:12]) for m in messages]
    assert messages[-1]["author"]["kind"] == "system", order
    assert messages[-1]["created_at"] == closed_at
    assert sorted(m["id"] for m in messages[1:-1]) == sorted(accepted), order
    assert all(m["created_at"] <= closed_at for m in messages), order


# ---------------------------------------------------------------- chosen interleavings


def test_a_reply_committed_while_a_close_is_in_flight_stays_before_it(aws, monkeypatch) -> None:
    # Given a ticket, and a close that is interrupted between stamping its system message and writing
    # it, by a reply that stamps itself and commits
    ticket = new_ticket()
    close_ticket = repository.close_ticket
    interleaved: list[Response] = []

    def close_after_a_reply(*args: Any, **kwargs: Any) -> None:
        if not interleaved:
            time.sleep(0.002)
            interleaved.append(reply(ticket["id"], "sneaked in", ACME_USER))
        close_ticket(*args, **kwargs)

    monkeypatch.setattr(repository, "close_ticket", close_after_a_reply)
    # When the close completes
    closed = close(ticket["id"], ACME_ADMIN)
    # Then both succeed, and the reply is in the conversation before the close's system message
    assert interleaved[0].status == 201, interleaved[0]
    assert closed.status == 200, closed
    _assert_the_close_is_last(ticket["id"], closed, [interleaved[0].json()["id"]])


def test_a_late_write_of_an_early_reply_does_not_let_the_close_jump_a_later_reply(aws, monkeypatch) -> None:
    # Given a ticket; an "early" reply that has stamped itself but is slow to write; and a close that,
    # once stamped, is overtaken by a "late" reply (stamped after the close) and then by the early write
    # (were the early write to set the ticket's last activity back, the close would not see the late one)
    ticket = new_ticket()
    add_message, close_ticket = repository.add_message, repository.close_ticket
    early_stamped, early_go = threading.Event(), threading.Event()
    late: list[Response] = []

    def slow_early(*args: Any, **kwargs: Any) -> Any:
        if _message(args, kwargs).body == "early":
            early_stamped.set()
            assert early_go.wait(timeout=10)
        return add_message(*args, **kwargs)

    def overtaken_close(*args: Any, **kwargs: Any) -> None:
        if not late:
            time.sleep(0.002)
            late.append(reply(ticket["id"], "late", SUPPORT))
            early_go.set()
            early.result(timeout=10)
        close_ticket(*args, **kwargs)

    monkeypatch.setattr(repository, "add_message", slow_early)
    monkeypatch.setattr(repository, "close_ticket", overtaken_close)
    with ThreadPoolExecutor(max_workers=1) as pool:
        early = pool.submit(reply, ticket["id"], "early", ACME_USER)
        assert early_stamped.wait(timeout=10)
        time.sleep(0.002)
        # When the close is sent
        closed = close(ticket["id"], ACME_ADMIN)
    # Then both replies are in, before the close's note
    assert (early.result().status, late[0].status, closed.status) == (201, 201, 200)
    _assert_the_close_is_last(ticket["id"], closed, [early.result().json()["id"], late[0].json()["id"]])


# ---------------------------------------------------------------- many races


@pytest.fixture
def racing_aws(aws, monkeypatch) -> Iterator[None]:
    """Threads as concurrent Lambda invocations against one table.

    moto in-process is not thread-safe (a failed transaction restores a deep copy of the whole table
    taken before it ran, wiping what another thread committed meanwhile), while DynamoDB applies each
    request atomically: so one AWS request at a time here. The functions' own code still interleaves
    freely between requests, and each write waits 0-3 ms before it is sent (network latency), so
    writes reach the table in another order than they were stamped in."""
    for name in ("reply_ticket", "close_ticket"):
        load_function(name)  # tests.support loads a function lazily, which is not thread-safe
    lock = threading.Lock()
    process_request = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return process_request(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
    metrics_lock = threading.Lock()  # Lambda runs one invocation per process at a time; these threads share Metrics
    for name in ("add_metric", "flush_metrics"):
        method = getattr(metrics.provider, name)

        def one_thread_at_a_time(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with metrics_lock:
                return _method(*args, **kwargs)

        monkeypatch.setattr(metrics.provider, name, one_thread_at_a_time)
    jitter = random.Random(7)
    for name in ("add_message", "close_ticket"):
        write = getattr(repository, name)

        def delayed(*args: Any, _write: Any = write, **kwargs: Any) -> Any:
            time.sleep(jitter.uniform(0, 0.003))
            return _write(*args, **kwargs)

        monkeypatch.setattr(repository, name, delayed)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(interval)


def race(ticket_id: str) -> tuple[Response, list[Response]]:
    """Several replies (customers and support) and one close, released at the same instant."""
    writers = [ACME_USER, SUPPORT, ACME_ADMIN, ACME_USER, SUPPORT][:REPLIES_PER_ROUND]
    start = threading.Barrier(len(writers) + 1)

    def replying(n: int) -> Response:
        start.wait()
        return reply(ticket_id, f"reply {n}", writers[n])

    def closing() -> Response:
        start.wait()
        return close(ticket_id, ACME_ADMIN)

    with ThreadPoolExecutor(max_workers=len(writers) + 1) as pool:
        replies = [pool.submit(replying, n) for n in range(len(writers))]
        closed = pool.submit(closing)
        return closed.result(timeout=30), [future.result(timeout=30) for future in replies]


def test_no_reply_lands_after_a_close(racing_aws) -> None:
    outcomes: dict[int, int] = {201: 0, 409: 0}
    for _ in range(ROUNDS):
        # Given a fresh ticket
        ticket = new_ticket()
        # When several replies race one close
        closed, replies = race(ticket["id"])
        # Then the close succeeds
        assert closed.status == 200, closed
        # and every reply is either accepted (201) or refused because the ticket is closed (409), never a 5xx
        statuses = [response.status for response in replies]
        assert set(statuses) <= {201, 409}, replies
        for status in statuses:
            outcomes[status] += 1
        for refused in (response for response in replies if response.status == 409):
            assert refused.json()["title"] == "Ticket is closed"
        # and the conversation ends with the close: every accepted reply before it, no refused one at all
        accepted = [response.json()["id"] for response in replies if response.status == 201]
        _assert_the_close_is_last(ticket["id"], closed, accepted)
        assert conversation(ticket["id"])["status"] == "closed"
        empty_aws()  # moto copies the whole table for every transaction: keep it small
    # and every attempt was answered one way or the other
    assert outcomes[201] + outcomes[409] == ROUNDS * REPLIES_PER_ROUND
