"""Reads of a SQLite file run in the event loop's own thread, on one read-only connection.

aiosqlite runs every call on a thread of its own: a statement is four hand-offs to that thread and back
(cursor, execute, fetch, close), each a queue put, a thread wake-up, a GIL hand-over and a loop wake-up.
For the small indexed reads a command makes, the hand-offs cost several times the read itself, and the
loop's thread then waits for the GIL on every socket write while those threads run: measured on `/today`,
moving the reads here cut the CPU per reply by a third. A read on a WAL database never waits for a
writer, so running it in the loop blocks nothing; writes stay on aiosqlite (they may wait for another
process's write lock, which must not stall the loop).

The connection is `query_only`, so nothing can write through it, and autocommit, so no read snapshot
outlives its statement. Results are fully fetched before `execute` returns, as aiosqlite's are. If SQLite
ever answers "busy" to a read (a checkpoint resetting the WAL, recovery after a crash), the read is
retried on an aiosqlite connection instead of waiting in the loop.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 0.05  # how long a read may wait in the loop before it moves to aiosqlite's thread
# The reader's page cache, in KiB. `/top` of a 200-member group touches ~1,000 pages (each member's row,
# latest streak state and week of check-ins); SQLite's default 2 MiB holds 500, so every read evicted
# pages it needed again a moment later and fetched them from the OS (the standings: 1.2 -> 0.6 ms). A
# ceiling, not an allocation: only pages actually read fill it.
READ_CACHE_KIB = 16 * 1024
_BUFFERED = {"prebuffer_rows": True}


class LoopReader:
    """The engine's read-only twin on the same file, opened on first use and closed with the engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        # The engine whose pool a busy read moves to, held weakly: `_READERS` holds its key weakly, and a
        # reference from the reader back to it kept every engine a process ever made alive, with its
        # reader, pool and compiled statements.
        self._pooled = weakref.ref(engine.sync_engine)
        url = engine.url.set(drivername="sqlite+pysqlite")
        self.sync_engine: Engine = create_sync_engine(
            url,
            poolclass=StaticPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
        )
        event.listen(self.sync_engine, "connect", _read_only)
        self._connection: Connection | None = None

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed:
            self._connection = self.sync_engine.connect()
        return self._connection

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        """Run a read now, in this thread; on "busy", run it on an aiosqlite connection instead."""
        try:
            result: CursorResult[*tuple[Any, ...]] = self._connect().execute(
                statement, parameters, execution_options=_BUFFERED
            )
            return result
        except OperationalError as error:
            if not _is_busy(error):
                raise
            log.debug("a read found the SQLite file busy; reading on a pooled connection instead")
            self.close()
        engine = self._pooled()
        if engine is None:  # only a caller holding the engine reads through it
            raise RuntimeError("the engine of this SQLite reader is gone")
        async with AsyncEngine(engine).connect() as connection:
            return await connection.execute(statement, parameters)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.sync_engine.dispose()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute(f"PRAGMA cache_size=-{READ_CACHE_KIB}")
    cursor.close()


def _is_busy(error: OperationalError) -> bool:
    message = str(error.orig).lower()
    return "locked" in message or "busy" in message


# Keyed by the sync engine: AsyncEngine compares in Python (a proxy's __eq__), and this lookup runs on
# every read and every update; a plain Engine hashes and compares by identity, in C.
_READERS: weakref.WeakKeyDictionary[Engine, LoopReader] = weakref.WeakKeyDictionary()


def serves(url: Any) -> bool:
    """A SQLite file (not an in-memory database, which only its own connection can see)."""
    database = url.database
    in_memory = not database or database == ":memory:" or "mode=memory" in str(url)
    return url.get_backend_name() == "sqlite" and not in_memory


def attach(engine: AsyncEngine) -> None:
    """Give a SQLite file's engine its loop reader; it is closed when the engine is disposed."""
    if not serves(engine.url):
        return
    reader = _READERS[engine.sync_engine] = LoopReader(engine)
    event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.close())


def loop_reader(engine: AsyncEngine) -> LoopReader | None:
    return _READERS.get(engine.sync_engine)
