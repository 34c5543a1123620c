"""AWS Lambda: the cluster-context provider (a function the template names, ClusterContextFunctionArn),
invoked by the reviewer with {org_id, cluster_id}. Short timeouts and no retries: a slow or failing
provider must never hold a review up (helpdesk.review.context)."""

import json
from typing import Any

import boto3
from botocore.config import Config

TIMEOUT_SECONDS = 3
client = boto3.client(
    "lambda",
    config=Config(connect_timeout=1, read_timeout=TIMEOUT_SECONDS, retries={"max_attempts": 1, "mode": "standard"}),
)


class ProviderFailed(Exception):
    """The provider answered with an error (its `FunctionError`)."""


def invoke(function: str, request: dict[str, Any], max_bytes: int) -> bytes:
    """The provider's answer (raw JSON bytes), at most `max_bytes`. Raises botocore errors, or
    ProviderFailed when the function itself failed."""
    response = client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
    payload = response["Payload"].read(max_bytes + 1)
    if response.get("FunctionError"):
        raise ProviderFailed(str(response["FunctionError"]))
    return bytes(payload)
