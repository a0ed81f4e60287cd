from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.settings import Settings
from tests.support import Chatter, at


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'studybuddy.db'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-11-29 09:00"))


@pytest.fixture
async def app(database_url: str, clock: ManualClock) -> AsyncIterator[App]:
    application = App(Settings(database_url=database_url, _env_file=None), clock=clock)
    await application.open()
    yield application
    await application.close()


@pytest.fixture
def core(app: App) -> Core:
    assert app.core is not None
    return app.core


@pytest.fixture
def ann(core: Core) -> Chatter:
    return Chatter(core, user_id="1", name="Ann", locale="en")


@pytest.fixture
def li(core: Core) -> Chatter:
    return Chatter(core, user_id="2", name="李雷", locale="zh-hans")
