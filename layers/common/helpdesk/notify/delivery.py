"""Sending the mails of a stream record, each once: claim (helpdesk.store.claims), send (SES v2,
helpdesk.adapters.mail), confirm.

Exactly once, as users see it. A stream record can reach the notifier more than once: Lambda
retries a batch from its first failed record (so the records after it come again), bisects a
failing batch, and may deliver a record twice. So before sending, the notifier claims
`NOTIFIED#<stream event id> / <recipient>` in the table with a conditional put, and sends only if
the claim is new. A claim that says "sent" means the mail went out: a redelivery skips it. A send
that fails deletes its claim and fails the record, which is retried (an SES throttle or outage
never drops mail; after the retries the record is parked on the on-failure destination).

Why a claim of our own rather than Powertools idempotency (which helpdesk.api.idempotency uses for
Idempotency-Key): the semantics are the same (a claim in progress, then "sent"; deleted on
failure; an in-progress claim expires with the invocation that took it, so a crash or timeout
between claim and send is retried rather than lost), but the claim is keyed by what it means,
stream event and recipient, in one partition per event instead of hashed keys under one
function-wide partition: it needs no payload hashing, and an operator can read who was mailed
for which change. Claims expire through the table's TTL (`ttl`) long after the stream (24 h) and
the notifier's retries have given up on the record."""

from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.adapters import mail as ses
from helpdesk.notify.rules import Mail, header_value
from helpdesk.observability import MetricUnit, logger, metrics
from helpdesk.settings import settings
from helpdesk.store import claims
from helpdesk.store.claims import MailInFlight


class MailNotSent(Exception):
    """Some mail of a record could not be sent. The record fails and is retried; what was sent is
    not sent again."""


def send(mail: Mail) -> str:
    """Send one mail now. Returns SES's message id."""
    return ses.send(header_value(settings().sender_email), mail.to, mail.subject, mail.text, mail.html, mail.reply_to)


def send_once(mail: Mail, lease_until: float) -> bool:
    """Send the mail unless it was sent for this stream record already. True if sent now."""
    if not claims.claim(mail.event_id, mail.to, lease_until):
        logger.info("Mail already sent for this record", extra={"event_id": mail.event_id})
        return False
    try:
        message_id = send(mail)
    except BaseException:
        claims.release(mail.event_id, mail.to)
        raise
    claims.confirm(mail.event_id, mail.to, message_id)
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
