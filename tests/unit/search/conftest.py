"""The search tests' fixtures: the API tests' moto stack (built once per module, emptied before each
test), tickets seeded in bulk with their index, and the DynamoDB calls a function makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import template
from tests.unit.api.helpers import empty_aws


@pytest.fixture(scope="module")
def _stack() -> Iterator[template.Stack]:
    with mock_aws():
        yield template.create_all(boto3.Session(region_name="eu-west-1"))


@pytest.fixture
def aws(_stack: template.Stack) -> template.Stack:
    """The template's resources, empty."""
    empty_aws()
    return _stack


@pytest.fixture
def calls(aws: template.Stack) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB call made through the functions' client while the test runs: (operation, parameters)."""
    from helpdesk.store import core

    seen: list[tuple[str, dict[str, Any]]] = []

    def spy(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, params))

    events = core.client.meta.events
    events.register("provide-client-params.dynamodb.*", spy, unique_id="search-spy")
    yield seen
    events.unregister("provide-client-params.dynamodb.*", unique_id="search-spy")
