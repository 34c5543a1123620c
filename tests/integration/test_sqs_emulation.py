"""local.sqs against moto's own answers (in this process): sending and receiving no longer count
the queue's messages, and what they read of its attributes, and what GetQueueAttributes answers,
are as moto has them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import config, sqs

pytestmark = pytest.mark.integration


@pytest.fixture
def queues() -> Iterator[tuple[Any, dict[str, str]]]:
    with mock_aws():
        client = boto3.client("sqs", region_name=config.REGION)
        dead = client.create_queue(QueueName="dead")["QueueUrl"]
        dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls = {
            "plain": client.create_queue(QueueName="plain", Attributes={"VisibilityTimeout": "7"})["QueueUrl"],
            "redriven": client.create_queue(
                QueueName="redriven",
                Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})},
            )["QueueUrl"],
            "fifo": client.create_queue(
                QueueName="ordered.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
            )["QueueUrl"],
        }
        yield client, urls


def test_sending_and_receiving_do_not_count_the_queue(
    queues: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Queue

    client, urls = queues
    sqs.install()
    try:

        def refuse(self: Any) -> int:
            raise AssertionError("the queue's messages were counted")

        with monkeypatch.context() as patched:
            for name in ("approximate_number_of_messages", "approximate_number_of_messages_not_visible"):
                patched.setattr(Queue, name, property(refuse))
            # When messages are sent and received, one by one, in batches, FIFO too
            for n in range(3):
                client.send_message(QueueUrl=urls["plain"], MessageBody=f"m{n}")
            client.send_message_batch(
                QueueUrl=urls["redriven"], Entries=[{"Id": str(n), "MessageBody": f"b{n}"} for n in range(3)]
            )
            client.send_message(QueueUrl=urls["fifo"], MessageBody="f", MessageGroupId="g")
            received = client.receive_message(QueueUrl=urls["plain"], MaxNumberOfMessages=10)["Messages"]
            client.receive_message(QueueUrl=urls["fifo"], MaxNumberOfMessages=10)
            # (and a long poll of a queue with nothing visible still waits)
            began = time.monotonic()
            assert "Messages" not in client.receive_message(QueueUrl=urls["plain"], WaitTimeSeconds=1)
            assert time.monotonic() - began >= 0.9
        # Then they went through, and the counts are still right when asked for
        assert sorted(m["Body"] for m in received) == ["m0", "m1", "m2"]
        attributes = client.get_queue_attributes(QueueUrl=urls["plain"], AttributeNames=["All"])["Attributes"]
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
            "0",
            "3",
        )
    finally:
        sqs.uninstall()


def test_the_attributes_read_without_counts_are_moto_s(queues: tuple[Any, dict[str, str]]) -> None:
    from moto.sqs.models import sqs_backends

    for queue in sqs_backends[config.ACCOUNT_ID][config.REGION].queues.values():
        expected = {name: value for name, value in queue.attributes.items() if name not in sqs.COUNTS}
        assert sqs._static(queue) == expected, queue.name
