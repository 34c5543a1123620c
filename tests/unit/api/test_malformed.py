"""Bad input is a 4xx problem+json, never a 5xx, and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from helpdesk.api.http import MAX_JSON_BYTES
from tests.support import ACME_USER, Response, event, invoke
from tests.unit.api.helpers import (
    assert_problem,
    conversation,
    idempotency_records,
    list_tickets,
    new_ticket,
    patch,
    patch_event,
    table_items,
)

VALID = {
    "create_ticket": {"category": "technical", "body": "Nodes are stuck."},
    "update_ticket": {"severity": "high"},
    "reply_ticket": {"body": "More detail."},
    "update_me": {"email_notifications": False},
}
WRITES = list(VALID)


def sample(name: str, ticket_id: str, **changes: Any) -> dict[str, Any]:
    """The endpoint's sample event for `ticket_id` (its If-Match dropped), adjusted."""
    if name == "update_ticket":
        return patch_event(ticket_id, **changes)
    path = {"ticket_id": ticket_id} if name in ("reply_ticket", "close_ticket", "get_ticket") else None
    return event(name, path=path, **changes)


def with_raw(name: str, ticket_id: str, raw: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    sent = sample(name, ticket_id, raw_body=raw)
    sent["isBase64Encoded"] = base64_encoded
    return sent


@pytest.fixture
def ticket(aws) -> dict[str, Any]:
    return new_ticket()


def refused(response: Response, status: int | tuple[int, ...], before: list[dict[str, Any]]) -> None:
    """A 4xx problem with the expected status; the table holds what it held before."""
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status in expected, response
    assert_problem(response, response.status)
    assert table_items() == before
    assert idempotency_records() == []


# ---------------------------------------------------------------- bodies of every write endpoint

BODY_CASES: dict[str, tuple[Callable[[str], str], int | tuple[int, ...]]] = {
    "bad json": (lambda name: '{"body": "unterminated', 400),
    "truncated json": (lambda name: json.dumps(VALID[name])[:-1], 400),
    "trailing garbage": (lambda name: json.dumps(VALID[name]) + " x", 400),
    "json array": (lambda name: json.dumps([VALID[name]]), 422),
    "json number": (lambda name: "5", 422),
    "json string": (lambda name: '"hello"', 422),
    "json null": (lambda name: "null", 422),
    "empty object": (lambda name: "{}", 422),
    "empty body": (lambda name: "", 400),
    "whitespace body": (lambda name: "  \n ", 400),
    "deep nesting": (lambda name: "[" * 100_000 + "]" * 100_000, (400, 422)),
    "unknown field": (lambda name: json.dumps(VALID[name] | {"org_id": "globex"}), 422),
    "unknown field version": (lambda name: json.dumps(VALID[name] | {"version": 99}), 422),
    "raw body over the cap": (lambda name: json.dumps(VALID[name] | {"pad": "x" * MAX_JSON_BYTES}), 413),
}


@pytest.mark.parametrize("case", BODY_CASES)
@pytest.mark.parametrize("name", WRITES)
def test_malformed_bodies_are_refused(ticket, name: str, case: str) -> None:
    # Given the table as it is
    before = table_items()
    make, status = BODY_CASES[case]
    # When a write endpoint gets a malformed body
    response = invoke(name, with_raw(name, ticket["id"], make(name)))
    # Then it is the expected 4xx problem, and nothing was written
    refused(response, status, before)


WRONG_TYPES: list[tuple[str, dict[str, Any]]] = [
    ("create_ticket", {"category": 5, "body": "x"}),
    ("create_ticket", {"category": "technical", "body": 5}),
    ("create_ticket", {"category": "technical", "body": ["x"]}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {"cluster_id": 5}}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {"cluster_id": None}}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": ["cluster_id"]}),
    ("create_ticket", {"category": "technical", "body": "x", "subject": 7}),
    ("create_ticket", {"category": "technical", "body": "x", "severity": True}),
    ("create_ticket", {"category": "technical", "body": "x", "source": 1}),
    ("reply_ticket", {"body": "x", "internal": "yes"}),
    ("reply_ticket", {"body": "x", "internal": 1}),
    ("reply_ticket", {"body": None}),
    ("reply_ticket", {"body": {"text": "x"}}),
    ("update_ticket", {"severity": 3}),
    ("update_ticket", {"subject": ["x"]}),
    ("update_ticket", {"category": None}),
    ("update_ticket", {"subject": None}),
    ("update_me", {"email_notifications": "false"}),
    ("update_me", {"email_notifications": 0}),
    ("update_me", {"email_notifications": None}),
]


