from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import Runtime
from bot.core.adapter import Adapter
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.delivery.service import DeliveryService
from tests.support import (
    Chatter,
    PgDatabase,
    PgDatabasePool,
    RecordingDeliverer,
    at,
    copy_sqlite_database,
    drop_pg_database,
    make_runtime,
    migrated_pg_template,
    migrated_sqlite_template,
)

# Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/studybuddy_test) to run every
# database test on PostgreSQL as well; each such test gets a database of its own, dropped afterwards.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite behaviour; not run on PostgreSQL")
    config.addinivalue_line(
        "markers",
        "postgresql_too: runs on PostgreSQL as well, inside a module marked sqlite_only (concurrent writes, or"
        " storage lines no other PostgreSQL test runs)",
    )
    config.addinivalue_line(
        "markers", "empty_database: `database_url` is an empty database (no migration applied), not one at head"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the process the papers ranking builds big indexes in: an xdist worker ends without running
    atexit handlers, and the process would outlive the run."""
    from bot.papers import ranking

    pool, ranking._POOL = ranking._POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE_URL:
        return "databases: sqlite, postgresql (TEST_DATABASE_URL)"
    return "databases: sqlite only (set TEST_DATABASE_URL to a PostgreSQL database to also run on PostgreSQL)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches the database runs once per backend; PostgreSQL only when one is reachable."""
    if "database_url" not in metafunc.fixturenames:
        return
    backends = ["sqlite"]
    node = metafunc.definition
    marked = node.get_closest_marker("sqlite_only") is not None
    sqlite_only = marked and node.get_closest_marker("postgresql_too") is None
    if TEST_DATABASE_URL and not sqlite_only:
        backends.append("postgresql")
    metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per test process; every test gets a copy (the migrations themselves are tested on
    empty databases: the `empty_database` marker)."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    assert TEST_DATABASE_URL is not None
    name = migrated_pg_template(TEST_DATABASE_URL, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield name
    drop_pg_database(TEST_DATABASE_URL, name)


@pytest.fixture(scope="session")
def pg_pool(pg_template: str) -> Iterator[PgDatabasePool]:
    """Fresh copies of the template made ahead in the background, so a test rarely waits for its database."""
    assert TEST_DATABASE_URL is not None
    pool = PgDatabasePool(TEST_DATABASE_URL, pg_template)
    yield pool
    pool.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, already at the head revision (as a started bot leaves it), or
    empty for a test marked `empty_database`."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if getattr(request, "param", "sqlite") == "sqlite":
        target = tmp_path / "studybuddy.db"
        if empty:
            yield f"sqlite+aiosqlite:///{target}"
        else:
            yield copy_sqlite_database(request.getfixturevalue("sqlite_template"), target)
        return
    assert TEST_DATABASE_URL is not None
    if empty:
        with PgDatabase(TEST_DATABASE_URL, "template0") as url:
            yield url
        return
    pool: PgDatabasePool = request.getfixturevalue("pg_pool")
    url = pool.take()
    try:
        yield url
    finally:
        pool.give_back(url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-11-29 09:00"))


@pytest.fixture
def platform(clock: ManualClock) -> RecordingDeliverer:
    """A console platform that records every push; modules that test pushes put it in `app_adapters`."""
    return RecordingDeliverer("console", clock)


@pytest.fixture
def app_adapters() -> list[Adapter]:
    """The adapters the `app` runtime pushes through; a module that tests pushes overrides this."""
    return []


@pytest.fixture
async def app(database_url: str, clock: ManualClock, app_adapters: list[Adapter]) -> AsyncIterator[Runtime]:
    runtime = make_runtime(database_url, clock, app_adapters)
    await runtime.open()
    yield runtime
    await runtime.stop()


@pytest.fixture
def core(app: Runtime) -> Core:
    return app.core


@pytest.fixture
def delivery(app: Runtime) -> DeliveryService:
    return app.delivery


@pytest.fixture
def ann(core: Core) -> Chatter:
    return Chatter(core, user_id="1", name="Ann", locale="en")


@pytest.fixture
def li(core: Core) -> Chatter:
    return Chatter(core, user_id="2", name="李雷", locale="zh-hans")
