"""Where a learner stands in the plan on a given local date.

A schedule is a start date plus pauses and jumps (`/goto`). The plan day is the number of active
(unpaused) days since the latest anchor, so a pause shifts everything after it and a jump re-anchors.
Dates are the learner's local calendar dates; callers convert instants with the learner's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.types import Jump, PauseSpan
from bot.plan.model import TOTAL_WEEKS

DAYS_PER_WEEK = 7
PLAN_DAYS = TOTAL_WEEKS * DAYS_PER_WEEK
DAYS_PER_PLAN_MONTH = 28
SUNDAY = 6
DEFAULT_READING_DAY = 5  # Saturday (Monday is 0)

Status = Literal["upcoming", "active", "paused", "complete"]
WeeklyKind = Literal["arxiv", "kaggle", "review"]


@dataclass(frozen=True, slots=True)
class PlanDay:
    status: Status
    day_index: int = 0
    days_until_start: int = 0

    @property
    def week(self) -> int:
        """Plan week, 1-based; beyond 20 once the plan is complete."""
        return self.day_index // DAYS_PER_WEEK + 1

    @property
    def day(self) -> int:
        return self.day_index % DAYS_PER_WEEK + 1

    @property
    def in_plan(self) -> bool:
        return self.status in ("active", "paused") and self.day_index < PLAN_DAYS

    @property
    def plan_month_starts(self) -> bool:
        """Monthly tasks fall on the first day of each 4-week plan month, also after week 20."""
        return self.status in ("active", "complete") and self.day_index % DAYS_PER_PLAN_MONTH == 0


def _paused_days(pauses: Sequence[PauseSpan], start: date, end: date) -> int:
    """Days in [start, end) covered by a pause; overlapping pauses (a catch-up over a pause) count once."""
    spans = sorted((max(p.start, start), min(p.end or end, end)) for p in pauses)
    total, reached = 0, start
    for lo, hi in spans:
        lo = max(lo, reached)
        if hi > lo:
            total += (hi - lo).days
            reached = hi
    return total


def is_paused_on(pauses: Sequence[PauseSpan], on: date) -> bool:
    return any(p.start <= on and (p.end is None or on < p.end) for p in pauses)


def plan_day(start: date, on: date, pauses: Sequence[PauseSpan] = (), jumps: Sequence[Jump] = ()) -> PlanDay:
    # A jump is always newer than the start it overrides, so the latest jump on or before `on` wins,
    # even when it was made before a start date that lies in the future.
    anchor_on, anchor_index = start, 0
    for jump in sorted(jumps, key=lambda j: j.on):
        if jump.on <= on:
            anchor_on, anchor_index = jump.on, jump.day_index
    if on < anchor_on:
        return PlanDay("upcoming", 0, (anchor_on - on).days)
    index = anchor_index + (on - anchor_on).days - _paused_days(pauses, anchor_on, on)
    if is_paused_on(pauses, on):
        return PlanDay("paused", min(index, PLAN_DAYS))
    if index >= PLAN_DAYS:
        return PlanDay("complete", index)
    return PlanDay("active", index)


def weekly_slots(on: date, reading_day: int = DEFAULT_READING_DAY) -> tuple[WeeklyKind, ...]:
    """The long-term weekly rhythm: arXiv on the reading day, Kaggle and the review on the next day."""
    weekday = on.weekday()
    slots: list[WeeklyKind] = []
    if weekday == reading_day:
        slots.append("arxiv")
    if weekday == (reading_day + 1) % 7:
        slots += ["kaggle", "review"]
    return tuple(slots)


MIN_MISSED = 2  # missed plan days before a catch-up is offered
MAX_SHIFT = 14  # plan days one catch-up moves at most


def has_tasks(day: PlanDay, on: date, reading_day: int = DEFAULT_READING_DAY) -> bool:
    """A day with something to check in: every active plan day; after week 20 only the slot days."""
    if day.status == "active":
        return True
    return day.status == "complete" and bool(weekly_slots(on, reading_day) or day.plan_month_starts)


def missed_days(
    start: date, pauses: Sequence[PauseSpan], jumps: Sequence[Jump], since: date, today: date
) -> tuple[date, ...]:
    """Active plan days in [since, today): what a learner skipped since their last check-in (or since they
    enrolled). Days before the latest jump don't count: the jump re-anchored the plan after them."""
    first = max([since, start, *(j.on for j in jumps if j.on <= today)])
    count = max((today - first).days, 0)
    days = (first + timedelta(days=n) for n in range(count))
    return tuple(d for d in days if plan_day(start, d, pauses, jumps).status == "active")


def catch_up_pause(missed: Sequence[date], today: date) -> PauseSpan | None:
    """The pause that turns the missed days (at most MAX_SHIFT of the latest) into a break, so today becomes
    the first of them; None below MIN_MISSED."""
    if len(missed) < MIN_MISSED:
        return None
    return PauseSpan(missed[-MAX_SHIFT:][0], today)


def date_of_plan_day(start: date, index: int) -> date:
    """The calendar date of a plan day for a schedule without pauses or jumps (for exports)."""
    return start + timedelta(days=index)
