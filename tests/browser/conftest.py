"""Headless Chromium from the system (Debian's ``chromium``), driven by Playwright.

No browser is downloaded: Playwright launches the executable named by
``TIZBEK_CHROMIUM`` or found as ``chromium``. Without one the browser tests are
skipped, except under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright


def chromium_path() -> str | None:
    """The system Chromium, if there is one."""
    named = os.environ.get("TIZBEK_CHROMIUM", "").strip()
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright, once Chromium is known to be there."""
    if chromium_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Chromium for the browser tests (apt install chromium) under CI=true")
        pytest.skip("browser tests need Chromium (apt install chromium, or set TIZBEK_CHROMIUM)")
    with sync_playwright() as running:
        yield running


def launch(playwright: Playwright, *args: str) -> Browser:
    """The system Chromium, headless, with extra command-line ``args``."""
    path = chromium_path()
    assert path is not None
    return playwright.chromium.launch(executable_path=path, args=["--no-sandbox", *args])


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = launch(playwright)
    yield launched
    launched.close()
