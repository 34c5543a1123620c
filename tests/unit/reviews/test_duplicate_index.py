"""The duplicate index in the table (helpdesk.store.duplicates, read by review.candidates) answers as
the in-memory index the evaluation drives (review.similarity.InMemoryCandidateSource): same
candidates, same order, same org statistics, the same cap on a posting list."""

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
    from helpdesk.review.similarity import InMemoryCandidateSource, index_entry, title_of
    from helpdesk.store import duplicates
    from helpdesk.store.core import TABLE, ticket_key

    memory = InMemoryCandidateSource(cap=cap)
    table = boto3.client("dynamodb", region_name="eu-west-1")
    for ticket_id, subject, body in items:
        memory.add(org, ticket_id, subject, body)
        entry = index_entry(subject, body)
        table.put_item(
            TableName=TABLE,
            Item={
                **ticket_key(ticket_id), "id": {"S": ticket_id}, "org_id": {"S": org},
                "subject": {"S": title_of(subject, body)}, "status": {"S": "open"},
                "dup_signature": {"S": entry.signature}, "dup_snippet": {"S": entry.snippet},
            },
        )  # fmt: skip
        duplicates.post(org, ticket_id, entry.keys)
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
        assert [(c.ticket_id, c.match, c.signature) for c in in_table] == [
            (c.ticket_id, c.match, c.signature) for c in in_memory
        ]
        assert in_table.indexed == in_memory.indexed == 40  # type: ignore[attr-defined]
        assert in_table.counts == in_memory.counts  # type: ignore[attr-defined]
        assert all(c.ticket_id.startswith("01T") for c in in_table)
