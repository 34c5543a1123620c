"""A probe function for the local stack's own tests (tests/integration/test_emulation.py).

Over HTTP it echoes the event it received (or answers as `?mode=` asks); from an event source it
appends each event to $PROBE_LOG and fails the records that ask for it: an SQS body or a stream
item's `probe` attribute saying "fail" (reported as a batch item failure) or "raise" (the whole
invocation fails), an S3 key containing "raise". Invoked otherwise (an EventBridge rule, a schedule,
Lambda's Invoke API) it appends `{"function": ..., "event": ...}` to $PROBE_LOG, and raises when the
event's detail (or itself) says `"probe": "raise"`."""

import base64
import json
import os
import time
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        return _records(event)
    if "requestContext" not in event:  # an EventBridge event, a schedule's payload, a direct invocation
        return _direct(event, context)
    query = event.get("queryStringParameters") or {}
    mode = query.get("mode")
    if mode == "inferred":
        return {"hello": "world"}
    if mode == "binary":
        body = base64.b64encode(bytes(range(256))).decode()
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "body": body,
            "isBase64Encoded": True,
        }
    if mode == "cookies":
        return {
            "statusCode": 201,
            "headers": {"x-single": "one"},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
            "body": "",
        }
    if mode == "raise":
        raise RuntimeError("the probe was asked to fail")
    if mode == "sleep":
        time.sleep(float(query.get("seconds", "5")))
    if mode == "context":
        return {
            "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "env": {
                name: os.environ.get(name)
                for name in ("PROBE_LOG", "TABLE_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL")
            },
        }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


def _records(event: dict[str, Any]) -> Any:
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(json.dumps(event) + "\n")
    failures = []
    for record in event["Records"]:
        source = record.get("eventSource")
        if source == "aws:sqs":
            verdict, identifier = json.loads(record["body"]).get("probe"), record["messageId"]
        elif source == "aws:dynamodb":
            image = record["dynamodb"].get("NewImage", {})
            verdict, identifier = image.get("probe", {}).get("S"), record["dynamodb"]["SequenceNumber"]
        else:
            verdict, identifier = ("raise" if "raise" in record["s3"]["object"]["key"] else None), None
        if verdict == "raise":
            raise RuntimeError(f"the probe was asked to fail ({source})")
        if verdict == "fail":
            failures.append({"itemIdentifier": identifier})
    return {"batchItemFailures": failures}


def _direct(event: dict[str, Any], context: Any) -> Any:
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(json.dumps({"function": context.function_name, "event": event}) + "\n")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else event
    if detail.get("probe") == "raise":
        raise RuntimeError("the probe was asked to fail (direct)")
    return {"probe": "ok", "received": event}
