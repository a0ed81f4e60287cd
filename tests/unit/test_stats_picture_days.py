"""Which kind of cell each heatmap day gets, from the real streak rules."""

from __future__ import annotations

from datetime import date, timedelta

from bot.accountability.stats_days import DayCell, day_cells, window_start
from bot.accountability.streaks import RunDays, replay, why_days
from bot.core.types import PauseSpan

TODAY = date(2026, 12, 14)
START = date(2026, 11, 29)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def cells(
    checked: dict[date, int], pauses: tuple[PauseSpan, ...], start: date | None, grace: bool = False
) -> dict[date, DayCell]:
    first = window_start(TODAY, 4)
    states = replay(checked, pauses)
    reasons = why_days(RunDays.of(None, states), TODAY, pauses, grace, days=(TODAY - first).days + 1)
    return day_cells(reasons, checked, start)


def test_each_kind_of_day() -> None:
    checked = {day: 0b111 for day in days(START, date(2026, 12, 5))}  # 7 days: a freeze earned
    checked[date(2026, 12, 7)] = 0b001  # the missed 6th is covered by the freeze
    checked[date(2026, 12, 11)] = 0b011
    pauses = (PauseSpan(date(2026, 12, 8), date(2026, 12, 11)),)
    got = cells(checked, pauses, START)
    assert got[date(2026, 11, 28)] == DayCell("before_start")
    assert got[START] == DayCell("checked", 3)
    assert got[date(2026, 12, 6)] == DayCell("frozen")
    assert got[date(2026, 12, 7)] == DayCell("checked", 1)
    assert {got[day] for day in days(date(2026, 12, 8), date(2026, 12, 10))} == {DayCell("paused")}
    assert got[date(2026, 12, 11)] == DayCell("checked", 2)
    assert got[date(2026, 12, 12)] == got[date(2026, 12, 13)] == DayCell("missed")
    assert got[TODAY] == DayCell("open")
    assert min(got) == window_start(TODAY, 4) and max(got) == TODAY


def test_days_from_the_start_without_a_check_in_are_missed_not_before_the_start() -> None:
    """/streak says "before your first check-in"; the picture is about the plan, which had started."""
    got = cells({date(2026, 12, 3): 1}, (), START)
    assert got[date(2026, 11, 28)] == DayCell("before_start")
    assert got[date(2026, 11, 30)] == DayCell("missed")
    assert got[date(2026, 12, 3)] == DayCell("checked", 1)


def test_without_a_plan_the_first_check_in_is_the_start() -> None:
    got = cells({date(2026, 12, 3): 1}, (), None)
    assert got[date(2026, 12, 2)] == DayCell("before_start")
    assert got[date(2026, 12, 4)] == DayCell("missed")


def test_yesterday_stays_open_before_noon() -> None:
    got = cells({date(2026, 12, 12): 1}, (), START, grace=True)
    assert got[TODAY - timedelta(days=1)] == DayCell("open")
