"""GET /v1/tickets?q=: all of the words, newest first, from the search index, in a bounded number of
round trips at any org size, never an empty page before a page with matches."""

from __future__ import annotations

from typing import Any

from helpdesk.domain.models import Category, Status
from helpdesk.store import core
from helpdesk.store import search as index
from helpdesk.store.core import Update
from helpdesk.tickets import search as search_module
from tests.support import ACME_USER, GLOBEX_USER, SUPPORT, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    list_all,
    list_tickets,
    mark_reviewed,
    new_ticket,
    patch,
    reply,
)
from tests.unit.search import indexer
from tests.unit.search.seeding import Seed, seed

COMMON = Seed("Cluster nodes slow", "Cluster nodes slow.")  # few words: a quick bulk load


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def search(calls: list[tuple[str, dict[str, Any]]], claims: dict[str, Any], **query: str) -> dict[str, Any]:
    """One page of a search once the index has caught up, with `calls` holding only the list's own calls."""
    indexer.catch_up()
    calls.clear()
    response = invoke("list_tickets", event("list_tickets", claims=claims, query=query))
    assert response.status == 200, response
    return response.json()


def operations(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [operation for operation, _ in calls]


def items_read(calls: list[tuple[str, dict[str, Any]]]) -> int:
    """Postings the Queries asked for and keys the BatchGetItems asked for (what DynamoDB reads, at most)."""
    total = 0
    for operation, params in calls:
        if operation == "Query":
            total += params["Limit"]
        elif operation == "BatchGetItem":
            total += sum(len(request["Keys"]) for request in params["RequestItems"].values())
    return total


# ---------------------------------------------------------------- at any org size


def test_a_rare_word_in_a_big_org_is_on_the_first_page_in_three_round_trips_at_most(aws, calls) -> None:
    # Given a big org whose only ticket with a rare word is its oldest (behind more tickets than the
    # old filtered list examined per page), and a small org like it
    rare = Seed("Zanzibar cluster nodes down", "Zanzibar cluster nodes down.")
    [rare_big], [rare_small] = seed("big", [rare]), seed("small", [rare])
    seed("big", [COMMON] * 1_050)
    seed("small", [COMMON] * 5)
    big, small = ({"sub": f"u-{org}", "email": None, "org_id": org, "roles": "[member]"} for org in ("big", "small"))
    for q, expected_calls in (
        ("zanzibar", ["Query", "BatchGetItem"]),
        ("ZANZIBAR cluster nodes", ["BatchGetItem", "Query", "BatchGetItem"]),
    ):
        # When each org searches for it (alone, and with common words)
        found_big = search(calls, big, q=q)
        big_calls, big_read = operations(calls), items_read(calls)
        found_small = search(calls, small, q=q)
        # Then the first page has it, and says it is the last
        assert (ids(found_big["items"]), found_big["next_cursor"]) == ([rare_big], None)
        assert (ids(found_small["items"]), found_small["next_cursor"]) == ([rare_small], None)
        # in the same round trips, reading as much, whatever the org's size
        assert big_calls == operations(calls) == expected_calls
        assert big_read == items_read(calls)


def test_a_common_word_pages_newest_first_in_two_round_trips_a_page(aws, calls) -> None:
    # Given an org with 60 tickets that have a word
    seeded = seed("acme", [COMMON] * 60)
    # When its user pages through them, 25 at a time
    pages, cursor = [], None
    while True:
        page = search(calls, ACME_USER, q="cluster", **({"cursor": cursor} if cursor else {}))
        assert operations(calls) == ["Query", "BatchGetItem"]
        pages.append(ids(page["items"]))
        if not (cursor := page["next_cursor"]):
            break
    # Then every ticket comes once, newest first, in full pages
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [ticket for p in pages for ticket in p] == list(reversed(seeded))


def test_several_words_with_a_small_limit_check_four_pages_worth_first(aws, calls) -> None:
    # Given an org where every ticket has both words
    seeded = seed("acme", [COMMON] * 60)
    # When its user asks for 5 tickets with both, then for 25
    small = search(calls, ACME_USER, q="cluster nodes", limit="5")
    small_read = items_read(calls)
    default = search(calls, ACME_USER, q="cluster nodes")
    # Then each page is full and newest first, the first read 20 postings and their 40 items (4
    # pages' worth), the second 50 and their 100 (what one BatchGetItem can check), with the 2 counts
    assert ids(small["items"]) == list(reversed(seeded))[:5] and small["next_cursor"]
    assert ids(default["items"]) == list(reversed(seeded))[:25]
    assert (small_read, items_read(calls)) == (2 + 20 + 40, 2 + 50 + 100)


# ---------------------------------------------------------------- what matches


def test_all_of_the_words_must_match_in_the_subject_summary_or_a_public_message(aws) -> None:
    # Given tickets with some of the words, in their subject, first message or a later reply
    both_in_subject = new_ticket(subject="Ingress timeout on prod-eu", body="Requests fail.")["id"]
    one_only = new_ticket(subject="Ingress misrouted", body="Traffic goes to the wrong service.")["id"]
    in_reply = new_ticket(subject="Requests fail", body="Since 10:00 nothing works.")["id"]
    assert reply(in_reply, "It is an ingress timeout, we think.", SUPPORT).status == 201
    # When acme searches for both words (any case, any order)
    found = ids(list_all(ACME_USER, q="Timeout INGRESS"))
    # Then only the tickets that have both come back, newest first
    assert found == [in_reply, both_in_subject]
    assert one_only in ids(list_all(ACME_USER, q="ingress"))
    # and a compound finds the tickets that have it, even inside a longer one
    assert ids(list_all(ACME_USER, q="prod-eu")) == [both_in_subject]


def test_a_word_only_an_internal_note_has_finds_nothing_for_anyone(aws) -> None:
    # Given a ticket whose internal note has a word nothing else has
    ticket = new_ticket(subject="VPN drops", body="The VPN tunnel drops every hour.")
    assert reply(ticket["id"], "Customer's xylophone firewall misconfigured.", SUPPORT, internal=True).status == 201
    # When the org's members or the support team search for that word
    # Then nobody finds the ticket by it (q matches non-internal messages only), but by its public words
    assert list_all(ACME_USER, q="xylophone") == []
    assert list_all(SUPPORT, q="xylophone") == []
    assert list_all(SUPPORT, q="xylophone", org_id="acme") == []
    assert ids(list_all(ACME_USER, q="vpn tunnel")) == [ticket["id"]]


def test_another_orgs_tickets_are_never_found(aws) -> None:
    # Given both orgs have tickets with the same words, and globex one with a word acme has not
    acme = new_ticket(ACME_USER, subject="Shared words here", body="Disk full on node-7.")["id"]
    globex = new_ticket(GLOBEX_USER, subject="Shared words here", body="Disk full on node-9 of kestrel.")["id"]
    # When each org searches
    # Then each finds its own only
    assert ids(list_all(ACME_USER, q="shared words")) == [acme]
    assert ids(list_all(GLOBEX_USER, q="shared words")) == [globex]
    assert list_all(ACME_USER, q="kestrel") == []
    assert list_all(ACME_USER, q="disk kestrel") == []
    # while support searches every org (the all-orgs index), or one
    assert ids(list_all(SUPPORT, q="shared words")) == [globex, acme]
    assert ids(list_all(SUPPORT, q="disk full", org_id="acme")) == [acme]
    assert ids(list_all(SUPPORT, q="kestrel")) == [globex]


def test_a_subject_edit_and_a_review_reindex_the_ticket(aws) -> None:
    # Given a ticket found by its subject
    ticket = new_ticket(subject="Quokka gateway timeout", body="The gateway times out after 30 seconds.")
    assert ids(list_all(ACME_USER, q="quokka")) == [ticket["id"]]
    # When its subject is edited, and its review is recorded (its summary, and the review's note)
    assert patch(ticket["id"], {"subject": "Gateway timeout on ingress"}).status == 200
    mark_reviewed(ticket)
    # Then the old subject's words find it no more; the new subject's and the review's do
    assert list_all(ACME_USER, q="quokka") == []
    assert ids(list_all(ACME_USER, q="ingress gateway")) == [ticket["id"]]
    assert ids(list_all(ACME_USER, q="reviewed")) == [ticket["id"]]


def test_the_other_filters_combine_with_the_words(aws) -> None:
    # Given tickets with the same words in other statuses, categories and clusters
    open_billing, closed, open_technical = seed(
        "acme",
        [
            Seed("Invoice disk charge", "Disk charge on the invoice.", category=Category.BILLING),
            Seed("Disk charge question", "Disk charge?", status=Status.CLOSED),
            Seed("Disk charge wrong", "The disk charge is wrong."),
        ],
    )
    # When acme searches with filters
    # Then only the tickets that pass them come back
    assert ids(list_all(ACME_USER, q="disk charge")) == [open_technical, closed, open_billing]
    assert ids(list_all(ACME_USER, q="disk charge", status="open")) == [open_technical, open_billing]
    assert ids(list_all(ACME_USER, q="disk charge", status="open", category="billing")) == [open_billing]
    assert ids(list_all(ACME_USER, q="disk", status="closed,resolved")) == [closed]
    assert list_all(ACME_USER, q="disk", cluster_id="c-1") == []


def test_stop_words_alone_find_nothing_without_reading_the_table(aws, calls) -> None:
    new_ticket(subject="It is what it is", body="The one with the words.")
    page = search(calls, ACME_USER, q="it is the")
    assert page == {"items": [], "next_cursor": None}
    assert calls == []


def test_a_word_no_ticket_has_ends_the_search_at_its_count(aws, calls) -> None:
    seed("acme", [COMMON] * 3)
    page = search(calls, ACME_USER, q="cluster nonexistentword")
    assert page == {"items": [], "next_cursor": None}
    assert operations(calls) == ["BatchGetItem"]


def test_counts_only_choose_the_word_walked_never_the_answer(aws, calls) -> None:
    # Given tickets whose words' counts have drifted (a replayed record counted twice, or out twice)
    both = seed("acme", [Seed("Alpha beta", "Alpha beta.")] * 2)
    seed("acme", [Seed("Beta", "Beta.")] * 3)
    core.client.update_item(**Update().set("tickets", 0).request(index.count_key("acme", "beta")))
    core.client.update_item(**Update().set("tickets", -3).request(index.count_key("acme", "alpha")))
    # When acme searches both words
    page = search(calls, ACME_USER, q="alpha beta")
    # Then the tickets that have both are found all the same
    assert ids(page["items"]) == list(reversed(both))


# ---------------------------------------------------------------- pages


def test_no_page_is_empty_while_a_later_one_has_matches(aws, calls) -> None:
    # Given the rarest word's newest 60 postings all lack the other word, and only 3 older tickets have both
    both = seed("acme", [Seed("Alpha beta", "Alpha beta.")] * 3)
    seed("acme", [Seed("Beta", "Beta.")] * 80)
    seed("acme", [Seed("Alpha", "Alpha.")] * 60)
    # When acme searches for both words
    first = search(calls, ACME_USER, q="alpha beta")
    # Then the first page has the matches (it read on past the non-matching postings), and is the last
    assert ids(first["items"]) == list(reversed(both))
    assert first["next_cursor"] is None
    assert operations(calls)[:3] == ["BatchGetItem", "Query", "BatchGetItem"]
    assert len(calls) > 3  # more round trips only because the page had nothing yet
    # and in pages of 2, no page is empty and every match comes once
    pages = []
    page = search(calls, ACME_USER, q="alpha beta", limit="2")
    pages.append(ids(page["items"]))
    while page["next_cursor"]:
        page = search(calls, ACME_USER, q="alpha beta", limit="2", cursor=page["next_cursor"])
        pages.append(ids(page["items"]))
    assert all(pages[:-1]) and [t for p in pages for t in p] == list(reversed(both))


def test_a_filter_few_tickets_pass_still_finds_them_on_the_first_page(aws, calls, monkeypatch) -> None:
    # (the page's time cap is not what this holds: on a loaded machine moto alone can take 6 s here)
    monkeypatch.setattr(search_module, "SEARCH_SECONDS", 120.0)
    # Given 150 open tickets with a word, and one closed ticket behind them
    [closed] = seed("acme", [Seed("Cluster nodes slow", "Slow.", status=Status.CLOSED)])
    seed("acme", [COMMON] * 150)
    # When acme searches the word among closed tickets
    page = search(calls, ACME_USER, q="cluster", status="closed")
    # Then the first page has it
    assert ids(page["items"]) == [closed]


# ---------------------------------------------------------------- cursors


def test_a_cursor_is_bound_to_its_search_and_caller(aws, calls) -> None:
    # Given a cursor of acme's search
    seed("acme", [COMMON] * 3)
    seed("globex", [COMMON] * 3)
    cursor = search(calls, ACME_USER, q="cluster", limit="1")["next_cursor"]
    assert cursor
    # Then it continues that search
    assert list_tickets(ACME_USER, q="cluster", limit="1", cursor=cursor).status == 200
    # and is refused changed by one character, for other words, filters or org, or for the plain list
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert_problem(list_tickets(ACME_USER, q="cluster", limit="1", cursor=tampered), 400)
    assert_problem(list_tickets(ACME_USER, q="nodes", limit="1", cursor=cursor), 400)
    assert_problem(list_tickets(ACME_USER, q="cluster", status="open", limit="1", cursor=cursor), 400)
    assert_problem(list_tickets(GLOBEX_USER, q="cluster", limit="1", cursor=cursor), 400)
    assert_problem(list_tickets(SUPPORT, q="cluster", limit="1", cursor=cursor), 400)
    assert_problem(list_tickets(ACME_USER, limit="1", cursor=cursor), 400)
    # nor does a plain list's cursor continue a search
    plain = list_tickets(ACME_USER, limit="1").json()["next_cursor"]
    assert_problem(list_tickets(ACME_USER, q="cluster", limit="1", cursor=plain), 400)
