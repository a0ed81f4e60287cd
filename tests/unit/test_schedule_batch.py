"""The tick's grouped arithmetic: one outcome per (recurrence, due occurrence) must be exactly what the
per-schedule rule gives each schedule, DST switch days and catch-up after downtime included."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.schedule import (
    MAX_CATCH_UP_DAYS,
    DueCalendar,
    Occurrence,
    Recurrence,
    due_outcome,
    next_occurrence,
    occurrences,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Etc/GMT+5",
]
TIMES = [time(0, 0), time(0, 30), time(1, 30), time(2, 0), time(2, 30), time(3, 0), time(8, 0), time(23, 45)]
SWITCHES = [  # instants near DST transitions in the zones above (2026)
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin springs forward
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe and Santiago fall back
    datetime(2026, 9, 6, 4, 0, tzinfo=UTC),  # Santiago springs forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin falls back
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
]


def per_schedule(recurrence: Recurrence, due: Occurrence, now: datetime) -> tuple[list[Occurrence], date, Occurrence]:
    """The rule as the tick applied it to each schedule on its own before it was grouped."""
    missed = [due, *occurrences(recurrence, due.due_at, now)]
    today = now.astimezone(ZoneInfo(recurrence.timezone)).date()
    return missed[-MAX_CATCH_UP_DAYS:], today, next_occurrence(recurrence, now)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grouped_outcomes_equal_the_per_schedule_rule(seed: int) -> None:
    rng = random.Random(seed)
    now = rng.choice(SWITCHES) + timedelta(minutes=rng.randrange(-180, 180))
    schedules = []
    for _ in range(3000):
        weekday = rng.choice([None, None, None, rng.randrange(7)])
        recurrence = Recurrence(rng.choice(TIMES), rng.choice(ZONES), weekday)
        down = timedelta(minutes=rng.choice([1, 30, 600, 1500, 3 * 1440, 12 * 1440, 40 * 1440]))
        due = next_occurrence(recurrence, now - down)
        if due.due_at <= now:
            schedules.append((recurrence, due))
    calendar = DueCalendar(now)
    for recurrence, due in schedules:
        outcome = calendar.outcome(recurrence, due)
        record, today, advance = per_schedule(recurrence, due, now)
        assert (list(outcome.record), outcome.today, outcome.advance) == (record, today, advance), recurrence
        assert calendar.advance(recurrence) == advance
        assert outcome == due_outcome(recurrence, due, now)
    distinct = {(recurrence, due) for recurrence, due in schedules}
    assert calendar.computed == len(distinct) < len(schedules) / 2  # worked out per group, not per schedule


def test_every_recorded_and_next_occurrence_keeps_the_local_rules_on_switch_days() -> None:
    rng = random.Random(7)
    for now in SWITCHES:
        calendar = DueCalendar(now)
        for zone in ZONES:
            for at in TIMES:
                recurrence = Recurrence(at, zone)
                due = next_occurrence(recurrence, now - timedelta(days=rng.randrange(1, 11)))
                outcome = calendar.outcome(recurrence, due)
                days = [o.local_date for o in outcome.record]
                assert outcome.record[0] == due or len(outcome.record) == MAX_CATCH_UP_DAYS
                assert days == sorted(set(days)) and all(o.due_at <= now for o in outcome.record)
                assert outcome.advance.due_at > now >= outcome.record[-1].due_at
                local = outcome.advance.due_at.astimezone(ZoneInfo(zone))
                assert local.date() == outcome.advance.local_date
                assert local.time() >= at  # on time, or at the jump out of a spring-forward gap


def test_a_gap_day_and_a_doubled_hour_each_fire_once() -> None:
    berlin = Recurrence(time(2, 30), "Europe/Berlin")
    due = Occurrence(date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 02:30 doesn't exist: 03:00 CEST
    outcome = DueCalendar(due.due_at + timedelta(seconds=30)).outcome(berlin, due)
    assert outcome.record == (due,) and outcome.today == date(2026, 3, 29)
    assert outcome.advance == Occurrence(date(2026, 3, 30), datetime(2026, 3, 30, 0, 30, tzinfo=UTC))

    new_york = Recurrence(time(1, 30), "America/New_York")
    first = Occurrence(date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT, the first one
    after_the_second = datetime(2026, 11, 1, 6, 31, tzinfo=UTC)  # 01:31 EST: 01:30 came round again
    outcome = DueCalendar(after_the_second).outcome(new_york, first)
    assert outcome.record == (first,)
    assert outcome.advance == Occurrence(date(2026, 11, 2), datetime(2026, 11, 2, 6, 30, tzinfo=UTC))


def test_a_long_downtime_records_only_the_last_days_and_today() -> None:
    daily = Recurrence(time(8, 0), "Asia/Kolkata")
    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata
    due = next_occurrence(daily, now - timedelta(days=20))
    outcome = DueCalendar(now).outcome(daily, due)
    assert len(outcome.record) == MAX_CATCH_UP_DAYS
    assert [o.local_date for o in outcome.record][-1] == outcome.today == date(2026, 11, 30)
    assert outcome.advance.local_date == date(2026, 12, 1)
