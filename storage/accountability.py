"""Check-ins, streak states, group rosters and group settings.

Each method is one short transaction (a check-in made in a group joins its roster in the same one).
Streaks are incremental: `streak_days` holds the run's state after each counted day (see
bot/accountability/streaks.py), so a check-in reads one earlier state and writes one row, an undo deletes
one; only states after the changed date are re-applied (normally none: a `/done yesterday` after today's
check-in re-applies one).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    Select,
    UniqueConstraint,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.accountability.ports import (
    CheckinOutcome,
    Contender,
    GroupJoin,
    Member,
    Standings,
    StreakWindow,
    UndoOutcome,
)
from bot.accountability.streaks import DayState, RunDays, advance
from bot.core.types import PauseSpan, User
from storage.base import SqlRepository
from storage.models import USER_COLUMNS, Base, CheckinRow, EnrolmentRow, PauseRow, UserRow, UTCDateTime, utcnow
from storage.rows import (
    RowValues,
    from_mapping,
    from_object,
    labelled,
    labelled_nulls,
    labels_of,
    picker,
    to_values,
)
from storage.unit import reading

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


class GroupDayRow(Base):
    """Per group and local date: how many active members checked in for that date on or after joining.

    Kept in the same transactions as the check-ins, undos, joins and leaves that change it (as a learner's
    `streak_days` are), so `/top` reads one small row per day of the group streak instead of counting every
    member's check-ins over the group's life on each call. The share setting isn't in it: it applies when
    read, so changing it needs no rewrite.
    """

    __tablename__ = "group_days"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date(), primary_key=True)
    checked: Mapped[int] = mapped_column(Integer)


# DayState's fields -> the columns that store them (the names differ: `on` is the row's `local_date`).
STATE_COLUMNS = {
    "on": StreakDayRow.local_date,
    "current": StreakDayRow.run_days,
    "best": StreakDayRow.best,
    "freezes": StreakDayRow.freezes,
    "run_start": StreakDayRow.run_start,
    "frozen": StreakDayRow.frozen_date,
    "earned": StreakDayRow.earned,
}
PAUSE_COLUMNS = {"start": PauseRow.start_date, "end": PauseRow.end_date}
# The label prefixes where one row carries several dataclasses.
STATE_PREFIX = "s_"
USER_PREFIX = "u_"
PAUSE_PREFIX = "pause_"
STATE_ON = STATE_PREFIX + "on"  # NULL where a row has no state (a roster member before any check-in, a pause)
PAUSE_START = PAUSE_PREFIX + "start"  # NULL where a row is not a pause

# The hot reads (`/streak`, `/top`, nudges, recaps), built once: constructing and cache-keying a statement
# per call costs more than running it. They run on a plain connection and return columns, not ORM objects.
_BEFORE_WINDOW = (
    select(func.max(StreakDayRow.local_date))
    .where(StreakDayRow.user_id == bindparam("user_id"), StreakDayRow.local_date < bindparam("since", type_=Date()))
    .scalar_subquery()
)
# `/streak` reads the window's states and the learner's pauses in one statement (one round trip, which costs
# more than the rows): a UNION of state rows (`s_*` columns, NULL pause columns) and pause rows
# (`pause_start`, `pause_end`, NULL state columns). The state rows come first: their typed columns decide
# how the union's values are read back.
_WINDOW_STATES = select(*labelled_nulls(PAUSE_COLUMNS, PAUSE_PREFIX), *labelled(STATE_COLUMNS, STATE_PREFIX)).where(
    StreakDayRow.user_id == bindparam("user_id"),
    StreakDayRow.local_date >= func.coalesce(_BEFORE_WINDOW, bindparam("since", type_=Date()), type_=Date()),
)
_WINDOW_PAUSES = (
    select(*labelled(PAUSE_COLUMNS, PAUSE_PREFIX), *labelled_nulls(STATE_COLUMNS, STATE_PREFIX))
    .join(EnrolmentRow, EnrolmentRow.id == PauseRow.enrolment_id)
    .where(EnrolmentRow.user_id == bindparam("user_id"))
)
_STREAK_WINDOW = union_all(_WINDOW_STATES, _WINDOW_PAUSES).order_by(STATE_ON, PAUSE_START)
_ACTIVE = and_(GroupMemberRow.chat_id == bindparam("chat_id"), GroupMemberRow.active.is_(True))
# A member's latest state by the id of their newest row: both SQLite and PostgreSQL find it from the end of
# the (user_id, local_date) unique index without reading the member's history, then fetch it by key (one
# index descent fewer per member than matching a max(local_date)).
_LATEST_STATE = (
    select(StreakDayRow.id)
    .where(StreakDayRow.user_id == GroupMemberRow.user_id)
    .order_by(StreakDayRow.local_date.desc())
    .limit(1)
    .correlate(GroupMemberRow)
    .scalar_subquery()
)
_ROSTER = (
    select(GroupMemberRow.joined_on, *labelled(USER_COLUMNS, USER_PREFIX), *labelled(STATE_COLUMNS, STATE_PREFIX))
    .join(UserRow, UserRow.id == GroupMemberRow.user_id)
    .outerjoin(StreakDayRow, StreakDayRow.id == _LATEST_STATE)
    .where(_ACTIVE)
    .order_by(GroupMemberRow.id)
)
_ROSTER_PAUSES = (
    select(GroupMemberRow.user_id, *labelled(PAUSE_COLUMNS, PAUSE_PREFIX))
    .join(EnrolmentRow, EnrolmentRow.user_id == GroupMemberRow.user_id)
    .join(PauseRow, PauseRow.enrolment_id == EnrolmentRow.id)
    .where(_ACTIVE)
    .order_by(GroupMemberRow.user_id, PauseRow.start_date)
)
_SINCE = bindparam("since", type_=Date())
_UNTIL = bindparam("until", type_=Date())
_SHARE = select(GroupSettingRow.share_percent).where(GroupSettingRow.chat_id == bindparam("chat_id"))


def _bit(n: int) -> ColumnElement[int]:
    """Bit `n` of the check-in's task mask as 0 or 1 (a portable popcount, one task at a time)."""
    shifted = CheckinRow.tasks.op(">>", return_type=Integer)(literal_column(str(n), Integer))
    return shifted.op("&", return_type=Integer)(literal_column("1", Integer))


