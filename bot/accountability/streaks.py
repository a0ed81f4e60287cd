"""Streak rules, pure: no database, no clock. Every date here is a learner's own local calendar date.

The rules (what `/streak` explains):

- A day **counts** when the learner checked in at least one task for it. Check-ins are keyed by the local
  date at check-in time in the learner's own timezone, so after a timezone change a date can never count
  twice (storage keeps one check-in per user and date); a DST day is just another local date.
- A **paused** day (the learner's own plan paused, `is_paused_on`) without a check-in neither breaks nor
  extends a streak: it is skipped as if it did not exist. A check-in cannot be made for a paused day; one
  made before `/pause` on the same day still counts.
- Between two counted days, the skipped-over non-paused days are **missed**. Exactly one missed day is
  covered by a held **freeze** (the freeze is spent, the day shows as frozen, the run goes on). Two or more
  consecutive missed days break the run; no freeze is spent on a break, so held freezes are kept.
- Frozen days keep the run alive but do not add to it: `current` counts counted days only.
- Every 7th counted day of a run earns a freeze; at most `MAX_FREEZES` are held (an earning at the cap is
  lost). Undoing that day's check-in takes the freeze back, because the day's state is simply dropped.
- Today is never missed yet; before noon local time, yesterday is still open too (`/done yesterday`).
  A single missed day behind the open days is shown frozen ahead of time when a freeze is held (it will be
  spent by the next check-in); with no freeze, or two missed days, the current streak shows 0.

Incremental state: each counted day stores a `DayState` (the run after that day). A new check-in only
needs the latest state before its date (`advance`), and an undo just deletes the day's state, so no
check-in or undo ever scans a learner's whole history; `replay` recomputes from scratch for tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.types import PauseSpan
from bot.plan.calendar import is_paused_on

MAX_FREEZES = 2
FREEZE_EVERY = 7
WHY_DAYS = 14
NOON = 12

Why = Literal["counted", "frozen", "paused", "missed", "open", "not_started"]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DayState:
    """The run as it stands after the counted day `on` (stored per counted day)."""

    on: date
    current: int
    best: int
    freezes: int
    run_start: date
    frozen: date | None = None  # the single missed day this check-in covered with a freeze
    earned: bool = False  # this day earned a freeze


@dataclass(frozen=True, slots=True)
class Standing:
    """A learner's streak as seen today."""

    current: int
    best: int
    freezes: int
    alive: bool
    run_start: date | None = None
    pending_freeze: date | None = None  # a missed day a held freeze will cover


def open_days_between(after: date, before: date, pauses: Sequence[PauseSpan], limit: int = 2) -> list[date]:
    """Non-paused dates strictly between `after` and `before`; stops at `limit` (more can't change a rule)."""
    out: list[date] = []
    day = after + ONE_DAY
    while day < before and len(out) < limit:
        if not is_paused_on(pauses, day):
            out.append(day)
        day += ONE_DAY
    return out


def advance(prev: DayState | None, on: date, pauses: Sequence[PauseSpan] = ()) -> DayState:
    """The state after counting `on`, given the state of the latest counted day before it."""
    if prev is None:
        current, freezes, run_start, frozen = 1, 0, on, None
    else:
        if on <= prev.on:
            raise ValueError(f"{on} is not after the previous counted day {prev.on}")
        gap = open_days_between(prev.on, on, pauses)
        frozen = None
        if not gap:
            current, freezes, run_start = prev.current + 1, prev.freezes, prev.run_start
        elif len(gap) == 1 and prev.freezes > 0:
            current, freezes, run_start, frozen = prev.current + 1, prev.freezes - 1, prev.run_start, gap[0]
        else:
            current, freezes, run_start = 1, prev.freezes, on
    earned = current % FREEZE_EVERY == 0 and freezes < MAX_FREEZES
    if earned:
        freezes += 1
    best = max(prev.best if prev else 0, current)
    return DayState(on, current, best, freezes, run_start, frozen, earned)


