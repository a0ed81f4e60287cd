"""Runs Alembic from code: on start-up, from `studybuddy db upgrade`, and in tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import migrations
from storage.db import SQLITE_BUSY_TIMEOUT_MS, begin_immediate


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(connection: Connection, revision: str, downgrade: bool) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


# Any constant works: it names the lock that serialises migrations across workers starting together.
MIGRATION_LOCK_ID = 0x5354_5544


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the migrations shipped with this code (read once: they can't change)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations in one transaction, so a process killed halfway leaves the schema as it was.

    A database already at head (every start but the first) is left alone after one read: no write lock,
    so a console starting beside a busy `studybuddy run` on the same SQLite file does not queue behind it.
    Workers starting at the same time take turns on PostgreSQL (a transaction-scoped advisory lock), so the
    second one finds the schema already at head instead of failing on CREATE TABLE. On SQLite the driver
    would commit each CREATE TABLE on its own; a migration engine of its own makes the DDL transactional.
    """
    if revision == "head":
        async with engine.connect() as connection:
            if await connection.run_sync(_current_revision) == head_revision():
                return
    if engine.dialect.name == "sqlite":
        migrating = transactional_sqlite(engine)
        try:
            async with migrating.begin() as connection:
                await connection.run_sync(_run, revision, False)
        finally:
            await migrating.dispose()
        return
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        await connection.run_sync(_run, revision, False)


def transactional_sqlite(engine: AsyncEngine) -> AsyncEngine:
    """An engine on the same SQLite file whose transactions really begin at BEGIN, DDL included.

    Python's sqlite3 module opens transactions only before INSERT/UPDATE/DELETE, so every CREATE TABLE of a
    migration would be committed by itself and a kill between them leaves tables without a recorded
    revision (every later start then fails on "table ... already exists"). Here the driver's own
    transaction handling is off and SQLAlchemy's begin emits BEGIN IMMEDIATE: the write lock is taken up
    front, so two processes starting together also migrate one after the other. Only migrations use it;
    the bot's own short transactions keep the driver's behaviour.
    """
    migrating = create_async_engine(engine.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(migrating.sync_engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(migrating.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        begin_immediate(connection.connection.dbapi_connection)  # waits out another process's write

    return migrating


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_run, revision, True)