# Each member's tasks over the asked dates, summed by the database: one number per member, not their rows.
_TASKS_IN_DATES = (
    select(func.coalesce(func.sum(_bit(0) + _bit(1) + _bit(2)), 0))
    .where(
        CheckinRow.user_id == GroupMemberRow.user_id,
        CheckinRow.local_date >= _SINCE,
        CheckinRow.local_date <= _UNTIL,
    )
    .correlate(GroupMemberRow)
    .scalar_subquery()
)
# `/top` in one statement: a UNION of the members (only the columns ranking and a line need, their latest
# state, the week's task total and the group's share), of their own plan pauses and of the group's kept
# days since the first active member joined (from `days_since` at most): a row has member columns, a
# `pause_start` or a `day_on`, NULL elsewhere. The member rows come first: their typed columns decide how
# the union's values are read back.
DAY_COLUMNS = {"on": GroupDayRow.local_date, "checked": GroupDayRow.checked}
DAY_PREFIX = "day_"
DAY_ON = DAY_PREFIX + "on"
_MEMBER_COLUMNS = {
    "user_id": GroupMemberRow.user_id,
    "name": UserRow.display_name,
    "timezone": UserRow.timezone,
    "joined_on": GroupMemberRow.joined_on,
}
_FIRST_JOIN = select(func.min(GroupMemberRow.joined_on)).where(_ACTIVE).scalar_subquery()
_STANDING_MEMBERS = (
    select(
        *labelled(_MEMBER_COLUMNS),
        _TASKS_IN_DATES.label("tasks"),
        func.coalesce(_SHARE.scalar_subquery(), DEFAULT_SHARE).label("share"),
        *labelled(STATE_COLUMNS, STATE_PREFIX),
        *labelled_nulls(PAUSE_COLUMNS, PAUSE_PREFIX),
        *labelled_nulls(DAY_COLUMNS, DAY_PREFIX),
    )
    .join(UserRow, UserRow.id == GroupMemberRow.user_id)
    .outerjoin(StreakDayRow, StreakDayRow.id == _LATEST_STATE)
    .where(_ACTIVE)
)
_NO_COUNTS = (cast(null(), Integer).label("tasks"), cast(null(), Integer).label("share"))
_STANDING_PAUSES = (
    select(
        GroupMemberRow.user_id,
        *labelled_nulls({k: c for k, c in _MEMBER_COLUMNS.items() if k != "user_id"}),
        *_NO_COUNTS,
        *labelled_nulls(STATE_COLUMNS, STATE_PREFIX),
        *labelled(PAUSE_COLUMNS, PAUSE_PREFIX),
        *labelled_nulls(DAY_COLUMNS, DAY_PREFIX),
    )
    .join(EnrolmentRow, EnrolmentRow.user_id == GroupMemberRow.user_id)
    .join(PauseRow, PauseRow.enrolment_id == EnrolmentRow.id)
    .where(_ACTIVE)
)
_STANDING_DAYS = select(
    *labelled_nulls(_MEMBER_COLUMNS),
    *_NO_COUNTS,
    *labelled_nulls(STATE_COLUMNS, STATE_PREFIX),
    *labelled_nulls(PAUSE_COLUMNS, PAUSE_PREFIX),
    *labelled(DAY_COLUMNS, DAY_PREFIX),
).where(
    GroupDayRow.chat_id == bindparam("chat_id"),
    GroupDayRow.local_date >= bindparam("days_since", type_=Date()),
    GroupDayRow.local_date >= _FIRST_JOIN,
    GroupDayRow.local_date <= _UNTIL,
    GroupDayRow.checked > 0,
)
_STANDINGS = union_all(_STANDING_MEMBERS, _STANDING_PAUSES, _STANDING_DAYS)
_CHECKINS = select(CheckinRow.user_id, CheckinRow.local_date, CheckinRow.tasks).where(
    CheckinRow.user_id.in_(bindparam("user_ids", expanding=True)),
    CheckinRow.local_date >= _SINCE,
    CheckinRow.local_date <= _UNTIL,
)
# `/today`'s check-in state in one round trip: the day's mask and the latest check-in up to it, as two
# indexed scalar subqueries (the second only matters when the first is empty, but costs less than a trip).
_ON = bindparam("on", type_=Date())
_DAY_MASK = select(CheckinRow.tasks).where(CheckinRow.user_id == bindparam("user_id"), CheckinRow.local_date == _ON)
_LAST_UP_TO = select(func.max(CheckinRow.local_date)).where(
    CheckinRow.user_id == bindparam("user_id"), CheckinRow.local_date <= _ON
)
_DAY_STATE = select(_DAY_MASK.scalar_subquery().label("mask"), _LAST_UP_TO.scalar_subquery().label("last"))
_MASK_COUNTS = (
    select(CheckinRow.user_id, CheckinRow.tasks, func.count())
    .where(
        CheckinRow.user_id.in_(bindparam("user_ids", expanding=True)),
        CheckinRow.local_date >= _SINCE,
        CheckinRow.local_date <= _UNTIL,
    )
    .group_by(CheckinRow.user_id, CheckinRow.tasks)
)
_GROUP_CHECKED = (
    select(CheckinRow.local_date, func.count())
    .join(GroupMemberRow, GroupMemberRow.user_id == CheckinRow.user_id)
    .where(
        _ACTIVE,
        CheckinRow.local_date >= GroupMemberRow.joined_on,
        CheckinRow.local_date >= _SINCE,
        CheckinRow.local_date <= _UNTIL,
    )
    .group_by(CheckinRow.local_date)
)
_GROUP_DAYS = select(GroupDayRow.local_date, GroupDayRow.checked).where(
    GroupDayRow.chat_id == bindparam("chat_id"),
    GroupDayRow.local_date >= _SINCE,
    GroupDayRow.local_date <= _UNTIL,
    GroupDayRow.checked > 0,
)
# The memberships a check-in of (user, day) counts for: active, and joined by that day.
_COUNTED_IN = select(GroupMemberRow.chat_id).where(
    GroupMemberRow.user_id == bindparam("user_id"),
    GroupMemberRow.active.is_(True),
    GroupMemberRow.joined_on <= bindparam("day", type_=Date()),
)