@pytest.mark.parametrize(("name", "body"), WRONG_TYPES, ids=[f"{n}-{json.dumps(b)}" for n, b in WRONG_TYPES])
def test_wrong_types_are_422(ticket, name: str, body: dict[str, Any]) -> None:
    before = table_items()
    # When a field has the wrong type (no coercion: "yes" is not a boolean, 5 not a category)
    response = invoke(name, sample(name, ticket["id"], body=body))
    # Then it is 422, naming the field
    refused(response, 422, before)
    assert response.json()["errors"], response


UNKNOWN_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("create_ticket", VALID["create_ticket"] | {"status": "open"}),
    ("create_ticket", VALID["create_ticket"] | {"org_id": "globex"}),
    ("create_ticket", VALID["create_ticket"] | {"created_by": {"id": "someone-else"}}),
    ("create_ticket", VALID["create_ticket"] | {"review": {"status": "completed"}}),
    ("update_ticket", {"severity": "high", "org_id": "globex"}),
    ("update_ticket", {"version": 9}),
    ("update_ticket", {"waiting_on": "user"}),
    ("update_ticket", {"properties": {"cluster_id": "c-1"}}),
    ("reply_ticket", {"body": "x", "author": {"id": "u-support", "kind": "support"}}),
    ("reply_ticket", {"body": "x", "created_at": "2020-01-01T00:00:00Z"}),
    ("update_me", {"email_notifications": True, "roles": ["support"]}),
    ("update_me", {"email_notifications": True, "org_id": "globex"}),
]


@pytest.mark.parametrize(("name", "body"), UNKNOWN_FIELDS, ids=[f"{n}-{json.dumps(b)}" for n, b in UNKNOWN_FIELDS])
def test_unknown_fields_are_422_not_mass_assigned(ticket, name: str, body: dict[str, Any]) -> None:
    before = table_items()
    # When a body carries a field the endpoint does not take (org, status, author, version, ...)
    response = invoke(name, sample(name, ticket["id"], body=body))
    # Then it is 422 naming the field, and nothing is assigned
    refused(response, 422, before)
    unknown = set(body) - set(VALID[name]) - {"body", "category", "severity"}
    assert {error["field"].split(".")[0] for error in response.json()["errors"]} >= unknown


BAD_VALUES: list[tuple[str, dict[str, Any]]] = [
    ("create_ticket", {"category": "urgent", "body": "x"}),
    ("create_ticket", {"category": "technical", "body": "x", "severity": "blocker"}),
    ("create_ticket", {"category": "technical", "body": "x", "source": "email"}),
    ("create_ticket", {"category": "Technical", "body": "x"}),
    ("create_ticket", {"category": "technical", "body": "x" * 50_001}),
    ("create_ticket", {"category": "technical", "description": "x" * 50_001}),
    ("create_ticket", {"category": "technical", "body": ""}),
    ("create_ticket", {"category": "technical"}),
    ("create_ticket", {"body": "x"}),
    ("create_ticket", {"category": "technical", "body": "x", "subject": "s" * 201}),
    ("create_ticket", {"category": "technical", "body": "x", "subject": "Help\r\nBcc: evil@x.test"}),
    ("create_ticket", {"category": "technical", "body": "x", "subject": "   "}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {f"k{n}": "v" for n in range(21)}}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {"bad key": "v"}}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {"": "v"}}),
    ("create_ticket", {"category": "technical", "body": "x", "properties": {"k": "v" * 1025}}),
    ("reply_ticket", {"body": "x" * 50_001}),
    ("reply_ticket", {"body": ""}),
    ("reply_ticket", {"internal": True}),
    ("update_ticket", {"severity": "blocker"}),
    ("update_ticket", {"status": "reopened"}),
    ("update_ticket", {"category": "urgent"}),
    ("update_ticket", {"subject": "s" * 201}),
    ("update_ticket", {"subject": ""}),
    ("update_ticket", {"subject": "a\x00b"}),
]


@pytest.mark.parametrize(
    ("name", "body"), BAD_VALUES, ids=[f"{n}-{json.dumps(b)[:60]}" for n, b in BAD_VALUES]
)  # fmt: skip
def test_bad_values_are_422(ticket, name: str, body: dict[str, Any]) -> None:
    before = table_items()
    # When a field has a value out of its enum, length or shape
    response = invoke(name, sample(name, ticket["id"], body=body))
    # Then it is 422 with field errors, and nothing is written
    refused(response, 422, before)
    assert response.json()["errors"], response


