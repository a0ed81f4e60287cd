"""What every repository shares: an engine, a session factory, and the key-value `settings` table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import session_factory
from storage.models import SettingRow


class SqlRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self.postgres = engine.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        """INSERT with the dialect's ON CONFLICT support."""
        return pg_insert(table) if self.postgres else sqlite_insert(table)

    async def get_setting(self, key: str) -> str | None:
        async with self.sessions() as session:
            row = await session.get(SettingRow, key)
            return row.value if row else None

    async def set_setting(self, key: str, value: str) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(SettingRow, key)
            if row is None:
                session.add(SettingRow(key=key, value=value))
            else:
                row.value = value

    async def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold the named lease until `now + ttl` unless another holder's is still running; True when held.

        Several workers share one database: a job that must run in only one of them (one arXiv fetch, not
        one per worker) takes the lease first. It is a compare-and-set on the `settings` row, so of two
        workers racing for an expired lease exactly one wins, on SQLite and PostgreSQL alike.
        """
        key, value = f"lease:{name}", f"{holder} {(now + ttl).isoformat()}"
        async with self.sessions.begin() as session:
            current = (await session.execute(select(SettingRow.value).where(SettingRow.key == key))).scalar()
            if current is None:
                write = self._insert(SettingRow).values(key=key, value=value).on_conflict_do_nothing()
            else:
                owner, _sep, until = current.rpartition(" ")
                if owner != holder and datetime.fromisoformat(until) > now:
                    return False
                write = update(SettingRow).where(SettingRow.key == key, SettingRow.value == current).values(value=value)
            # RETURNING tells whether our write took (an ORM-path rowcount is -1 on psycopg)
            return (await session.execute(write.returning(SettingRow.key))).first() is not None
