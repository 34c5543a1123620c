"""Fixtures for the `tickets` CLI and MCP server tests.

Reusable pieces (also meant for tests against the real local stack):
- `fake_api.FakeHelpdesk` / `fake_api.serve` — the API stand-in, in-process or over TCP;
- `run_cli(*args, input=None)` — runs `tickets` in-process against whatever transport is set;
- `api_endpoint` — (base_url, token) of a fake server on 127.0.0.1, or of a real stack when
  TICKETS_IT_API_URL and TICKETS_IT_TOKEN are set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx
import pytest
from fake_api import FakeHelpdesk, serve
from typer.testing import CliRunner, Result

API_URL = "https://api.helpdesk.test"
TOKEN = "test-token"


@pytest.fixture
def fake() -> FakeHelpdesk:
    return FakeHelpdesk()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits the client asked for (instead of sleeping)."""
    from tickets_cli import client

    calls: list[float] = []
    monkeypatch.setattr(client, "sleep", calls.append)
    return calls


@pytest.fixture
def cli_env(tmp_path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A throwaway profile file and the env a logged-in user would have."""
    env = {
        "TICKETS_CONFIG": str(tmp_path / "helpdesk" / "profiles.toml"),
        "TICKETS_API_URL": API_URL,
        "TICKETS_TOKEN": TOKEN,
        "COLUMNS": "200",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TICKETS_PROFILE", raising=False)
    return env


@pytest.fixture
def use_transport(monkeypatch: pytest.MonkeyPatch) -> Callable[[httpx.BaseTransport], None]:
    from tickets_cli import client

    def install(transport: httpx.BaseTransport) -> None:
        monkeypatch.setattr(client, "TRANSPORT", transport)

    return install


@pytest.fixture
def run_cli(fake: FakeHelpdesk, sleeps, cli_env, use_transport) -> Callable[..., Result]:
    """`run_cli("list", "--all")` runs `tickets list --all` against the in-process fake API."""
    use_transport(httpx.MockTransport(fake.handle))
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None, env: dict[str, str | None] | None = None) -> Result:
        from tickets_cli.main import app

        return runner.invoke(app, list(args), input=input, env=env, prog_name="tickets")

    return run


@pytest.fixture
def api_endpoint() -> Iterator[tuple[str, str, FakeHelpdesk | None]]:
    """(base_url, token, fake-or-None): a real stack from the environment, else a fake on 127.0.0.1."""
    url, token = os.environ.get("TICKETS_IT_API_URL"), os.environ.get("TICKETS_IT_TOKEN")
    if url and token:
        yield url, token, None
        return
    fake = FakeHelpdesk()
    with serve(fake) as base:
        yield base, TOKEN, fake
