from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.schedule import Recurrence, local_instant, next_occurrence, occurrences


@pytest.mark.parametrize(
    ("day", "tz", "expected_local"),
    [
        (date(2026, 3, 29), "Europe/Berlin", "2026-03-29 03:00+02:00"),  # 02:30 does not exist: fire at the jump
        (date(2026, 10, 25), "Europe/Berlin", "2026-10-25 02:30+02:00"),  # 02:30 happens twice: the first one
        (date(2026, 3, 8), "America/New_York", "2026-03-08 03:00-04:00"),
        (date(2026, 11, 1), "America/New_York", "2026-11-01 02:30-05:00"),
        (date(2026, 6, 1), "Asia/Shanghai", "2026-06-01 02:30+08:00"),
    ],
)
def test_local_instant_across_dst(day: date, tz: str, expected_local: str) -> None:
    instant = local_instant(day, time(2, 30), tz)
    assert instant.tzinfo is UTC
    assert instant == datetime.fromisoformat(expected_local)


@pytest.mark.parametrize(
    ("tz", "first", "switch"),
    [
        ("Europe/Berlin", "2026-03-27", "2026-03-29"),
        ("Europe/Berlin", "2026-10-23", "2026-10-25"),
        ("America/New_York", "2026-03-06", "2026-03-08"),
        ("America/New_York", "2026-10-30", "2026-11-01"),
    ],
)
def test_a_0230_reminder_fires_once_per_local_day_around_a_switch(tz: str, first: str, switch: str) -> None:
    recurrence = Recurrence(time(2, 30), tz)
    start = datetime.fromisoformat(first).replace(tzinfo=ZoneInfo(tz))
    found = occurrences(recurrence, start, start + timedelta(days=5))
    days = [o.local_date for o in found]
    assert days == sorted(set(days)) and len(days) == 5
    assert date.fromisoformat(switch) in days
    for occurrence in found:
        assert occurrence.due_at.astimezone(ZoneInfo(tz)).date() == occurrence.local_date


def test_weekly_recurrence_and_next_occurrence() -> None:
    saturday_reading = Recurrence(time(8, 0), "Asia/Tokyo", weekday=5)
    after = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sunday 09:00 in Tokyo
    occurrence = next_occurrence(saturday_reading, after)
    assert occurrence.local_date == date(2026, 12, 5)
    assert occurrence.due_at == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def test_next_occurrence_is_strictly_after() -> None:
    daily = Recurrence(time(9, 0), "UTC")
    at_nine = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert next_occurrence(daily, at_nine).local_date == date(2026, 11, 30)
    assert next_occurrence(daily, at_nine - timedelta(seconds=1)).local_date == date(2026, 11, 29)
