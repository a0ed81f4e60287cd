"""Alembic owns the schema: an upgraded empty database equals the models, and the chain reverses."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import downgrade, upgrade
from storage.schema import metadata

pytestmark = pytest.mark.empty_database  # each test starts from no schema at all


def _diff(connection: Connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_upgrade_head_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            assert await connection.run_sync(_tables) == set(metadata.tables)
    finally:
        await engine.dispose()


async def test_downgrade_to_base_then_upgrade_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert mode == "wal" and timeout >= 1000
    finally:
        await engine.dispose()


async def test_workers_starting_together_migrate_once(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several workers means PostgreSQL; on SQLite one process owns the database")
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        async with asyncio.timeout(60):  # without the migration lock they can wedge each other
            await asyncio.gather(*(upgrade(engine) for engine in engines))
        async with engines[0].connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        for engine in engines:
            await engine.dispose()
