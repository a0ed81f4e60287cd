"""SIGKILL during `studybuddy db upgrade`: the next run finishes the upgrade instead of failing forever on
"table ... already exists" (migrations are one transaction, DDL included, on SQLite too)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade
from tests.botproc import bot_env, start_bot

KILLS = 6


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def db_upgrade(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await start_bot(tmp_path, env, "db", "upgrade")


async def wait_for(path: Path, limit: float = 30.0) -> None:
    """The database file appears when the upgrade first connects: the migrations run right after."""
    deadline = time.monotonic() + limit
    while not await asyncio.to_thread(path.exists):
        assert time.monotonic() < deadline, "db upgrade never opened the database"
        await asyncio.sleep(0.002)


def remove_database(directory: Path) -> None:
    for leftover in directory.glob("run.db*"):
        leftover.unlink()


def state(path: Path) -> tuple[list[str], set[str]]:
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revisions = (
            [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
            if "alembic_version" in tables
            else []
        )
    return revisions, tables


async def test_killed_upgrades_leave_a_database_the_next_upgrade_finishes(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    env = bot_env(tmp_path)
    database = tmp_path / "run.db"
    head = head_revision()
    window = 0.15  # the migrations take ~0.1-0.3 s on a disk, less on a tmpfs: halved when a kill came too late
    landed = 0
    for _attempt in range(3 * KILLS):
        remove_database(tmp_path)
        killed = await db_upgrade(tmp_path, env)
        await wait_for(database)
        await asyncio.sleep(rng.uniform(0.0, window))  # somewhere inside the migrations
        with contextlib.suppress(ProcessLookupError):  # it may have just finished
            killed.kill()
        await killed.communicate()
        if killed.returncode == 0:  # the upgrade was done before the kill: no kill to test, aim sooner
            assert state(database)[0] == [head]
            window /= 2
            continue
        landed += 1
        revisions, tables = state(database)
        # All or nothing: either no migration is recorded and no table exists, or the tables match a revision.
        assert revisions or tables <= {"alembic_version"}, (revisions, sorted(tables))
        await finish(tmp_path, env, database, last=landed == KILLS)
        assert state(database)[0] == [head]
        if landed == KILLS:
            return
    raise AssertionError(f"only {landed} of {KILLS} kills landed before the upgrade finished")


async def finish(tmp_path: Path, env: dict[str, str], database: Path, last: bool) -> None:
    """The next upgrade: `studybuddy db upgrade` once, the same `upgrade()` in this process otherwise (a
    process start costs seconds; what is tested is what the killed run left behind)."""
    if last:
        finished = await db_upgrade(tmp_path, env)
        out, err = await finished.communicate()
        assert finished.returncode == 0, (out + err).decode()[-2000:]
        return
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