def _longest(name: str, char: str) -> dict[str, Any]:
    text = char * 50_000
    return {"category": "technical", "body": text} if name == "create_ticket" else {"body": text}


@pytest.mark.parametrize("char", ["x", "é", "😀"])
@pytest.mark.parametrize("name", ["create_ticket", "reply_ticket"])
def test_a_body_of_exactly_50000_characters_is_accepted(ticket, name: str, char: str) -> None:
    # When a body of exactly 50,000 characters (ASCII, or non-ASCII sent as UTF-8) is sent
    raw = json.dumps(_longest(name, char), ensure_ascii=False)
    response = invoke(name, with_raw(name, ticket["id"], raw))
    # Then it is accepted, whole
    assert response.status == 201, response
    ticket_id = ticket["id"] if name == "reply_ticket" else response.json()["id"]
    assert conversation(ticket_id)["messages"][-1]["body"] == char * 50_000


@pytest.mark.parametrize("name", ["create_ticket", "reply_ticket"])
def test_a_body_of_50000_escaped_non_ascii_characters_is_accepted(ticket, name: str) -> None:
    # When 50,000 non-ASCII characters are sent \u-escaped (json.dumps' default, as the CLI sends them)
    raw = json.dumps(_longest(name, "é"))
    assert len(raw) > 256 * 1024
    response = invoke(name, with_raw(name, ticket["id"], raw))
    # Then they are accepted: the limit is in characters
    assert response.status == 201, response


@pytest.mark.parametrize("name", ["create_ticket", "reply_ticket"])
def test_a_body_of_50000_escaped_emoji_is_accepted(ticket, name: str) -> None:
    # When 50,000 emoji are sent \u-escaped (12 bytes each)
    raw = json.dumps(_longest(name, "😀"))
    response = invoke(name, with_raw(name, ticket["id"], raw))
    # Then they are accepted: the limit is in characters
    assert response.status == 201, response


def test_control_characters_of_a_body_do_not_reach_its_derived_subject_or_summary(aws) -> None:
    # Given a body whose first line carries terminal escapes, a bell and a NUL (and no subject)
    body = "\x1b[2J\x1b[31mFAKE\x07 alert\x00 here\tnow\nsecond line"
    # When it is filed
    ticket = new_ticket(body=body)
    # Then the subject and summary derived from it hold no control characters (a subject sent as input
    # with them is refused; a derived one must not carry them into lists, mail and terminals)
    assert ticket["subject"] == "[2J[31mFAKE alert here now"
    assert ticket["summary"] == "[2J[31mFAKE alert here now second line"
    # and the subject is one the API accepts back
    assert patch(ticket["id"], {"subject": ticket["subject"]}).status == 200
    # while the message keeps the body as written
    assert conversation(ticket["id"])["messages"][0]["body"] == body


def test_twenty_properties_are_accepted(aws) -> None:
    # When a ticket is filed with the most properties allowed
    properties = {f"k{n}": "v" for n in range(20)}
    ticket = new_ticket(properties=properties)
    # Then they are all kept
    assert ticket["properties"] == properties


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/mixed"]
)
@pytest.mark.parametrize("name", WRITES)
def test_a_wrong_content_type_is_415(ticket, name: str, content_type: str) -> None:
    before = table_items()
    # When a valid JSON body is sent under another content type
    sent = sample(name, ticket["id"], body=VALID[name], headers={"Content-Type": content_type})
    # Then the media type is refused
    refused(invoke(name, sent), 415, before)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_types_with_parameters_are_accepted(ticket, content_type: str) -> None:
    # When JSON is sent with a charset parameter, or in another letter case
    sent = sample("reply_ticket", ticket["id"], body={"body": "x"}, headers={"Content-Type": content_type})
    # Then it is JSON all the same
    assert invoke("reply_ticket", sent).status == 201


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize(
    "raw", ["not base64!", base64.b64encode(b"\xff\xfe\x00{").decode()], ids=["not-base64", "not-utf8"]
)
def test_a_bad_base64_or_non_utf8_body_is_400(ticket, name: str, raw: str) -> None:
    before = table_items()
    # When the body is flagged base64 but is not, or decodes to bytes that are not UTF-8
    response = invoke(name, with_raw(name, ticket["id"], raw, base64_encoded=True))
    # Then it is a client error, and nothing is written
    refused(response, (400, 422), before)


