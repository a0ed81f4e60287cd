"""Engine set-up: SQLite in the user's data directory by default, any SQLAlchemy URL otherwise.

Two processes may share one SQLite file (a console beside `studybuddy run`). In WAL mode readers never
wait; writers take turns. A write transaction (`sessions.begin()`) starts with BEGIN IMMEDIATE, so it holds
the write lock before its first read: it never has to upgrade a read snapshot another process has
overtaken (SQLite answers that with an immediate "database is locked", no waiting), and its
read-modify-write can't lose the other process's update. Taking the lock waits in SQLite's busy handler
and, past that timeout, is simply tried again (nothing of the unit of work has run yet) for up to
`SQLITE_WRITE_WAIT_S`; only a writer stuck for longer than that makes a command fail.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio.session import _AsyncSessionContextManager

from storage import loop_reads

APP_NAME = "studybuddy"
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_WRITE_WAIT_S = 60.0  # how long a write waits for another process's write lock, busy timeouts included
WRITE_INTENT = "studybuddy_write"  # execution option of the engine behind `sessions.begin()`

log = logging.getLogger(__name__)


def default_database_url() -> str:
    path = Path(user_data_dir(APP_NAME, appauthor=False)) / "studybuddy.db"
    return f"sqlite+aiosqlite:///{path}"


def async_url(url: str) -> str:
    """Accept the URLs people write (sqlite:///, postgresql://) and pick the async driver for them."""
    parsed = make_url(url)
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+psycopg",
        "postgres": "postgresql+psycopg",
    }
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_writes_immediately)
        loop_reads.attach(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the console read while the bot writes; busy_timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: no fsync per commit, still crash-safe
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_writes_immediately(connection: Connection) -> None:
    """BEGIN IMMEDIATE for a write transaction; reads keep the driver's way (no transaction, no snapshot)."""
    if connection.get_execution_options().get(WRITE_INTENT):
        begin_immediate(connection.connection.dbapi_connection)


def begin_immediate(dbapi_connection: Any, wait: float = SQLITE_WRITE_WAIT_S) -> None:
    """Take SQLite's write lock, trying again after each busy timeout until `wait` seconds have passed."""
    deadline = time.monotonic() + wait
    cursor = dbapi_connection.cursor()
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except Exception as error:  # the driver's OperationalError, whichever adapter wraps it
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise
                log.warning("the SQLite database is busy (another process is writing); still waiting")
    finally:
        cursor.close()


def is_busy(error: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED as the sqlite3 module reports them."""
    message = str(error).lower()
    return "database is locked" in message or "database is busy" in message or "database table is locked" in message


class WriteFirstSessions(async_sessionmaker[AsyncSession]):
    """Sessions as usual; `begin()` (a unit of work that writes) marks its connection as a writer, so on
    SQLite its transaction starts with the write lock already held (see the module's notes)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.writer = engine.execution_options(**{WRITE_INTENT: True}) if is_sqlite(str(engine.url)) else engine

    def begin(self) -> _AsyncSessionContextManager[AsyncSession]:
        return self(bind=self.writer)._maker_context_manager()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return WriteFirstSessions(engine)


async def ping(engine: AsyncEngine) -> None:
    """One round trip: the health check's proof that the database answers."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
