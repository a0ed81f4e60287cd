"""The group dashboard in a real browser: headless Chromium loads it from the web server the bootstrap
starts (WEB_PORT=0) over a real migrated SQLite database, and reads what a person would see (also on a
phone-sized screen)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.web.server import WebServer
from tests.browser import chromium, chromium_or_skip
from tests.dashboard_support import HOSTILE, SEED_START, Seeded, seed
from tests.support import make_runtime, settings_for

pytestmark = pytest.mark.sqlite_only  # what is under test is the browser's view, not the database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SEED_START)


@pytest.fixture
async def runtime(database_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The bot as `studybuddy run` builds it with WEB_PORT=0 (a free port) and PUBLIC_URL: its web server runs."""
    chromium_or_skip()  # before anything starts: a machine without Chromium skips at once
    settings = settings_for(database_url, web_port=0, public_url="https://study.example.org")
    bot = make_runtime(database_url, clock, settings=settings)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
async def seeded(runtime: Runtime, clock: ManualClock) -> Seeded:
    return await seed(runtime, clock, runtime.services)


@pytest.fixture
def server(runtime: Runtime) -> WebServer:
    assert runtime.web is not None, "WEB_PORT is set, so the bootstrap builds the web server"
    return runtime.web


async def dashboard_url(seeded: Seeded, server: WebServer) -> str:
    text = await seeded.admin.text("/dashboard")
    match = re.search(r"(?<=https://study\.example\.org)/dashboard/[A-Za-z0-9_-]{32}", text)
    assert match, text
    return f"http://127.0.0.1:{server.port}{match.group()}"


async def test_the_dashboard_in_chromium(seeded: Seeded, server: WebServer, tmp_path: Path) -> None:
    url = await dashboard_url(seeded, server)
    dialogs: list[str] = []
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        response = await page.goto(url, wait_until="load")
        assert response is not None and response.status == 200
        headers = await response.all_headers()
        assert headers["cache-control"] == "private, no-store" and headers["referrer-policy"] == "no-referrer"
        assert await page.title() == "Dashboard of Group A"

        board = page.locator("#leaderboard tbody tr")
        assert await board.count() == 3
        names = [await board.nth(i).locator("td.name").inner_text() for i in range(3)]
        assert names == ["Ann", "Bob", HOSTILE]  # the hostile name, shown as the text it is
        numbers = [
            [await board.nth(i).locator(f"[data-field={f}]").inner_text() for f in ("streak", "tasks")]
            for i in range(3)
        ]
        assert numbers == [["3", "7"], ["1", "6"], ["1", "2"]]
        assert "Group streak: 3 days" in await page.locator("#group-streak").inner_text()
        body = await page.locator("body").inner_text()
        assert "Zed" not in body and "Plan position: week 1, day 3" in body

        ann = page.locator('#checkins tr[data-member="Ann"] td')
        assert await ann.count() == 7
        assert await ann.nth(2).get_attribute("title") == "2026-12-02: some tasks checked in"
        assert (await ann.nth(0).inner_text()).startswith("✓")

        # Nothing the name carried became an element, ran, or opened a dialog.
        assert await page.locator("img").count() == 0
        assert await page.evaluate("document.scripts.length") == 0
        assert dialogs == []

        shot = tmp_path / "dashboard.png"
        await page.screenshot(path=str(shot), full_page=True)
        with Image.open(shot) as image:
            assert image.width == 1280 and image.height >= 900
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
            assert len(colours) > 50  # a drawn page (text, cells, borders), not a blank one
            done = sum(n for n, rgb in colours if rgb == (0x2E, 0x7D, 0x32))
            assert done > 500  # the checked-in cells are drawn in their colour

        other = url[:-1] + ("B" if url.endswith("A") else "A")  # one character off: no such link
        missing = await page.goto(other)
        assert missing is not None and missing.status == 404


async def test_the_dashboard_fits_a_phone(seeded: Seeded, server: WebServer, tmp_path: Path) -> None:
    url = await dashboard_url(seeded, server)
    async with chromium(tmp_path / "profile", width=390, height=844) as browser:
        page = await browser.new_page()
        await page.goto(url, wait_until="load")
        widths = await page.evaluate(
            "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
        )
        assert widths[2] == 390 and max(widths[:2]) <= widths[2], widths  # no sideways scrolling of the page
        assert await page.locator('meta[name="viewport"]').count() == 1
        heatmap = await page.evaluate(
            "(e => [e.scrollWidth, e.clientWidth])(document.querySelector('#checkins .scroll'))"
        )
        assert heatmap[0] <= heatmap[1], heatmap  # the week's heatmap fits too, long names wrapped
        shot = tmp_path / "phone.png"
        await page.screenshot(path=str(shot), full_page=True)
        with Image.open(shot) as image:
            assert image.width == 390 and image.height > 844
