"""Secret links for the web pages: only each token's SHA-256 is stored (see bot/web/tokens.py).

Also the pages' versions (bot/web/versions.py): the latest content hash of a page and when it was first
served, kept in the shared `settings` table under `web:<scope>:<owner>`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Index, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.web.tokens import new_token, token_hash, well_formed
from storage.base import SqlRepository
from storage.models import Base, SettingRow, UTCDateTime, utcnow


class WebTokenRow(Base):
    """One issued link: what it opens (scope), whose it is (owner), and whether it was revoked."""

    __tablename__ = "web_tokens"
    __table_args__ = (Index("ix_web_tokens_scope_owner", "scope", "owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SqlWebTokens(SqlRepository):
    """`WebTokens` and `PageVersions` on the database; `now` is the injected clock's."""

    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(engine)
        self.now = now

    async def issue(self, scope: str, owner: str) -> str:
        token = new_token()
        async with self.sessions.begin() as session:
            session.add(WebTokenRow(scope=scope, owner=owner, token_hash=token_hash(token), created_at=self.now()))
        return token

    async def owner(self, scope: str, token: str) -> str | None:
        if not well_formed(token):
            return None
        query = select(WebTokenRow.owner).where(
            WebTokenRow.token_hash == token_hash(token),
            WebTokenRow.scope == scope,
            WebTokenRow.revoked_at.is_(None),
        )
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).scalar()

    async def revoke(self, scope: str, owner: str) -> int:
        write = (
            update(WebTokenRow)
            .where(WebTokenRow.scope == scope, WebTokenRow.owner == owner, WebTokenRow.revoked_at.is_(None))
            .values(revoked_at=self.now())
            .returning(WebTokenRow.id)  # RETURNING counts on every driver (psycopg's rowcount may be -1)
        )
        async with self.sessions.begin() as session:
            return len((await session.execute(write)).all())

    async def since(self, scope: str, owner: str, digest: str, now: datetime) -> datetime:
        key = f"web:{scope}:{owner}"
        stored = await self.get_setting(key)
        if stored is not None:
            known, _sep, when = stored.partition(" ")
            if known == digest:
                return datetime.fromisoformat(when)
        now = now.replace(microsecond=0)  # HTTP dates have whole seconds
        value = f"{digest} {now.isoformat()}"
        # An upsert: two first fetches at once (two workers) must both succeed; the later one wins.
        write = (
            self._insert(SettingRow)
            .values(key=key, value=value, updated_at=self.now())
            .on_conflict_do_update(index_elements=[SettingRow.key], set_={"value": value, "updated_at": self.now()})
        )
        async with self.sessions.begin() as session:
            await session.execute(write)
        return now
