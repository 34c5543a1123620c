"""The table's stream, as for the notifier."""

from __future__ import annotations

import pytest

from local import template
from tests.unit.notify.conftest import Stream


@pytest.fixture
def stream(aws: template.Stack) -> Stream:
    return Stream(aws.names["Table"], aws.arns["Table.StreamArn"])
