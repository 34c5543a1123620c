"""The stream event source with a ParallelizationFactor, driven in this process with a stand-in
shard and function: batches run at once, each partition key's records in order, and the stream
is trimmed only behind records every lane has finished."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from local import dynamodb
from local.functions import FunctionSpec
from local.runtime import Invocation
from local.sources import StreamHorizon, StreamPoller

pytestmark = pytest.mark.integration

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/helpdesk-table/stream/2026-12-06T00:00:00.000"
FIRST = 1000


class Shard:
    """Records of a few partitions, as DynamoDB Streams hands them out."""

    def __init__(self, keys: list[str]) -> None:
        self.records = [
            {
                "eventID": str(n),
                "eventName": "INSERT",
                "dynamodb": {
                    "Keys": {"pk": {"S": key}, "sk": {"S": f"MSG#{n:03d}"}},
                    "SequenceNumber": str(FIRST + n),
                    "ApproximateCreationDateTime": time.time(),
                },
            }
            for n, key in enumerate(keys)
        ]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {
            "StreamDescription": {
                "Shards": [{"ShardId": "shard-1"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            }
        }

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        after = int(request.get("SequenceNumber", FIRST - 1))
        return {"ShardIterator": str(after)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        after = int(ShardIterator)
        return {"Records": [r for r in self.records if int(r["dynamodb"]["SequenceNumber"]) > after][:Limit]}


class Function:
    """Takes a while per batch; remembers what it got, and how many batches ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[list[str]] = []
        self.running = self.most = 0

    def limit(self, logical_id: str) -> int:
        return 4

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.batches.append([record["dynamodb"]["SequenceNumber"] for record in event["Records"]])
        return Invocation("request", payload={"batchItemFailures": []}, duration_ms=50)


def spec() -> FunctionSpec:
    from pathlib import Path

    return FunctionSpec(
        logical_id="NotifyFunction",
        name="helpdesk-NotifyFunction",
        arn="arn:aws:lambda:eu-west-1:123456789012:function:helpdesk-NotifyFunction",
        code_dir=Path("."),
        handler="app.handler",
        paths=[],
        environment={},
        timeout=60,
        memory=128,
    )


def test_a_parallelization_factor_runs_batches_at_once_each_key_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed: list[str | None] = []
    monkeypatch.setattr(dynamodb, "trim_stream", lambda arn, through: trimmed.append(through) or 0)
    keys = [f"TICKET#{n % 7}" for n in range(120)]
    shard, function, stop = Shard(keys), Function(), threading.Event()
    props = {
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 5,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 3,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    poller = StreamPoller(spec(), "Stream", props, ARN, function, shard, None, None, stop)  # type: ignore[arg-type]
    StreamHorizon().register(poller)

    # When the poller works through the shard
    poller.start()
    try:
        deadline = time.monotonic() + 30
        while sum(len(batch) for batch in function.batches) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.05)
        while poller.checkpoint != str(FIRST + len(keys) - 1) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join(5)

    # Then every record came once, in batches of one lane each, several at a time
    delivered = [int(sequence) for batch in function.batches for sequence in batch]
    assert sorted(delivered) == list(range(FIRST, FIRST + len(keys)))
    assert all(len(batch) <= 5 for batch in function.batches)
    assert function.most > 1
    # And each partition key's records in the order of the stream
    for key in set(keys):
        mine = [sequence for sequence in delivered if keys[sequence - FIRST] == key]
        assert mine == sorted(mine), key
    # And the stream was trimmed only behind records finished in every lane, to the last one
    assert poller.checkpoint == str(FIRST + len(keys) - 1)
    assert trimmed == sorted(trimmed, key=int)
    assert trimmed[-1] == str(FIRST + len(keys) - 1)
