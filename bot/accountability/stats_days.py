"""What each day of the /stats heatmap shows, pure: the streak rules' reasons plus the learner's start date.

`why_days` (the reasons `/streak` explains) calls every day before the first check-in "not started"; the picture
is about the plan, so a day from the plan's start on without a check-in is missed there, and only the days
before the start are told apart as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.accountability.streaks import Why, task_count

Mark = Literal["before_start", "missed", "paused", "frozen", "open", "checked"]


@dataclass(frozen=True, slots=True)
class DayCell:
    """One heatmap cell: what the day was, and for a checked-in day how many of its three tasks were done."""

    mark: Mark
    tasks: int = 0


def day_cells(
    reasons: Sequence[tuple[date, Why]], tasks_by_day: Mapping[date, int], start: date | None
) -> dict[date, DayCell]:
    """A cell per day of `reasons` (the streak reasons of the window); `start` is the plan's start, if any."""
    cells: dict[date, DayCell] = {}
    for day, why in reasons:
        tasks = task_count(tasks_by_day.get(day, 0))
        if why == "counted" or tasks:
            cells[day] = DayCell("checked", max(tasks, 1))
        elif why in ("frozen", "paused", "open"):
            cells[day] = DayCell(why)
        elif (start is None and why == "not_started") or (start is not None and day < start):
            cells[day] = DayCell("before_start")
        else:
            cells[day] = DayCell("missed")
    return cells


def window_start(today: date, weeks: int) -> date:
    """The Monday `weeks - 1` weeks before the one holding `today`: the heatmap's first day."""
    return today - timedelta(days=today.weekday() + 7 * (weeks - 1))
