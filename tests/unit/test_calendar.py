from datetime import date, timedelta

import pytest

from bot.core.clock import local_today
from bot.core.types import Jump, PauseSpan
from bot.plan.calendar import PLAN_DAYS, plan_day, weekly_slots
from tests.support import at, clock_at

START = date(2026, 3, 2)


def test_first_day_is_week_1_day_1() -> None:
    day = plan_day(START, START)
    assert (day.status, day.week, day.day) == ("active", 1, 1)


def test_backdated_17_days_is_week_3_day_4() -> None:
    today = date(2026, 11, 29)
    day = plan_day(today - timedelta(days=17), today)
    assert (day.week, day.day) == (3, 4)


def test_before_start_counts_down() -> None:
    day = plan_day(START, START - timedelta(days=5))
    assert day.status == "upcoming" and day.days_until_start == 5


def test_last_plan_day_and_completion() -> None:
    last = plan_day(START, START + timedelta(days=PLAN_DAYS - 1))
    assert (last.status, last.week, last.day) == ("active", 20, 7)
    after = plan_day(START, START + timedelta(days=PLAN_DAYS))
    assert after.status == "complete" and not after.in_plan


def test_pause_shifts_everything_after_it() -> None:
    pauses = [PauseSpan(START + timedelta(days=3), START + timedelta(days=10))]
    assert plan_day(START, START + timedelta(days=5), pauses).status == "paused"
    resumed = plan_day(START, START + timedelta(days=10), pauses)
    assert (resumed.status, resumed.day_index) == ("active", 3)
    assert plan_day(START, START + timedelta(days=17), pauses).day_index == 10


def test_open_pause_freezes_the_position() -> None:
    pauses = [PauseSpan(START + timedelta(days=8))]
    day = plan_day(START, START + timedelta(days=40), pauses)
    assert (day.status, day.week, day.day) == ("paused", 2, 2)


def test_goto_makes_today_day_1_of_week_n() -> None:
    today = START + timedelta(days=4)
    jumps = [Jump(today, 7 * (8 - 1))]
    assert (plan_day(START, today, jumps=jumps).week, plan_day(START, today, jumps=jumps).day) == (8, 1)
    assert plan_day(START, today + timedelta(days=9), jumps=jumps).week == 9
    # Days before the jump keep their old meaning.
    assert plan_day(START, today - timedelta(days=1), jumps=jumps).week == 1


def test_goto_before_a_future_start_starts_now() -> None:
    today = START - timedelta(days=3)
    day = plan_day(START, today, jumps=[Jump(today, 14)])
    assert (day.status, day.week) == ("active", 3)


def test_pause_before_a_jump_no_longer_matters() -> None:
    pauses = [PauseSpan(START + timedelta(days=1), START + timedelta(days=5))]
    jumps = [Jump(START + timedelta(days=6), 0)]
    assert plan_day(START, START + timedelta(days=8), pauses, jumps).day_index == 2


def test_block_weeks_keep_their_own_number() -> None:
    day = plan_day(START, START + timedelta(days=7 * 5 + 2))
    assert (day.week, day.day) == (6, 3)


def test_year_end_crossing() -> None:
    start = date(2026, 12, 28)
    day = plan_day(start, date(2027, 1, 4))
    assert (day.week, day.day) == (2, 1)


def test_monthly_slot_on_plan_month_starts() -> None:
    assert plan_day(START, START).plan_month_starts
    assert plan_day(START, START + timedelta(days=28)).plan_month_starts
    assert not plan_day(START, START + timedelta(days=27)).plan_month_starts
    assert plan_day(START, START + timedelta(days=PLAN_DAYS)).plan_month_starts  # the rhythm continues


def test_weekly_slots_follow_the_reading_day() -> None:
    saturday, sunday = date(2026, 11, 28), date(2026, 11, 29)
    assert weekly_slots(saturday) == ("arxiv",)
    assert weekly_slots(sunday) == ("kaggle", "review")
    assert weekly_slots(date(2026, 11, 25), reading_day=2) == ("arxiv",)


@pytest.mark.parametrize(
    ("tz", "switch"),
    [
        ("America/New_York", "2026-03-08"),
        ("America/New_York", "2026-11-01"),
        ("Europe/Berlin", "2026-03-29"),
        ("Europe/Berlin", "2026-10-25"),
    ],
)
def test_local_days_across_dst_switches(tz: str, switch: str) -> None:
    """Day boundaries stay at local midnight on the 23- and 25-hour days."""
    switch_day = date.fromisoformat(switch)
    start = switch_day - timedelta(days=1)
    clock = clock_at(f"{start} 23:59", tz)
    assert plan_day(start, local_today(clock, tz)).day == 1
    clock.set(at(f"{switch_day} 00:01", tz))
    assert plan_day(start, local_today(clock, tz)).day == 2
    clock.set(at(f"{switch_day} 23:59", tz))
    assert plan_day(start, local_today(clock, tz)).day == 2
    clock.advance(timedelta(minutes=2))
    assert local_today(clock, tz) == switch_day + timedelta(days=1)
    assert plan_day(start, local_today(clock, tz)).day == 3


def test_utc_server_midnight_is_not_the_learners_midnight() -> None:
    clock = clock_at("2026-11-29 23:30", "UTC")
    assert local_today(clock, "Asia/Shanghai") == date(2026, 11, 30)
    assert local_today(clock, "America/Los_Angeles") == date(2026, 11, 29)
