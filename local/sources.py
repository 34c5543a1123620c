"""The template's event sources, run as Lambda runs them, against moto.

- SQS (`Type: SQS`): long-polls the queue (up to five batches at once, as Lambda's pollers; no
  more than the function's environments or the machine's cores), batches up to BatchSize within
  the batching window,
  invokes, deletes what succeeded. With ReportBatchItemFailures only the reported messages stay;
  on a function error the whole batch stays. What stays comes back after the queue's visibility
  timeout, and the queue's own redrive policy moves it to its DLQ after maxReceiveCount receives.
- DynamoDB streams (`Type: DynamoDB`): reads the shard in order from StartingPosition, filters,
  batches (BatchSize, MaximumBatchingWindowInSeconds), invokes. A partial batch response retries
  from the first failed record; a function error bisects the batch (BisectBatchOnFunctionError)
  or retries it; after MaximumRetryAttempts, or past MaximumRecordAgeInSeconds, the batch's
  description goes to DestinationConfig.OnFailure (SQS or SNS) and the shard moves on. With a
  ParallelizationFactor of n, n lanes (no more than the machine's cores, at least 2) each take
  the records of their partition keys, in order, so up to n batches run at once. What every consumer of the stream has handled is trimmed from
  it (StreamHorizon).
- S3 (`Type: S3`): the bucket notifies a queue the local stack creates for the function (moto
  sends S3 event notifications to SQS); each event is invoked asynchronously: retried
  EventInvokeConfig.MaximumRetryAttempts times (default 2; 1 s and 2 s apart locally, where AWS
  waits about 1 and 2 minutes), then sent to the function's OnFailure destination or DLQ.
Schedules (Schedule, ScheduleV2) run in local.schedules, EventBridge rules (EventBridgeRule,
CloudWatchEvent) in local.events; other event types are reported at start as not emulated."""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from botocore.exceptions import ClientError

from local import config, dynamodb, template
from local.filters import compile_filters, matches_any, sqs_view
from local.functions import FunctionSpec
from local.runtime import Invocation, Runtime

log = logging.getLogger("local.sources")

STREAM_POLL_SECONDS = 0.25  # Lambda reads each shard four times a second
SQS_BATCHES_AT_ONCE = 5  # Lambda's pollers of a queue, at first
CORES = os.cpu_count() or 1
SUPPORTED = ("HttpApi", "SQS", "DynamoDB", "S3")
ELSEWHERE = ("Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent")  # local.schedules, local.events


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failed_ids(invocation: Invocation, ids: list[str]) -> set[str] | None:
    """The items a partial batch response reports; None when the response is malformed (the
    whole batch then counts as failed, as in Lambda)."""
    payload = invocation.payload
    if payload is None or payload == "" or not isinstance(payload, dict):
        return set()
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    found = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in ids:
            return None
        found.add(identifier)
    return found


class Destinations:
    """Where failed work is parked: SQS queues and SNS topics, by ARN."""

    def __init__(self, session: Any, endpoint_url: str) -> None:
        self._sqs = session.client("sqs", endpoint_url=endpoint_url)
        self._sns = session.client("sns", endpoint_url=endpoint_url)
        self._urls: dict[str, str] = {}

    def queue_url(self, arn: str) -> str:
        if arn not in self._urls:
            _, _, _, _, account, name = arn.split(":", 5)
            self._urls[arn] = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        return self._urls[arn]

    def send(self, arn: str, document: Any, attributes: dict[str, Any] | None = None) -> None:
        self.send_text(arn, json.dumps(document), attributes)

    def send_text(self, arn: str, body: str, attributes: dict[str, Any] | None = None) -> None:
        if ":sqs:" in arn:
            self._sqs.send_message(QueueUrl=self.queue_url(arn), MessageBody=body, MessageAttributes=attributes or {})
        elif ":sns:" in arn:
            self._sns.publish(TopicArn=arn, Message=body)
        else:
            log.error("destination %s is neither an SQS queue nor an SNS topic; dropped: %s", arn, body[:500])


