"""The search index in the template: the indexer sees only what has words to index, writes only the
index's keys, and the list function reads only the index's and the tickets' partitions."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.store.search import ALL_ORGS_INDEX, PARTITIONS
from local.filters import compile_filters, matches_any
from tests.infrastructure.test_template import role_statements

WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
INDEX_KEYS = [f"{prefix}*" for prefix in PARTITIONS]


def actions(statement: dict[str, Any]) -> set[str]:
    return {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])


def leading_keys(statement: dict[str, Any]) -> list[str]:
    return statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]


def stream_record(event: str, sk: str, **image: Any) -> dict[str, Any]:
    new = {"pk": {"S": "TICKET#01JDQ4Z9X2V7N8K3M5P6R7S8T9"}, "sk": {"S": sk}, **image}
    return {"eventName": event, "dynamodb": {"Keys": {"pk": new["pk"], "sk": new["sk"]}, "NewImage": new}}


def test_the_indexer_writes_only_the_index_and_reads_only_it_and_tickets(cfn: dict[str, Any]) -> None:
    for statement in role_statements(cfn, "IndexTicketsFunction"):
        table_actions = {action for action in actions(statement) if action.startswith("dynamodb:")}
        if table_actions & WRITES:
            assert leading_keys(statement) == INDEX_KEYS, statement
        elif table_actions:
            assert table_actions == {"dynamodb:GetItem"}, statement
            assert set(leading_keys(statement)) == {"INDEXED#*", "TICKET#*"}, statement


def test_the_list_function_reads_the_table_only_in_the_index_and_the_tickets(cfn: dict[str, Any]) -> None:
    for statement in role_statements(cfn, "ListTicketsFunction"):
        resource = statement["Resource"]
        if resource == {"Fn::GetAtt": ["Table", "Arn"]}:
            assert actions(statement) == {"dynamodb:Query", "dynamodb:BatchGetItem"}
            assert set(leading_keys(statement)) == {*INDEX_KEYS, "TICKET#*"}


MSG = "MSG#01JDQ4Z9X2V7N8K3M5P6R7S8T9"


def author(kind: str) -> dict[str, Any]:
    return {"M": {"id": {"S": "u-1"}, "email": {"S": "u@acme.test"}, "kind": {"S": kind}}}


@pytest.mark.parametrize(
    ("record", "delivered"),
    [
        (stream_record("INSERT", "TICKET", subject={"S": "Pods crash"}), True),
        (stream_record("MODIFY", "TICKET", subject={"S": "Pods crash"}), True),
        (stream_record("INSERT", MSG, body={"S": "hi"}, internal={"BOOL": False}, author=author("user")), True),
        (stream_record("INSERT", MSG, body={"S": "hi"}, internal={"BOOL": False}, author=author("ai")), True),
        (stream_record("INSERT", MSG, body={"S": "note"}, internal={"BOOL": True}, author=author("support")), False),
        (
            stream_record(
                "INSERT", MSG, body={"S": "Status: open → resolved"}, internal={"BOOL": False}, author=author("system")
            ),
            False,
        ),
        (stream_record("MODIFY", MSG, body={"S": "hi"}, internal={"BOOL": False}, author=author("user")), False),
        (stream_record("REMOVE", "TICKET"), False),
        (stream_record("INSERT", "ATT#01JDQ4Z9X2V7N8K3M5P6R7S8T9"), False),
        (stream_record("INSERT", "01JDQ4Z9X2V7N8K3M5P6R7S8T9"), False),  # a posting: the index's own writes
        (stream_record("INSERT", "WORDS"), False),
        (stream_record("MODIFY", "COUNT"), False),
    ],
)
def test_the_indexer_is_given_only_tickets_and_public_messages(
    sam: dict[str, Any], record: dict[str, Any], delivered: bool
) -> None:
    [source] = [
        event["Properties"]
        for event in sam["Resources"]["IndexTicketsFunction"]["Properties"]["Events"].values()
        if event["Type"] == "DynamoDB"
    ]
    assert matches_any(compile_filters(source["FilterCriteria"]), record) is delivered


def test_the_all_orgs_index_holds_keys_only(sam: dict[str, Any]) -> None:
    [words] = [
        i for i in sam["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"] if i["IndexName"] == ALL_ORGS_INDEX
    ]
    assert words["KeySchema"] == [
        {"AttributeName": "wpk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert words["Projection"] == {"ProjectionType": "KEYS_ONLY"}
