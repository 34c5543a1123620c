"""Idempotency-Key on writes (Powertools idempotency on the single table).

The key is scoped to org + user + method + path, kept 24 h; a retry replays the first response,
the same key with another payload is 422, and a retry while the first call runs is 409."""

import re
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.api import problems
from helpdesk.api.auth import caller_from_event, headers
from helpdesk.domain.errors import HelpdeskError
from helpdesk.observability import logger
from helpdesk.settings import settings
from helpdesk.store.core import client

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
# Printable ASCII, no white space at either end (HTTP would strip it): what the OpenAPI document says.
KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"
KEPT_SECONDS = 24 * 60 * 60

persistence = DynamoDBPersistenceLayer(
    table_name=settings().table_name,
    key_attr="pk",
    sort_key_attr="sk",
    expiry_attr="ttl",
    boto3_client=client,
)
config = IdempotencyConfig(
    event_key_jmespath="scope",
    payload_validation_jmespath="payload",
    expires_after_seconds=KEPT_SECONDS,
    raise_on_no_idempotency_key=True,
)


class NotKept(Exception):
    """A response a retry must not replay (a 5xx, or a refusal that says Retry-After): raised through
    Powertools so it deletes the in-progress record instead of storing the response."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response.get("statusCode"))
        self.response = response


def kept(response: dict[str, Any]) -> bool:
    headers = {name.lower() for name in response.get("headers") or {}}
    return int(response.get("statusCode", 500)) < 500 and "retry-after" not in headers


def idempotent_resolve(resolve: Any) -> Any:
    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)
    def replayable(request: dict[str, Any], event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response: dict[str, Any] = resolve(event, context)
        if not kept(response):
            raise NotKept(response)
        return response

    def resolve_once(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        key = headers(event).get(HEADER)
        if key is None:
            return resolve(event, context)
        if not re.fullmatch(KEY_PATTERN, key):
            return problems.response(
                400,
                "Malformed request",
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters (e.g. a UUID).",
            )
        try:
            caller = caller_from_event(event)
        except HelpdeskError:
            return resolve(event, context)  # the resolver answers the auth problem itself
        http = event.get("requestContext", {}).get("http", {})
        request = {
            "scope": [caller.org_id, caller.user_id, http.get("method"), event.get("rawPath"), key],
            "payload": event.get("body"),
        }
        config.register_lambda_context(context)
        try:
            return replayable(request=request, event=event, context=context)
        except NotKept as refused:
            return refused.response
        except IdempotencyPersistenceLayerError:
            logger.exception("Idempotency record unavailable")
            unavailable = problems.response(
                503, "Service busy", "The request could not be checked against earlier retries right now; retry."
            )
            unavailable["headers"]["Retry-After"] = str(problems.RETRY_AFTER_SECONDS)
            return unavailable
        except IdempotencyValidationError:
            return problems.response(
                422, "Idempotency-Key reused", "This Idempotency-Key was used with a different request."
            )
        except IdempotencyAlreadyInProgressError:
            busy = problems.response(
                409, "Request in progress", "A request with this Idempotency-Key is still running; retry later."
            )
            busy["headers"]["Retry-After"] = str(problems.RETRY_AFTER_SECONDS)
            return busy

    return resolve_once
