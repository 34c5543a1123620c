"""The notifier (SPEC section 5): who is mailed for what, each mail once, failures retried.

Tickets and messages are written through the domain (as the API writes them); the table's stream
is read back from moto and handed to the notifier as Lambda would."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from helpdesk.adapters import mail as ses
from helpdesk.api.schemas import MemberUpdate, Reply, TicketDraft, TicketUpdate
from helpdesk.domain.identity import Caller
from helpdesk.domain.models import Category, Source, Ticket
from helpdesk.store import claims
from helpdesk.tickets import changes, conversation, filing, members
from tests.support import EVENTS
from tests.unit.notify.conftest import (
    ACME_ADMIN,
    ACME_QUIET,
    ACME_USER,
    GLOBEX_USER,
    SUPPORT,
    SUPPORT_ADDRESS,
    Outbox,
    Stream,
    notify,
    only,
)

pytestmark = pytest.mark.usefixtures("outbox")


def file(caller: Caller, body: str = "The cluster prod-eu drops connections.", **fields: Any) -> Ticket:
    return filing.file_ticket(
        caller, TicketDraft.model_validate_json(json.dumps({"category": "technical", "body": body} | fields))
    )


def reply(caller: Caller, ticket: Ticket, body: str, internal: bool = False) -> None:
    conversation.reply(caller, ticket.id, Reply.model_validate_json(json.dumps({"body": body, "internal": internal})))


def update(caller: Caller, ticket: Ticket, **fields: Any) -> None:
    changes.update_ticket(caller, ticket.id, TicketUpdate.model_validate_json(json.dumps(fields)), None)


def notifications(caller: Caller, on: bool) -> None:
    members.update_me(caller, MemberUpdate.model_validate_json(json.dumps({"email_notifications": on})))


@pytest.fixture
def acme_ticket(stream: Stream) -> Ticket:
    """A ticket of acme, whose admin wants mail and whose `quiet` member does not; globex has a
    ticket of its own. The stream is drained (the filing mail is not part of the tests using this)."""
    ticket = file(ACME_USER, subject="Load balancer drains backends")
    notifications(ACME_ADMIN, True)
    notifications(ACME_QUIET, False)
    file(GLOBEX_USER)
    stream.take()
    return ticket


# ---------------------------------------------------------------- who gets what


def test_a_new_ticket_mails_the_support_address_once(stream: Stream, outbox: Outbox) -> None:
    # Given a customer files a ticket (the ticket and the message it was filed with are both written)
    ticket = file(ACME_USER, body="Since 09:00 the **load balancer** drains backends.", subject="LB drains")

    # When the notifier reads the stream
    response = notify(stream.take())

    # Then the support address gets one mail, with the ticket id, subject, an excerpt and a link
    assert response == {"batchItemFailures": []}
    [mail] = outbox.all()
    assert mail.to == [SUPPORT_ADDRESS]
    assert mail.subject == f"[#{ticket.id}] LB drains (new ticket)"
    assert "<strong>load balancer</strong> drains backends" in mail.html
    assert f'href="https://support.example.com/tickets/{ticket.id}"' in mail.html
    assert "user@acme.test" in mail.html


def test_a_support_reply_mails_every_member_of_the_org_who_wants_mail(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox
) -> None:
    # When support replies
    reply(SUPPORT, acme_ticket, "Please send the output of `kubectl describe service`.")
    assert notify(stream.take()) == {"batchItemFailures": []}

    # Then acme's members with notifications on get it, each their own mail; not the one who opted
    # out, not globex, not the support agent
    assert outbox.recipients() == ["admin@acme.test", "user@acme.test"]
    assert all(len(mail.to) == 1 for mail in outbox.all())
    assert {mail.subject for mail in outbox.all()} == {f"[#{acme_ticket.id}] Load balancer drains backends (new reply)"}
    assert "<code>kubectl describe service</code>" in outbox.all()[0].html


def test_a_member_who_turned_mail_off_gets_none_until_they_turn_it_on(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox
) -> None:
    reply(SUPPORT, acme_ticket, "First answer.")
    notify(stream.take())
    assert not outbox.to("quiet@acme.test")

    notifications(ACME_QUIET, True)
    reply(SUPPORT, acme_ticket, "Second answer.")
    notify(stream.take())
    assert len(outbox.to("quiet@acme.test")) == 1


def test_a_support_reply_never_mails_another_org(stream: Stream, outbox: Outbox) -> None:
    # Given two orgs with tickets and members
    globex = file(GLOBEX_USER)
    file(ACME_USER)
    notifications(ACME_ADMIN, True)
    stream.take()

    # When support replies on globex's ticket
    reply(SUPPORT, globex, "Looking into it.")
    notify(stream.take())

    # Then only globex hears of it
    assert outbox.recipients() == ["user@globex.test"]


def test_an_internal_note_never_mails_a_customer(acme_ticket: Ticket, stream: Stream, outbox: Outbox) -> None:
    reply(SUPPORT, acme_ticket, "Customer is on the legacy plan; check the quota first.", internal=True)

    assert notify(stream.take()) == {"batchItemFailures": []}

    assert outbox.all() == []


def test_a_customer_reply_mails_the_assignee(acme_ticket: Ticket, stream: Stream, outbox: Outbox) -> None:
    update(SUPPORT, acme_ticket, assignee="agent@helpdesk.test")
    reply(SUPPORT, acme_ticket, "Which region?")
    stream.take()

    reply(ACME_USER, acme_ticket, "eu-central, since this morning.")
    notify(stream.take())

    [mail] = outbox.all()
    assert mail.to == ["agent@helpdesk.test"]
    assert mail.subject == f"[#{acme_ticket.id}] Load balancer drains backends (new reply)"
    assert "eu-central, since this morning." in mail.html
    assert "user@acme.test" in mail.html


@pytest.mark.parametrize("assignee", [None, "team-networking"], ids=["unassigned", "assignee-not-an-address"])
def test_a_customer_reply_mails_the_support_address_without_an_assignee_address(
    stream: Stream, outbox: Outbox, assignee: str | None
) -> None:
    ticket = file(ACME_USER)
    if assignee:
        update(SUPPORT, ticket, assignee=assignee)
    stream.take()

    reply(ACME_USER, ticket, "Any news?")
    notify(stream.take())

    assert outbox.recipients() == [SUPPORT_ADDRESS]


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_resolved_or_closed_mails_the_creator(acme_ticket: Ticket, stream: Stream, outbox: Outbox, status: str) -> None:
    # When support resolves the ticket, or the customer's admin closes it (which adds a system note)
    if status == "resolved":
        update(SUPPORT, acme_ticket, status="resolved")
    else:
        conversation.close(ACME_ADMIN, acme_ticket.id)
    notify(stream.take())

    # Then its creator, and only the creator, hears of it
    [mail] = outbox.all()
    assert mail.to == ["user@acme.test"]
    assert mail.subject == f"[#{acme_ticket.id}] Load balancer drains backends ({status})"


@pytest.mark.parametrize("kind", ["ai", "system"])
def test_ai_and_system_messages_mail_nobody(acme_ticket: Ticket, stream: Stream, outbox: Outbox, kind: str) -> None:
    # Given a message that is not a person's reply (the AI review's findings, the close note)
    reply(SUPPORT, acme_ticket, "Findings of the review.")
    event = only(stream.take(), sk_prefix="MSG#")
    for record in event["Records"]:
        record["dynamodb"]["NewImage"]["author"]["M"]["kind"]["S"] = kind

    assert notify(event) == {"batchItemFailures": []}

    assert outbox.all() == []


def test_other_changes_of_a_ticket_mail_nobody(acme_ticket: Ticket, stream: Stream, outbox: Outbox) -> None:
    update(SUPPORT, acme_ticket, status="in_progress", severity="high", assignee="agent@helpdesk.test")
    update(ACME_USER, acme_ticket, subject="LB drains backends in eu-central")

    assert notify(stream.take()) == {"batchItemFailures": []}

    assert outbox.all() == []


def test_a_creator_who_turned_mail_off_is_not_told_of_the_resolution(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox
) -> None:
    notifications(ACME_USER, False)
    update(SUPPORT, acme_ticket, status="resolved")

    notify(stream.take())

    assert outbox.all() == []


# ---------------------------------------------------------------- exactly once


def test_a_record_delivered_twice_sends_one_mail(stream: Stream, outbox: Outbox) -> None:
    file(ACME_USER)
    event = stream.take()

    # delivered twice in one batch, then again in another invocation
    notify({"Records": event["Records"] + event["Records"]})
    notify(event)

    assert outbox.recipients() == [SUPPORT_ADDRESS]


def test_the_notifiers_own_writes_on_the_stream_send_nothing(stream: Stream, outbox: Outbox) -> None:
    file(ACME_USER)
    notify(stream.take())

    # the claims it wrote come back on the stream (in AWS, the event filter drops them first)
    claims = only(stream.take(), pk_prefix="NOTIFIED#")
    assert claims["Records"]
    assert notify(claims) == {"batchItemFailures": []}

    assert len(outbox.all()) == 1


def by_support(event: dict[str, Any]) -> dict[str, Any]:
    """The records of messages support wrote (not the timeline's system messages around them)."""
    records = [r for r in event["Records"] if r["dynamodb"]["NewImage"]["author"]["M"]["kind"]["S"] == "support"]
    return {"Records": records}


def test_an_ses_throttle_fails_only_that_record_and_the_retry_mails_it(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch: a new ticket, then a support reply whose mail to user@acme.test is throttled
    ticket = file(GLOBEX_USER, subject="Billing question")
    reply(SUPPORT, acme_ticket, "Fixed, please check.")
    event = only(stream.take())
    real_send = ses.client.send_email

    def throttled(**request: Any) -> Any:
        if request["Destination"]["ToAddresses"] == ["user@acme.test"]:
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}}
            raise ClientError(error, "SendEmail")  # type: ignore[arg-type]
        return real_send(**request)

    monkeypatch.setattr(ses.client, "send_email", throttled)

    # When the notifier runs
    response = notify(event)

    # Then only the reply's record is reported failed; the other mail went out
    reply_record = by_support(only(event, sk_prefix="MSG#"))["Records"][-1]
    assert response == {"batchItemFailures": [{"itemIdentifier": reply_record["dynamodb"]["SequenceNumber"]}]}
    assert outbox.recipients() == ["admin@acme.test", SUPPORT_ADDRESS]
    assert outbox.to(SUPPORT_ADDRESS)[0].subject == f"[#{ticket.id}] Billing question (new ticket)"

    # When SES recovers and Lambda retries from the failed record on
    monkeypatch.setattr(ses.client, "send_email", real_send)
    failed_from = event["Records"].index(reply_record)
    assert notify({"Records": event["Records"][failed_from:]}) == {"batchItemFailures": []}

    # Then the throttled mail is sent, and nobody gets a second one
    assert outbox.recipients() == ["admin@acme.test", SUPPORT_ADDRESS, "user@acme.test"]


