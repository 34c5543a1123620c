"""The API tests' `aws`: the same moto stack as tests/conftest.py's, built once per module and emptied
before each test (building it takes ~0.5 s, emptying it a few ms), so that the suite stays fast."""

from __future__ import annotations

from collections.abc import Iterator

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
    """The template's resources, empty: no items, no messages, no objects."""
    empty_aws()
    return _stack
