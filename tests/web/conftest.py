"""Browser tests of the web support center: real Chromium (Debian's `chromium`, driven by
Playwright through its executable path: no browser download) against the local stack, which
serves the built app (`web/dist`) at `/`.

`make test` builds the app, installs chromium when missing and sets HELPDESK_WEB_TESTS=required,
so a missing prerequisite fails there; a bare `pytest` skips these tests instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT
from tests.integration.harness import RunningStack, start_stack, stop_stack

WEB = ROOT / "web"
DIST = WEB / "dist" / "index.html"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("HELPDESK_WEB_ARTIFACTS") or WEB / "test-results")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing() -> str | None:
    if not DIST.is_file():
        return "web/dist is not built (make web)"
    if not AXE.is_file():
        return "web/node_modules is not installed (make web)"
    if chromium_path() is None:
        return "no chromium (make chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


@pytest.fixture(scope="module")
def prerequisites() -> None:
    missing = _missing()
    if missing is None:
        return
    if os.environ.get("HELPDESK_WEB_TESTS") == "required":
        pytest.fail(f"browser tests cannot run: {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module")
def stack(prerequisites: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("web-stack"))
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def browser(prerequisites: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
