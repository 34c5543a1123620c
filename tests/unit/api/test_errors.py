"""Errors nobody planned for still answer problem+json, and retryable refusals are not replayed."""

from __future__ import annotations

import pytest

from tests.support import event, invoke
from tests.unit.api.helpers import assert_problem, conversation, new_ticket


def test_an_unexpected_error_is_a_problem_500_with_the_correlation_id(aws, monkeypatch, caplog) -> None:
    from helpdesk.tickets import conversation as use_case

    # Given a bug deep inside a use case
    ticket = new_ticket()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(use_case, "get_conversation", broken)
    sample = event("get_ticket", path={"ticket_id": ticket["id"]})
    # When the request hits it
    response = invoke("get_ticket", sample)
    # Then the answer is our problem+json 500 naming the request, not API Gateway's bare message
    problem = assert_problem(response, 500)
    assert problem["correlation_id"] == sample["requestContext"]["requestId"]
    assert "a bug" not in response.text  # no internals leak


@pytest.mark.parametrize("failures", [1, 2])
def test_a_retryable_refusal_is_not_stored_by_idempotency(aws, monkeypatch, failures: int) -> None:
    from helpdesk.domain.errors import TryAgain
    from helpdesk.tickets import conversation as use_case

    # Given a ticket, and replies that meet a concurrent writer `failures` times
    ticket = new_ticket()
    real = use_case.reply
    calls: list[int] = []

    def contended(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) <= failures:
            raise TryAgain(f"Ticket {ticket['id']} is being changed by someone else right now; retry.")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(use_case, "reply", contended)
    sample = event("reply_ticket", path={"ticket_id": ticket["id"]}, headers={"Idempotency-Key": "k-1"})
    # When the client retries with the same key until it succeeds
    answers = [invoke("reply_ticket", sample) for _ in range(failures + 1)]
    # Then each refusal said to retry, and the retry ran (it was not replayed from the store)
    assert [a.status for a in answers] == [409] * failures + [201]
    assert all(a.headers["retry-after"] == "1" for a in answers[:failures])
    assert len(conversation(ticket["id"])["messages"]) == 2
    # and now that it succeeded, the key replays the success
    assert invoke("reply_ticket", sample).json() == answers[-1].json()