def replay(days: Iterable[date], pauses: Sequence[PauseSpan] = (), base: DayState | None = None) -> list[DayState]:
    """States for counted `days` (any order, duplicates ignored) after `base`; the reference for tests."""
    out: list[DayState] = []
    prev = base
    for day in sorted(set(days)):
        prev = advance(prev, day, pauses)
        out.append(prev)
    return out


def open_from(today: date, grace: bool) -> date:
    """The first day that is still open for check-ins: today, or yesterday before noon."""
    return today - ONE_DAY if grace else today


def standing(latest: DayState | None, today: date, pauses: Sequence[PauseSpan] = (), grace: bool = False) -> Standing:
    """The streak today from the latest counted day's state (missed days before the open ones decide)."""
    if latest is None:
        return Standing(0, 0, 0, False)
    first_open = open_from(today, grace)
    gap = open_days_between(latest.on, first_open, pauses) if latest.on < first_open else []
    if not gap:
        return Standing(latest.current, latest.best, latest.freezes, True, latest.run_start)
    if len(gap) == 1 and latest.freezes > 0:
        return Standing(latest.current, latest.best, latest.freezes - 1, True, latest.run_start, gap[0])
    return Standing(0, latest.best, latest.freezes, False)


@dataclass(frozen=True, slots=True)
class RunDays:
    """What the per-day reasons need of a run over a window: the days that counted, the days a freeze
    covered, the latest state and the first counted day known. Storage builds it straight from the
    window's rows: a `DayState` per day cost more than all the rest of rendering `/streak`."""

    latest: DayState | None  # the latest counted day's state (inside the window, else the one before it)
    first_on: date | None  # the earliest counted day read: the one before the window, else the window's first
    counted: frozenset[date]  # the counted days inside the window
    frozen: frozenset[date]  # the missed days inside the window that a freeze covered

    @classmethod
    def of(cls, base: DayState | None, states: Sequence[DayState]) -> RunDays:
        """From full states: `base` the latest one before the window (None when the learner never checked
        in before it), `states` the counted days' states inside it, oldest first."""
        return cls(
            states[-1] if states else base,
            base.on if base is not None else (states[0].on if states else None),
            frozenset(state.on for state in states),
            frozenset(state.frozen for state in states if state.frozen is not None),
        )


NO_RUN = RunDays(None, None, frozenset(), frozenset())


def why_days(
    run: RunDays,
    today: date,
    pauses: Sequence[PauseSpan] = (),
    grace: bool = False,
    days: int = WHY_DAYS,
) -> list[tuple[date, Why]]:
    """One reason per day for the last `days` days, oldest first; `run` needs a bounded query only."""
    counted, frozen, first_ever = run.counted, run.frozen, run.first_on
    pending = standing(run.latest, today, pauses, grace).pending_freeze
    first_open = open_from(today, grace)
    out: list[tuple[date, Why]] = []
    day = today - timedelta(days=days - 1)
    for _ in range(days):
        why: Why
        if day in counted:
            why = "counted"
        elif day in frozen or day == pending:
            why = "frozen"
        elif day >= first_open:
            why = "open"
        elif pauses and is_paused_on(pauses, day):
            why = "paused"
        elif first_ever is None or day < first_ever:
            why = "not_started"
        else:
            why = "missed"
        out.append((day, why))
        day += ONE_DAY
    return out


def task_count(mask: int) -> int:
    """Task n of the day is bit n-1 of a check-in's mask."""
    return bin(mask & 0b111).count("1")


def group_day_counts(share: int, checked: Mapping[date, int], eligible: Callable[[date], int], day: date) -> bool:
    """A group's day counts when at least `share` percent of its eligible members checked in for it."""
    members = eligible(day)
    return members > 0 and checked.get(day, 0) * 100 >= share * members


def group_streak(
    share: int, checked: Mapping[date, int], eligible: Callable[[date], int], today: date, window: int
) -> int:
    """Consecutive counted group days ending today (or yesterday while today is still open)."""
    day = today if group_day_counts(share, checked, eligible, today) else today - ONE_DAY
    streak = 0
    while streak < window and group_day_counts(share, checked, eligible, day):
        streak += 1
        day -= ONE_DAY
    return streak
