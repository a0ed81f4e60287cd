"""What `/today` costs the database: the statements it sends and the pooled connections it takes.

Counted with SQLAlchemy's events on the real engine, so a new read on the path (or a read that leaves the
command's unit of work for a connection of its own) changes a number here and fails the test. On a SQLite
file the reads run in the event loop (`storage.loop_reads`) and take no pooled connection at all; on
PostgreSQL they share the command's one connection.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.app import GC_YOUNG_THRESHOLD, Runtime
from bot.core.clock import ManualClock
from bot.core.types import ChatRef
from storage.loop_reads import loop_reader
from storage.unit import reading, unit_capacity, unit_of_work
from tests.support import Chatter, DatabaseCost, counted

GROUP = ChatRef("console", "-42", "group", "Readers")


async def cost_of(app: Runtime, chatter: Chatter, text: str) -> DatabaseCost:
    with counted(app) as cost:
        await chatter.say(text)
    return cost


def reads(app: Runtime, statements: int) -> DatabaseCost:
    """A command that only reads: all of it in the loop on a SQLite file, else on one pooled connection."""
    if loop_reader(app.database.engine) is not None:
        return DatabaseCost(statements=statements, connections=0, loop_reads=statements)
    return DatabaseCost(statements=statements, connections=1)


@pytest.fixture
async def pooled(app: Runtime) -> AsyncIterator[AsyncEngine]:
    """An engine whose reads go through the pool (PostgreSQL's way): where the app's engine reads in the
    loop, a plain engine on the same SQLite file, so the unit of work's rules are tested on both."""
    engine = app.database.engine
    if loop_reader(engine) is None:
        yield engine
        return
    plain = create_async_engine(engine.url, pool_size=4, max_overflow=4)
    try:
        yield plain
    finally:
        await plain.dispose()


async def test_today_before_a_check_in_is_three_reads_on_one_connection(app: Runtime, ann: Chatter) -> None:
    await ann.say("/start 2026-11-16")
    # who is asking, their plan (pauses and jumps in the same statement), today's mask and last check-in together
    assert await cost_of(app, ann, "/today") == reads(app, 3)


async def test_today_offers_the_catch_up_from_the_last_check_in(app: Runtime, ann: Chatter, clock: ManualClock) -> None:
    """The one statement's second half: missed days count from the day after the last check-in."""
    await ann.say("/start 2026-11-16")
    await ann.say("/done")
    clock.advance(timedelta(days=4))  # three plan days missed since the check-in, today open
    cost = await cost_of(app, ann, "/today")
    assert "You missed 3 plan days since your last check-in." in await ann.text("/today")
    assert cost == reads(app, 3)


async def test_today_after_a_check_in_needs_no_look_back(app: Runtime, ann: Chatter) -> None:
    await ann.say("/start 2026-11-16")
    await ann.say("/pause")
    await ann.say("/resume")  # a pause and a jump-free plan still come back in the plan's one statement
    await ann.say("/done")
    cost = await cost_of(app, ann, "/today")
    assert "✓" in (await ann.text("/today"))
    assert cost == reads(app, 3)


async def test_today_in_a_group_reads_user_chat_and_plan(app: Runtime) -> None:
    admin = Chatter(app.core, user_id="1", name="Ann", chat=GROUP, admin=True)
    await admin.say("/start 2026-11-16")
    assert await cost_of(app, admin, "/today") == reads(app, 3)


async def test_a_new_users_first_today_still_answers(app: Runtime, ann: Chatter) -> None:
    """The unit of work is only for reads: creating the user writes on a connection of its own."""
    reply = await ann.text("/today")
    assert "/start" in reply
    assert await cost_of(app, ann, "/today") == reads(app, 2)


@pytest.mark.sqlite_only  # a process setting, whatever the database
async def test_an_opened_runtime_has_frozen_its_start_up_heap(app: Runtime) -> None:
    """Full collections skip what start-up built, and young ones run every 10,000 allocations, not 700."""
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 10_000


async def test_a_task_started_inside_a_unit_reads_on_a_connection_of_its_own(pooled: AsyncEngine) -> None:
    engine = pooled
    async with unit_of_work(engine):
        async with reading(engine) as first, reading(engine) as second:
            assert first is second  # the command's reads share one connection

        async def elsewhere() -> AsyncConnection:
            async with reading(engine) as connection:
                return connection

        assert await asyncio.create_task(elsewhere()) is not first  # never two tasks on one connection


async def test_units_hold_at_most_half_the_pool_so_writers_always_find_a_connection(pooled: AsyncEngine) -> None:
    """Many commands at once, each holding its unit's connection while it writes on another: without the
    cap they could take every pooled connection and then all wait for a second one forever."""
    engine = pooled
    pool = engine.sync_engine.pool
    capacity = unit_capacity(pool)
    assert 0 < capacity < pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    release, all_in = asyncio.Event(), asyncio.Event()
    commands = capacity + 5
    entered = 0

    async def command() -> None:
        nonlocal entered
        async with unit_of_work(engine):
            async with reading(engine) as connection:
                await connection.execute(text("SELECT 1"))
            entered += 1
            if entered == commands:
                all_in.set()
            await release.wait()

    tasks = [asyncio.create_task(command()) for _ in range(commands)]
    await asyncio.wait_for(all_in.wait(), 30)
    assert pool.checkedout() == capacity  # type: ignore[attr-defined]  # the others read and gave theirs back
    release.set()
    await asyncio.gather(*tasks)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_top_is_the_caller_the_group_and_one_statement_of_standings(app: Runtime) -> None:
    """The roster, each member's latest state, own pauses and week's tasks, the share and the kept group
    days come in one statement, whatever the group's size."""
    admin = Chatter(app.core, user_id="1", name="Ann", chat=GROUP, admin=True)
    await admin.say("/start 2026-11-16")
    members = [Chatter(app.core, user_id=str(n), name=f"M{n}", chat=GROUP) for n in range(2, 30)]
    for member in members:
        await member.say("/done")
    await admin.say("/join")
    # who is asking, the group, the standings (with the kept group days)
    assert await cost_of(app, admin, "/top") == reads(app, 3)
