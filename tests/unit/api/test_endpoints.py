"""Every endpoint's happy path, driven by its sample event in events/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ACME_ADMIN, ACME_USER, GLOBEX_USER, SUPPORT, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    close,
    conversation,
    create,
    get,
    list_all,
    list_tickets,
    mark_reviewed,
    new_ticket,
    patch,
    reply,
)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# ---------------------------------------------------------------- create


def test_create_files_a_pending_ticket_with_location_and_queues_its_review(aws, sqs_messages) -> None:
    # Given the sample create event (a technical ticket about a cluster)
    # When acme's user sends it
    response = invoke("create_ticket", event("create_ticket"))
    # Then it is created: 201, a Location naming it, and the ticket as stored
    assert response.status == 201, response
    ticket = response.json()
    assert response.headers["location"] == f"/v1/tickets/{ticket['id']}"
    assert response.headers["content-type"] == "application/json"
    assert ticket["org_id"] == "acme"
    assert ticket["created_by"] == {"id": "u-acme-user", "email": "user@acme.test"}
    assert ticket["category"] == "technical"
    assert ticket["severity"] == "medium"
    assert ticket["status"] == "pending_review"
    assert ticket["waiting_on"] == "us"
    assert ticket["source"] == "api"
    assert ticket["properties"] == {"cluster_id": "60c72b2f9f1b2c001f8e4d3a"}
    assert ticket["subject"].startswith("Node provisioning is stuck in fra1")
    assert ticket["review"]["status"] == "pending"
    assert ticket["version"] == 1
    # and exactly one review job for it is on the queue
    assert sqs_messages() == [{"kind": "ticket", "org_id": "acme", "ticket_id": ticket["id"], "review_id": None}]
    # and it can be read back with its first message
    stored = conversation(ticket["id"])
    assert [m["body"] for m in stored["messages"]] == [
        "Node provisioning is stuck in fra1 since 14:00 UTC. No new nodes are coming up for pending workloads."
    ]


def test_create_accepts_description_as_alias_of_body_and_an_explicit_subject(aws) -> None:
    # When a ticket is filed with `description` and its own subject and severity
    response = create(category="billing", description="Invoice 42 is wrong.", subject="Invoice", severity="low")
    # Then they are kept
    assert response.status == 201, response
    ticket = response.json()
    assert (ticket["subject"], ticket["category"], ticket["severity"]) == ("Invoice", "billing", "low")
    assert conversation(ticket["id"])["messages"][0]["body"] == "Invoice 42 is wrong."


# ---------------------------------------------------------------- list


def test_list_is_newest_first_and_pages_through_every_ticket_once(aws) -> None:
    # Given 30 tickets of acme
    created = [new_ticket(body=f"Problem number {n}") for n in range(30)]
    # When acme's user pages through them 10 at a time
    first = list_tickets(limit="10")
    assert first.status == 200, first
    assert len(first.json()["items"]) == 10
    assert first.json()["next_cursor"]
    items = list_all(limit="10")
    # Then every ticket comes exactly once, newest first
    assert ids(items) == [ticket["id"] for ticket in reversed(created)]
    assert len(set(ids(items))) == 30


def test_the_sample_list_event_lists_open_tickets(aws) -> None:
    # Given one open and one pending ticket
    opened, pending = new_ticket(), new_ticket()
    mark_reviewed(opened)
    # When the sample list event (status=open, limit=25) is sent
    response = invoke("list_tickets", event("list_tickets"))
    # Then only the open one is listed
    assert response.status == 200, response
    assert ids(response.json()["items"]) == [opened["id"]]
    assert pending["id"] not in ids(response.json()["items"])
    assert response.json()["next_cursor"] is None


@pytest.fixture
def catalogue(aws) -> dict[str, dict[str, Any]]:
    """Tickets of acme in several statuses, categories, severities and clusters (and one of globex)."""
    tickets = {
        "pending": new_ticket(body="Pods crash in payments", category="bug", severity="high"),
        "open": new_ticket(body="Invoice looks wrong", category="billing", properties={"cluster_id": "c-1"}),
        "triaging": new_ticket(body="Cluster upgrade stuck", properties={"cluster_id": "c-2"}),
        "closed": new_ticket(body="Old payments question", category="general", severity="low"),
        "globex": new_ticket(GLOBEX_USER, body="Payments crash at globex", category="bug", severity="high"),
    }
    mark_reviewed(tickets["open"])
    mark_reviewed(tickets["triaging"])
    assert patch(tickets["triaging"]["id"], {"status": "triaging"}, SUPPORT).status == 200
    assert close(tickets["closed"]["id"]).status == 200
    return tickets


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["closed", "triaging", "open", "pending"]),
        ({"status": "open"}, ["open"]),
        ({"status": "triaging"}, ["triaging"]),
        ({"status": "open,closed"}, ["closed", "open"]),
        ({"status": "pending_review,triaging,open"}, ["triaging", "open", "pending"]),
        ({"category": "bug"}, ["pending"]),
        ({"severity": "low"}, ["closed"]),
        ({"severity": "medium"}, ["triaging", "open"]),
        ({"cluster_id": "c-2"}, ["triaging"]),
        ({"cluster_id": "c-1", "status": "open"}, ["open"]),
        ({"cluster_id": "nope"}, []),
        ({"q": "payments"}, ["closed", "pending"]),
        ({"q": "PAYMENTS crash"}, ["pending"]),
        ({"q": "invoice", "category": "billing"}, ["open"]),
    ],
)
def test_list_filters(catalogue, query: dict[str, str], expected: list[str]) -> None:
    # Given the catalogue of tickets
    # When acme's user lists with a filter
    items = list_all(**query)
    # Then exactly the matching tickets of acme come back, newest first
    assert ids(items) == [catalogue[name]["id"] for name in expected]


def test_support_sees_every_org_and_may_filter_by_org(catalogue) -> None:
    # When support lists without a filter
    everything = ids(list_all(SUPPORT))
    # Then every org's tickets are there, newest first
    assert everything == [catalogue[name]["id"] for name in ("globex", "closed", "triaging", "open", "pending")]
    # and filtering by org, status or words works across the queue
    assert ids(list_all(SUPPORT, org_id="globex")) == [catalogue["globex"]["id"]]
    assert ids(list_all(SUPPORT, org_id="acme", status="open")) == [catalogue["open"]["id"]]
    assert ids(list_all(SUPPORT, status="pending_review")) == [catalogue["globex"]["id"], catalogue["pending"]["id"]]
    assert ids(list_all(SUPPORT, q="payments", category="bug")) == [
        catalogue["globex"]["id"],
        catalogue["pending"]["id"],
    ]


@pytest.mark.parametrize("claims", [ACME_USER, ACME_ADMIN, GLOBEX_USER])
def test_customers_may_not_filter_by_org(aws, claims: dict[str, Any]) -> None:
    # When a customer asks for an org's tickets by org_id (even their own)
    response = list_tickets(claims, org_id="acme")
    # Then it is forbidden
    assert_problem(response, 403)


# ---------------------------------------------------------------- get


def test_get_returns_the_conversation_with_an_etag_of_its_version(aws) -> None:
    # Given a ticket that has had a reply (version 2)
    ticket = new_ticket()
    assert reply(ticket["id"], "More detail", SUPPORT).status == 201
    # When the sample get event is sent for it
    response = invoke("get_ticket", event("get_ticket", path={"ticket_id": ticket["id"]}))
    # Then the whole conversation comes with an ETag equal to its version
    assert response.status == 200, response
    body = response.json()
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert [m["author"]["kind"] for m in body["messages"]] == ["user", "support", "system"]  # + its status move
    assert body["attachments"] == []


def test_get_an_unknown_ticket_is_not_found(aws) -> None:
    # Given no ticket at all
    # When the sample ticket id is asked for
    response = get("01JDQ4Z9X2V7N8K3M5P6R7S8T9")
    # Then it is a 404 problem
    assert_problem(response, 404)


# ---------------------------------------------------------------- patch


def test_patch_with_the_sample_event_changes_severity_and_bumps_the_version(aws) -> None:
    # Given a fresh ticket (version 1, so the sample's If-Match "1" is current)
    ticket = new_ticket()
    # When the sample update event is sent for it
    response = invoke("update_ticket", event("update_ticket", path={"ticket_id": ticket["id"]}))
    # Then the severity is changed, and the response carries the new version as ETag
    assert response.status == 200, response
    assert response.json()["severity"] == "high"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert conversation(ticket["id"])["severity"] == "high"


def test_patch_subject_and_category(aws) -> None:
    # Given a ticket
    ticket = new_ticket()
    # When its owner changes subject (with stray spaces) and category at once
    response = patch(ticket["id"], {"subject": "  Nodes stuck  ", "category": "bug"})
    # Then both are stored, the subject trimmed
    assert response.status == 200, response
    stored = conversation(ticket["id"])
    assert (stored["subject"], stored["category"]) == ("Nodes stuck", "bug")


# ---------------------------------------------------------------- reply


@pytest.mark.parametrize("route_path", ["/v1/tickets/{ticket_id}/messages", "/v1/tickets/{ticket_id}/comments"])
def test_reply_and_its_comments_alias(aws, route_path: str) -> None:
    # Given a ticket
    ticket = new_ticket()
    # When its owner replies with the sample reply event (on /messages or the /comments alias)
    sample = event("reply_ticket", path={"ticket_id": ticket["id"]}, method="POST", route_path=route_path)
    assert sample["rawPath"] == route_path.replace("{ticket_id}", ticket["id"])
    response = invoke("reply_ticket", sample)
    # Then the message is created and appended to the conversation
    assert response.status == 201, response
    message = response.json()
    assert message["author"] == {"id": "u-acme-user", "email": "user@acme.test", "kind": "user"}
    assert message["internal"] is False
    assert response.headers["location"] == f"/v1/tickets/{ticket['id']}"
    stored = conversation(ticket["id"])
    assert [m["id"] for m in stored["messages"]][-1] == message["id"]
    assert stored["messages"][-1]["body"] == "Confirmed, the issue stopped after the fix was deployed. Thanks."
    assert stored["version"] == 2
    assert stored["last_activity_at"] == message["created_at"]


# ---------------------------------------------------------------- close


@pytest.mark.parametrize(
    ("method", "route_path"), [("POST", "/v1/tickets/{ticket_id}/close"), ("DELETE", "/v1/tickets/{ticket_id}")]
)
def test_close_and_its_delete_alias(aws, method: str, route_path: str) -> None:
    # Given a ticket
    ticket = new_ticket()
    # When its org's admin closes it (POST .../close or DELETE)
    sample = event(
        "close_ticket", claims=ACME_ADMIN, path={"ticket_id": ticket["id"]}, method=method, route_path=route_path
    )
    response = invoke("close_ticket", sample)
    # Then it is closed, waits on nobody, and a system message says who closed it
    assert response.status == 200, response
    assert response.json()["id"] == ticket["id"]
    assert response.json()["status"] == "closed"
    stored = conversation(ticket["id"])
    assert stored["status"] == "closed"
    assert stored["waiting_on"] is None
    last = stored["messages"][-1]
    assert last["author"]["kind"] == "system"
    assert "admin@acme.test" in last["body"]
    assert last["created_at"] == response.json()["closed_at"]


# ---------------------------------------------------------------- me


def test_me_defaults_to_notifications_on_and_persists_turning_them_off(aws) -> None:
    # When acme's user asks who they are
    me = invoke("get_me", event("get_me"))
    # Then they get their identity, with email notifications on by default
    assert me.status == 200, me
    assert me.json() == {
        "id": "u-acme-user",
        "email": "user@acme.test",
        "org_id": "acme",
        "roles": ["member"],
        "email_notifications": True,
    }
    # When they send the sample update (email_notifications: false)
    updated = invoke("update_me", event("update_me"))
    # Then it is off, and stays off when read again
    assert updated.status == 200, updated
    assert updated.json()["email_notifications"] is False
    assert invoke("get_me", event("get_me")).json()["email_notifications"] is False
    # and nobody else's preference moved
    assert invoke("get_me", event("get_me", claims=ACME_ADMIN)).json()["email_notifications"] is True
    # and a later ticket by the same user keeps the preference
    new_ticket()
    assert invoke("get_me", event("get_me")).json()["email_notifications"] is False
    # and it can be turned back on
    back = invoke("update_me", event("update_me", body={"email_notifications": True}))
    assert back.json()["email_notifications"] is True
    assert invoke("get_me", event("get_me")).json()["email_notifications"] is True
