"""Catch-up arithmetic: which plan days were missed, the pause that shifts them, overlapping pauses."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.types import Jump, PauseSpan
from bot.plan.calendar import MAX_SHIFT, catch_up_pause, has_tasks, missed_days, plan_day

START = date(2026, 11, 1)


def test_missed_days_are_the_active_days_since_the_last_check_in() -> None:
    today = date(2026, 11, 10)
    assert missed_days(START, (), (), date(2026, 11, 8), today) == (date(2026, 11, 8), date(2026, 11, 9))
    paused = (PauseSpan(date(2026, 11, 8), date(2026, 11, 9)),)
    assert missed_days(START, paused, (), date(2026, 11, 8), today) == (date(2026, 11, 9),)
    jumped = (Jump(date(2026, 11, 9), 21),)  # days before a jump don't count: it re-anchored the plan
    assert missed_days(START, (), jumped, date(2026, 11, 2), today) == (date(2026, 11, 9),)


def test_the_catch_up_pause_makes_today_the_first_missed_day() -> None:
    today = date(2026, 11, 10)
    missed = missed_days(START, (), (), date(2026, 11, 6), today)
    pause = catch_up_pause(missed, today)
    assert pause == PauseSpan(date(2026, 11, 6), today)
    assert plan_day(START, today, (pause,)) == plan_day(START, date(2026, 11, 6))
    assert catch_up_pause(missed[:1], today) is None  # one missed day is no reason to shift


def test_a_catch_up_over_an_older_pause_counts_each_day_once() -> None:
    today = date(2026, 11, 30)
    old = PauseSpan(date(2026, 11, 10), date(2026, 11, 15))
    missed = missed_days(START, (old,), (), date(2026, 11, 8), today)
    pause = catch_up_pause(missed, today)
    assert pause is not None and len(missed[-MAX_SHIFT:]) == MAX_SHIFT
    before = plan_day(START, today, (old,))
    after = plan_day(START, today, (old, pause))
    assert before.day_index - after.day_index == MAX_SHIFT
    overlapping = (old, PauseSpan(date(2026, 11, 12), date(2026, 11, 20)))
    assert plan_day(START, today, overlapping).day_index == 29 - 10  # 10 paused days, not 13


def test_after_week_20_only_slot_days_have_tasks() -> None:
    done = plan_day(START, START + timedelta(days=150))  # complete
    wednesday, saturday = date(2027, 4, 7), date(2027, 4, 10)
    assert done.status == "complete"
    assert not has_tasks(plan_day(START, wednesday), wednesday) and has_tasks(plan_day(START, saturday), saturday)
    assert has_tasks(plan_day(START, START), START)
