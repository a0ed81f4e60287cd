"""Shared test helpers: a real app on a real SQLite file, driven through the core like an adapter would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, create_engine, select

from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, Incoming, Reply, UserRef

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


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a bad input changed nothing."""
    engine = create_engine(database_url.replace("+aiosqlite", ""))
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
                for name, table in meta.tables.items()
            }
    finally:
        engine.dispose()


def clock_at(text: str, tz: str = "UTC") -> ManualClock:
    return ManualClock(at(text, tz))
