"""IndexTicketsFunction: the table's stream in, the search index out (events/index_tickets.json and
the records the API's writes cause)."""

from __future__ import annotations

import copy
import json
from typing import Any

from helpdesk.store import search as index
from helpdesk.tickets import indexing
from local.filters import compile_filters, matches_any
from tests.support import EVENTS, SUPPORT, LambdaContext, load_function
from tests.unit.api.helpers import aws_client, new_ticket, patch, reply
from tests.unit.search import indexer

SAMPLE = json.loads((EVENTS / "index_tickets.json").read_text())
SAMPLE_TICKET = SAMPLE["Records"][0]["dynamodb"]["Keys"]["pk"]["S"].removeprefix("TICKET#")


def run(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("index_tickets").lambda_handler(copy.deepcopy(event), LambdaContext())


def index_items() -> list[dict[str, Any]]:
    """Every item of the index, in a stable order (and its string sets sorted: DynamoDB's sets have none)."""
    items = aws_client("dynamodb").scan(TableName=index.TABLE, ConsistentRead=True)["Items"]
    found = [
        {name: {"SS": sorted(value["SS"])} if "SS" in value else value for name, value in item.items()}
        for item in items
        if item["pk"]["S"].startswith(index.PARTITIONS)
    ]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def posted(org: str, word: str) -> list[str]:
    """The ticket ids of a word's postings in an org."""
    return [item["sk"]["S"] for item in index_items() if item["pk"]["S"] == f"WORD#{org}#{word}"]


def tickets_counted(org: str | None, word: str) -> int:
    key = index.count_key(org, word)
    item = aws_client("dynamodb").get_item(TableName=index.TABLE, Key=key, ConsistentRead=True).get("Item")
    return int(item["tickets"]["N"]) if item else 0


def test_the_sample_event_indexes_the_subject_summary_and_public_messages(aws) -> None:
    # When the indexer gets the sample batch (a ticket, its first message, a support reply, a subject edit)
    response = run(SAMPLE)
    # Then every record succeeded
    assert response == {"batchItemFailures": []}
    # and the ticket's words are indexed by where they come from: the edited subject, the reply's words
    indexed = index.indexed_words(SAMPLE_TICKET)
    assert indexed is not None
    assert indexed.org_id == "acme"
    assert indexed.subject == {"hetzner", "load", "balancer", "drains", "every", "backend", "prod-eu", "prod", "eu"}
    assert {"misconfiguration", "kubectl", "ingress-nginx", "syncloadbalancerfailed"} <= indexed.messages
    # each posted under the org and counted in the org and in all orgs
    for word in ("hetzner", "misconfiguration", "ingress-nginx"):
        assert posted("acme", word) == [SAMPLE_TICKET]
        assert tickets_counted("acme", word) == tickets_counted(None, word) == 1
    # and the posting carries the all-orgs key (the Words index, support's search)
    [posting] = [item for item in index_items() if item["pk"]["S"] == "WORD#acme#hetzner"]
    assert posting["wpk"] == {"S": "WORD#hetzner"}


def test_a_replayed_batch_writes_nothing_new(aws) -> None:
    # Given the sample batch, indexed
    run(SAMPLE)
    before = index_items()
    # When Lambda delivers it again (a retry after a partial failure, a bisected batch)
    assert run(SAMPLE) == {"batchItemFailures": []}
    # Then the index is exactly as it was: same postings, same counts
    assert index_items() == before


def test_internal_notes_never_reach_the_index(aws) -> None:
    # Given a ticket with an internal note that has a word nothing else has
    ticket = new_ticket(body="The load balancer drops connections.")
    assert reply(ticket["id"], "Customer misconfigured the xylophone firewall.", SUPPORT, internal=True).status == 201
    records = indexer.pending_records()
    [note] = [r for r in records if r["dynamodb"].get("NewImage", {}).get("internal", {}).get("BOOL")]
    # Then the event source's filter does not deliver the note to the indexer
    assert not matches_any(compile_filters(indexer.event_source()["FilterCriteria"]), note)
    # and were it delivered anyway, it is not indexed
    assert indexer.deliver(records) == []
    assert not [item for item in index_items() if "xylophone" in json.dumps(item)]
    indexed = index.indexed_words(ticket["id"])
    assert indexed is not None
    assert "balancer" in indexed.all()
    assert "xylophone" not in indexed.all()


def test_a_message_posts_only_the_words_its_ticket_did_not_have(aws, calls) -> None:
    # Given an indexed ticket
    ticket = new_ticket(subject="Nodes stuck in NotReady", body="Nodes of pool np-1 are stuck in NotReady.")
    indexer.catch_up()
    # When a reply repeats its words and adds one
    assert reply(ticket["id"], "The nodes of np-1 are stuck in NotReady: kernelupgrade.").status == 201
    calls.clear()
    assert indexer.catch_up() == 2  # the message, and the ticket's modification (no words changed)
    # Then one posting is written, counted once in the org and once in all orgs, and the ticket's record
    writes = [(op, params) for op, params in calls if op in ("BatchWriteItem", "UpdateItem", "PutItem")]
    [(_, batch)] = [(op, params) for op, params in writes if op == "BatchWriteItem"]
    [put] = batch["RequestItems"][index.TABLE]
    assert put["PutRequest"]["Item"]["pk"] == {"S": "WORD#acme#kernelupgrade"}
    assert sorted(params["Key"]["pk"]["S"] for op, params in writes if op == "UpdateItem") == [
        "COUNT#acme#kernelupgrade",
        "COUNT#kernelupgrade",
    ]
    assert [params["Item"]["pk"]["S"] for op, params in writes if op == "PutItem"] == [f"INDEXED#{ticket['id']}"]
    # and the ticket's modification (a reply's stamp) reads and writes nothing
    assert [op for op, _ in calls] == ["GetItem", "BatchWriteItem", "UpdateItem", "UpdateItem", "PutItem"]


def test_a_subject_edit_takes_out_the_words_only_the_old_subject_had(aws) -> None:
    # Given an indexed ticket whose subject has a word its body does not
    ticket = new_ticket(subject="Quokka gateway timeout", body="The gateway times out after 30 seconds.")
    indexer.catch_up()
    assert posted("acme", "quokka") == [ticket["id"]]
    # When its subject is edited
    assert patch(ticket["id"], {"subject": "Gateway timeout on ingress"}).status == 200
    indexer.catch_up()
    # Then the old subject's word is no longer posted nor counted, the new one is; the body's words stay
    assert posted("acme", "quokka") == []
    assert tickets_counted("acme", "quokka") == tickets_counted(None, "quokka") == 0
    assert posted("acme", "ingress") == [ticket["id"]]
    assert posted("acme", "seconds") == [ticket["id"]]


def test_a_ticket_indexes_at_most_its_cap_of_words(aws, monkeypatch) -> None:
    # Given an indexed ticket, and a cap of 50 words per ticket (500 in the code: the same logic, faster)
    monkeypatch.setattr(indexing, "MAX_WORDS_PER_TICKET", 50)
    ticket = new_ticket(subject="Flood", body="A long log follows.")
    indexer.catch_up()
    # When a reply brings 60 new words
    assert reply(ticket["id"], " ".join(f"token{n:03d}" for n in range(60))).status == 201
    indexer.catch_up()
    # Then its first ones are indexed, up to 50 words in all, and the rest are not
    indexed = index.indexed_words(ticket["id"])
    assert indexed is not None
    assert len(indexed.all()) == 50
    assert {"token000", "token045"} <= indexed.messages
    assert "token046" not in indexed.all()
    assert len([item for item in index_items() if item["pk"]["S"].startswith("WORD#acme#")]) == 50


def test_a_message_that_comes_before_its_ticket_record_starts_from_the_ticket(aws) -> None:
    # Given the records of a new ticket, its first message delivered before the ticket's own record
    ticket = new_ticket(subject="Wombat quota exceeded", body="Our project quota is exceeded.")
    records = indexer.pending_records()
    ticket_records = [r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == "TICKET"]
    messages = [r for r in records if r["dynamodb"]["Keys"]["sk"]["S"].startswith("MSG#")]
    assert indexer.deliver(messages) == []
    # Then the message's ticket is indexed with its org, subject and the message
    indexed = index.indexed_words(ticket["id"])
    assert indexed is not None
    assert (indexed.org_id, "wombat" in indexed.subject, "project" in indexed.messages) == ("acme", True, True)
    # and the ticket's record, when it comes, changes nothing the message brought
    assert indexer.deliver(ticket_records) == []
    assert index.indexed_words(ticket["id"]) == indexed


def test_a_record_that_cannot_be_indexed_fails_alone(aws) -> None:
    # Given a batch whose second record is a ticket without a subject (not one the API writes)
    broken = copy.deepcopy(SAMPLE["Records"][0])
    broken["eventID"] = "broken"
    del broken["dynamodb"]["NewImage"]["subject"]
    event = {"Records": [SAMPLE["Records"][0], broken, SAMPLE["Records"][1]]}
    # When the indexer gets it
    response = run(event)
    # Then only that record is reported failed (Lambda retries from it, bisects, then parks it)
    assert response == {"batchItemFailures": [{"itemIdentifier": broken["dynamodb"]["SequenceNumber"]}]}
    indexed = index.indexed_words(SAMPLE_TICKET)
    assert indexed is not None
    assert "syncloadbalancerfailed" in indexed.messages
