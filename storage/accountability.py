"""Check-ins, streak states, group rosters and group settings (issue 7).

Each method is one short transaction. Streaks are incremental: `streak_days` holds the run's state after
each counted day (see bot/core/streaks.py), so a check-in reads one earlier state and writes one row, an
undo deletes one; only states after the changed date are re-applied (normally none: a `/done yesterday`
after today's check-in re-applies one).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.ports import CheckinOutcome, Member, UndoOutcome
from bot.core.streaks import DayState, advance
from bot.core.types import PauseSpan, User
from storage.base import SqlRepository
from storage.models import Base, CheckinRow, UserRow, UTCDateTime, utcnow

DEFAULT_SHARE = 50


class StreakDayRow(Base):
    """The learner's run after one counted local day; the latest row is the denormalised streak."""

    __tablename__ = "streak_days"
    __table_args__ = (UniqueConstraint("user_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date())
    run_days: Mapped[int] = mapped_column(Integer)
    best: Mapped[int] = mapped_column(Integer)
    freezes: Mapped[int] = mapped_column(Integer)
    run_start: Mapped[date] = mapped_column(Date())
    frozen_date: Mapped[date | None] = mapped_column(Date())
    earned: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupMemberRow(Base):
    """A group's roster: who joined (or checked in there); leaving keeps the row, inactive."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    joined_on: Mapped[date] = mapped_column(Date())  # the group's local date: group days count from here
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class GroupSettingRow(Base):
    """Per-group accountability settings that don't belong on `chats` (which other features own)."""

    __tablename__ = "group_settings"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    share_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_SHARE)


USER_COLUMNS = (
    UserRow.id,
    UserRow.platform,
    UserRow.external_id,
    UserRow.display_name,
    UserRow.lang,
    UserRow.timezone,
    UserRow.reminder_time,
    UserRow.reading_day,
    UserRow.active,
    UserRow.nudge_opt_out,
)  # in the order of bot.core.types.User's fields
STATE_COLUMNS = (
    StreakDayRow.local_date,
    StreakDayRow.run_days,
    StreakDayRow.best,
    StreakDayRow.freezes,
    StreakDayRow.run_start,
    StreakDayRow.frozen_date,
    StreakDayRow.earned,
)  # in the order of DayState's fields


def to_state(row: StreakDayRow) -> DayState:
    return DayState(row.local_date, row.run_days, row.best, row.freezes, row.run_start, row.frozen_date, row.earned)


def _row(user_id: int, state: DayState) -> StreakDayRow:
    return StreakDayRow(
        user_id=user_id,
        local_date=state.on,
        run_days=state.current,
        best=state.best,
        freezes=state.freezes,
        run_start=state.run_start,
        frozen_date=state.frozen,
        earned=state.earned,
    )


class SqlAccountability(SqlRepository):
    # check-ins and streaks ---------------------------------------------------------------------------
    async def _reapply(
        self, session: AsyncSession, user_id: int, on: date, pauses: Sequence[PauseSpan], include: bool
    ) -> tuple[DayState | None, DayState | None]:
        """Recompute states from `on` on (with `on` counted when `include`); returns (state of `on`, latest).

        Reads the latest state before `on` and the (few) states after it: bounded, never the history.
        """
        base_row = (
            await session.execute(
                select(StreakDayRow)
                .where(StreakDayRow.user_id == user_id, StreakDayRow.local_date < on)
                .order_by(StreakDayRow.local_date.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        later = (
            (
                await session.execute(
                    select(StreakDayRow.local_date)
                    .where(StreakDayRow.user_id == user_id, StreakDayRow.local_date > on)
                    .order_by(StreakDayRow.local_date)
                )
            )
            .scalars()
            .all()
        )
        await session.execute(
            delete(StreakDayRow).where(StreakDayRow.user_id == user_id, StreakDayRow.local_date >= on)
        )
        await session.flush()
        prev = to_state(base_row) if base_row is not None else None
        mine: DayState | None = None
        for day in ([on] if include else []) + list(later):
            prev = advance(prev, day, pauses)
            session.add(_row(user_id, prev))
            if day == on:
                mine = prev
        return mine, prev

    async def checkin(
        self, user_id: int, on: date, tasks: int, chat_id: int | None, pauses: Sequence[PauseSpan]
    ) -> CheckinOutcome:
        """Add `tasks` (a bit mask) to the check-in of `on`; a day's first check-in counts it."""
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    select(CheckinRow).where(CheckinRow.user_id == user_id, CheckinRow.local_date == on)
                )
            ).scalar_one_or_none()
            if row is not None:
                merged = row.tasks | tasks
                if merged == row.tasks:
                    return CheckinOutcome("already", row.tasks, None, await self._latest(session, user_id))
                row.tasks = merged
                return CheckinOutcome("more", merged, None, await self._latest(session, user_id))
            session.add(CheckinRow(user_id=user_id, local_date=on, tasks=tasks, chat_id=chat_id))
            await session.flush()
            mine, latest = await self._reapply(session, user_id, on, pauses, include=True)
            return CheckinOutcome("new", tasks, mine, latest)

    async def undo(self, user_id: int, on: date, pauses: Sequence[PauseSpan]) -> UndoOutcome | None:
        """Take back the check-in of `on`; None when there is none."""
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    select(CheckinRow).where(CheckinRow.user_id == user_id, CheckinRow.local_date == on)
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            removed = (
                await session.execute(
                    select(StreakDayRow).where(StreakDayRow.user_id == user_id, StreakDayRow.local_date == on)
                )
            ).scalar_one_or_none()
            tasks = row.tasks
            await session.delete(row)
            _mine, latest = await self._reapply(session, user_id, on, pauses, include=False)
            return UndoOutcome(tasks, to_state(removed) if removed is not None else None, latest)

    async def _latest(self, session: AsyncSession, user_id: int) -> DayState | None:
        row = (
            await session.execute(
                select(StreakDayRow)
                .where(StreakDayRow.user_id == user_id)
                .order_by(StreakDayRow.local_date.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return to_state(row) if row is not None else None

    async def streak_window(self, user_id: int, since: date) -> tuple[DayState | None, list[DayState]]:
        """The latest state before `since` and the states from `since` on, in one indexed query."""
        before = (
            select(func.max(StreakDayRow.local_date))
            .where(StreakDayRow.user_id == user_id, StreakDayRow.local_date < since)
            .scalar_subquery()
        )
        query = (
            select(StreakDayRow)
            .where(StreakDayRow.user_id == user_id, StreakDayRow.local_date >= func.coalesce(before, since))
            .order_by(StreakDayRow.local_date)
        )
        async with self.sessions() as session:
            states = [to_state(row) for row in (await session.execute(query)).scalars()]
        if states and states[0].on < since:
            return states[0], states[1:]
        return None, states

    async def checkins(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, date, int]]:
        """(user id, local date, task mask) for the given users and dates (inclusive)."""
        if not user_ids:
            return []
        query = select(CheckinRow.user_id, CheckinRow.local_date, CheckinRow.tasks).where(
            CheckinRow.user_id.in_(list(user_ids)), CheckinRow.local_date >= since, CheckinRow.local_date <= until
        )
        async with self.sessions() as session:
            return [(u, d, t) for u, d, t in (await session.execute(query)).all()]

    async def group_checked_per_day(self, chat_id: int, since: date, until: date) -> dict[date, int]:
        """Per date, how many active members checked in for it on or after joining (one aggregate query)."""
        query = (
            select(CheckinRow.local_date, func.count())
            .join(GroupMemberRow, GroupMemberRow.user_id == CheckinRow.user_id)
            .where(
                GroupMemberRow.chat_id == chat_id,
                GroupMemberRow.active.is_(True),
                CheckinRow.local_date >= GroupMemberRow.joined_on,
                CheckinRow.local_date >= since,
                CheckinRow.local_date <= until,
            )
            .group_by(CheckinRow.local_date)
        )
        async with self.sessions() as session:
            return {day: count for day, count in (await session.execute(query)).all()}

    # groups ------------------------------------------------------------------------------------------
    async def join(self, chat_id: int, user_id: int, now: datetime, on: date) -> bool:
        """Put the user on the roster; False (and nothing written) when already an active member."""
        async with self.sessions.begin() as session:
            row = (
                await session.execute(
                    select(GroupMemberRow).where(GroupMemberRow.chat_id == chat_id, GroupMemberRow.user_id == user_id)
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(GroupMemberRow(chat_id=chat_id, user_id=user_id, joined_at=now, joined_on=on, active=True))
                return True
            if row.active:
                return False
            row.active, row.joined_at, row.joined_on = True, now, on
            return True

    async def leave(self, chat_id: int, user_id: int) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(GroupMemberRow)
                .where(
                    GroupMemberRow.chat_id == chat_id,
                    GroupMemberRow.user_id == user_id,
                    GroupMemberRow.active.is_(True),
                )
                .values(active=False)
            )
            return (result.rowcount or 0) > 0

    async def roster(self, chat_id: int) -> list[Member]:
        """Active members with their latest streak state, in one query.

        The latest state is found per member with a correlated `max(local_date)`, which both SQLite and
        PostgreSQL answer from the (user_id, local_date) unique index without reading the member's history.
        """
        latest_day = (
            select(func.max(StreakDayRow.local_date))
            .where(StreakDayRow.user_id == GroupMemberRow.user_id)
            .correlate(GroupMemberRow)
            .scalar_subquery()
        )
        query = (
            select(GroupMemberRow.joined_on, *USER_COLUMNS, *STATE_COLUMNS)
            .join(UserRow, UserRow.id == GroupMemberRow.user_id)
            .outerjoin(
                StreakDayRow,
                and_(StreakDayRow.user_id == GroupMemberRow.user_id, StreakDayRow.local_date == latest_day),
            )
            .where(GroupMemberRow.chat_id == chat_id, GroupMemberRow.active.is_(True))
            .order_by(GroupMemberRow.id)
        )
        async with self.sessions() as session:
            rows = (await session.execute(query)).all()  # plain columns: no ORM objects per member
        users = len(USER_COLUMNS)
        return [
            Member(
                User(*row[1 : users + 1]),
                row[0],
                DayState(*row[users + 1 :]) if row[users + 1] is not None else None,
            )
            for row in rows
        ]

    async def share(self, chat_id: int) -> int:
        async with self.sessions() as session:
            row = await session.get(GroupSettingRow, chat_id)
            return row.share_percent if row is not None else DEFAULT_SHARE

    async def set_share(self, chat_id: int, percent: int) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(GroupSettingRow, chat_id)
            if row is None:
                session.add(GroupSettingRow(chat_id=chat_id, share_percent=percent))
            else:
                row.share_percent = percent
