"""Study buddies: per-group opt-ins, each group's weekly split, and weekly reviews.

A week's split is stored as one row per member (`buddy_pairs`, its group number) under a `buddy_weeks`
row; the week row is inserted first with ON CONFLICT DO NOTHING, so of two workers drawing the same week
one wins and the other reads the winner's split. Changes to a split (a member leaving) are read and written
in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Date, ForeignKey, Integer, Text, UniqueConstraint, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.buddies.pairing import Dropped, Group, drop, rehome
from bot.buddies.ports import Review, Week
from bot.core.types import User
from storage.base import SqlRepository
from storage.models import USER_COLUMNS, Base, UserRow, UTCDateTime
from storage.repository import to_user
from storage.rows import from_mapping, labelled


class BuddyOptInRow(Base):
    """A member who wants a study buddy in this group (opting out deletes the row)."""

    __tablename__ = "buddy_optins"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class BuddyWeekRow(Base):
    """That a group's week (its local Monday) has been drawn, and how many times (seeding a redraw)."""

    __tablename__ = "buddy_weeks"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    monday: Mapped[date] = mapped_column(Date(), primary_key=True)
    draws: Mapped[int] = mapped_column(Integer, default=1)


class BuddyPairRow(Base):
    """One member of one pair (or trio) of a group's week."""

    __tablename__ = "buddy_pairs"
    __table_args__ = (UniqueConstraint("chat_id", "monday", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    monday: Mapped[date] = mapped_column(Date())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pair_no: Mapped[int] = mapped_column(Integer)


class ReviewRow(Base):
    """A learner's review of one plan week; `chat_id` is the group it is shared with (NULL: private)."""

    __tablename__ = "weekly_reviews"
    __table_args__ = (UniqueConstraint("user_id", "plan_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan_week: Mapped[int] = mapped_column(Integer)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text())
    written_on: Mapped[date] = mapped_column(Date())
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


_USER = labelled(USER_COLUMNS)


def _review(row: ReviewRow) -> Review:
    return Review(row.user_id, row.plan_week, row.text, row.chat_id, row.written_on, row.written_at)


class SqlBuddies(SqlRepository):
    async def set_opt_in(self, chat_id: int, user_id: int, on: bool, now: datetime) -> bool:
        async with self.sessions.begin() as session:
            row = await session.get(BuddyOptInRow, (chat_id, user_id))
            if on == (row is not None):
                return False
            if on:
                session.add(BuddyOptInRow(chat_id=chat_id, user_id=user_id, since=now))
            else:
                await session.delete(row)
            return True

    async def opted_in(self, chat_id: int) -> list[User]:
        query = (
            select(*_USER)
            .join(BuddyOptInRow, BuddyOptInRow.user_id == UserRow.id)
            .where(BuddyOptInRow.chat_id == chat_id)
            .order_by(UserRow.id)
        )
        async with self.engine.connect() as connection:
            return [from_mapping(User, row) for row in (await connection.execute(query)).mappings()]

    async def groups_of(self, user_id: int) -> list[int]:
        query = select(BuddyOptInRow.chat_id).where(BuddyOptInRow.user_id == user_id).order_by(BuddyOptInRow.chat_id)
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def week(self, chat_id: int, monday: date) -> Week | None:
        async with self.sessions() as session:
            return await self._week(session, chat_id, monday)

    @staticmethod
    async def _week(session: AsyncSession, chat_id: int, monday: date) -> Week | None:
        head = await session.get(BuddyWeekRow, (chat_id, monday))
        if head is None:
            return None
        query = (
            select(BuddyPairRow.pair_no, *_USER)
            .join(UserRow, UserRow.id == BuddyPairRow.user_id)
            .where(BuddyPairRow.chat_id == chat_id, BuddyPairRow.monday == monday)
            .order_by(BuddyPairRow.pair_no, UserRow.id)
        )
        groups: dict[int, list[User]] = {}
        for row in (await session.execute(query)).mappings():
            groups.setdefault(row["pair_no"], []).append(from_mapping(User, row))
        return Week(monday, head.draws, tuple(tuple(g) for g in groups.values()))

    async def recent(self, chat_id: int, monday: date, weeks: int) -> list[list[Group]]:
        first = monday - timedelta(days=7 * weeks)
        query = (
            select(BuddyPairRow.monday, BuddyPairRow.pair_no, BuddyPairRow.user_id)
            .where(BuddyPairRow.chat_id == chat_id, BuddyPairRow.monday >= first, BuddyPairRow.monday < monday)
            .order_by(BuddyPairRow.monday, BuddyPairRow.pair_no, BuddyPairRow.user_id)
        )
        found: dict[date, dict[int, list[int]]] = {}
        async with self.engine.connect() as connection:
            for week, pair_no, user_id in await connection.execute(query):
                found.setdefault(week, {}).setdefault(pair_no, []).append(user_id)
        ago = [monday - timedelta(days=7 * n) for n in range(1, weeks + 1)]
        return [[tuple(g) for g in found.get(week, {}).values()] for week in ago]

    async def save_week(self, chat_id: int, monday: date, groups: Sequence[Group], draws: int, replace: bool) -> Week:
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                self._insert(BuddyWeekRow)
                .values(chat_id=chat_id, monday=monday, draws=draws)
                .on_conflict_do_nothing()
                .returning(BuddyWeekRow.chat_id)
            )
            if claimed.first() is None:
                if not replace:
                    existing = await self._week(session, chat_id, monday)
                    assert existing is not None
                    return existing
                await session.execute(
                    update(BuddyWeekRow)
                    .where(BuddyWeekRow.chat_id == chat_id, BuddyWeekRow.monday == monday)
                    .values(draws=draws)
                )
            await self._write_groups(session, chat_id, monday, groups)
            week = await self._week(session, chat_id, monday)
            assert week is not None
            return week

    @staticmethod
    async def _write_groups(session: AsyncSession, chat_id: int, monday: date, groups: Sequence[Group]) -> None:
        await session.execute(
            delete(BuddyPairRow).where(BuddyPairRow.chat_id == chat_id, BuddyPairRow.monday == monday)
        )
        session.add_all(
            BuddyPairRow(chat_id=chat_id, monday=monday, user_id=uid, pair_no=n)
            for n, group in enumerate(groups, start=1)
            for uid in group
        )
        await session.flush()

    async def drop(self, chat_id: int, monday: date, user_id: int) -> Dropped | None:
        async with self.sessions.begin() as session:
            await self._lock_week(session, chat_id, monday)
            week = await self._week(session, chat_id, monday)
            if week is None or all(user_id not in g for g in week.ids):
                return None
            dropped = drop(week.ids, user_id)
            await self._write_groups(session, chat_id, monday, dropped.groups)
            return dropped

    async def join_week(self, chat_id: int, monday: date, user_id: int) -> Group | None:
        async with self.sessions.begin() as session:
            await self._lock_week(session, chat_id, monday)
            week = await self._week(session, chat_id, monday)
            if week is None or any(user_id in g for g in week.ids):
                return None
            groups, group = rehome(week.ids, user_id)
            await self._write_groups(session, chat_id, monday, groups)
            return group

    @staticmethod
    async def _lock_week(session: AsyncSession, chat_id: int, monday: date) -> None:
        """Serialise changes to one week's split: a no-op UPDATE takes the row's lock before anything is read."""
        await session.execute(
            update(BuddyWeekRow)
            .where(BuddyWeekRow.chat_id == chat_id, BuddyWeekRow.monday == monday)
            .values(draws=BuddyWeekRow.draws)
            .execution_options(synchronize_session=False)
        )

    # reviews ---------------------------------------------------------------------------------------------
    async def save_review(self, review: Review) -> bool:
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    select(ReviewRow).where(ReviewRow.user_id == review.user_id, ReviewRow.plan_week == review.week)
                )
            ).scalar_one_or_none()
            values = {
                "text": review.text,
                "chat_id": review.chat_id,
                "written_on": review.written_on,
                "written_at": review.written_at,
            }
            if row is None:
                session.add(ReviewRow(user_id=review.user_id, plan_week=review.week, **values))
                return False
            for name, value in values.items():
                setattr(row, name, value)
            return True

    async def review(self, user_id: int, week: int) -> Review | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(ReviewRow).where(ReviewRow.user_id == user_id, ReviewRow.plan_week == week)
                )
            ).scalar_one_or_none()
            return _review(row) if row is not None else None

    async def shared_reviews(self, chat_id: int, since: date, until: date) -> list[tuple[User, Review]]:
        query = (
            select(ReviewRow, UserRow)
            .join(UserRow, UserRow.id == ReviewRow.user_id)
            .where(ReviewRow.chat_id == chat_id, ReviewRow.written_on >= since, ReviewRow.written_on <= until)
            .order_by(ReviewRow.written_at, ReviewRow.id)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()
            return [(to_user(user), _review(review)) for review, user in rows]
