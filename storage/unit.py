"""One connection per command: the reads a command makes share it instead of each checking one out.

Each repository read used to take a pooled connection and give it back (a rollback on return), several
times per command. Inside `unit_of_work(engine)` the reads made through `reading(engine)` by the task
that opened it run on one connection, returned once at the end. Writes keep their own short transactions
(`sessions.begin()`), so a failed write still can't leave another half-written; on SQLite a read outside
a transaction holds no snapshot, and on PostgreSQL (READ COMMITTED) every statement sees what was
committed before it, so the command still reads its own writes.

The connection belongs to the task that opened the unit: a task started inside it (which inherits the
context) takes connections of its own, so two tasks never share one connection.

On a SQLite file the reads don't use it at all: they run in the event loop on the file's read-only
connection (`storage.loop_reads`), so a unit there takes no connection.

A unit holds its connection while the command writes on another one. If every pooled connection were
held by a unit waiting for a second, all would wait forever; so at most half the pool's connections are
held by units at once, and a command beyond that simply reads on connections of its own, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from storage.loop_reads import LoopReader, loop_reader

_Open = tuple[AsyncConnection, "asyncio.Task[object] | None"]
_CURRENT: ContextVar[_Open | None] = ContextVar("studybuddy_unit_of_work", default=None)


def _shared(engine: AsyncEngine) -> AsyncConnection | None:
    current = _CURRENT.get()
    if current is None:
        return None
    connection, owner = current
    if owner is not asyncio.current_task() or connection.closed or connection.sync_engine is not engine.sync_engine:
        return None
    return connection


_HELD: dict[int, int] = {}  # id(pool) -> connections held by open units of work


def unit_capacity(pool: Pool) -> int:
    """How many units may hold a connection at once: half a bounded pool; none for a single-connection
    pool (SQLite in memory); any number where connections aren't bounded."""
    if isinstance(pool, QueuePool):
        limit = pool.size() + pool._max_overflow
        return limit // 2 if pool._max_overflow >= 0 else 1 << 30
    return 0 if type(pool).__name__ in ("StaticPool", "SingletonThreadPool") else 1 << 30


_NO_UNIT: AbstractAsyncContextManager[None] = nullcontext()  # stateless: one serves every update


def unit_of_work(engine: AsyncEngine) -> AbstractAsyncContextManager[None]:
    """Share one connection among the reads of this task until the block ends (nested: the outer one)."""
    if loop_reader(engine) is not None:  # a SQLite file: reads don't take pooled connections at all
        return _NO_UNIT
    return _holding_a_connection(engine)


@asynccontextmanager
async def _holding_a_connection(engine: AsyncEngine) -> AsyncIterator[None]:
    pool = engine.sync_engine.pool
    held = _HELD.get(id(pool), 0)
    if _shared(engine) is not None or held >= unit_capacity(pool):
        yield
        return
    _HELD[id(pool)] = held + 1
    try:
        async with engine.connect() as connection:
            token = _CURRENT.set((connection, asyncio.current_task()))
            try:
                yield
            finally:
                _CURRENT.reset(token)
    finally:
        left = _HELD[id(pool)] - 1
        if left:
            _HELD[id(pool)] = left
        else:
            del _HELD[id(pool)]


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection | LoopReader]:
    """Where this task's reads run: the loop's reader of a SQLite file, the unit of work's connection
    when this task has one open, else a connection of its own (both `execute` the same way)."""
    reader = loop_reader(engine)
    if reader is not None:
        yield reader
        return
    shared = _shared(engine)
    if shared is not None:
        yield shared
        return
    async with engine.connect() as connection:
        yield connection
