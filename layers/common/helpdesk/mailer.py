"""Data access for mail: SES v2 (the only sesv2 client in the project) and the claims that make
every mail go out once.

Exactly once, as users see it. A stream record can reach the notifier more than once: Lambda
retries a batch from its first failed record (so the records after it come again), bisects a
failing batch, and may deliver a record twice. So before sending, the notifier claims
`NOTIFIED#<stream event id> / <recipient>` in the table with a conditional put, and sends only if
the claim is new. A claim that says "sent" means the mail went out: a redelivery skips it. A send
that fails deletes its claim and fails the record, which is retried (an SES throttle or outage
never drops mail; after the retries the record is parked on the on-failure destination).

Why a claim of our own rather than Powertools idempotency (which helpdesk.idempotency uses for
Idempotency-Key): the semantics are the same (a claim in progress, then "sent"; deleted on
failure; an in-progress claim expires with the invocation that took it, so a crash or timeout
between claim and send is retried rather than lost), but the claim is keyed by what it means,
stream event and recipient, in one partition per event instead of hashed keys under one
function-wide partition: it needs no payload hashing, and an operator can read who was mailed
for which change. Claims expire through the table's TTL (`ttl`) long after the stream (24 h) and
the notifier's retries have given up on the record."""

import time
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.notifications import Mail, header_value
from helpdesk.observability import MetricUnit, logger, metrics
from helpdesk.repository import TABLE
from helpdesk.repository import client as dynamodb
from helpdesk.settings import settings

ses = boto3.client(
    "sesv2",
    # a brief throttle is retried here; anything longer fails the record, and Lambda retries it
    config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10),
)
CLAIM_KEPT_SECONDS = 3 * 24 * 60 * 60
SENDING, SENT = "sending", "sent"


class MailInFlight(Exception):
    """Another invocation claimed this mail and may still be sending it; retry after its lease."""


class MailNotSent(Exception):
    """Some mail of a record could not be sent. The record fails and is retried; what was sent is
    not sent again."""


def claim_key(mail: Mail) -> dict[str, Any]:
    return {"pk": {"S": f"NOTIFIED#{mail.event_id}"}, "sk": {"S": mail.to.lower()}}


def _claim(mail: Mail, lease_until: float) -> bool:
    """True when this invocation may send the mail; False when it was sent already."""
    now = time.time()
    item = claim_key(mail) | {
        "type": {"S": "notification"},
        "state": {"S": SENDING},
        "lease_until": {"N": str(int(lease_until) + 1)},
        "ttl": {"N": str(int(now) + CLAIM_KEPT_SECONDS)},
    }
    try:
        dynamodb.put_item(
            TableName=TABLE,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sending": {"S": SENDING}, ":now": {"N": str(int(now))}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        if exc.response.get("Item", {}).get("state", {}).get("S") == SENT:
            return False
        raise MailInFlight(f"mail for {mail.event_id} is being sent by another invocation") from exc
    return True


def _release(mail: Mail) -> None:
    try:
        dynamodb.delete_item(TableName=TABLE, Key=claim_key(mail))
    except (ClientError, BotoCoreError):
        # the claim's lease ends with this invocation, so a retry sends the mail all the same
        logger.exception("Could not release a mail claim", extra={"event_id": mail.event_id})


def _confirm(mail: Mail, message_id: str) -> None:
    item = claim_key(mail) | {
        "type": {"S": "notification"},
        "state": {"S": SENT},
        "message_id": {"S": message_id},
        "ttl": {"N": str(int(time.time()) + CLAIM_KEPT_SECONDS)},
    }
    try:
        dynamodb.put_item(TableName=TABLE, Item=item)
    except (ClientError, BotoCoreError):
        # the mail is out: failing the record now would only risk sending it again
        logger.exception("Could not record a sent mail", extra={"event_id": mail.event_id})


def send(mail: Mail) -> str:
    """Send one mail (SES v2, simple content: text and HTML). Returns SES's message id."""
    request: dict[str, Any] = {
        "FromEmailAddress": header_value(settings().sender_email),
        "Destination": {"ToAddresses": [mail.to]},
        "Content": {
            "Simple": {
                "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": mail.text, "Charset": "UTF-8"},
                    "Html": {"Data": mail.html, "Charset": "UTF-8"},
                },
            }
        },
    }
    if mail.reply_to:
        request["ReplyToAddresses"] = list(mail.reply_to)
    return str(ses.send_email(**request)["MessageId"])


def send_once(mail: Mail, lease_until: float) -> bool:
    """Send the mail unless it was sent for this stream record already. True if sent now."""
    if not _claim(mail, lease_until):
        logger.info("Mail already sent for this record", extra={"event_id": mail.event_id})
        return False
    try:
        message_id = send(mail)
    except BaseException:
        _release(mail)
        raise
    _confirm(mail, message_id)
    return True


def deliver(mails: Iterable[Mail], lease_until: float) -> int:
    """Send every mail once; try them all, then fail if any could not be sent. Returns how many went out.

    `lease_until` (epoch seconds) is when the calling invocation ends: a claim it leaves behind by
    crashing is free again from then on."""
    sent, failed = 0, []
    for mail in mails:
        try:
            sent += send_once(mail, lease_until)
        except (ClientError, BotoCoreError, MailInFlight) as exc:
            logger.warning("Mail not sent", extra={"event_id": mail.event_id, "error": str(exc)})
            failed.append(exc)
    metrics.add_metric(name="MailsSent", unit=MetricUnit.Count, value=sent)
    if failed:
        metrics.add_metric(name="MailsFailed", unit=MetricUnit.Count, value=len(failed))
        raise MailNotSent(f"{len(failed)} mail(s) not sent; the record will be retried") from failed[0]
    return sent
