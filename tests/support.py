"""Shared test helpers: a real app on a real SQLite file, driven through the core like an adapter would."""

from __future__ import annotations

import asyncio
import functools
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.app import Runtime, bootstrap
from bot.config import Settings
from bot.core.adapter import Adapter, DeliveryResult
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, Incoming, Reply, UserRef
from bot.papers.feed import ParsedFeed, parse_feed

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def at(text: str, tz: str = "UTC") -> datetime:
    """An aware instant from local wall time, e.g. at("2026-03-08 09:00", "America/New_York")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


@dataclass
class Chatter:
    """One person talking to the core, on some platform, in a private chat or a group."""

    core: Core
    user_id: str = "1"
    name: str = "Ann"
    locale: str | None = "en"
    platform: str = "console"
    chat: ChatRef | None = None
    admin: bool = False
    sent: list[Reply] = field(default_factory=list)

    async def say(self, text: str) -> list[Reply]:
        return await self._send(text=text)

    async def press(self, action: str) -> list[Reply]:
        return await self._send(action=action)

    async def _send(self, **kwargs: Any) -> list[Reply]:
        chat = self.chat or ChatRef(self.platform, self.user_id, "private")

        async def admin_check() -> bool:
            return self.admin

        incoming = Incoming(
            chat,
            UserRef(self.platform, self.user_id, self.name, self.locale),
            admin_check=admin_check,
            **kwargs,
        )
        replies = await self.core.handle(incoming)
        self.sent += replies
        return replies

    async def text(self, line: str) -> str:
        return "\n\n".join(reply.text.to_plain() for reply in await self.say(line))


def settings_for(database_url: str, **values: Any) -> Settings:
    """Settings from the arguments only: no environment file."""
    return Settings(database_url=database_url, _env_file=None, **values)


def make_runtime(
    database_url: str,
    clock: ManualClock,
    adapters: Sequence[Adapter] = (),
    *,
    deliver: bool | None = None,
    **overrides: Any,
) -> Runtime:
    """The bot as `studybuddy run` builds it, on the given database and clock, pushing through `adapters`
    (delivering whenever there are some, or when `deliver` says so); the arXiv ingest stays off."""
    settings = overrides.pop("settings", None) or settings_for(database_url)
    return bootstrap(
        settings,
        clock=clock,
        adapters=list(adapters),
        deliver=bool(adapters) if deliver is None else deliver,
        ingest=False,
        **overrides,
    )


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a bad input changed nothing.

    The tables are the models' (a migrated database has exactly those, tests/integration/test_migrations.py
    checks it), not reflected from the database: reflection costs half a second a call.
    """
    from storage.schema import metadata

    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {
                name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def sync_url(database_url: str) -> str:
    """The same database through a synchronous driver, for helpers that inspect it outside the event loop."""
    url = make_url(database_url)
    drivers = {
        "sqlite+aiosqlite": "sqlite",
        "postgresql": "postgresql+psycopg",
        "postgresql+asyncpg": "postgresql+psycopg",
    }
    return url.set(drivername=drivers.get(url.drivername, url.drivername)).render_as_string(hide_password=False)


@functools.cache
def pg_admin_engine(admin_url: str) -> Engine:
    """Autocommit connections to the server behind TEST_DATABASE_URL, for CREATE/DROP DATABASE."""
    return create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)


class PgDatabase:
    """A fresh PostgreSQL database for one test, dropped (FORCE) after: empty (from template0), or a copy
    of `template`, a database already migrated to head (see `migrated_pg_template`).

    A database per test rather than one shared schema: tests (and the bot subprocesses they start) can
    never see each other's rows, and a leftover connection cannot block the next test.
    """

    def __init__(self, admin_url: str, template: str = "template0") -> None:
        self.admin_url = admin_url
        self.template = template
        self.name = f"sb_{uuid.uuid4().hex[:16]}"

    def __enter__(self) -> str:
        create_pg_database(self.admin_url, self.name, self.template)
        return database_url_named(self.admin_url, self.name)

    def __exit__(self, *exc_info: object) -> None:
        drop_pg_database(self.admin_url, self.name)


