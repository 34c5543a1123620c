"""Amazon SES v2: the only mail client in the project (the notifier's)."""

from typing import Any

import boto3
from botocore.config import Config

client = boto3.client(
    "sesv2",
    # a brief throttle is retried here; anything longer fails the record, and Lambda retries it
    config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10),
)


def send(sender: str, to: str, subject: str, text: str, html: str, reply_to: tuple[str, ...] = ()) -> str:
    """Send one mail (simple content: text and HTML, UTF-8). Returns SES's message id. The values
    must already be safe for headers (helpdesk.notify.rules.header_value)."""
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
            }
        },
    }
    if reply_to:
        request["ReplyToAddresses"] = list(reply_to)
    return str(client.send_email(**request)["MessageId"])