def to_state(row: StreakDayRow) -> DayState:
    return from_object(DayState, row, STATE_COLUMNS)


def _row(user_id: int, state: DayState) -> StreakDayRow:
    return StreakDayRow(user_id=user_id, **to_values(state, STATE_COLUMNS))


def to_member(row: RowValues, pauses: Mapping[int, Sequence[PauseSpan]]) -> Member:
    """A roster row: the member's `u_*` user columns and `s_*` latest state (NULL before any check-in)."""
    user = from_mapping(User, row, USER_PREFIX)
    latest = from_mapping(DayState, row, STATE_PREFIX) if row[STATE_ON] is not None else None
    return Member(user=user, joined_on=row["joined_on"], latest=latest, pauses=tuple(pauses.get(user.id, ())))


def to_standings(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Standings:
    """Split the standings' union: pause rows have a `pause_start`, day rows a `day_on`, member rows neither.

    Still by label, but each label is looked up once per result rather than once per row and field: a
    big group's rows are most of what `/top` costs in Python."""
    at = {label: i for i, label in enumerate(columns)}
    state, pause = picker(DayState, columns, STATE_PREFIX), picker(PauseSpan, columns, PAUSE_PREFIX)
    user_id, state_on, pause_start, day_on, day_checked = (
        at[label] for label in ("user_id", STATE_ON, PAUSE_START, DAY_ON, DAY_PREFIX + "checked")
    )
    pauses: dict[int, list[PauseSpan]] = {}
    days: dict[date, int] = {}
    members: list[Sequence[Any]] = []
    for row in rows:
        if row[pause_start] is not None:
            pauses.setdefault(row[user_id], []).append(pause(row))
        elif row[day_on] is not None:
            days[row[day_on]] = row[day_checked]
        else:
            members.append(row)
    name, timezone, joined_on, tasks, share = (
        at[label] for label in ("name", "timezone", "joined_on", "tasks", "share")
    )
    no_pauses: tuple[PauseSpan, ...] = ()
    contenders = [  # positional (in Contender's field order), which is cheaper than keywords 200 times over
        Contender(
            row[user_id],
            row[name],
            row[timezone],
            row[joined_on],
            state(row) if row[state_on] is not None else None,
            row[tasks],
            tuple(pauses[row[user_id]]) if row[user_id] in pauses else no_pauses,
        )
        for row in members
    ]
    return Standings(members[0][share] if members else DEFAULT_SHARE, contenders, days)


_WINDOW_LABELS = labels_of(_STREAK_WINDOW)
_WINDOW_PAUSE = picker(PauseSpan, _WINDOW_LABELS, PAUSE_PREFIX)
_WINDOW_STATE = picker(DayState, _WINDOW_LABELS, STATE_PREFIX)
_WINDOW_PAUSE_START = _WINDOW_LABELS.index(PAUSE_START)
_WINDOW_ON = _WINDOW_LABELS.index(STATE_ON)
_WINDOW_FROZEN = _WINDOW_LABELS.index(STATE_PREFIX + "frozen")


def to_window(rows: Iterable[Sequence[Any]], since: date) -> StreakWindow:
    """Split the window's union (rows of `_STREAK_WINDOW`): pause rows have a `pause_start`, state rows
    don't. Only the latest state becomes a `DayState`; of the others the run needs just their dates."""
    pauses: list[PauseSpan] = []
    counted: list[date] = []
    frozen: list[date] = []
    first: date | None = None
    last: Sequence[Any] | None = None
    for row in rows:
        if row[_WINDOW_PAUSE_START] is not None:
            pauses.append(_WINDOW_PAUSE(row))
            continue
        on, last = row[_WINDOW_ON], row  # state rows come oldest first
        if first is None:
            first = on
        if on >= since:  # else it is the latest state before the window, read for the run it carries
            counted.append(on)
            if row[_WINDOW_FROZEN] is not None:
                frozen.append(row[_WINDOW_FROZEN])
    latest = _WINDOW_STATE(last) if last is not None else None
    return StreakWindow(tuple(pauses), RunDays(latest, first, frozenset(counted), frozenset(frozen)))


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
        self, user_id: int, on: date, tasks: int, pauses: Sequence[PauseSpan], group: GroupJoin | None = None
    ) -> CheckinOutcome:
        """Add `tasks` (a bit mask) to the check-in of `on` (a day's first check-in counts it) and, made in a
        group, join its roster: one transaction, so neither is written without the other."""
        async with self.sessions.begin() as session:
            await self._lock_user(session, user_id)
            outcome = await self._checkin(session, user_id, on, tasks, group.chat_id if group else None, pauses)
            if group is None:
                return outcome
            joined = await self._join(session, group.chat_id, user_id, group.now, group.on)
            return replace(outcome, joined=joined)

    async def _checkin(
        self,
        session: AsyncSession,
        user_id: int,
        on: date,
        tasks: int,
        chat_id: int | None,
        pauses: Sequence[PauseSpan],
    ) -> CheckinOutcome:
        row = (
            await session.execute(select(CheckinRow).where(CheckinRow.user_id == user_id, CheckinRow.local_date == on))
        ).scalar_one_or_none()
        if row is not None:
            merged = row.tasks | tasks
            if merged == row.tasks:
                return CheckinOutcome("already", row.tasks, None, await self._latest(session, user_id))
            row.tasks = merged
            return CheckinOutcome("more", merged, None, await self._latest(session, user_id))
        session.add(CheckinRow(user_id=user_id, local_date=on, tasks=tasks, chat_id=chat_id))
        await session.flush()
        await self._count_checkin(session, user_id, on)
        mine, latest = await self._reapply(session, user_id, on, pauses, include=True)
        return CheckinOutcome("new", tasks, mine, latest)

    async def undo(self, user_id: int, on: date, pauses: Sequence[PauseSpan]) -> UndoOutcome | None:
        """Take back the check-in of `on`; None when there is none."""
        async with self.sessions.begin() as session:
            await self._lock_user(session, user_id)
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
            await self._uncount_checkin(session, user_id, on)
            await session.delete(row)
            _mine, latest = await self._reapply(session, user_id, on, pauses, include=False)
            return UndoOutcome(tasks, to_state(removed) if removed is not None else None, latest)

    @staticmethod
    async def _lock_user(session: AsyncSession, user_id: int) -> None:
        """Serialise one learner's check-ins (a double tap, two devices): a no-op UPDATE of their user row
        takes its row lock on PostgreSQL and the write lock on SQLite *before* anything is read, so the
        second transaction waits and then sees the first one's rows instead of inserting the same day."""
        await session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(active=UserRow.active)
            .execution_options(synchronize_session=False)
        )

    async def _add_to_group_days(self, session: AsyncSession, rows: Select[int, date, int]) -> None:
        """Add each selected (chat id, local date, 1) to the group's count of that day."""
        insert = self._insert(GroupDayRow).from_select(["chat_id", "local_date", "checked"], rows)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=[GroupDayRow.chat_id, GroupDayRow.local_date],
                set_={"checked": GroupDayRow.checked + insert.excluded.checked},
            )
        )

    async def _count_checkin(self, session: AsyncSession, user_id: int, on: date) -> None:
        """A new check-in for `on` counts in every group the learner is an active member of since `on`."""
        groups = _COUNTED_IN.add_columns(literal(on, Date()), literal(1, Integer))
        await self._add_to_group_days(session, groups.params(user_id=user_id, day=on))

    @staticmethod
    async def _uncount_checkin(session: AsyncSession, user_id: int, on: date) -> None:
        """An undone check-in stops counting where it counted (before its row is deleted)."""
        counted_in = _COUNTED_IN.params(user_id=user_id, day=on)
        await session.execute(
            update(GroupDayRow)
            .where(GroupDayRow.local_date == on, GroupDayRow.chat_id.in_(counted_in.scalar_subquery()))
            .values(checked=GroupDayRow.checked - 1)
            .execution_options(synchronize_session=False)
        )

    async def _count_member(self, session: AsyncSession, chat_id: int, user_id: int, since: date) -> None:
        """A member who (re)joined on `since`: their check-ins from that date on count in the group."""
        rows = select(literal(chat_id, Integer), CheckinRow.local_date, literal(1, Integer)).where(
            CheckinRow.user_id == user_id, CheckinRow.local_date >= since
        )
        await self._add_to_group_days(session, rows)

    @staticmethod
    async def _uncount_member(session: AsyncSession, chat_id: int, user_id: int, since: date) -> None:
        """A member who left: their check-ins since joining no longer count in the group."""
        dates = select(CheckinRow.local_date).where(CheckinRow.user_id == user_id, CheckinRow.local_date >= since)
        await session.execute(
            update(GroupDayRow)
            .where(GroupDayRow.chat_id == chat_id, GroupDayRow.local_date.in_(dates.scalar_subquery()))
            .values(checked=GroupDayRow.checked - 1)
            .execution_options(synchronize_session=False)
        )

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

    async def streak_window(self, user_id: int, since: date) -> StreakWindow:
        """Pauses and the bounded run states: one prepared statement of two indexed reads."""
        params = {"user_id": user_id, "since": since}
        async with reading(self.engine) as connection:
            rows = (await connection.execute(_STREAK_WINDOW, params)).all()
        return to_window(rows, since)

    async def checkins(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, date, int]]:
        """(user id, local date, task mask) for the given users and dates (inclusive)."""
        if not user_ids:
            return []
        params = {"user_ids": list(user_ids), "since": since, "until": until}
        async with reading(self.engine) as connection:
            return [(u, d, t) for u, d, t in await connection.execute(_CHECKINS, params)]

    async def day_state(self, user_id: int, on: date) -> tuple[int, date | None]:
        params = {"user_id": user_id, "on": on}
        async with reading(self.engine) as connection:
            row = (await connection.execute(_DAY_STATE, params)).one()
        return row.mask or 0, row.last

    async def mask_counts(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, int, int]]:
        if not user_ids:
            return []
        params = {"user_ids": list(user_ids), "since": since, "until": until}
        async with reading(self.engine) as connection:
            return [(u, mask, n) for u, mask, n in await connection.execute(_MASK_COUNTS, params)]

    async def group_checked_per_day(self, chat_id: int, since: date, until: date) -> dict[date, int]:
        """Per date, how many active members checked in for it on or after joining: the kept counts."""
        params = {"chat_id": chat_id, "since": since, "until": until}
        async with reading(self.engine) as connection:
            return {day: count for day, count in await connection.execute(_GROUP_DAYS, params)}

    async def recount_group_days(self, chat_id: int, since: date, until: date) -> dict[date, int]:
        """The same counts computed from scratch from the check-ins (tests and audits compare the two)."""
        params = {"chat_id": chat_id, "since": since, "until": until}
        async with reading(self.engine) as connection:
            return {day: count for day, count in await connection.execute(_GROUP_CHECKED, params)}

    # groups ------------------------------------------------------------------------------------------
    async def join(self, chat_id: int, user_id: int, now: datetime, on: date) -> bool:
        """Put the user on the roster; False (and nothing written) when already an active member."""
        async with self.sessions.begin() as session:
            await self._lock_user(session, user_id)  # after any check-in of theirs in flight: counted once
            return await self._join(session, chat_id, user_id, now, on)

    async def _join(self, session: AsyncSession, chat_id: int, user_id: int, now: datetime, on: date) -> bool:
        row = (
            await session.execute(
                select(GroupMemberRow).where(GroupMemberRow.chat_id == chat_id, GroupMemberRow.user_id == user_id)
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(GroupMemberRow(chat_id=chat_id, user_id=user_id, joined_at=now, joined_on=on, active=True))
        elif row.active:
            return False
        else:
            row.active, row.joined_at, row.joined_on = True, now, on
        await session.flush()
        await self._count_member(session, chat_id, user_id, on)
        return True

    async def leave(self, chat_id: int, user_id: int) -> bool:
        """False when not an active member; RETURNING tells (a rowcount isn't reliable on every driver)."""
        async with self.sessions.begin() as session:
            await self._lock_user(session, user_id)  # after any check-in of theirs in flight: uncounted once
            left = await session.execute(
                update(GroupMemberRow)
                .where(
                    GroupMemberRow.chat_id == chat_id,
                    GroupMemberRow.user_id == user_id,
                    GroupMemberRow.active.is_(True),
                )
                .values(active=False)
                .returning(GroupMemberRow.joined_on)
                .execution_options(synchronize_session=False)
            )
            joined_on = left.scalar()
            if joined_on is None:
                return False
            await self._uncount_member(session, chat_id, user_id, joined_on)
            return True

    async def roster(self, chat_id: int) -> list[Member]:
        """Active members with their latest streak state and their own plan pauses: two indexed queries."""
        async with reading(self.engine) as connection:
            rows = (await connection.execute(_ROSTER, {"chat_id": chat_id})).mappings().all()
            pauses: dict[int, list[PauseSpan]] = {}
            for pause in (await connection.execute(_ROSTER_PAUSES, {"chat_id": chat_id})).mappings():
                pauses.setdefault(pause["user_id"], []).append(from_mapping(PauseSpan, pause, PAUSE_PREFIX))
        return [to_member(row, pauses) for row in rows]

    async def standings(self, chat_id: int, since: date, until: date, days_since: date) -> Standings:
        """The roster as `/top` ranks it, with the group's share and kept days: one statement."""
        params = {"chat_id": chat_id, "since": since, "until": until, "days_since": days_since}
        async with reading(self.engine) as connection:
            result = await connection.execute(_STANDINGS, params)
            return to_standings(list(result.keys()), result.all())

    async def share(self, chat_id: int) -> int:
        async with reading(self.engine) as connection:
            found = (await connection.execute(_SHARE, {"chat_id": chat_id})).scalar()
        return found if found is not None else DEFAULT_SHARE

    async def set_share(self, chat_id: int, percent: int) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(GroupSettingRow, chat_id)
            if row is None:
                session.add(GroupSettingRow(chat_id=chat_id, share_percent=percent))
            else:
                row.share_percent = percent
