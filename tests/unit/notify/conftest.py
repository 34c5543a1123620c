"""The notifier's fixtures: the table's stream as Lambda delivers it, and the mail SES has sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.ses.models import ses_backends

from helpdesk.domain.identity import Caller
from local import template
from tests.support import LambdaContext, load_function

ACCOUNT, REGION = "123456789012", "eu-west-1"
SUPPORT_ADDRESS = "support@helpdesk.test"  # SUPPORT_EMAIL (tests/conftest.py)

ACME_USER = Caller(user_id="u-acme-user", email="user@acme.test", org_id="acme", roles=frozenset({"member"}))
ACME_ADMIN = Caller(user_id="u-acme-admin", email="admin@acme.test", org_id="acme", roles=frozenset({"admin"}))
ACME_QUIET = Caller(user_id="u-acme-quiet", email="quiet@acme.test", org_id="acme", roles=frozenset({"member"}))
GLOBEX_USER = Caller(user_id="u-globex-user", email="user@globex.test", org_id="globex", roles=frozenset({"member"}))
SUPPORT = Caller(user_id="u-support", email="agent@helpdesk.test", org_id="helpdesk", roles=frozenset({"support"}))


@dataclass
class Sent:
    to: list[str]
    subject: str
    html: str  # moto keeps the HTML part when a mail has both


@dataclass
class Outbox:
    """The mail SES (moto) has accepted, oldest first."""

    def all(self) -> list[Sent]:
        messages = ses_backends[ACCOUNT][REGION].sent_messages
        return [Sent(list(m.destinations["ToAddresses"]), m.subject, m.body) for m in messages]

    def to(self, address: str) -> list[Sent]:
        return [mail for mail in self.all() if address in mail.to]

    def recipients(self) -> list[str]:
        return sorted(address for mail in self.all() for address in mail.to)


@pytest.fixture
def outbox(aws: template.Stack) -> Outbox:
    """SES with the sender's domain verified (SES refuses to send from an unverified identity)."""
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="helpdesk.test")
    return Outbox()


@dataclass
class Stream:
    """The table's stream: `take()` returns the records written since the last take, as the
    Lambda event a DynamoDB event source mapping would deliver."""

    table: str
    arn: str
    position: int = 0
    taken: list[dict[str, Any]] = field(default_factory=list)

    def take(self) -> dict[str, Any]:
        shard = dynamodb_backends[ACCOUNT][REGION].get_table(self.table).stream_shard
        assert shard is not None
        records = [self._as_lambda(item.to_json()) for item in shard.items[self.position :]]
        self.position = len(shard.items)
        return {"Records": records}

    def _as_lambda(self, record: dict[str, Any]) -> dict[str, Any]:
        record = json.loads(json.dumps(record, default=str))
        record["awsRegion"] = REGION
        record["eventSourceARN"] = self.arn
        record["dynamodb"]["ApproximateCreationDateTime"] = 1_795_000_000.0
        return record


@pytest.fixture
def stream(aws: template.Stack) -> Stream:
    return Stream(aws.names["Table"], aws.arns["Table.StreamArn"])


def notify(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the notifier as Lambda does; returns its partial batch response."""
    return load_function("notify").lambda_handler(event, LambdaContext())


def only(event: dict[str, Any], *, pk_prefix: str = "TICKET#", sk_prefix: str = "") -> dict[str, Any]:
    """The event's records of items whose keys start so."""
    records = [
        record
        for record in event["Records"]
        if record["dynamodb"]["Keys"]["pk"]["S"].startswith(pk_prefix)
        and record["dynamodb"]["Keys"]["sk"]["S"].startswith(sk_prefix)
    ]
    return {"Records": records}


@pytest.fixture
def calls(aws: template.Stack) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB call the notifier makes: (operation, parameters)."""
    from helpdesk.store import core

    seen: list[tuple[str, dict[str, Any]]] = []

    def spy(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, params))

    events = core.client.meta.events
    events.register("provide-client-params.dynamodb.*", spy, unique_id="notify-spy")
    yield seen
    events.unregister("provide-client-params.dynamodb.*", unique_id="notify-spy")
