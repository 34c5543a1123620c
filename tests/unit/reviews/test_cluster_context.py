"""Cluster context (SPEC §6): the reviewer asks the provider about the ticket's cluster, shows the
answer in the review, stores it on the ticket, and uses it; a failing, slow or oversized provider
never blocks the review."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.unit.reviews.test_reviewer import conversation, file, run_reviewer

PROVIDER = "arn:aws:lambda:eu-west-1:123456789012:function:describe-cluster"
DEGRADED = {
    "cluster_id": "60c72b2f9f1b2c001f8e4d3a", "name": "prod-eu", "region": "eu-central-1", "version": "1.29.4",
    "status": "degraded", "nodes": {"ready": 4, "total": 6},
    "recent_warnings": [{"reason": "NodeNotReady", "message": "Node ip-10-0-3-17 is NotReady", "count": 3}],
}  # fmt: skip
BODY = "Since 10:00 UTC our pods are stuck Pending. Which cluster? We run a few. kubectl shows FailedScheduling."


@pytest.fixture
def provider(monkeypatch) -> Iterator[Stubber]:
    from helpdesk.adapters import clusters
    from helpdesk.settings import settings

    monkeypatch.setattr(
        "helpdesk.review.context.settings", lambda: settings().model_copy(update={"cluster_context_function": PROVIDER})
    )
    with Stubber(clusters.client) as stubber:
        yield stubber


def answer(stubber: Stubber, payload: bytes, request: dict[str, Any] | None = None) -> None:
    body = StreamingBody(io.BytesIO(payload), len(payload))
    expected = {"FunctionName": PROVIDER, "Payload": json.dumps(request).encode()} if request else None
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": body}, expected)


def test_the_clusters_context_is_shown_stored_and_used(aws, sqs_messages, provider: Stubber) -> None:
    # Given a ticket about a cluster the provider knows is degraded
    ticket = file(BODY, severity="low", properties={"cluster_id": DEGRADED["cluster_id"]})
    answer(provider, json.dumps(DEGRADED).encode(), {"org_id": "acme", "cluster_id": DEGRADED["cluster_id"]})
    # When the reviewer runs
    assert run_reviewer(sqs_messages()) == {"batchItemFailures": []}
    reviewed = conversation(ticket["id"])
    result = reviewed["review"]["result"]
    # Then the review shows the context, and the degraded cluster raises the severity it suggests
    assert result["cluster_context"]["status"] == "degraded"
    assert result["cluster_context_unavailable"] is None
    assert result["suggested_severity"] in ("medium", "high", "critical")
    # and it does not ask which cluster: the context says
    assert not any("cluster" in question.lower() for question in result["questions"])
    # and the context is stored on the ticket as a system message its customer sees too
    [stored] = [m for m in reviewed["messages"] if m["author"]["kind"] == "system" and "Cluster context" in m["body"]]
    assert "4/6 nodes ready" in stored["body"] and "NodeNotReady" in stored["body"]
    assert stored["internal"] is False


@pytest.mark.parametrize(
    "failure",
    ["timeout", "error", "oversized", "invalid", "other cluster"],
)
def test_a_failing_provider_never_blocks_the_review(
    aws, sqs_messages, provider: Stubber, failure: str, monkeypatch
) -> None:
    from helpdesk.adapters import clusters

    ticket = file(BODY, properties={"cluster_id": DEGRADED["cluster_id"]})
    if failure == "timeout":  # what botocore raises when the 3 s read timeout passes

        def slow(**_: Any) -> Any:
            raise ReadTimeoutError(endpoint_url="https://lambda.eu-west-1.amazonaws.com")

        monkeypatch.setattr(clusters.client, "invoke", slow)
    elif failure == "error":
        provider.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
    elif failure == "oversized":
        answer(provider, json.dumps({**DEGRADED, "padding": "x" * 20_000}).encode())
    elif failure == "invalid":
        answer(provider, b'{"cluster_id": 5, "nodes": "many"}')
    else:
        answer(provider, json.dumps({**DEGRADED, "cluster_id": "another"}).encode())
    assert run_reviewer(sqs_messages()) == {"batchItemFailures": []}
    reviewed = conversation(ticket["id"])
    assert reviewed["status"] == "open" and reviewed["review"]["status"] == "completed"
    result = reviewed["review"]["result"]
    assert result["cluster_context"] is None
    assert "cluster-context provider" in result["cluster_context_unavailable"]


def test_without_a_provider_no_context_is_asked_for(aws, sqs_messages) -> None:
    ticket = file(BODY, properties={"cluster_id": "c-1"})
    assert run_reviewer(sqs_messages()) == {"batchItemFailures": []}
    result = conversation(ticket["id"])["review"]["result"]
    assert result["cluster_context"] is None and result["cluster_context_unavailable"] is None
