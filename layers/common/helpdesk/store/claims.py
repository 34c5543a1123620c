"""Data access: the notifier's mail claims (NOTIFIED#<stream event id> / <recipient>), which make every
mail go out once (helpdesk.notify.delivery says why). Claims expire through the table's TTL."""

import time

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.observability import logger
from helpdesk.store.core import TABLE, Item, client, key, refused

CLAIM_KEPT_SECONDS = 3 * 24 * 60 * 60  # long after the stream (24 h) and the notifier's retries gave up
SENDING, SENT = "sending", "sent"


class MailInFlight(Exception):
    """Another invocation claimed this mail and may still be sending it; retry after its lease."""


def claim_key(event_id: str, recipient: str) -> Item:
    return key(f"NOTIFIED#{event_id}", recipient.lower())


def claim(event_id: str, recipient: str, lease_until: float) -> bool:
    """True when this invocation may send the mail; False when it was sent already. Raises
    MailInFlight while another invocation's claim holds."""
    now = time.time()
    item = claim_key(event_id, recipient) | {
        "type": {"S": "notification"},
        "state": {"S": SENDING},
        "lease_until": {"N": str(int(lease_until) + 1)},
        "ttl": {"N": str(int(now) + CLAIM_KEPT_SECONDS)},
    }
    try:
        client.put_item(
            TableName=TABLE,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sending": {"S": SENDING}, ":now": {"N": str(int(now))}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        found = refused(exc)
        if found is None:
            raise
        if (found[1] or {}).get("state", {}).get("S") == SENT:
            return False
        raise MailInFlight(f"mail for {event_id} is being sent by another invocation") from exc
    return True


def release(event_id: str, recipient: str) -> None:
    try:
        client.delete_item(TableName=TABLE, Key=claim_key(event_id, recipient))
    except (ClientError, BotoCoreError):
        # the claim's lease ends with this invocation, so a retry sends the mail all the same
        logger.exception("Could not release a mail claim", extra={"event_id": event_id})


def confirm(event_id: str, recipient: str, message_id: str) -> None:
    item = claim_key(event_id, recipient) | {
        "type": {"S": "notification"},
        "state": {"S": SENT},
        "message_id": {"S": message_id},
        "ttl": {"N": str(int(time.time()) + CLAIM_KEPT_SECONDS)},
    }
    try:
        client.put_item(TableName=TABLE, Item=item)
    except (ClientError, BotoCoreError):
        # the mail is out: failing the record now would only risk sending it again
        logger.exception("Could not record a sent mail", extra={"event_id": event_id})
