"""Reads of a SQLite file in the event loop: they see every committed write at once, can never write,
never wait behind another process's write, and step aside to aiosqlite's thread when SQLite says busy."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import weakref
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Runtime
from storage.db import create_engine
from storage.loop_reads import LoopReader, loop_reader
from storage.unit import reading
from tests.support import Chatter

pytestmark = pytest.mark.sqlite_only  # PostgreSQL reads go through the pool; this is SQLite's path


def reader_of(app: Runtime) -> LoopReader:
    reader = loop_reader(app.database.engine)
    assert reader is not None
    return reader


def file_of(engine: AsyncEngine) -> str:
    database = engine.url.database
    assert database is not None
    return database


async def test_commands_read_in_the_loop_and_see_their_own_writes(app: Runtime, ann: Chatter) -> None:
    async with reading(app.database.engine) as connection:
        assert connection is reader_of(app)
    await ann.say("/start 2026-11-16")  # written on an aiosqlite connection ...
    assert "Week 2" in await ann.text("/today")  # ... and read back in the loop right after
    await ann.say("/goto 5")
    assert "Week 5" in await ann.text("/today")


async def test_the_loop_reader_cannot_write(app: Runtime, ann: Chatter) -> None:
    await ann.say("/start 2026-11-16")
    with pytest.raises(OperationalError, match="readonly"):
        await reader_of(app).execute(text("DELETE FROM enrolments"))
    assert "Week 2" in await ann.text("/today")


async def test_a_read_does_not_wait_for_another_process_writing(app: Runtime, ann: Chatter) -> None:
    """WAL: while another process holds the write lock with changes not yet committed, the loop's read
    answers at once with what was committed."""
    await ann.say("/start 2026-11-16")
    other = sqlite3.connect(file_of(app.database.engine), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE users SET display_name = 'not yet' WHERE external_id = '1'")
        async with reading(app.database.engine) as connection:
            names = (await connection.execute(text("SELECT display_name FROM users"))).scalars().all()
        assert names == ["Ann"]
        other.execute("COMMIT")
        async with reading(app.database.engine) as connection:
            names = (await connection.execute(text("SELECT display_name FROM users"))).scalars().all()
        assert names == ["not yet"]
    finally:
        other.close()


async def test_a_busy_file_moves_the_read_off_the_loop(app: Runtime, ann: Chatter, tmp_path: Path) -> None:
    """Another process with an exclusive lock makes even readers busy: the read then waits on aiosqlite's
    thread (its busy timeout) while the loop keeps running, and answers once the lock is gone."""
    await ann.say("/start 2026-11-16")
    path = file_of(app.database.engine)
    await app.database.engine.dispose()  # an exclusive lock needs every other connection closed first
    locked, release = threading.Event(), threading.Event()

    def hold_exclusive() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("PRAGMA locking_mode=EXCLUSIVE")
            other.execute("BEGIN EXCLUSIVE")
            other.execute("UPDATE users SET display_name = 'Ann B' WHERE external_id = '1'")
            other.execute("COMMIT")  # exclusive locking mode keeps the lock after the commit
            locked.set()
            release.wait(30)
        finally:
            other.close()

    holder = threading.Thread(target=hold_exclusive)
    holder.start()
    try:
        await asyncio.to_thread(locked.wait, 30)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                if ticks == 5:
                    release.set()  # the loop ran while the read waited: now let the read through
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        async with reading(app.database.engine) as connection:
            names = (await connection.execute(text("SELECT display_name FROM users"))).scalars().all()
        ticking.cancel()
        assert names == ["Ann B"]
        assert ticks >= 5
    finally:
        release.set()
        await asyncio.to_thread(holder.join, 30)


async def test_disposing_the_engine_closes_the_reader_and_dropping_it_frees_both(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'closing.db'}")
    reader = loop_reader(engine)
    assert reader is not None
    assert (await reader.execute(text("SELECT 1"))).scalar() == 1
    await engine.dispose()
    assert reader._connection is None
    gone, reader_gone = weakref.ref(engine.sync_engine), weakref.ref(reader)
    del engine, reader
    gc.collect()
    assert gone() is None and reader_gone() is None  # the reader doesn't keep its engine alive


def test_an_in_memory_database_reads_on_its_own_connection() -> None:
    """Another connection to :memory: would be another, empty database."""
    assert loop_reader(create_engine("sqlite+aiosqlite:///:memory:")) is None
    assert loop_reader(create_engine("sqlite+aiosqlite://")) is None