def database_url_named(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


class PgDatabasePool:
    """Copies of one migrated template, made by a background thread before a test asks for one, and
    dropped by it after: the test waits neither for CREATE DATABASE (0.03 s on a quiet server, 0.2-0.4 s on
    a busy one) nor for DROP. Every test still gets a database of its own that
    nobody has used before, so isolation is exactly that of `PgDatabase`.

    One pool per test process: its thread is the only client of the template (CREATE DATABASE ... TEMPLATE
    refuses a template with other connections, so copies are made one at a time).
    """

    def __init__(self, admin_url: str, template: str, ahead: int = 2) -> None:
        self.admin_url = admin_url
        self.template = template
        self.ahead = ahead
        self._ready: list[str] = []
        self._used: list[str] = []
        self._failure: BaseException | None = None
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="pg-database-pool", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """The URL of a fresh copy of the template, waiting for the thread to finish one if none is ready."""
        with self._changed:
            while not self._ready:
                if self._failure is not None:
                    raise RuntimeError("could not copy the PostgreSQL template") from self._failure
                self._changed.wait()
            name = self._ready.pop(0)
            self._changed.notify_all()
        return database_url_named(self.admin_url, name)

    def give_back(self, database_url: str) -> None:
        """Drop (FORCE: leftover connections of a test's subprocesses too) in the background."""
        with self._changed:
            self._used.append(make_url(database_url).database or "")
            self._changed.notify_all()

    def close(self) -> None:
        """Drop every database of the pool, used or not, before the template itself is dropped."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        for name in self._ready + self._used:
            drop_pg_database(self.admin_url, name)
        self._ready.clear()
        self._used.clear()

    def _next_task(self) -> tuple[str, str] | None:
        with self._changed:
            while True:
                if self._closing or self._failure is not None:
                    return None
                if self._ready and self._used:  # a test can start: free the server's disk first
                    return "drop", self._used.pop(0)
                if len(self._ready) < self.ahead:
                    return "create", f"sb_{uuid.uuid4().hex[:16]}"
                if self._used:
                    return "drop", self._used.pop(0)
                self._changed.wait()

    def _work(self) -> None:
        while (task := self._next_task()) is not None:
            action, name = task
            try:
                if action == "create":
                    create_pg_database(self.admin_url, name, self.template)
                else:
                    drop_pg_database(self.admin_url, name)
            except BaseException as error:  # handed to the test that waits in take()
                with self._changed:
                    self._failure = error
                    self._changed.notify_all()
                return
            if action == "create":
                with self._changed:
                    self._ready.append(name)
                    self._changed.notify_all()


def create_pg_database(admin_url: str, name: str, template: str) -> None:
    """A copy of `template` by the server's default strategy (WAL_LOG on PostgreSQL 15+): ~28 ms of server
    CPU for our 8 MB template, where STRATEGY FILE_COPY measured 55-180 ms because each copy forces a
    checkpoint of the whole server (the dirty pages of every other test's database too)."""
    with pg_admin_engine(admin_url).connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING \'UTF8\'')


def _migrate(database_url: str) -> None:
    """The real Alembic migrations, run once, outside any event loop."""
    from storage.db import create_engine as create_async_engine
    from storage.migrate import upgrade

    async def run() -> None:
        engine = create_async_engine(database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def migrated_sqlite_template(directory: Path) -> Path:
    """A SQLite file migrated to head by the real migrations, checkpointed so that the file alone is
    the whole database: each test copies it instead of running every migration again."""
    path = directory / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_sqlite_database(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def migrated_pg_template(admin_url: str, worker: str) -> str:
    """A PostgreSQL database migrated to head, the template of this test process's databases.

    One per xdist worker: CREATE DATABASE ... TEMPLATE needs a template nobody else is connected to.
    Its name is returned; `drop_pg_database` removes it at the end of the session.
    """
    name = f"sb_template_{worker}_{uuid.uuid4().hex[:8]}"
    create_pg_database(admin_url, name, "template0")
    try:
        _migrate(database_url_named(admin_url, name))
    except BaseException:
        drop_pg_database(admin_url, name)
        raise
    return name


def drop_pg_database(admin_url: str, name: str) -> None:
    with pg_admin_engine(admin_url).connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def parsed_feed_file(path: Path) -> ParsedFeed:
    """A fixture feed parsed once per test process: the LaTeX in a busy day's abstracts takes seconds to
    parse, and several tests read the same week. The result is immutable (tuples of frozen papers)."""
    return parse_feed(path.read_bytes())


def clock_at(text: str, tz: str = "UTC") -> ManualClock:
    return ManualClock(at(text, tz))


class RecordingDeliverer:
    """A platform adapter that accepts every push (or answers from a script) and remembers what it got."""

    connected = True

    def __init__(self, platform: str = "console", clock: ManualClock | None = None) -> None:
        self.platform = platform
        self.clock = clock
        self.sent: list[tuple[Any, list[Reply], datetime | None]] = []
        self.script: list[Any] = []
        self.skips: list[int] = []  # the `skip` of every call: how far earlier attempts got

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, target: Any, replies: Any, skip: int = 0) -> Any:
        result = self.script.pop(0) if self.script else DeliveryResult.sent()
        self.skips.append(skip)
        if result.outcome == "sent":
            self.sent.append((target, list(replies), self.clock.now() if self.clock else None))
        return result

    def texts(self) -> list[str]:
        return [reply.text.to_plain() for _target, replies, _at in self.sent for reply in replies]


# Thirty zones a learner base spans: whole, half- and quarter-hour offsets, both hemispheres' DST rules.
THIRTY_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Tehran",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Pacific/Auckland",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/Halifax",
    "America/St_Johns",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Asia/Jakarta",
]


@dataclass
class DatabaseCost:
    """What a piece of work cost the database: statements sent (`loop_reads` of them read in the event loop
    on a SQLite file), pooled connections taken, and how many statements a predicate picked out (e.g. the
    UPDATE that records a push)."""

    statements: int = 0
    connections: int = 0
    picked: int = 0
    loop_reads: int = 0


@contextmanager
def counted(app: Runtime, pick: Callable[[str], bool] = lambda _sql: False) -> Iterator[DatabaseCost]:
    """Count with SQLAlchemy's events on the real engine while the block runs."""
    from storage.loop_reads import loop_reader

    cost = DatabaseCost()
    engine = app.database.engine.sync_engine
    reader = loop_reader(app.database.engine)

    def counter(in_loop: bool) -> Callable[..., None]:
        def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            cost.statements += 1
            cost.picked += pick(sql)
            cost.loop_reads += in_loop

        return statement

    def checkout(*_args: Any) -> None:
        cost.connections += 1

    listeners = [(engine, counter(False))] + ([(reader.sync_engine, counter(True))] if reader else [])
    for counted_engine, listener in listeners:
        event.listen(counted_engine, "before_cursor_execute", listener)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield cost
    finally:
        for counted_engine, listener in listeners:
            event.remove(counted_engine, "before_cursor_execute", listener)
        event.remove(engine.pool, "checkout", checkout)
