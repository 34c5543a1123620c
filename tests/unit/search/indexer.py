"""The search index as the API sees it once IndexTicketsFunction has caught up with the table's
stream: `catch_up()` hands it the records written since, as its event source would (the template's
filters applied, in order, in batches of its BatchSize), and fails on any record it reports failed."""

from __future__ import annotations

import json
import os
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from local import template
from local.filters import compile_filters, matches_any
from tests.support import LambdaContext, load_function

ACCOUNT, REGION = "123456789012", "eu-west-1"
_handled: set[str] = set()  # event ids already delivered (moto copies a table, stream included, on each transaction)


def event_source() -> dict[str, Any]:
    """IndexTicketsFunction's stream event source, as the template declares it."""
    function = template.resources("AWS::Serverless::Function")["IndexTicketsFunction"]
    [stream] = [e["Properties"] for e in function["Properties"]["Events"].values() if e["Type"] == "DynamoDB"]
    return stream


def _undelivered() -> tuple[Any, list[Any]]:
    """The table and its stream's records not delivered yet (taken as delivered from now on)."""
    table = dynamodb_backends[ACCOUNT][REGION].get_table(os.environ["TABLE_NAME"])
    assert table.stream_shard is not None, "the table has no stream"
    fresh = [item for item in table.stream_shard.items if item.record["eventID"] not in _handled]
    _handled.update(item.record["eventID"] for item in fresh)
    return table, fresh


def pending_records() -> list[dict[str, Any]]:
    """The stream's records not delivered yet, as Lambda delivers them, whether or not filters pass them."""
    table, fresh = _undelivered()
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table.name}/stream/{table.latest_stream_label}"
    records = []
    for item in fresh:
        record = json.loads(json.dumps(item.to_json(), default=str))
        record |= {"awsRegion": REGION, "eventVersion": "1.1", "eventSourceARN": arn}
        record["dynamodb"]["ApproximateCreationDateTime"] = 1_795_000_000.0
        records.append(record)
    return records


def deliver(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Invoke the indexer with `records` (in batches); returns its partial batch responses' failures."""
    failures: list[dict[str, Any]] = []
    batch_size = int(event_source().get("BatchSize", 100))
    for start in range(0, len(records), batch_size):
        event = {"Records": records[start : start + batch_size]}
        response = load_function("index_tickets").lambda_handler(event, LambdaContext())
        failures += response.get("batchItemFailures", [])
    return failures


def skip_pending() -> None:
    """Take the stream's records as delivered already (written with their index, by a bulk load)."""
    _undelivered()


def catch_up() -> int:
    """Deliver every new record the template's filters pass; returns how many were delivered."""
    patterns = compile_filters(event_source().get("FilterCriteria"))
    records = [record for record in pending_records() if matches_any(patterns, record)]
    failures = deliver(records)
    assert not failures, f"the indexer failed records: {failures}"
    return len(records)
