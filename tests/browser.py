"""Headless Chromium for the browser tests: Debian's `chromium` package driven by Playwright.

Nothing here downloads a browser (never `playwright install`): the system browser is used as it is, with
a fresh profile per test and every background feature that could reach the network turned off. Where
Chromium (or Playwright) is missing the tests skip with a message, except under CI, which must have both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """CHROMIUM if set, else Debian's /usr/bin/chromium, else one on the PATH."""
    for name in (os.environ.get("CHROMIUM"), *CANDIDATES):
        if name and (found := shutil.which(name)) is not None:
            return found
    return None


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI (it installs Chromium, so a missing one is a broken pipeline)."""
    message = f"{reason}; the browser tests need Debian's chromium package and the playwright package"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
    pytest.skip(message)


def chromium_or_skip() -> str:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("playwright is not installed (pip install playwright; never `playwright install`)")
    path = find_chromium()
    if path is None:
        unavailable("no Chromium found at /usr/bin/chromium or on the PATH (apt-get install chromium)")
    assert path is not None
    return path


@asynccontextmanager
async def chromium(profile: Path, width: int = 1280, height: int = 900) -> AsyncIterator[BrowserContext]:
    """A browser context on a fresh profile directory, closed (with its browser) on exit."""
    from playwright.async_api import async_playwright

    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=list(ARGS),
            viewport={"width": width, "height": height},
            color_scheme="light",  # the colours a screenshot check looks for
            java_script_enabled=True,  # on, so a script that slipped through would run and be caught
            offline=False,
        )
        try:
            yield context
        finally:
            await context.close()
