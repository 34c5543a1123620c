"""Shared fixtures: AWS (moto, in-process) with the resources template.yaml declares."""

from __future__ import annotations

import os

# The environment every function gets from the template, set before any helpdesk import.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "TABLE_NAME": "helpdesk-table",
        "REVIEW_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/helpdesk-ReviewQueue",
        "ATTACHMENTS_BUCKET": "helpdesk-attachmentsbucket",
        "SUPPORT_EMAIL": "support@helpdesk.test",
        "SENDER_EMAIL": "noreply@helpdesk.test",
        "POWERTOOLS_SERVICE_NAME": "helpdesk",
        "POWERTOOLS_METRICS_NAMESPACE": "Helpdesk",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_LAMBDA_FUNCTION_NAME": "helpdesk-test",
        "CURSOR_KEY": "test-cursor-signing-key",
    }
)

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import template


@pytest.fixture(scope="session", autouse=True)
def iam_enforced() -> Iterator[None]:
    """moto allows every call: the functions' template roles are enforced here instead."""
    from tests import iam

    with iam.enforced():
        yield


@pytest.fixture(autouse=True)
def no_call_beyond_a_role() -> Iterator[None]:
    from tests import iam

    iam.violations.clear()
    yield
    assert not iam.violations, "AWS calls the template's roles do not allow:\n" + "\n".join(iam.violations)


@pytest.fixture
def aws() -> Iterator[template.Stack]:
    """A fresh moto account holding the template's table, queues and bucket."""
    with mock_aws():
        stack = template.create_all(boto3.Session(region_name="eu-west-1"))
        assert stack.names["Table"] == os.environ["TABLE_NAME"]
        assert stack.names["ReviewQueue"] == os.environ["REVIEW_QUEUE_URL"]
        yield stack


@pytest.fixture
def sqs_messages(aws: template.Stack) -> Any:
    """Drain the review queue: the jobs the API has put on it."""
    import json

    client = boto3.client("sqs", region_name="eu-west-1")

    def drain() -> list[dict[str, Any]]:
        found = []
        while True:
            batch = client.receive_message(QueueUrl=aws.names["ReviewQueue"], MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                client.delete_message(QueueUrl=aws.names["ReviewQueue"], ReceiptHandle=message["ReceiptHandle"])

    return drain
