"""Amazon Bedrock's Converse API (the Bedrock review engine's only way out)."""

from typing import Any

import boto3
from botocore.config import Config

# One review must fit the reviewer's 30 s timeout even when it fails: two attempts of at most
# 3 + 12 s, then the built-in engine (milliseconds).
CONNECT_TIMEOUT, READ_TIMEOUT = 3, 12
client = boto3.client(
    "bedrock-runtime",
    config=Config(
        connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries={"max_attempts": 2, "mode": "standard"}
    ),
)


def converse(request: dict[str, Any]) -> dict[str, Any]:
    """One Converse call. Raises botocore's ClientError / BotoCoreError."""
    return client.converse(**request)
