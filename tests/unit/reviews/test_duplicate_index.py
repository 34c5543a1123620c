"""The duplicate index in the table (helpdesk.store.duplicates, read by review.candidates) answers as
the in-memory index the evaluation drives (review.similarity.InMemoryCandidateSource): same
candidates, same order, same org statistics, the same cap on a posting list, the same settled
categories."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]


def tickets(count: int, prefix: str = "01T") -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "tickets.jsonl").read_text().splitlines() if line.strip()]
    return [(f"{prefix}{n:023d}", row["subject"], row["body"]) for n, row in enumerate(rows[:count])]


def index_both(org: str, items: list[tuple[str, str, str]], cap: int):
    from helpdesk.review.engine import predicted_categories
    from helpdesk.review.similarity import InMemoryCandidateSource, index_entry, title_of
    from helpdesk.store import duplicates
    from helpdesk.store.core import TABLE, ticket_key

    memory = InMemoryCandidateSource(cap=cap)
    table = boto3.client("dynamodb", region_name="eu-west-1")
    for n, (ticket_id, subject, body) in enumerate(items):
        predicted = predicted_categories(subject, body)
        memory.add(org, ticket_id, subject, body, predicted=predicted)
        entry = index_entry(subject, body)
        # as helpdesk.store.tickets keeps it (the org's mix, helpdesk.store.categories, is not compared here)
        settled = {"settled_category": {"S": "bug"}} if n % 3 == 0 else {}
        if settled:
            memory.settle(org, "bug", ticket_id)
        table.put_item(
            TableName=TABLE,
            Item={
                **ticket_key(ticket_id), "id": {"S": ticket_id}, "org_id": {"S": org},
                "subject": {"S": title_of(subject, body)}, "status": {"S": "open"},
                "dup_signature": {"S": entry.signature}, "dup_snippet": {"S": entry.snippet}, **settled,
            },
        )  # fmt: skip
        duplicates.post(org, ticket_id, entry.keys, predicted)
    return memory


@pytest.mark.parametrize("cap", [200, 3])
def test_the_table_answers_as_the_in_memory_index(aws, monkeypatch, cap: int) -> None:
    from helpdesk.review.candidates import TableCandidateSource
    from helpdesk.review.similarity import index_keys
    from helpdesk.store import duplicates

    monkeypatch.setattr(duplicates, "MAX_POSTINGS", cap)
    # Given the same 40 tickets indexed in both, and another org's in the table
    items = tickets(41)
    memory = index_both("acme", items[:40], cap)
    index_both("globex", tickets(5, prefix="01G"), cap)
    # When each is asked for the candidates of new drafts
    for _, subject, body in [items[40], items[3], items[17]]:
        keys = index_keys(f"{subject}\n\n{body}")
        in_memory = memory.candidates("acme", keys, 41)
        in_table = TableCandidateSource().candidates("acme", keys, 41)
        # Then both return the same tickets, in the same order, with the same statistics
        assert [(c.ticket_id, c.match, c.signature, c.settled) for c in in_table] == [
            (c.ticket_id, c.match, c.signature, c.settled) for c in in_memory
        ]
        assert {c.settled for c in in_table} == {"bug", None}
        assert in_table.indexed == in_memory.indexed == 40  # type: ignore[attr-defined]
        assert in_table.counts == in_memory.counts  # type: ignore[attr-defined]
        assert in_table.predicted_reports == in_memory.predicted_reports == 40  # type: ignore[attr-defined]
        assert in_table.predicted == pytest.approx(in_memory.predicted)  # type: ignore[attr-defined]
        assert sum(in_table.predicted.values()) == pytest.approx(40, abs=0.01)  # type: ignore[attr-defined]
        assert all(c.ticket_id.startswith("01T") for c in in_table)


def test_a_full_key_is_packed_once_and_takes_no_more_ids(aws, monkeypatch) -> None:
    from helpdesk.store import duplicates
    from helpdesk.store.core import TABLE

    monkeypatch.setattr(duplicates, "MAX_POSTINGS", 3)
    table = boto3.client("dynamodb", region_name="eu-west-1")
    stored = lambda: table.get_item(TableName=TABLE, Key=duplicates.postings_key("acme", "k"))["Item"]  # noqa: E731
    # Given a key two tickets are posted under: still a set
    for ticket_id in ("01A", "01B"):
        duplicates.post("acme", ticket_id, ["k"])
    assert stored()["ticket_ids"]["SS"] and "full" not in stored()
    # When the third fills it, and two more come
    for ticket_id in ("01C", "01D", "01E"):
        duplicates.post("acme", ticket_id, ["k"])
    # Then it holds the first three as one string, and counts all five
    item = stored()
    assert "ticket_ids" not in item
    assert item["full"]["S"] == "01A 01B 01C"
    assert item["n"]["N"] == "5"
    found = duplicates.postings("acme", ["k"])
    assert found.ids == {"k": ["01A", "01B", "01C"]} and found.counts == {"k": 5} and found.indexed == 5
    # and a second packing (a poster racing the first) changes nothing
    duplicates._pack("acme", "k", ["01X", "01Y", "01Z"])
    assert stored() == item


def test_a_full_set_left_unpacked_takes_no_more_ids_and_the_first_read_packs_it(aws, monkeypatch) -> None:
    from helpdesk.store import duplicates
    from helpdesk.store.core import TABLE

    monkeypatch.setattr(duplicates, "MAX_POSTINGS", 3)
    table = boto3.client("dynamodb", region_name="eu-west-1")
    stored = lambda: table.get_item(TableName=TABLE, Key=duplicates.postings_key("acme", "k"))["Item"]  # noqa: E731
    # Given a full set its poster did not pack (it failed between its writes, or filled it before packing)
    table.put_item(
        TableName=TABLE,
        Item=duplicates.postings_key("acme", "k") | {"ticket_ids": {"SS": ["01C", "01A", "01B"]}, "n": {"N": "3"}},
    )
    # When the next ticket is posted under it, then it is only counted
    duplicates.post("acme", "01D", ["k"])
    assert sorted(stored()["ticket_ids"]["SS"]) == ["01A", "01B", "01C"] and stored()["n"]["N"] == "4"
    # When a review reads it, then it reads its ids, and the key is packed
    found = duplicates.postings("acme", ["k"])
    assert sorted(found.ids["k"]) == ["01A", "01B", "01C"] and found.counts == {"k": 4}
    assert "ticket_ids" not in stored() and stored()["full"]["S"] == "01A 01B 01C"
    # and read again, the same
    assert duplicates.postings("acme", ["k"]).ids == {"k": ["01A", "01B", "01C"]}


def test_packing_never_fails_its_caller(aws, monkeypatch, caplog) -> None:
    from botocore.exceptions import ClientError

    from helpdesk.store import duplicates

    monkeypatch.setattr(duplicates, "MAX_POSTINGS", 2)
    real = duplicates.client.update_item

    def throttled_pack(**params):
        if "REMOVE ticket_ids" in params["UpdateExpression"]:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")
        return real(**params)

    monkeypatch.setattr(duplicates.client, "update_item", throttled_pack)
    # Given a key that fills while the table throttles the packing write
    duplicates.post("acme", "01A", ["k", "other"])
    duplicates.post("acme", "01B", ["k", "other"])
    # Then the post still wrote every key and the org's count, and the key reads as full
    found = duplicates.postings("acme", ["k", "other"])
    assert {key: sorted(ids) for key, ids in found.ids.items()} == {"k": ["01A", "01B"], "other": ["01A", "01B"]}
    assert found.indexed == 2
    assert "Could not pack a full duplicate-index key" in caplog.text