# ---------------------------------------------------------------- the list's query string


def cursor_of(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


KEY = {"pk": "TICKET#01M8", "sk": "TICKET", "gsi1pk": "ORG#acme", "gsi1sk": "01M8"}  # a ByOrg start key
STATUS_KEY = {"pk": "TICKET#01M8", "sk": "TICKET", "gsi1pk": "ORG#acme", "gsi2sk": "closed#01M8"}
LIST_CASES: dict[str, tuple[dict[str, str], int]] = {
    "garbage cursor": ({"cursor": "%%%not-a-cursor%%%"}, 400),
    "base64 of garbage": ({"cursor": base64.urlsafe_b64encode(b"\x00\x01garbage").decode()}, 400),
    "base64 of garbage json": ({"cursor": base64.urlsafe_b64encode(b'{"i": ').decode()}, 400),
    "base64 of a json list": ({"cursor": cursor_of([1, 2, 3])}, 400),
    "base64 of a json number": ({"cursor": cursor_of(5)}, 400),
    "cursor without key": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme"})}, 400),
    "cursor with a bad key": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": {"pk": 5}})}, 400),
    "cursor with a list key": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": ["pk"]})}, 400),
    "cursor of another index": (
        {"cursor": cursor_of({"i": "Queue", "p": "ORG#acme", "k": {"pk": "TICKET#x", "sk": "TICKET"}})},
        400,
    ),
    "cursor of another org": (
        {"cursor": cursor_of({"i": "ByOrg", "p": "ORG#globex", "k": {"pk": "TICKET#x", "sk": "TICKET"}})},
        400,
    ),
    "cursor of the support queue": (
        {"cursor": cursor_of({"i": "Queue", "p": "TICKETS", "k": {"pk": "TICKET#x", "sk": "TICKET"}})},
        400,
    ),
    "cursor without the index's keys": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": {"pk": "x"}})}, 400),
    "cursor with an empty key": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": {}})}, 400),
    "cursor with an empty key value": (
        {"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": KEY | {"sk": ""}})},
        400,
    ),
    "cursor with an extra key": ({"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": KEY | {"x": "1"}})}, 400),
    "cursor key in another partition": (
        {"cursor": cursor_of({"i": "ByOrg", "p": "ORG#acme", "k": KEY | {"gsi1pk": "ORG#globex"}})},
        400,
    ),
    "cursor key outside the status": (
        {"status": "open", "cursor": cursor_of({"i": "ByOrgStatus", "p": "ORG#acme|open#", "k": STATUS_KEY})},
        400,
    ),
    "cursor too long": ({"cursor": "a" * 3000}, 422),
    "bad status": ({"status": "bogus"}, 422),
    "bad status in a list": ({"status": "open,bogus"}, 422),
    "too many statuses": ({"status": ",".join(["open"] * 8)}, 422),
    "bad category": ({"category": "urgent"}, 422),
    "bad severity": ({"severity": "blocker"}, 422),
    "limit 0": ({"limit": "0"}, 422),
    "limit 101": ({"limit": "101"}, 422),
    "limit abc": ({"limit": "abc"}, 422),
    "limit -1": ({"limit": "-1"}, 422),
    "limit 1.5": ({"limit": "1.5"}, 422),
    "empty q": ({"q": ""}, 422),
    "q too long": ({"q": "x" * 201}, 422),
    "cluster_id too long": ({"cluster_id": "c" * 129}, 422),
    "unknown parameter": ({"page": "2"}, 422),
    "unknown parameter sort": ({"sort": "created_at"}, 422),
}


@pytest.mark.parametrize("case", LIST_CASES)
def test_a_bad_list_query_is_a_4xx_problem(ticket, case: str) -> None:
    before = table_items()
    query, status = LIST_CASES[case]
    # When the list is asked with a bad query string
    response = list_tickets(ACME_USER, **query)
    # Then it is the expected 4xx problem, and nothing is written
    refused(response, status, before)