class Poller(threading.Thread):
    """Polls an event source on its thread, and on `parallel - 1` more (as Lambda runs several
    batches of a queue at once)."""

    description = ""
    parallel = 1

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop = stop
        self.helpers: list[threading.Thread] = []

    def start(self) -> None:
        super().start()
        for n in range(1, self.parallel):
            helper = threading.Thread(target=self.run, name=f"{self.name}-{n + 1}", daemon=True)
            helper.start()
            self.helpers.append(helper)

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        for helper in self.helpers:
            helper.join(timeout)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll()
            except Exception:
                if self.stop.is_set():
                    return
                log.exception("%s: polling failed; retrying in a second", self.name)
                self.stop.wait(1.0)

    def poll(self) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------- SQS


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attributes = dict(message.get("Attributes", {}))
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None,
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])],
                "dataType": value.get("DataType"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


class SqsPoller(Poller):
    def __init__(
        self,
        spec: FunctionSpec,
        event: str,
        props: dict[str, Any],
        queue_url: str,
        queue_arn: str,
        runtime: Runtime,
        sqs: Any,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"sqs-{spec.logical_id}-{event}", stop)
        self.spec, self.runtime, self.sqs = spec, runtime, sqs
        self.queue_url, self.queue_arn = queue_url, queue_arn
        self.batch_size = int(props.get("BatchSize", 10))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.partial = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.filters = compile_filters(props.get("FilterCriteria"))
        # Lambda reads a queue with five pollers and invokes up to five batches at once (more as
        # the queue grows; ScalingConfig.MaximumConcurrency caps it); here no more than the
        # function's environments, nor this machine's cores (more would only slow each batch
        # towards its timeout: in Lambda each has its own CPU).
        maximum = int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", SQS_BATCHES_AT_ONCE))
        self.parallel = max(1, min(maximum, SQS_BATCHES_AT_ONCE, runtime.limit(spec.logical_id), CORES))
        name = queue_arn.rsplit(":", 1)[-1]
        self.description = (
            f"SQS {name} → {spec.logical_id} (batch {self.batch_size}{', partial failures' if self.partial else ''}"
            f", {self.parallel} at a time)"
        )

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def poll(self) -> None:
        messages = self._receive(self.batch_size, 1)
        if not messages:
            return
        if self.window > 0 or len(messages) < self.batch_size:
            deadline = time.monotonic() + self.window
            while len(messages) < self.batch_size and not self.stop.is_set():
                remaining = deadline - time.monotonic()
                more = self._receive(self.batch_size - len(messages), 1 if remaining >= 1 else 0)
                messages += more
                if remaining <= 0 and not more:
                    break
                if not more:
                    self.stop.wait(min(0.05, max(remaining, 0)))
        self.process(messages)

    def process(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, self.queue_arn) for message in messages]
        matched = [record for record in records if matches_any(self.filters, sqs_view(record))]
        dropped = [record for record in records if record not in matched]
        self._remove(dropped)  # filtered out: Lambda deletes them
        if not matched:
            return
        invocation = self.runtime.invoke(self.spec.logical_id, {"Records": matched})
        log.debug("%s: %d message(s) in %.0f ms", self.spec.logical_id, len(matched), invocation.duration_ms)
        if not invocation.ok:
            log.warning(
                "%s failed on a batch of %d from %s (%s); the messages return after the visibility timeout",
                self.spec.logical_id,
                len(matched),
                self.queue_arn.rsplit(":", 1)[-1],
                invocation.error.get("errorMessage") if invocation.error else "",
            )
            return
        failed: set[str] = set()
        if self.partial:
            reported = _failed_ids(invocation, [record["messageId"] for record in matched])
            if reported is None:
                log.warning("%s returned a malformed batchItemFailures; the whole batch failed", self.spec.logical_id)
                return
            failed = reported
            if failed:
                log.info(
                    "%s: %d of %d messages failed; they return after the visibility timeout",
                    self.spec.logical_id,
                    len(failed),
                    len(matched),
                )
        self._remove([record for record in matched if record["messageId"] not in failed])

    def _remove(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )


# ---------------------------------------------------------------------------------- DynamoDB streams


