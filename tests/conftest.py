from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import App
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.settings import Settings
from tests.support import Chatter, PgDatabase, at

# Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/studybuddy_test) to run every
# database test on PostgreSQL as well; each such test gets a database of its own, dropped afterwards.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite behaviour; not run on PostgreSQL")


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE_URL:
        return "databases: sqlite, postgresql (TEST_DATABASE_URL)"
    return "databases: sqlite only (set TEST_DATABASE_URL to a PostgreSQL database to also run on PostgreSQL)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches the database runs once per backend; PostgreSQL only when one is reachable."""
    if "database_url" not in metafunc.fixturenames:
        return
    backends = ["sqlite"]
    if TEST_DATABASE_URL and metafunc.definition.get_closest_marker("sqlite_only") is None:
        backends.append("postgresql")
    metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'studybuddy.db'}"
        return
    assert TEST_DATABASE_URL is not None
    with PgDatabase(TEST_DATABASE_URL) as url:
        yield url


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
