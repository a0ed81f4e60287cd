"""The check-in state under a plan day: which tasks are ✓, whether Done gives way to Undo, and the catch-up
offer. /today, the daily push and a button press read it the same way, so the three never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.accountability.ports import AccountabilityRepo
from bot.core.types import Enrolment, PauseSpan
from bot.plan.calendar import MAX_SHIFT, MIN_MISSED, catch_up_pause, missed_days

ALL_TASKS = 0b111  # bit n-1 is task n of the plan's three daily tasks


@dataclass(frozen=True, slots=True)
class DayLoop:
    done: int = 0  # the task mask checked in for the date shown
    missed: tuple[date, ...] = ()  # active plan days skipped since the last check-in

    @property
    def all_done(self) -> bool:
        return self.done & ALL_TASKS == ALL_TASKS

    def shift(self, today: date) -> PauseSpan | None:
        return catch_up_pause(self.missed, today)

    @property
    def shift_days(self) -> int:
        return min(len(self.missed), MAX_SHIFT) if len(self.missed) >= MIN_MISSED else 0


async def day_loop(repo: AccountabilityRepo, user_id: int, enrolment: Enrolment | None, on: date) -> DayLoop:
    """The learner's state for `on`; the catch-up only for their own plan (a group's cohort moves together)."""
    done, last = await repo.day_state(user_id, on)
    if enrolment is None or enrolment.subject.kind != "user" or done:
        return DayLoop(done)
    since = last + timedelta(days=1) if last is not None else enrolment.start_date
    return DayLoop(done, missed_days(enrolment.start_date, enrolment.pauses, enrolment.jumps, since, on))
