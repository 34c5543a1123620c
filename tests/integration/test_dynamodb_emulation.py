"""local.dynamodb, the local stack's changes to moto's DynamoDB, against moto's own answers (in
this process, on the template's table): with Query reading one partition, items packed at rest
and transactions checked before they write, a seeded workload gets exactly moto's answers;
transactions and updates are all or nothing without copying the table; the stream is trimmed
as DynamoDB Streams trims it."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import config, dynamodb, template

pytestmark = pytest.mark.integration

SEED = 20261206
PARTITIONS = [f"TICKET#{n:02d}" for n in range(8)]
ORGS = ["ORG#acme", "ORG#globex", "ORG#initech"]


@pytest.fixture
def table() -> Iterator[tuple[Any, str]]:
    """The template's table (keys, indexes, stream) in an in-process moto, local.dynamodb installed."""
    dynamodb.install()
    try:
        with mock_aws():
            session = boto3.Session(region_name=config.REGION)
            stack = template.create_all(session)
            yield session.client("dynamodb"), stack.names["Table"]
    finally:
        dynamodb.uninstall()


def random_item(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": rng.choice(PARTITIONS)},
        "sk": {"S": rng.choice(["TICKET", "MSG#", "ATT#", "NOTE#"]) + f"{rng.randrange(40):03d}"},
        "n": {"N": str(rng.randrange(100))},
        "body": {"S": rng.choice(["alpha", "beta", "gamma"]) * rng.randrange(1, 4)},
    }
    if rng.random() < 0.7:
        item["gsi1pk"] = {"S": rng.choice(ORGS)}
        item["gsi1sk"] = {"S": f"2026-12-{rng.randrange(1, 28):02d}T{rng.randrange(24):02d}"}  # ties on purpose
        if rng.random() < 0.6:
            item["gsi2sk"] = {"S": rng.choice(["open#", "closed#", "pending#"]) + item["gsi1sk"]["S"]}
    if rng.random() < 0.3:
        item["gsi3pk"] = {"S": rng.choice(["QUEUE#open", "QUEUE#pending"])}
    if rng.random() < 0.3:
        item["gsi4pk"] = {"S": "QUEUE"}
    return item


def random_query(rng: random.Random, name: str) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": name, "ScanIndexForward": rng.random() < 0.5}
    index = rng.choice([None, "ByOrg", "ByOrgStatus", "QueueByStatus", "Queue"])
    values: dict[str, Any] = {}
    if index is None:
        values[":h"] = {"S": rng.choice([*PARTITIONS, "TICKET#none"])}
        condition = "pk = :h"
        sort_key = "sk"
        low, high = {"S": "ATT#"}, {"S": "MSG#999"}
        prefix = {"S": rng.choice(["MSG#", "ATT#", "TICKET"])}
    else:
        request["IndexName"] = index
        hash_name = {"ByOrg": "gsi1pk", "ByOrgStatus": "gsi1pk", "QueueByStatus": "gsi3pk", "Queue": "gsi4pk"}[index]
        choices = {"gsi1pk": [*ORGS, "ORG#none"], "gsi3pk": ["QUEUE#open", "QUEUE#pending"], "gsi4pk": ["QUEUE"]}
        values[":h"] = {"S": rng.choice(choices[hash_name])}
        condition = f"{hash_name} = :h"
        sort_key = "gsi2sk" if index == "ByOrgStatus" else "gsi1sk"
        low, high = {"S": "2026-12-05"}, {"S": "2026-12-20"}
        prefix = {"S": rng.choice(["open#", "2026-12-1"])}
    shape = rng.choice(["none", "begins", "between", "greater"])
    if shape == "begins":
        condition += f" AND begins_with({sort_key}, :p)"
        values[":p"] = prefix
    elif shape == "between":
        condition += f" AND {sort_key} BETWEEN :lo AND :hi"
        values[":lo"], values[":hi"] = low, high
    elif shape == "greater":
        condition += f" AND {sort_key} > :lo"
        values[":lo"] = low
    request["KeyConditionExpression"] = condition
    if rng.random() < 0.4:
        request["FilterExpression"] = "n > :n"
        values[":n"] = {"N": str(rng.randrange(100))}
    if rng.random() < 0.7:
        request["Limit"] = rng.randrange(1, 12)
    if rng.random() < 0.2:
        request["ProjectionExpression"] = "pk, sk, n"
    request["ExpressionAttributeValues"] = values
    return request


