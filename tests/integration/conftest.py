"""Fixtures: the local stack of template.yaml, started once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    code = stop_stack(running)
    assert code == 0, f"the local stack exited with {code} on Ctrl-C:\n{running.log()[-3000:]}"
    assert "stopped." in running.log()