def _lambda_value(value: Any) -> Any:
    """boto3's view of a stream record back into the JSON Lambda delivers."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _lambda_value(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_lambda_value(item) for item in value]
    return value


@dataclass
class _Batch:
    records: list[dict[str, Any]]
    retries: int = 0


class StreamPoller(Poller):
    def __init__(
        self,
        spec: FunctionSpec,
        event: str,
        props: dict[str, Any],
        stream_arn: str,
        runtime: Runtime,
        streams: Any,
        destinations: Destinations,
        on_failure: str | None,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"stream-{spec.logical_id}-{event}", stop)
        self.spec, self.runtime, self.streams, self.destinations = spec, runtime, streams, destinations
        self.stream_arn, self.on_failure = stream_arn, on_failure
        self.batch_size = int(props.get("BatchSize", 100))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.max_age = int(props.get("MaximumRecordAgeInSeconds", -1))
        self.bisect = bool(props.get("BisectBatchOnFunctionError", False))
        self.partial = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.filters = compile_filters(props.get("FilterCriteria"))
        self.starting_position = str(props.get("StartingPosition", "LATEST"))
        self.region = stream_arn.split(":")[3]
        self.shard_id: str | None = None
        self.checkpoint: str | None = None  # the last sequence number handled (delivered, filtered out or parked)
        self.horizon: StreamHorizon | None = None
        # ParallelizationFactor: up to that many batches of the shard at once, each partition key's
        # records in order (in one lane); 1 (the default): the shard's batches one after another
        # (no more lanes than this machine's cores, nor the function's environments)
        factor = max(1, min(10, int(props.get("ParallelizationFactor", 1))))
        self.lanes = min(factor, max(2, CORES), runtime.limit(spec.logical_id)) if factor > 1 else 1
        self._queues: list[queue.Queue[dict[str, Any]]] = []
        self._unfinished: collections.OrderedDict[int, bool] = (
            collections.OrderedDict()
        )  # read, by sequence number: done?
        self._order_lock = threading.Lock()
        self._read_to: str | None = None
        self.hash_key = "pk"
        table = stream_arn.split(":table/")[-1].split("/")[0]
        self.description = (
            f"DynamoDB stream of {table} → {spec.logical_id} (batch {self.batch_size}, "
            f"retries {self.max_retries if self.max_retries >= 0 else 'until expiry'}"
            f"{', bisect' if self.bisect else ''}{', partial failures' if self.partial else ''}"
            f"{f', {self.lanes} batches at a time' if self.lanes > 1 else ''}"
            f"{', on failure → ' + on_failure.rsplit(':', 1)[-1] if on_failure else ''})"
        )
        self._start_position()

    def _start_position(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        shards = description["Shards"]
        if not shards:
            raise RuntimeError(f"the stream {self.stream_arn} has no shard")
        self.shard_id = shards[-1]["ShardId"]  # moto keeps one shard per table
        self.hash_key = next(
            (k["AttributeName"] for k in description.get("KeySchema", []) if k["KeyType"] == "HASH"), "pk"
        )
        if self.starting_position == "LATEST":
            while records := self._read(1000, self.checkpoint):  # what is in the shard already is behind us
                self.checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
        self._read_to = self.checkpoint

    def start(self) -> None:
        super().start()
        for lane in range(self.lanes if self.lanes > 1 else 0):
            self._queues.append(queue.Queue())
            worker = threading.Thread(target=self._lane, args=(lane,), name=f"{self.name}-lane-{lane + 1}", daemon=True)
            worker.start()
            self.helpers.append(worker)

    def _read(self, limit: int, after: str | None) -> list[dict[str, Any]]:
        """Records after sequence number `after` (from the trim horizon when None, or when the
        records after it have expired, as Lambda goes on when a stream outran it). A fresh
        iterator each time, so that no iterator is kept between polls."""
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = after
        try:
            iterator = self.streams.get_shard_iterator(**request)["ShardIterator"]
            response = self.streams.get_records(ShardIterator=iterator, Limit=max(1, min(limit, 1000)))
        except ClientError as exc:
            if after is None or exc.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                raise
            log.warning(
                "%s: records after %s have expired from the stream; reading on from the oldest kept", self.name, after
            )
            return self._read(limit, None)
        _forget_iterators(iterator, response.get("NextShardIterator"))
        return [self._record(record) for record in response.get("Records", [])]

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        converted: dict[str, Any] = _lambda_value(record)
        converted["awsRegion"] = self.region  # moto says us-east-1 whatever the table's region
        converted["eventVersion"] = "1.1"
        converted["eventSourceARN"] = self.stream_arn
        return converted

    def poll(self) -> None:
        if self.lanes > 1:
            self._deal()
            return
        batch, last = self._take(self._read(max(self.batch_size, 100), self.checkpoint), self.batch_size)
        if last is None:
            self.stop.wait(STREAM_POLL_SECONDS)
            return
        if batch and self.window > 0:
            deadline = time.monotonic() + self.window  # gather more until the window closes or the batch is full
            while len(batch) < self.batch_size and time.monotonic() < deadline and not self.stop.wait(0.1):
                more, more_last = self._take(self._read(self.batch_size, last), self.batch_size - len(batch))
                batch += more
                last = more_last or last
        if batch:
            self.process(batch)
        self.checkpoint = last
        if self.horizon is not None:
            self.horizon.advance(self, last)

    # ------------------------------------------------------------------ ParallelizationFactor > 1

    def _deal(self) -> None:
        """Read on and hand each record that passes the filters to the lane of its partition key;
        at most two batches per lane read ahead of what the lanes have finished."""
        with self._order_lock:
            waiting = sum(1 for done in self._unfinished.values() if not done)
        if waiting >= 2 * self.lanes * self.batch_size:
            self.stop.wait(0.05)
            return
        records = self._read(100, self._read_to)
        if not records:
            self.stop.wait(STREAM_POLL_SECONDS)
            return
        with self._order_lock:
            for record in records:
                matched = matches_any(self.filters, record)
                self._unfinished[int(record["dynamodb"]["SequenceNumber"])] = not matched  # filtered out: done
                if matched:
                    key = json.dumps(record["dynamodb"]["Keys"].get(self.hash_key), sort_keys=True)
                    self._queues[int(hashlib.md5(key.encode()).hexdigest(), 16) % self.lanes].put(record)  # noqa: S324
            self._read_to = records[-1]["dynamodb"]["SequenceNumber"]
        self._advance()

    def _lane(self, lane: int) -> None:
        """One lane: batches of its records (BatchSize, the batching window), processed in order."""
        records = self._queues[lane]
        while not self.stop.is_set():
            try:
                batch = [records.get(timeout=STREAM_POLL_SECONDS)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.window
            while len(batch) < self.batch_size and not self.stop.is_set():
                try:
                    batch.append(records.get(timeout=max(0.0, min(0.1, deadline - time.monotonic()))))
                except queue.Empty:
                    if time.monotonic() >= deadline:
                        break
            try:
                self.process(batch)
            except Exception:
                if self.stop.is_set():
                    return
                log.exception("%s: lane %d failed on a batch; it is left behind", self.name, lane + 1)
            with self._order_lock:
                for record in batch:
                    self._unfinished[int(record["dynamodb"]["SequenceNumber"])] = True
            self._advance()

    def _advance(self) -> None:
        """The checkpoint: the last record before the oldest one a lane has not finished."""
        with self._order_lock:
            last = None
            while self._unfinished:
                sequence, done = next(iter(self._unfinished.items()))
                if not done:
                    break
                self._unfinished.popitem(last=False)
                last = str(sequence)
            if last is None:
                return
            self.checkpoint = last
        if self.horizon is not None:
            self.horizon.advance(self, last)

    def _take(self, records: list[dict[str, Any]], room: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `room` records that pass the filters, and the last sequence number looked at
        (records filtered out are consumed, as in Lambda)."""
        batch: list[dict[str, Any]] = []
        last = None
        for record in records:
            if len(batch) == room:
                break
            last = record["dynamodb"]["SequenceNumber"]
            if matches_any(self.filters, record):
                batch.append(record)
        return batch, last

    def process(self, records: list[dict[str, Any]]) -> None:
        pending = deque([_Batch(records)])
        while pending and not self.stop.is_set():
            batch = pending.popleft()
            if self.max_age >= 0:
                fresh = [
                    r
                    for r in batch.records
                    if time.time() - r["dynamodb"].get("ApproximateCreationDateTime", 0) <= self.max_age
                ]
                expired = [r for r in batch.records if r not in fresh]
                if expired:
                    self._park(expired, batch.retries, "RecordAgeExceeded", None)
                if not fresh:
                    continue
                batch.records = fresh
            invocation = self.runtime.invoke(self.spec.logical_id, {"Records": batch.records})
            log.debug("%s: %d record(s) in %.0f ms", self.spec.logical_id, len(batch.records), invocation.duration_ms)
            if invocation.ok:
                failed = (
                    _failed_ids(invocation, [r["dynamodb"]["SequenceNumber"] for r in batch.records])
                    if self.partial
                    else set()
                )
                if failed == set():
                    continue
                if failed is None:
                    retry = batch.records
                else:
                    first = min(i for i, r in enumerate(batch.records) if r["dynamodb"]["SequenceNumber"] in failed)
                    retry = batch.records[first:]
                self._retry(pending, _Batch(retry, batch.retries), invocation, function_error=False)
                continue
            if self.bisect and len(batch.records) > 1:
                middle = len(batch.records) // 2
                pending.appendleft(_Batch(batch.records[middle:], batch.retries))
                pending.appendleft(_Batch(batch.records[:middle], batch.retries))
                log.info("%s failed on a batch of %d; bisecting", self.spec.logical_id, len(batch.records))
                continue
            self._retry(pending, batch, invocation, function_error=True)

    def _retry(self, pending: deque[_Batch], batch: _Batch, invocation: Invocation, *, function_error: bool) -> None:
        batch.retries += 1
        if 0 <= self.max_retries < batch.retries:
            self._park(batch.records, batch.retries, "RetryAttemptsExhausted", invocation if function_error else None)
            return
        delay = min(0.2 * 2 ** (batch.retries - 1), 2.0)
        log.info(
            "%s: %d record(s) failed (%s); retry %d in %.1f s",
            self.spec.logical_id,
            len(batch.records),
            invocation.error.get("errorType") if invocation.error else "partial batch response",
            batch.retries,
            delay,
        )
        pending.appendleft(batch)
        self.stop.wait(delay)

    def _park(self, records: list[dict[str, Any]], retries: int, condition: str, invocation: Invocation | None) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        log.warning(
            "%s: giving up on %d record(s) %s..%s (%s)%s",
            self.spec.logical_id,
            len(records),
            first["SequenceNumber"],
            last["SequenceNumber"],
            condition,
            f"; sent to {self.on_failure}" if self.on_failure else "; no OnFailure destination",
        )
        if not self.on_failure:
            return
        document = {
            "requestContext": {
                "requestId": invocation.request_id if invocation else str(uuid.uuid4()),
                "functionArn": self.spec.arn,
                "condition": condition,
                "approximateInvokeCount": retries + 1 if condition == "RetryAttemptsExhausted" else retries,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
            if invocation and invocation.error
            else {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": _now_iso(),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.destinations.send(self.on_failure, document)


class StreamHorizon:
    """Where the consumers of each stream have got to. moto's shard keeps every record; here what
    all of a stream's consumers have handled is trimmed from it (local.dynamodb.trim_stream, moto
    runs in this process), so the stream holds what is still to be read, as DynamoDB's does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checkpoints: dict[str, dict[str, str | None]] = {}

    def register(self, poller: StreamPoller) -> None:
        with self._lock:
            self._checkpoints.setdefault(poller.stream_arn, {})[poller.name] = poller.checkpoint
        poller.horizon = self

    def advance(self, poller: StreamPoller, checkpoint: str | None) -> None:
        with self._lock:
            consumers = self._checkpoints[poller.stream_arn]
            if consumers.get(poller.name) == checkpoint:
                return
            consumers[poller.name] = checkpoint
            if any(value is None for value in consumers.values()):
                return
            low = min(consumers.values(), key=lambda value: int(value or 0))
        dynamodb.trim_stream(poller.stream_arn, low)


def _iso(epoch: Any) -> str:
    try:
        return (
            datetime.datetime.fromtimestamp(float(epoch), datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
    except (TypeError, ValueError):
        return _now_iso()


def _forget_iterators(*iterators: str | None) -> None:
    """moto keeps every shard iterator it hands out (some 700 bytes each, one per read); the
    stack reads four times a second, so it drops the ones it has used (moto runs in-process)."""
    try:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        backend = dynamodbstreams_backends[config.ACCOUNT_ID][config.REGION]
        for iterator in iterators:
            if iterator:
                backend.shard_iterators.pop(iterator, None)
    except (ImportError, KeyError, AttributeError):
        pass


# ---------------------------------------------------------------------------------- S3 (asynchronous invocation)


@dataclass
class AsyncConfig:
    retries: int = 2
    max_age: int = 6 * 3600
    on_failure: str | None = None
    on_success: str | None = None
    dead_letter: str | None = None


def async_config(spec: FunctionSpec, stack: template.Stack, parameters: dict[str, str]) -> AsyncConfig:
    props = spec.properties
    invoke_config = props.get("EventInvokeConfig") or {}
    destinations = invoke_config.get("DestinationConfig") or {}

    def arn(value: Any) -> str | None:
        return template.resolve(value, stack, parameters) if value else None

    dead_letter = props.get("DeadLetterQueue") or {}
    return AsyncConfig(
        retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
        max_age=int(invoke_config.get("MaximumEventAgeInSeconds", 6 * 3600)),
        on_failure=arn((destinations.get("OnFailure") or {}).get("Destination")),
        on_success=arn((destinations.get("OnSuccess") or {}).get("Destination")),
        dead_letter=arn(dead_letter.get("TargetArn")),
    )


def s3_queue_name(logical_id: str, event: str) -> str:
    name = f"{config.PREFIX}-local-s3-{logical_id}-{event}"
    return name if len(name) <= 80 else f"{name[:63]}-{hashlib.sha1(name.encode()).hexdigest()[:16]}"  # noqa: S324


class S3Poller(Poller):
    """Invokes a function with the S3 notifications its bucket sends to the stack's queue."""

    def __init__(
        self,
        spec: FunctionSpec,
        event: str,
        bucket: str,
        queue_url: str,
        async_: AsyncConfig,
        runtime: Runtime,
        sqs: Any,
        destinations: Destinations,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"s3-{spec.logical_id}-{event}", stop)
        self.spec, self.runtime, self.sqs, self.destinations = spec, runtime, sqs, destinations
        self.queue_url, self.async_ = queue_url, async_
        failure = async_.on_failure or async_.dead_letter
        self.description = (
            f"S3 {bucket} → {spec.logical_id} (async, {async_.retries} retries"
            f"{', on failure → ' + failure.rsplit(':', 1)[-1] if failure else ''})"
        )

    def poll(self) -> None:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        )
        for message in response.get("Messages", []):
            self.handle(message)

    def handle(self, message: dict[str, Any]) -> None:
        body = json.loads(message["Body"])
        if body.get("Event") == "s3:TestEvent":
            self._remove(message)
            return
        for record in body.get("Records", []):
            _complete_s3_record(record)
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        sent_at = int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000
        invocation = self.runtime.invoke(self.spec.logical_id, body)
        if invocation.ok:
            self._remove(message)
            if self.async_.on_success:
                self.destinations.send(self.async_.on_success, self._record(body, invocation, attempts, "Success"))
            return
        if attempts <= self.async_.retries and time.time() - sent_at < self.async_.max_age:
            delay = attempts  # AWS waits about one, then two minutes
            log.info(
                "%s failed on an S3 event (%s); retry %d in %d s",
                self.spec.logical_id,
                (invocation.error or {}).get("errorType"),
                attempts,
                delay,
            )
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
            )
            return
        condition = "RetriesExhausted" if attempts > self.async_.retries else "EventAgeExceeded"
        log.warning("%s: giving up on an S3 event after %d attempt(s)", self.spec.logical_id, attempts)
        if self.async_.on_failure:
            self.destinations.send(self.async_.on_failure, self._record(body, invocation, attempts, condition))
        elif self.async_.dead_letter:
            error = invocation.error or {}
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": str(error.get("errorMessage", ""))[:1000] or "error",
                },
            }
            self.destinations.send(self.async_.dead_letter, body, attributes)
        self._remove(message)

    def _record(self, event: Any, invocation: Invocation, attempts: int, condition: str) -> dict[str, Any]:
        return async_record(event, invocation, self.spec.arn, attempts, condition)

    def _remove(self, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def async_record(
    event: Any, invocation: Invocation, function_arn: str, attempts: int, condition: str
) -> dict[str, Any]:
    """What an asynchronous invocation's OnSuccess / OnFailure destination receives."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation.error:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": _now_iso(),
        "requestContext": {
            "requestId": invocation.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": invocation.error if invocation.error else invocation.payload,
    }


def _complete_s3_record(record: dict[str, Any]) -> None:
    """Fields of an S3 event record that moto leaves out."""
    record.setdefault("userIdentity", {"principalId": "AWS:AIDALOCALSTACKUSER"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault(
        "responseElements", {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex}
    )
    s3 = record.setdefault("s3", {})
    s3.setdefault("bucket", {}).setdefault("ownerIdentity", {"principalId": "A1LOCALOWNER"})
    obj = s3.setdefault("object", {})
    obj.setdefault("sequencer", f"{time.time_ns():018X}")
    # S3 form-encodes the key but keeps its slashes; moto encodes them too (%2F)
    obj["key"] = quote_plus(unquote_plus(obj.get("key", "")), safe="/")


def s3_notifications(
    specs: dict[str, FunctionSpec], stack: template.Stack, parameters: dict[str, str]
) -> dict[str, list[tuple[FunctionSpec, str, dict[str, Any]]]]:
    """The S3 events of every function, by bucket name."""
    found: dict[str, list[tuple[FunctionSpec, str, dict[str, Any]]]] = {}
    for spec in specs.values():
        for name, event in spec.events_of("S3").items():
            props = event.get("Properties", {})
            bucket = template.resolve(props.get("Bucket"), stack, parameters)
            found.setdefault(bucket, []).append((spec, name, props))
    return found


# ---------------------------------------------------------------------------------- wiring


class EventSources:
    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        stack: template.Stack,
        parameters: dict[str, str],
        runtime: Runtime,
        session: Any,
        endpoint_url: str,
    ) -> None:
        self.stop_event = threading.Event()
        self.pollers: list[Poller] = []
        self.skipped: list[str] = []
        sqs = session.client("sqs", endpoint_url=endpoint_url)
        streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        destinations = Destinations(session, endpoint_url)
        horizon = StreamHorizon()
        by_arn = {arn: logical_id for logical_id, arn in stack.arns.items()}

        def resolve(value: Any) -> str:
            return template.resolve(value, stack, parameters)

        for spec in specs.values():
            for name, event in spec.events.items():
                kind, props = event.get("Type"), event.get("Properties") or {}
                if kind in ELSEWHERE:
                    continue
                if kind not in SUPPORTED:
                    self.skipped.append(f"{spec.logical_id}.{name} ({kind}) is not emulated")
                    continue
                if props.get("Enabled") is False:
                    self.skipped.append(f"{spec.logical_id}.{name} ({kind}) is disabled in the template")
                    continue
                if kind == "SQS":
                    arn = resolve(props.get("Queue"))
                    url = stack.names.get(by_arn.get(arn, ""), "") or destinations.queue_url(arn)
                    self.pollers.append(SqsPoller(spec, name, props, url, arn, runtime, sqs, self.stop_event))
                elif kind == "DynamoDB":
                    on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
                    stream_poller = StreamPoller(
                        spec,
                        name,
                        props,
                        resolve(props.get("Stream")),
                        runtime,
                        streams,
                        destinations,
                        resolve(on_failure) if on_failure else None,
                        self.stop_event,
                    )
                    horizon.register(stream_poller)
                    self.pollers.append(stream_poller)
        s3 = session.client("s3", endpoint_url=endpoint_url)
        for bucket, events in s3_notifications(specs, stack, parameters).items():
            configurations = []
            for spec, name, props in events:
                queue_url = sqs.create_queue(
                    QueueName=s3_queue_name(spec.logical_id, name),
                    Attributes={"VisibilityTimeout": str(int(spec.timeout) + 30)},
                )["QueueUrl"]
                queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                kinds = props.get("Events", [])
                configuration: dict[str, Any] = {
                    "Id": f"{spec.logical_id}-{name}",
                    "QueueArn": queue_arn,
                    "Events": kinds if isinstance(kinds, list) else [kinds],
                }
                rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules", [])
                if rules:
                    configuration["Filter"] = {
                        "Key": {
                            "FilterRules": [{"Name": rule["Name"], "Value": resolve(rule["Value"])} for rule in rules]
                        }
                    }
                configurations.append(configuration)
                self.pollers.append(
                    S3Poller(
                        spec,
                        name,
                        bucket,
                        queue_url,
                        async_config(spec, stack, parameters),
                        runtime,
                        sqs,
                        destinations,
                        self.stop_event,
                    )
                )
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configurations}
            )

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        self.stop_event.set()
        for poller in self.pollers:
            if poller.is_alive():
                poller.join(timeout=5)