def pages(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a Query, following LastEvaluatedKey (bounded, in case pagination loops)."""
    found = []
    request = dict(request)
    for _ in range(500):
        response = client.query(**request)
        response.pop("ResponseMetadata", None)
        found.append(response)
        if "LastEvaluatedKey" not in response:
            return found
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    raise AssertionError("pagination did not end")


def random_write(rng: random.Random, client: Any, name: str) -> None:
    kind = rng.choice(["put", "put", "update", "delete", "transact", "transact"])
    key = {"pk": {"S": rng.choice(PARTITIONS)}, "sk": {"S": f"MSG#{rng.randrange(40):03d}"}}
    try:
        if kind == "put":
            client.put_item(TableName=name, Item=random_item(rng))
        elif kind == "update":
            client.update_item(
                TableName=name,
                Key=key,
                UpdateExpression="SET gsi1pk = :org, gsi1sk = :at ADD n :one REMOVE gsi3pk",
                ExpressionAttributeValues={
                    ":org": {"S": rng.choice(ORGS)},
                    ":at": {"S": "2026-12-09T00"},
                    ":one": {"N": "1"},
                },
            )
        elif kind == "delete":
            client.delete_item(TableName=name, Key=key)
        else:
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": random_item(rng)}},
                    {
                        "Update": {
                            "TableName": name,
                            "Key": key,
                            "UpdateExpression": "SET gsi4pk = :q",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":q": {"S": "QUEUE"}},
                        }
                    },
                ]
            )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("TransactionCanceledException", "ValidationException"):
            raise


def workload(seed: int) -> list[tuple[str, Any]]:
    """A seeded run on a fresh table of the template: items over a few partitions and index values
    (some without index keys), then rounds of Queries (on the table and every index: pages, order,
    filters, projections) and writes that move items between partitions and index values; what
    every Query answered, page by page, and a Scan of the table at the end."""
    rng = random.Random(seed)
    with mock_aws():
        session = boto3.Session(region_name=config.REGION)
        name = template.create_all(session).names["Table"]
        client = session.client("dynamodb")
        for _ in range(100):
            client.put_item(TableName=name, Item=random_item(rng))
        seen: list[tuple[str, Any]] = []
        for _ in range(6):
            for _ in range(15):
                request = random_query(rng, name)
                seen.append((json.dumps(request), pages(client, request)))
            for _ in range(30):
                random_write(rng, client, name)
        scanned = client.scan(TableName=name, ConsistentRead=True)
        while "LastEvaluatedKey" in scanned:
            more = client.scan(TableName=name, ExclusiveStartKey=scanned["LastEvaluatedKey"], ConsistentRead=True)
            scanned["Items"] += more["Items"]
            scanned["LastEvaluatedKey"] = more.get("LastEvaluatedKey")
            if scanned["LastEvaluatedKey"] is None:
                del scanned["LastEvaluatedKey"]
        items = sorted(scanned["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
        seen.append(("scan", items))
    return seen


def test_the_table_answers_as_moto_does_while_it_changes() -> None:
    # Given the same seeded workload on moto as it is and on moto with local.dynamodb
    expected = workload(SEED)
    dynamodb.install()
    try:
        got = workload(SEED)
    finally:
        dynamodb.uninstall()

    # Then every Query answered the same, page by page, and the table holds the same items
    differences = [
        f"{request}\n  moto: {moto_answer}\n  local: {local_answer}"
        for (request, moto_answer), (_, local_answer) in zip(expected, got, strict=True)
        if moto_answer != local_answer
    ]
    assert not differences, "\n".join(differences[:3])


def stream_length(name: str) -> int:
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[config.ACCOUNT_ID][config.REGION].get_table(name).stream_shard
    assert shard is not None
    return len(shard.items)


def no_table_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    def refuse(self: Any, memo: Any) -> Any:
        raise AssertionError("the whole table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)


def test_a_refused_transaction_changes_nothing_and_says_why(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = table
    ticket = {"pk": {"S": "TICKET#1"}, "sk": {"S": "TICKET"}, "version": {"N": "3"}, "gsi1pk": {"S": "ORG#acme"}}
    client.put_item(TableName=name, Item=ticket)
    before = stream_length(name)
    no_table_copies(monkeypatch)

    # When a transaction's second item fails its condition
    message = {"pk": {"S": "TICKET#1"}, "sk": {"S": "MSG#1"}, "gsi1pk": {"S": "ORG#acme"}, "gsi1sk": {"S": "x"}}
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": message, "ConditionExpression": "attribute_not_exists(pk)"}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": ticket["pk"], "sk": ticket["sk"]},
                        "UpdateExpression": "SET version = version + :one",
                        "ConditionExpression": "version = :v",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )

    # Then it is cancelled with a reason per item (the old item with the failed one)
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = refused.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["version"] == {"N": "3"}
    # And nothing was written: no item, no index entry, no stream record
    assert "Item" not in client.get_item(TableName=name, Key={"pk": message["pk"], "sk": message["sk"]})
    assert client.get_item(TableName=name, Key={"pk": ticket["pk"], "sk": ticket["sk"]})["Item"] == ticket
    by_org = client.query(
        TableName=name,
        IndexName="ByOrg",
        KeyConditionExpression="gsi1pk = :o",
        ExpressionAttributeValues={":o": {"S": "ORG#acme"}},
    )
    assert by_org["Items"] == []
    assert stream_length(name) == before


def test_a_transaction_failing_half_way_is_undone_exactly(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = table
    ticket = {"pk": {"S": "TICKET#2"}, "sk": {"S": "TICKET"}, "subject": {"S": "old"}, "gsi4pk": {"S": "QUEUE"}}
    client.put_item(TableName=name, Item=ticket)
    before = stream_length(name)
    no_table_copies(monkeypatch)

    # When the first write is applied and the second fails while it is written (the item grows too big)
    new = {"pk": {"S": "TICKET#3"}, "sk": {"S": "TICKET"}, "gsi4pk": {"S": "QUEUE"}, "gsi1sk": {"S": "z"}}
    with pytest.raises(ClientError) as failed:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": new}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": ticket["pk"], "sk": ticket["sk"]},
                        "UpdateExpression": "SET subject = :s, huge = :h",
                        "ExpressionAttributeValues": {":s": {"S": "new"}, ":h": {"S": "x" * 410_000}},
                    }
                },
            ]
        )

    # Then it fails as moto fails it, and the table, its index and its stream are as before
    assert failed.value.response["Error"]["Code"] in ("ValidationException", "TransactionCanceledException")
    assert "Item" not in client.get_item(TableName=name, Key={"pk": new["pk"], "sk": new["sk"]})
    assert client.get_item(TableName=name, Key={"pk": ticket["pk"], "sk": ticket["sk"]})["Item"] == ticket
    queue = client.query(
        TableName=name,
        IndexName="Queue",
        KeyConditionExpression="gsi4pk = :q",
        ExpressionAttributeValues={":q": {"S": "QUEUE"}},
    )
    assert queue["Items"] == []  # the ticket has no gsi1sk (the index's sort key): it is not in the index
    assert stream_length(name) == before


def test_an_update_failing_half_way_changes_nothing(table: tuple[Any, str]) -> None:
    client, name = table
    item = {"pk": {"S": "TICKET#4"}, "sk": {"S": "TICKET"}, "n": {"S": "x"}}
    client.put_item(TableName=name, Item=item)
    with pytest.raises(ClientError) as failed:
        client.update_item(
            TableName=name,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET a = :s, b = :h",
            ExpressionAttributeValues={":s": {"S": "small"}, ":h": {"S": "x" * 410_000}},
        )
    assert failed.value.response["Error"]["Code"] == "ValidationException"
    assert client.get_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})["Item"] == item


@pytest.fixture
def untracked() -> Iterator[None]:
    """moto not keeping every model object it makes (as in the local stack)."""
    from local.aws import track_models, untrack_models

    untrack_models()
    try:
        yield
    finally:
        track_models()


def test_between_requests_the_table_and_its_stream_hold_no_objects_per_item(
    table: tuple[Any, str], untracked: None
) -> None:
    import gc

    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord

    client, name = table
    for n in range(300):
        client.put_item(
            TableName=name,
            Item={
                "pk": {"S": f"TICKET#{n % 7}"},
                "sk": {"S": f"MSG#{n:03d}"},
                "gsi4pk": {"S": "QUEUE"},
                "n": {"N": "0"},
            },
        )
    client.update_item(
        TableName=name,
        Key={"pk": {"S": "TICKET#3"}, "sk": {"S": "MSG#010"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    # Then moto's table keeps its items and stream records on disk: no Item or StreamRecord object
    # outlives the request that used it
    stored = dynamodb_backends[config.ACCOUNT_ID][config.REGION].get_table(name)
    gc.collect()
    assert sum(isinstance(o, Item | StreamRecord) for o in gc.get_objects()) < 5
    assert len(stored) == 300 and not stored.items.live
    assert len(stored.stream_shard.items) == 301  # 300 puts and the update
    # and what the requests wrote is what is read, by key, by partition and by index
    got = client.get_item(TableName=name, Key={"pk": {"S": "TICKET#3"}, "sk": {"S": "MSG#010"}})["Item"]
    assert got["n"] == {"N": "1"}
    partition = client.query(
        TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "TICKET#3"}}
    )
    assert partition["Count"] == len([n for n in range(300) if n % 7 == 3])
    queue = client.query(
        TableName=name,
        IndexName="Queue",
        KeyConditionExpression="gsi4pk = :q",
        ExpressionAttributeValues={":q": {"S": "QUEUE"}},
    )
    assert queue["Count"] == 0  # no gsi1sk (the index's sort key): in no item of the index, as in moto


@pytest.fixture
def served() -> Iterator[tuple[Any, Any, str]]:
    """The template's table in moto's server as the local stack serves it (local.aws)."""
    from local.aws import LocalAws, track_models

    aws = LocalAws()
    try:
        url = aws.start()
        session = boto3.Session(region_name=config.REGION, **{k.lower(): v for k, v in config.FAKE_CREDENTIALS.items()})
        stack = template.create_all(session, config.PREFIX, url)
        yield (
            session.client("dynamodb", endpoint_url=url),
            session.client("dynamodbstreams", endpoint_url=url),
            stack.names["Table"],
        )
    finally:
        aws.stop()
        dynamodb.uninstall()
        track_models()


def test_the_stream_is_trimmed_behind_its_consumers_and_keeps_its_numbers(served: tuple[Any, Any, str]) -> None:
    client, streams, name = served
    arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    for n in range(10):
        client.put_item(TableName=name, Item={"pk": {"S": f"TICKET#{n}"}, "sk": {"S": "TICKET"}})

    def read(**position: Any) -> list[str]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **position)["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        return [record["dynamodb"]["SequenceNumber"] for record in records]

    numbers = read(ShardIteratorType="TRIM_HORIZON")
    assert len(numbers) == 10

    # When a consumer has handled the first six records
    assert dynamodb.trim_stream(arn, numbers[5]) == 6

    # Then they are gone, the rest keep their numbers, and new records number on
    assert read(ShardIteratorType="TRIM_HORIZON") == numbers[6:]
    assert read(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[5]) == numbers[6:]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert shards[0]["SequenceNumberRange"]["StartingSequenceNumber"] == numbers[6]
    client.put_item(TableName=name, Item={"pk": {"S": "TICKET#new"}, "sk": {"S": "TICKET"}})
    assert read(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[9]) == [str(int(numbers[9]) + 1)]
    # And reading from a trimmed position is refused as DynamoDB Streams refuses it
    with pytest.raises(ClientError) as trimmed:
        read(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=numbers[2])
    assert trimmed.value.response["Error"]["Code"] == "TrimmedDataAccessException"
