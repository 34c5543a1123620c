"""Claims are read strictly (SPEC §2): the org claim is a string of the allowed shape, or the request
is refused with 403 and nothing is read or written; roles grant support and admin only by their exact
names, which the template's parameters choose."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ACME_USER, event, invoke
from tests.unit.api.helpers import assert_problem, new_ticket, table_items

ODD_ORGS = [
    None,
    [],
    False,
    True,
    5,
    0,
    ["acme"],
    {"a": "acme"},
    "",
    "#acme",
    "acme corp",
    "-acme",
    "a" * 129,
    "[acme]",
]


@pytest.mark.parametrize("org", ODD_ORGS, ids=repr)
def test_an_org_claim_that_is_not_a_valid_string_is_403_and_reads_nothing(aws, org: Any) -> None:
    # Given a ticket of some org, and a token whose org claim is not a plain org id
    new_ticket()
    before = table_items()
    claims = {"sub": "u-odd", "email": "odd@example.test", "org_id": org, "roles": ["member"]}
    # When it lists, files or reads
    for name, sample in [
        ("list_tickets", event("list_tickets", claims=claims, query={})),
        ("create_ticket", event("create_ticket", claims=claims)),
        ("get_me", event("get_me", claims=claims)),
    ]:
        response = invoke(name, sample)
        # Then it is refused, and nothing was written
        assert_problem(response, 403)
    assert table_items() == before


def test_two_users_with_a_null_org_do_not_share_a_tenant(aws) -> None:
    victim = {"sub": "victim", "email": "v@x.test", "org_id": None}
    other = {"sub": "other", "email": "o@x.test", "org_id": None}
    assert invoke("create_ticket", event("create_ticket", claims=victim)).status == 403
    assert invoke("list_tickets", event("list_tickets", claims=other, query={})).status == 403


def test_a_group_named_customer_support_does_not_grant_support(aws) -> None:
    # Given a customer whose identity provider puts them in the group "customer support"
    ticket = new_ticket()
    customer = {"sub": "u-cs", "email": "cs@acme.test", "org_id": "acme", "roles": ["customer support"]}
    # When they try what only support may do
    response = invoke(
        "update_ticket",
        event("update_ticket", claims=customer, path={"ticket_id": ticket["id"]}, body={"status": "resolved"}),
    )
    # Then they are a customer: 403
    assert_problem(response, 403)
    # and they cannot see another org's tickets either
    assert invoke("list_tickets", event("list_tickets", claims=customer, query={"org_id": "globex"})).status == 403


def test_the_support_role_is_the_one_the_template_names(aws, monkeypatch) -> None:
    from helpdesk.settings import settings

    # Given the template's SupportRoleName is helpdesk-support
    monkeypatch.setattr(
        "helpdesk.domain.identity.settings", lambda: settings().model_copy(update={"support_role": "helpdesk-support"})
    )
    ticket = new_ticket()
    agent = {"sub": "u-agent", "email": "agent@helpdesk.test", "org_id": "helpdesk", "roles": ["helpdesk-support"]}
    plain = {"sub": "u-s", "email": "s@acme.test", "org_id": "acme", "roles": ["support"]}
    path = {"ticket_id": ticket["id"]}
    # Then that role grants support, and the bare word "support" no longer does
    ok = invoke("update_ticket", event("update_ticket", claims=agent, path=path, body={"status": "triaging"}))
    assert ok.status == 200, ok
    refused = invoke("update_ticket", event("update_ticket", claims=plain, path=path, body={"status": "resolved"}))
    assert_problem(refused, 403)


def test_a_flattened_role_list_is_still_read_when_the_token_cannot_be(aws) -> None:
    # Given the authorizer's flattened claims only (no readable token), as older events carry them
    sample = event("list_tickets", query={})
    sample["headers"]["authorization"] = "Bearer not-a-jwt"
    sample["requestContext"]["authorizer"]["jwt"]["claims"] = {**ACME_USER, "roles": "[member]"}
    assert invoke("list_tickets", sample).status == 200
