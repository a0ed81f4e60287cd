"""Daily reminder arithmetic for every zone kind we serve, exhaustively and without a database.

Thirty zones (whole-hour, half-hour and DST-switching ones, north and south) times every :00/:30 reminder
time, over 27 Mar - 6 Apr 2026, which holds Europe's spring-forward (29 Mar) and the southern fall-backs
(5 Apr). A scheduler loop is replayed the way the delivery tick does it (fire what is due, move on to the
next occurrence after now), at 15-minute ticks and after downtime. The database-backed run of the same
loop is `test_users_in_thirty_zones_over_ten_days_with_dst` in tests/integration/test_delivery.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.schedule import Occurrence, Recurrence, next_occurrence, occurrences
from tests.support import THIRTY_ZONES as ZONES

EUROPE_DST = {"Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Athens", "Europe/Helsinki"}
EUROPE_SWITCH = date(2026, 3, 29)  # the only spring-forward in the window
START = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
END = datetime(2026, 4, 6, 0, 0, tzinfo=UTC)
TIMES = [time(hour, minute) for hour in range(24) for minute in (0, 30)]


def replay(recurrence: Recurrence, ticks: list[datetime]) -> list[tuple[Occurrence, datetime]]:
    """The tick loop: at each tick, an occurrence that has come due fires, and the schedule moves on to the
    first occurrence after that tick (missed ones in between are not fired here: that is the catch-up
    policy's business, tested in test_delivery)."""
    fired: list[tuple[Occurrence, datetime]] = []
    pending = next_occurrence(recurrence, ticks[0] - timedelta(microseconds=1))
    for now in ticks:
        if pending.due_at <= now:
            fired.append((pending, now))
            pending = next_occurrence(recurrence, now)
            assert pending.due_at > now  # the loop never stalls on a passed occurrence
    return fired


def quarter_hours(start: datetime, end: datetime) -> list[datetime]:
    steps = int((end - start) / timedelta(minutes=15))
    return [start + timedelta(minutes=15 * n) for n in range(1, steps + 1)]


def local_days(zone: str) -> list[date]:
    """The local days wholly inside the window (a partial first/last day may or may not fire)."""
    first = START.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    last = (END - timedelta(seconds=1)).astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def exists(day: date, at: time, zone: str) -> bool:
    local = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local.replace(tzinfo=None)


@pytest.mark.parametrize("zone", ZONES)
def test_every_reminder_time_fires_once_a_local_day_at_its_time_or_at_the_jump(zone: str) -> None:
    ticks = quarter_hours(START, END)
    tz = ZoneInfo(zone)
    for at in TIMES:
        fired = replay(Recurrence(at, zone), ticks)
        days = [occurrence.local_date for occurrence, _ in fired]
        assert len(days) == len(set(days)), (zone, at, days)  # never twice a day, fall-back days included
        assert set(local_days(zone)) <= set(days), (zone, at)  # and no whole local day without it
        for occurrence, when in fired:
            assert when == occurrence.due_at  # every due instant lies on a 15-minute tick: fired on time
            local = occurrence.due_at.astimezone(tz)
            assert local.date() == occurrence.local_date
            if exists(occurrence.local_date, at, zone):
                assert local.time() == at, (zone, at, local)
                # an ambiguous fall-back time fires at its first occurrence (the earlier, summer offset)
                assert local.utcoffset() == datetime.combine(occurrence.local_date, at, tzinfo=tz).utcoffset()
            else:  # inside a spring-forward gap: at the instant the clocks jump over it
                assert zone in EUROPE_DST, (zone, at)
                assert occurrence.local_date == EUROPE_SWITCH
                assert local.time() > at and (occurrence.due_at - timedelta(minutes=1)).astimezone(tz).time() < at


def test_the_gap_and_the_overlap_in_numbers() -> None:
    berlin = Recurrence(time(2, 30), "Europe/Berlin")
    spring = next_occurrence(berlin, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert spring == Occurrence(date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 03:00 CEST
    sydney = Recurrence(time(2, 30), "Australia/Sydney")  # 02:30 happens twice on 5 Apr 2026
    autumn = next_occurrence(sydney, datetime(2026, 4, 4, 12, 0, tzinfo=UTC))
    assert autumn == Occurrence(date(2026, 4, 5), datetime(2026, 4, 4, 15, 30, tzinfo=UTC))  # +11:00, the first
    after = next_occurrence(sydney, autumn.due_at)
    assert after.local_date == date(2026, 4, 6)  # not again an hour later (+10:00)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Australia/Adelaide", "America/St_Johns", "Asia/Kolkata"])
def test_after_downtime_the_loop_moves_past_now_and_lists_what_it_missed(zone: str) -> None:
    recurrence = Recurrence(time(9, 0), zone)
    due = next_occurrence(recurrence, START)
    for down in (timedelta(hours=20), timedelta(days=2, hours=5), timedelta(days=9)):
        now = due.due_at + down
        missed = [due, *occurrences(recurrence, due.due_at, now)]
        dates = [o.local_date for o in missed]
        assert dates == [due.local_date + timedelta(days=n) for n in range(len(dates))]  # each day once, in order
        assert all(o.due_at <= now for o in missed)
        following = next_occurrence(recurrence, now)
        assert following.due_at > now and following.local_date == dates[-1] + timedelta(days=1)


def test_sparse_ticks_fire_late_but_once_per_day() -> None:
    """A tick every 5 hours (a loaded or sleeping machine): each day's reminder still goes out once, at the
    first tick after it is due."""
    recurrence = Recurrence(time(7, 30), "America/New_York")
    ticks = [START + timedelta(hours=5 * n) for n in range(1, 48)]
    fired = replay(recurrence, ticks)
    days = [occurrence.local_date for occurrence, _ in fired]
    assert len(days) == len(set(days)) and len(days) >= 8
    for occurrence, when in fired:
        assert timedelta(0) <= when - occurrence.due_at < timedelta(hours=5)
