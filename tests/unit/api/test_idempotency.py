"""Idempotency-Key on writes: a retry replays the first response and changes nothing more."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from helpdesk.tickets import changes, filing
from helpdesk.tickets import conversation as conversations
from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, Response, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    conversation,
    create,
    idempotency_records,
    list_all,
    new_ticket,
    patch_event,
    table_items,
)

KEY = {"Idempotency-Key": "7b0e6c1e-retry-me"}


def same(first: Response, second: Response) -> None:
    """The second response is the first one, replayed: status, headers and body."""
    assert second.status == first.status
    assert second.headers == first.headers
    assert second.json() == first.json()


# ---------------------------------------------------------------- create


def test_a_retried_create_replays_the_first_response_and_files_one_ticket(aws, sqs_messages) -> None:
    # Given a ticket filed with an Idempotency-Key
    first = create(headers=KEY)
    assert first.status == 201, first
    # When the client retries it with the same key and body
    second = create(headers=KEY)
    third = create(headers=KEY)
    # Then the same response comes back (same ticket id, same Location)
    same(first, second)
    same(first, third)
    # and only one ticket exists, with one review job queued
    assert [ticket["id"] for ticket in list_all()] == [first.json()["id"]]
    assert len(sqs_messages()) == 1


def test_the_same_key_with_another_body_is_422(aws, sqs_messages) -> None:
    # Given a ticket filed with a key
    first = create(headers=KEY)
    assert first.status == 201, first
    # When the key is reused for another ticket
    other = create(headers=KEY, category="billing", body="A different problem")
    # Then it is refused, and no second ticket is filed
    problem = assert_problem(other, 422)
    assert "Idempotency-Key" in problem["detail"]
    assert len(list_all()) == 1
    assert len(sqs_messages()) == 1


def test_a_key_is_scoped_to_its_user_and_org(aws) -> None:
    # Given acme's user filed a ticket with a key
    mine = create(ACME_USER, headers=KEY)
    # When another user of acme, a user of globex, and support use the same key and body
    admins = create(ACME_ADMIN, headers=KEY)
    globex = create(GLOBEX_USER, headers=KEY)
    support = create(SUPPORT, headers=KEY)
    # Then each files their own ticket
    responses = [mine, admins, globex, support]
    assert [response.status for response in responses] == [201] * 4
    assert len({response.json()["id"] for response in responses}) == 4
    assert len(list_all(ACME_USER)) == 2
    assert len(list_all(GLOBEX_USER)) == 1
    assert len(list_all(SUPPORT)) == 4


def test_without_a_key_every_request_files_a_ticket(aws) -> None:
    # When the same create is sent twice without a key
    statuses = [create().status, create().status]
    # Then two tickets are filed
    assert statuses == [201, 201]
    assert len(list_all()) == 2


@pytest.mark.parametrize("key", ["k" * 256, "", "   ", "bad\nkey", "tab\tkey"])
def test_a_malformed_key_is_400_and_files_nothing(aws, key: str) -> None:
    # When a ticket is filed with an over-long, empty or non-printable key
    response = create(headers={"Idempotency-Key": key})
    # Then it is a bad request, and nothing is written
    problem = assert_problem(response, 400)
    assert "Idempotency-Key" in problem["detail"]
    assert table_items() == []
    assert idempotency_records() == []


def test_a_key_of_255_characters_is_accepted(aws) -> None:
    # When a ticket is filed, and retried, with a key of the longest allowed length
    key = {"Idempotency-Key": "k" * 255}
    first = create(headers=key)
    second = create(headers=key)
    # Then the key works like any other
    assert first.status == 201, first
    same(first, second)
    assert len(list_all()) == 1


def test_an_error_is_replayed_and_the_write_not_retried_behind_the_callers_back(aws) -> None:
    # Given a reply with a key that was refused because the ticket is closed
    ticket = new_ticket()
    assert invoke("close_ticket", event("close_ticket", path={"ticket_id": ticket["id"]})).status == 200
    sample = event("reply_ticket", path={"ticket_id": ticket["id"]}, headers=KEY)
    first = invoke("reply_ticket", sample)
    assert_problem(first, 409)
    # When it is retried with the same key
    # Then the same answer comes back
    same(first, invoke("reply_ticket", sample))


# ---------------------------------------------------------------- reply, patch, close


def _reply(ticket_id: str, headers: dict[str, str], text: str = "Any news?") -> Response:
    sample = event("reply_ticket", path={"ticket_id": ticket_id}, body={"body": text}, headers=headers)
    return invoke("reply_ticket", sample)


def _patch(ticket_id: str, headers: dict[str, str], severity: str = "high") -> Response:
    return invoke("update_ticket", patch_event(ticket_id, {"severity": severity}, headers=headers))


def _close(ticket_id: str, headers: dict[str, str]) -> Response:
    return invoke("close_ticket", event("close_ticket", path={"ticket_id": ticket_id}, headers=headers))


def test_a_retried_reply_adds_one_message(aws) -> None:
    # Given a ticket, and a reply sent with a key
    ticket = new_ticket()
    first = _reply(ticket["id"], KEY)
    assert first.status == 201, first
    # When it is retried
    second = _reply(ticket["id"], KEY)
    # Then the same message is returned, and the conversation holds it once
    same(first, second)
    stored = conversation(ticket["id"])
    assert [m["id"] for m in stored["messages"]] == [ticket["id"], first.json()["id"]]
    assert stored["version"] == 2


def test_a_retried_patch_applies_once(aws) -> None:
    # Given a ticket, and a change sent with a key
    ticket = new_ticket()
    first = _patch(ticket["id"], KEY)
    assert first.status == 200, first
    # When it is retried
    second = _patch(ticket["id"], KEY)
    # Then the same ticket (and ETag) comes back, and the version moved once
    same(first, second)
    assert second.headers["etag"] == '"2"'
    assert conversation(ticket["id"])["version"] == 2


def test_a_retried_close_replays_its_success_instead_of_409(aws) -> None:
    # Given a ticket closed with a key
    ticket = new_ticket()
    first = _close(ticket["id"], KEY)
    assert first.status == 200, first
    # When the close is retried with the key (a lost response, say)
    second = _close(ticket["id"], KEY)
    # Then it is the same success, and the ticket was closed once
    same(first, second)
    messages = conversation(ticket["id"])["messages"]
    assert [m["author"]["kind"] for m in messages] == ["user", "system"]
    # while a close without the key is the conflict it is
    assert_problem(_close(ticket["id"], {}), 409)


@pytest.mark.parametrize(
    ("send", "other"),
    [
        (_reply, lambda ticket_id, headers: _reply(ticket_id, headers, "Something else")),
        (_patch, lambda ticket_id, headers: _patch(ticket_id, headers, "low")),
    ],
    ids=["reply", "patch"],
)
def test_reusing_a_key_for_another_reply_or_patch_is_422(aws, send: Callable, other: Callable) -> None:
    # Given a write made with a key
    ticket = new_ticket()
    assert send(ticket["id"], KEY).status in (200, 201)
    before = table_items()
    # When the key is reused with another body
    response = other(ticket["id"], KEY)
    # Then it is refused and nothing changed
    assert_problem(response, 422)
    assert table_items() == before


def test_a_key_is_scoped_to_the_ticket_it_was_used_on(aws) -> None:
    # Given two tickets
    one, two = new_ticket(), new_ticket()
    # When the same key and body are used to reply to each
    first, second = _reply(one["id"], KEY), _reply(two["id"], KEY)
    # Then both replies are made
    assert (first.status, second.status) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert len(conversation(one["id"])["messages"]) == 2
    assert len(conversation(two["id"])["messages"]) == 2


@pytest.mark.parametrize("endpoint", ["create", "reply", "patch", "close"])
def test_the_same_key_as_another_users_on_the_same_ticket_is_theirs(aws, endpoint: str) -> None:
    # Given a ticket, and a write by acme's user with a key
    ticket = new_ticket()
    sends = {
        "create": lambda claims: create(claims, headers=KEY),
        "reply": lambda claims: invoke(
            "reply_ticket", event("reply_ticket", claims=claims, path={"ticket_id": ticket["id"]}, headers=KEY)
        ),
        "patch": lambda claims: invoke(
            "update_ticket", patch_event(ticket["id"], {"severity": "high"}, claims, headers=KEY)
        ),
        "close": lambda claims: invoke(
            "close_ticket", event("close_ticket", claims=claims, path={"ticket_id": ticket["id"]}, headers=KEY)
        ),
    }
    first = sends[endpoint](ACME_USER)
    assert first.status in (200, 201), first
    # When the org's admin sends the same key and body
    second = sends[endpoint](ACME_ADMIN)
    # Then it is handled as their own request, not a replay of the user's
    if endpoint == "close":
        assert_problem(second, 409)  # closed already: a real second close, not a replayed success
    else:
        assert second.status == first.status, second
        assert second.json() != first.json()


# ---------------------------------------------------------------- in flight


@pytest.fixture
def blocked(monkeypatch) -> Iterator[Callable[[Any, str], tuple[threading.Event, threading.Event]]]:
    """Hold a use case in the middle of its first call, as a slow first request would be."""
    release_all: list[threading.Event] = []

    def block(module: Any, name: str) -> tuple[threading.Event, threading.Event]:
        inside, release = threading.Event(), threading.Event()
        release_all.append(release)
        original = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            if not inside.is_set():
                inside.set()
                assert release.wait(timeout=10)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, held)
        return inside, release

    yield block
    for release in release_all:
        release.set()


@pytest.mark.parametrize(
    ("endpoint", "module", "use_case"),
    [
        ("create", filing, "file_ticket"),
        ("reply", conversations, "reply"),
        ("patch", changes, "update_ticket"),
        ("close", conversations, "close"),
    ],
)
def test_a_retry_while_the_first_request_runs_is_409(aws, blocked, endpoint: str, module: Any, use_case: str) -> None:
    # Given a ticket, and a first request with a key that is still running
    ticket = new_ticket()
    send = {
        "create": lambda: create(headers=KEY),
        "reply": lambda: _reply(ticket["id"], KEY),
        "patch": lambda: _patch(ticket["id"], KEY),
        "close": lambda: _close(ticket["id"], KEY),
    }[endpoint]
    inside, release = blocked(module, use_case)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(send)
        assert inside.wait(timeout=10)
        # When the client retries with the same key meanwhile
        retry = send()
        # Then the retry is told the request is in progress (the first one's record says so)
        problem = assert_problem(retry, 409)
        assert "in progress" in problem["title"].lower()
        assert [record["status"]["S"] for record in idempotency_records()] == ["INPROGRESS"]
        # When the first request completes
        release.set()
        first = running.result(timeout=10)
    # Then it succeeded, and a later retry replays it
    assert first.status in (200, 201), first
    assert [record["status"]["S"] for record in idempotency_records()] == ["COMPLETED"]
    same(first, send())
    assert len(list_all()) == (2 if endpoint == "create" else 1)
