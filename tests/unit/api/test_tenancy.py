"""Tenancy: another org's ticket is 404 and untouched; lists and cursors stay in the caller's org;
internal notes are for support only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, Response, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    conversation,
    list_all,
    list_tickets,
    new_ticket,
    patch_event,
    table_items,
)


def _get(ticket_id: str) -> Response:
    return invoke("get_ticket", event("get_ticket", claims=GLOBEX_USER, path={"ticket_id": ticket_id}))


def _patch(ticket_id: str) -> Response:
    return invoke("update_ticket", patch_event(ticket_id, {"severity": "critical"}, GLOBEX_USER))


def _patch_stale(ticket_id: str) -> Response:
    # a stale If-Match must not tell another org that the ticket exists (404, not 412)
    return invoke("update_ticket", patch_event(ticket_id, {"severity": "critical"}, GLOBEX_USER, if_match='"7"'))


def _reply(ticket_id: str) -> Response:
    return invoke("reply_ticket", event("reply_ticket", claims=GLOBEX_USER, path={"ticket_id": ticket_id}))


def _comment(ticket_id: str) -> Response:
    sample = event(
        "reply_ticket",
        claims=GLOBEX_USER,
        path={"ticket_id": ticket_id},
        method="POST",
        route_path="/v1/tickets/{ticket_id}/comments",
    )
    return invoke("reply_ticket", sample)


def _close(ticket_id: str) -> Response:
    return invoke("close_ticket", event("close_ticket", claims=GLOBEX_USER, path={"ticket_id": ticket_id}))


def _delete(ticket_id: str) -> Response:
    sample = event(
        "close_ticket",
        claims=GLOBEX_USER,
        path={"ticket_id": ticket_id},
        method="DELETE",
        route_path="/v1/tickets/{ticket_id}",
    )
    return invoke("close_ticket", sample)


FOREIGN_CALLS: dict[str, Callable[[str], Response]] = {
    "get": _get,
    "patch": _patch,
    "patch_stale_if_match": _patch_stale,
    "reply": _reply,
    "comment": _comment,
    "close": _close,
    "delete": _delete,
}


@pytest.mark.parametrize("call", FOREIGN_CALLS.values(), ids=FOREIGN_CALLS.keys())
def test_another_orgs_ticket_is_not_found_and_untouched(aws, call: Callable[[str], Response]) -> None:
    # Given a ticket of acme, as its owner sees it, and the whole table
    ticket = new_ticket()
    before = conversation(ticket["id"])
    items_before = table_items()
    # When globex's user calls the endpoint with that ticket's id
    response = call(ticket["id"])
    # Then it is a 404 problem that tells nothing of the ticket
    problem = assert_problem(response, 404)
    assert ticket["subject"] not in response.text
    assert "acme" not in response.text
    assert problem["detail"] == f"Ticket {ticket['id']} was not found."
    # and nothing changed: the owner sees the same ticket, and the table holds the same items
    assert conversation(ticket["id"]) == before
    assert table_items() == items_before


@pytest.mark.parametrize("call", FOREIGN_CALLS.values(), ids=FOREIGN_CALLS.keys())
def test_an_unknown_ticket_is_answered_like_another_orgs(aws, call: Callable[[str], Response]) -> None:
    # Given nothing: the id is of no ticket at all
    items_before = table_items()
    # When globex calls with it
    problem = assert_problem(call("01JDQ4Z9X2V7N8K3M5P6R7S8T9"), 404)
    # Then the answer is the same as for another org's ticket, and nothing is created
    assert problem["detail"] == "Ticket 01JDQ4Z9X2V7N8K3M5P6R7S8T9 was not found."
    assert table_items() == items_before


def test_a_list_never_shows_another_orgs_tickets(aws) -> None:
    # Given tickets of both orgs, interleaved in time
    acme, globex = [], []
    for n in range(6):
        acme.append(new_ticket(ACME_USER, body=f"acme problem {n} shared words")["id"])
        globex.append(new_ticket(GLOBEX_USER, body=f"globex problem {n} shared words")["id"])
    # When each org lists, with or without filters (and in small pages)
    for claims, own in ((ACME_USER, acme), (ACME_ADMIN, acme), (GLOBEX_USER, globex)):
        for query in (
            {},
            {"limit": "2"},
            {"q": "shared words"},
            {"status": "pending_review"},
            {"category": "technical"},
        ):
            listed = [item["id"] for item in list_all(claims, **query)]
            # Then each sees exactly its own
            assert listed == list(reversed(own)), (claims["org_id"], query)
            assert {item["org_id"] for item in list_all(claims, **query)} == {claims["org_id"]}


@pytest.mark.parametrize("query", [{}, {"status": "pending_review"}, {"status": "pending_review,open"}, {"q": "slow"}])
def test_a_cursor_minted_for_acme_is_refused_for_globex(aws, query: dict[str, str]) -> None:
    # Given a cursor from acme's first page
    for n in range(3):
        new_ticket(ACME_USER, body=f"slow disk {n}")
        new_ticket(GLOBEX_USER, body=f"slow disk {n}")
    page = list_tickets(ACME_USER, limit="1", **query).json()
    assert page["next_cursor"]
    # When globex replays it with the same query
    response = list_tickets(GLOBEX_USER, limit="1", cursor=page["next_cursor"], **query)
    # Then it is refused (not issued to globex), and shows none of acme's tickets
    assert_problem(response, 400)
    assert "acme" not in response.text
    # while acme itself can use it
    assert list_tickets(ACME_USER, limit="1", cursor=page["next_cursor"], **query).status == 200


def test_internal_notes_are_visible_to_support_only(aws) -> None:
    # Given a ticket with a public support reply and an internal note
    ticket = new_ticket()
    public = invoke(
        "reply_ticket",
        event("reply_ticket", claims=SUPPORT, path={"ticket_id": ticket["id"]}, body={"body": "We are on it."}),
    )
    note = invoke(
        "reply_ticket",
        event(
            "reply_ticket",
            claims=SUPPORT,
            path={"ticket_id": ticket["id"]},
            body={"body": "SECRET: customer misconfigured the VPC", "internal": True},
        ),
    )
    assert public.status == 201, public
    assert note.status == 201, note
    assert note.json()["internal"] is True
    # When the org's members read it
    for claims in (ACME_USER, ACME_ADMIN):
        seen = conversation(ticket["id"], claims)
        # Then the note is not there, nor any trace of its text
        assert [m["id"] for m in seen["messages"]] == [ticket["id"], public.json()["id"]]
        assert all(m["internal"] is False for m in seen["messages"])
        assert "SECRET" not in str(seen)
    # nor does it appear in a list (summary, subject)
    assert "SECRET" not in list_tickets(ACME_USER).text
    assert list_all(ACME_USER, q="secret") == []
    # When support reads it
    seen = conversation(ticket["id"], SUPPORT)
    # Then the note is there, marked internal
    assert [m["id"] for m in seen["messages"]] == [ticket["id"], public.json()["id"], note.json()["id"]]
    assert seen["messages"][-1]["internal"] is True
    assert seen["messages"][-1]["body"] == "SECRET: customer misconfigured the VPC"


def test_support_may_act_on_any_orgs_ticket(aws) -> None:
    # Given tickets of two orgs
    acme, globex = new_ticket(ACME_USER), new_ticket(GLOBEX_USER)
    # When support reads and replies to each
    for ticket in (acme, globex):
        assert conversation(ticket["id"], SUPPORT)["org_id"] == ticket["org_id"]
        sample = event("reply_ticket", claims=SUPPORT, path={"ticket_id": ticket["id"]})
        # Then it works, and the owners see the reply
        assert invoke("reply_ticket", sample).status == 201
    assert conversation(acme["id"], ACME_USER)["status"] == "waiting_customer"
    assert conversation(globex["id"], GLOBEX_USER)["status"] == "waiting_customer"