def test_when_every_record_fails_the_whole_batch_is_retried(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply(SUPPORT, acme_ticket, "Fixed, please check.")
    event = by_support(only(stream.take(), sk_prefix="MSG#"))

    def outage(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "SES is down"}}, "SendEmail")  # type: ignore[arg-type]

    monkeypatch.setattr(ses.client, "send_email", outage)
    with pytest.raises(Exception, match="All records failed"):
        notify(event)
    assert outbox.all() == []

    monkeypatch.undo()
    notify(event)
    assert outbox.recipients() == ["admin@acme.test", "user@acme.test"]


def test_a_mail_left_claimed_by_a_crashed_invocation_is_sent_after_its_lease(
    stream: Stream, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an invocation claimed a mail, then died before sending it
    file(ACME_USER)
    event = stream.take()
    [mail] = [m for r in event["Records"] for m in _mails(r)]
    assert claims.claim(mail.event_id, mail.to, lease_until=1e10) is True

    # Then while its lease runs the record fails (retried, not dropped) ...
    with pytest.raises(Exception, match="All records failed"):
        notify(only(event, sk_prefix="TICKET"))
    assert outbox.all() == []

    # ... and once the lease is over, the retry sends it
    boto3.client("dynamodb").update_item(
        TableName="helpdesk-table",
        Key=claims.claim_key(mail.event_id, mail.to),
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert notify(only(event, sk_prefix="TICKET")) == {"batchItemFailures": []}
    assert outbox.recipients() == [SUPPORT_ADDRESS]


def _mails(record: dict[str, Any]) -> list[Any]:
    from helpdesk.notify.rules import BatchDirectory, mails_for
    from helpdesk.store.stream import StreamRecord

    return mails_for(StreamRecord.model_validate(record), BatchDirectory())


# ---------------------------------------------------------------- what the mail says


def test_a_header_injection_in_the_subject_adds_no_header(stream: Stream, outbox: Outbox) -> None:
    # Given a subject that tries to add a Bcc header: the API refuses it...
    injected = {
        "category": "technical",
        "body": "The cluster prod-eu drops connections.",
        "subject": "Help\r\nBcc: evil@x.test",
    }
    with pytest.raises(ValidationError):
        TicketDraft.model_validate_json(json.dumps(injected))
    # ...and one that reaches the table anyway (written before that check existed) is still made harmless
    draft = TicketDraft.model_construct(
        category=Category.TECHNICAL, body=injected["body"], subject=injected["subject"], severity=None,
        properties={}, source=Source.API, review_id=None, answers=None,
    )  # fmt: skip
    ticket = filing.file_ticket(ACME_USER, draft)

    notify(stream.take())

    # Then the mail has one recipient and a subject on one line
    [mail] = outbox.all()
    assert mail.to == [SUPPORT_ADDRESS]
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert mail.subject == f"[#{ticket.id}] Help Bcc: evil@x.test (new ticket)"


def test_markdown_with_a_script_is_escaped_in_the_html_mail(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox
) -> None:
    reply(
        SUPPORT,
        acme_ticket,
        "Run this: <script>alert(document.cookie)</script> <img src=x onerror=alert(1)>\n\n"
        "[docs](javascript:alert(1)) **done**",
    )

    notify(stream.take())

    html = outbox.to("user@acme.test")[0].html
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript:' not in html  # shown as text, never a link
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
    assert "<strong>done</strong>" in html


def test_a_long_message_is_mailed_as_an_excerpt(acme_ticket: Ticket, stream: Stream, outbox: Outbox) -> None:
    reply(SUPPORT, acme_ticket, "word " * 2_000 + "THE-END")

    notify(stream.take())

    html = outbox.to("user@acme.test")[0].html
    assert "THE-END" not in html
    assert 450 < html.count("word") * 5 <= 520
    assert "…" in html


# ---------------------------------------------------------------- cost


def test_members_and_tickets_are_read_once_per_batch(
    acme_ticket: Ticket, stream: Stream, outbox: Outbox, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    # Given a batch of five support replies on two tickets of one org
    other = file(ACME_ADMIN)
    stream.take()
    for ticket in (acme_ticket, other, acme_ticket, other, acme_ticket):
        reply(SUPPORT, ticket, "Update.")
    event = only(stream.take(), sk_prefix="MSG#")
    calls.clear()

    notify(event)

    # Then acme's members were read once, and each ticket once
    member_reads = [p for op, p in calls if op == "Query" and p["ExpressionAttributeValues"][":pk"]["S"] == "ORG#acme"]
    ticket_reads = [p["Key"]["pk"]["S"] for op, p in calls if op == "GetItem"]
    assert len(member_reads) == 1
    assert sorted(ticket_reads) == sorted([f"TICKET#{acme_ticket.id}", f"TICKET#{other.id}"])
    assert len(outbox.all()) == 5 * 2


# ---------------------------------------------------------------- the sample event


def test_the_sample_event_mails_support_and_the_org(aws: Any, outbox: Outbox) -> None:
    # Given the ticket of events/notify.json and a member of its org
    event = json.loads((EVENTS / "notify.json").read_text())
    ticket_image = event["Records"][0]["dynamodb"]["NewImage"]
    org = ticket_image["org_id"]["S"]
    client = boto3.client("dynamodb")
    client.put_item(TableName=aws.names["Table"], Item=ticket_image)
    client.put_item(
        TableName=aws.names["Table"],
        Item={
            "pk": {"S": f"ORG#{org}"},
            "sk": {"S": "MEMBER#u-1"},
            "type": {"S": "member"},
            "id": {"S": "u-1"},
            "org_id": {"S": org},
            "email": {"S": "ops@acme.test"},
            "roles": {"L": []},
            "email_notifications": {"BOOL": True},
        },
    )

    assert notify(event) == {"batchItemFailures": []}

    assert outbox.recipients() == ["ops@acme.test", SUPPORT_ADDRESS]
