"""What accountability needs from storage: check-ins, incremental streak states, group rosters and shares."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple, Protocol

from bot.accountability.streaks import DayState, RunDays
from bot.core.ports import Port
from bot.core.types import PauseSpan, User

CheckinStatus = Literal["new", "more", "already"]


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    """What a check-in changed: a new day, more tasks on a counted day, or nothing (`already`)."""

    status: CheckinStatus
    tasks: int  # the day's task mask after the check-in
    day: DayState | None  # the checked-in day's state when it newly counted
    latest: DayState | None  # the learner's latest counted day after the change
    joined: bool = False  # the check-in put the learner on the group's roster (their schedules changed)


@dataclass(frozen=True, slots=True)
class GroupJoin:
    """The group a check-in is made in: the learner joins its roster in the check-in's own transaction, so
    a failure can't leave a group check-in without its roster row."""

    chat_id: int
    on: date  # the group's local today: the member counts for group days from then
    now: datetime


@dataclass(frozen=True, slots=True)
class StreakWindow:
    """What `/streak` shows, read together: the learner's own plan pauses and their run over the window."""

    pauses: tuple[PauseSpan, ...]
    run: RunDays


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    tasks: int  # the mask that was taken back
    removed: DayState | None  # the state the day had (e.g. `earned` tells a freeze was taken back)
    latest: DayState | None


@dataclass(frozen=True, slots=True)
class Member:
    """An active roster member with the state of their latest counted day and their own plan pauses."""

    user: User
    joined_on: date  # the group's local date of joining: the member counts for group days from then
    latest: DayState | None
    pauses: tuple[PauseSpan, ...] = ()  # streak pauses are the member's own (a group's pause isn't theirs)


class Contender(NamedTuple):
    """A roster member as `/top` ranks them: only what ranking and one line of the reply need. A named
    tuple, immutable as the dataclasses are: `/top` builds one per member, and a frozen dataclass takes
    twice as long to build."""

    user_id: int
    name: str
    timezone: str
    joined_on: date  # the group's local date of joining: the member counts for group days from then
    latest: DayState | None
    tasks: int  # tasks checked in over the dates asked for (the group's week so far)
    pauses: tuple[PauseSpan, ...] = ()  # the member's own plan pauses (their streak skips them)


@dataclass(frozen=True, slots=True)
class Standings:
    share: int  # the group's share setting (percent of members for a group day to count)
    contenders: list[Contender]
    days: dict[date, int]  # the kept group days read with them (see `group_checked_per_day`)


class AccountabilityRepo(Protocol):
    """Check-ins, incremental streak states, group rosters and the group-streak share."""

    async def checkin(
        self, user_id: int, on: date, tasks: int, pauses: Sequence[PauseSpan], group: GroupJoin | None = None
    ) -> CheckinOutcome:
        """Add `tasks` to the day's check-in and, made in a group, join its roster: one transaction."""
        ...

    async def undo(self, user_id: int, on: date, pauses: Sequence[PauseSpan]) -> UndoOutcome | None: ...

    async def streak_window(self, user_id: int, since: date) -> StreakWindow:
        """The learner's pauses, the latest state before `since` and every state from `since` on, in one
        connection: `/streak` is read often and each extra round trip costs more than the rows."""
        ...

    async def checkins(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, date, int]]: ...

    async def day_state(self, user_id: int, on: date) -> tuple[int, date | None]:
        """(the task mask checked in for `on`, 0 without one; the latest check-in date on or before `on`):
        what `/today` and the daily push need under a plan day, in one statement."""
        ...

    async def mask_counts(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, int, int]]:
        """(user id, task mask, number of days with that mask) in the dates (inclusive): the week's tasks of a
        whole roster as a few aggregate rows instead of one row per member-day."""
        ...

    async def group_checked_per_day(self, chat_id: int, since: date, until: date) -> dict[date, int]:
        """Per date, how many active members checked in for it on or after the day they joined. Kept up to date
        by check-ins, undos, joins and leaves (as a learner's streak states are), so reading a long group
        streak costs one short row per day, not every member's check-ins."""
        ...

    async def join(self, chat_id: int, user_id: int, now: datetime, on: date) -> bool:
        """Add (or re-activate) a roster member; False when already active (nothing written)."""
        ...

    async def leave(self, chat_id: int, user_id: int) -> bool: ...

    async def roster(self, chat_id: int) -> list[Member]: ...

    async def standings(self, chat_id: int, since: date, until: date, days_since: date) -> Standings:
        """Every active member's latest state, own pauses and tasks in the dates `since`..`until`, the
        group's share and its kept days from `days_since` (none before the first active member joined) up
        to `until`, in one statement: `/top` ranks the whole roster but shows only a few lines."""
        ...

    async def share(self, chat_id: int) -> int: ...

    async def set_share(self, chat_id: int, percent: int) -> None: ...


ACCOUNTABILITY: Port[AccountabilityRepo] = Port("accountability")