def test_every_single_byte_change_of_a_cursor_is_400(ticket) -> None:
    # Given a cursor the API issued
    new_ticket()
    cursor = list_tickets(ACME_USER, limit="1").json()["next_cursor"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    # When any one of its characters is changed (to each of a few others)
    for position in range(len(cursor)):
        for replacement in {alphabet[(alphabet.index(cursor[position]) + step) % len(alphabet)] for step in (1, 7, 30)}:
            tampered = cursor[:position] + replacement + cursor[position + 1 :]
            # Then the list refuses it
            assert list_tickets(ACME_USER, limit="1", cursor=tampered).status == 400, tampered
    assert list_tickets(ACME_USER, limit="1", cursor=cursor).status == 200


def test_a_cursor_signed_with_another_key_is_400(ticket, monkeypatch) -> None:
    from helpdesk.api import cursor
    from helpdesk.domain.identity import Caller
    from helpdesk.settings import settings
    from helpdesk.store.tickets import TicketQuery
    from helpdesk.tickets import listing

    # Given the start key of a real cursor, and what acme's unfiltered list binds its cursors to
    new_ticket()
    real = list_tickets(ACME_USER, limit="1").json()["next_cursor"]
    key = json.loads(base64.urlsafe_b64decode(real.split(".")[0] + "=="))
    caller = Caller(user_id="u-acme-user", email="user@acme.test", org_id="acme", roles=frozenset({"member"}))
    binding = listing._binding(caller, TicketQuery(org_id="acme", limit=1))
    # Then signed with the API's key it is taken, and signed with any other key it is refused
    assert cursor.encode(key, binding) == real
    monkeypatch.setattr(cursor, "settings", lambda: settings().model_copy(update={"cursor_key": "another key"}))
    forged = cursor.encode(key, binding)
    monkeypatch.undo()
    assert_problem(list_tickets(ACME_USER, limit="1", cursor=forged), 400)


def test_a_cursor_of_a_list_with_other_filters_is_400(ticket) -> None:
    # Given a cursor of the unfiltered list
    new_ticket()
    page = list_tickets(ACME_USER, limit="1").json()
    assert page["next_cursor"]
    # When it is replayed with a status filter
    response = list_tickets(ACME_USER, limit="1", status="open", cursor=page["next_cursor"])
    # Then it is refused as belonging to another list
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("get_ticket", {"expand": "all"}),
        ("get_me", {"x": "1"}),
        ("create_ticket", {"dry_run": "true"}),
        ("reply_ticket", {"notify": "false"}),
        ("close_ticket", {"force": "true"}),
        ("update_me", {"x": "1"}),
    ],
)
def test_unknown_query_parameters_elsewhere_are_422(ticket, name: str, query: dict[str, str]) -> None:
    before = table_items()
    # When an endpoint that takes no query string gets one
    response = invoke(name, sample(name, ticket["id"], query=query))
    # Then it is 422, and nothing is written
    refused(response, 422, before)


# ---------------------------------------------------------------- identity

ENDPOINTS = [
    "create_ticket",
    "list_tickets",
    "get_ticket",
    "update_ticket",
    "reply_ticket",
    "close_ticket",
    "get_me",
    "update_me",
]


def _without(*names: str) -> dict[str, Any]:
    return {key: value for key, value in ACME_USER.items() if key not in names}


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize(
    ("claims", "status"),
    [
        (_without("sub"), 401),
        ({"sub": ""}, 401),
        ({}, 401),
        (None, 401),  # no authorizer context at all
        (_without("org_id"), 403),
        (ACME_USER | {"org_id": ""}, 403),
        (ACME_USER | {"org_id": "acme#x"}, 403),
    ],
    ids=["no-sub", "empty-sub", "no-claims", "no-authorizer", "no-org", "empty-org", "org-with-separator"],
)
def test_a_caller_without_identity_or_org_is_refused(ticket, name: str, claims: Any, status: int) -> None:
    # Given a valid request of each endpoint, and the table as it is
    sent = sample(name, ticket["id"])
    if claims is None:
        del sent["requestContext"]["authorizer"]
    else:
        sent["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    before = table_items()
    # When it arrives without a user (sub) or without an org
    response = invoke(name, sent)
    # Then it is 401 / 403, and nothing was written
    refused(response, status, before)
    assert conversation(ticket["id"])["status"] == "pending_review"


@pytest.mark.parametrize("name", ["create_ticket", "update_ticket", "reply_ticket", "close_ticket", "update_me"])
def test_a_caller_without_identity_is_refused_even_with_an_idempotency_key(ticket, name: str) -> None:
    sent = sample(name, ticket["id"], claims=_without("sub"), headers={"Idempotency-Key": "k-1"})
    before = table_items()
    # When a write without a user carries an Idempotency-Key
    response = invoke(name, sent)
    # Then it is 401, and no idempotency record is kept either
    refused(response, 401, before)
