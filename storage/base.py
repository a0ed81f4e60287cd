"""What every repository shares: an engine, a session factory, and the key-value `settings` table."""

from __future__ import annotations

from typing import Any

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
