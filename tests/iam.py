"""IAM as AWS would enforce it, in tests: moto allows every call, so each AWS call a function makes
while a test invokes it is checked here against the statements its template role grants (an
action on a resource). A call the role does not allow fails as AWS fails it (AccessDenied) and is
recorded, so a test fails even when the code swallows the error (the Bedrock engine's fallback)."""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_function", default=None)
violations: list[str] = []

# operation -> IAM action, where the two differ in name or the action depends on the request
_ACTIONS = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "DeleteObjects"): "s3:DeleteObject",
    ("sesv2", "SendEmail"): "ses:SendEmail",
    ("bedrock-runtime", "Converse"): "bedrock:InvokeModel",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
}
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def resource_names(resource: Any) -> set[str]:
    """The logical ids a policy statement's Resource refers to ("Table", "Table/index", …)."""
    found: set[str] = set()
    items = resource if isinstance(resource, list) else [resource]
    for item in items:
        if isinstance(item, dict) and "Fn::GetAtt" in item:
            found.add(item["Fn::GetAtt"][0])
        elif isinstance(item, dict) and "Fn::Sub" in item:
            text = item["Fn::Sub"] if isinstance(item["Fn::Sub"], str) else item["Fn::Sub"][0]
            names = [ref.split(".", 1)[0] for ref in re.findall(r"\$\{([^}]+)\}", text) if not ref.startswith("AWS::")]
            if not names:
                found.add(text)  # an ARN pattern of pseudo parameters only
            else:
                found.add(f"{names[0]}/index" if "/index/" in text else names[0])
        elif isinstance(item, dict) and "Ref" in item:
            found.add(item["Ref"])
        else:
            found.add(str(item))
    return found


@cache
def _roles() -> dict[str, dict[str, set[str]]]:
    """functions/<name> -> the actions its template role grants, each with the resources it names."""
    from local import template

    roles: dict[str, dict[str, set[str]]] = {}
    for resource in template.resources("AWS::Serverless::Function").values():
        name = resource["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
        actions = roles.setdefault(name, {})
        for statement in template.policy_statements(resource):
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in listed:
                actions.setdefault(action, set()).update(resource_names(statement["Resource"]))
    return roles


def required(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (action, resource logical id) pairs a call needs; resource None where any will do."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            return [(f"dynamodb:{_TRANSACT[kind]}", "Table") for item in params["TransactItems"] for kind in item]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", "Table")]
        return [(f"dynamodb:{operation}", "Table/index" if params.get("IndexName") else "Table")]
    action = _ACTIONS.get((service, operation), f"{service}:{operation}")
    if service == "s3":
        bucket = "AttachmentsBucket" if params.get("Bucket") == os.environ["ATTACHMENTS_BUCKET"] else params["Bucket"]
        return [(action, bucket)]
    if service == "sqs":
        queue = "ReviewQueue" if params.get("QueueUrl") == os.environ["REVIEW_QUEUE_URL"] else params["QueueUrl"]
        return [(action, queue)]
    return [(action, None)]


def _allowed(function: str, action: str, resource: str | None) -> bool:
    granted = _roles().get(function, {})
    return action in granted and (resource is None or resource in granted[action])


_make_api_call = BaseClient._make_api_call


def _checked_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    function = current_function.get()
    if function is not None:
        service = client.meta.service_model.service_name
        for action, resource in required(service, operation, params):
            if not _allowed(function, action, resource):
                message = f"functions/{function} may not {action} on {resource or 'it'} (template.yaml grants it no such statement)"
                violations.append(message)
                error = {"Error": {"Code": "AccessDeniedException", "Message": message}}
                raise ClientError(error, operation)
    return _make_api_call(client, operation, params)


@contextmanager
def enforced() -> Iterator[None]:
    """Check every AWS call made while a function handles an event (tests.support.invoking)."""
    BaseClient._make_api_call = _checked_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


@contextmanager
def as_function(name: str) -> Iterator[None]:
    token = current_function.set(name)
    try:
        yield
    finally:
        current_function.reset(token)
