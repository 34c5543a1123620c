"""The deadlines sweep (the scheduled WatchDeadlinesFunction): a passed response target is recorded
once (the breach event), and only resolved tickets idle for AutoCloseDays are closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests import iam
from tests.support import ACME_USER, SUPPORT, LambdaContext, load_function
from tests.unit.api.helpers import conversation, new_ticket, patch, reply
from tests.unit.notify.conftest import Stream


def sweep(after: timedelta) -> dict[str, int]:
    from helpdesk.tickets import deadlines

    with iam.as_function("watch_deadlines"):  # the function's role, as for an invocation
        swept = deadlines.sweep(datetime.now(UTC) + after)
    return {"breached": swept.breached, "closed": swept.closed}


def test_the_scheduled_function_runs_the_sweep(aws) -> None:
    new_ticket()
    assert load_function("watch_deadlines").lambda_handler({}, LambdaContext()) == {"breached": 0, "closed": 0}


def test_a_passed_response_target_is_recorded_once_and_published_once(aws, monkeypatch) -> None:
    from helpdesk.adapters import bus

    # Given a critical ticket (first response due in 1 h) and a medium one (8 h)
    critical = new_ticket(severity="critical")
    medium = new_ticket(severity="medium")
    stream = Stream(aws.names["Table"], aws.arns["Table.StreamArn"])
    stream.take()
    # When the sweep runs two hours later, twice
    assert sweep(timedelta(hours=2)) == {"breached": 1, "closed": 0}
    assert sweep(timedelta(hours=2)) == {"breached": 0, "closed": 0}
    # Then only the critical ticket is breached, for its readers too
    assert conversation(critical["id"])["response_breached"] is True
    assert conversation(critical["id"])["response_breached_at"]
    assert conversation(medium["id"])["response_breached"] is False
    # and the breach is published once
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(
        bus.client, "put_events", lambda **request: sent.extend(request["Entries"]) or {"FailedEntryCount": 0}
    )
    load_function("publish_events").lambda_handler(stream.take(), LambdaContext())
    breaches = [json.loads(e["Detail"]) for e in sent if e["DetailType"] == "Response Target Breached"]
    assert [b["ticket_id"] for b in breaches] == [critical["id"]]


def test_a_target_support_met_is_never_breached(aws) -> None:
    ticket = new_ticket(severity="critical")
    assert reply(ticket["id"], "On it.", SUPPORT).status == 201
    assert sweep(timedelta(hours=2)) == {"breached": 0, "closed": 0}
    assert conversation(ticket["id"])["response_breached"] is False


def test_only_resolved_tickets_idle_for_the_auto_close_days_are_closed(aws) -> None:
    # Given three resolved tickets: one left alone, one the customer answered, and one still open
    idle, answered, still_open = new_ticket(), new_ticket(), new_ticket()
    for ticket in (idle, answered):
        assert patch(ticket["id"], {"status": "resolved"}, SUPPORT).status == 200
    assert reply(answered["id"], "It broke again.", ACME_USER).status == 201
    # When the sweep runs after three days, then after eight
    assert sweep(timedelta(days=3))["closed"] == 0
    assert sweep(timedelta(days=8))["closed"] == 1
    # Then only the idle one is closed, with a system message saying why
    closed = conversation(idle["id"])
    assert closed["status"] == "closed"
    assert closed["messages"][-1]["author"]["kind"] == "system"
    assert "No reply for 7 days" in closed["messages"][-1]["body"]
    assert conversation(answered["id"])["status"] == "in_progress"
    assert conversation(still_open["id"])["status"] == "pending_review"
