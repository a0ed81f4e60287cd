"""When pushes fall due: recurring local wall-clock times turned into UTC instants, DST included.

Each subject (a learner, or a group chat) has one schedule row per kind of push (bot/delivery/kinds.py)
with the next UTC instant it is due. A tick asks storage for rows whose instant has passed, records outbox
rows for them and moves each schedule on to its next local occurrence, so a loop never stalls after downtime.
The arithmetic is done once per (recurrence, due occurrence), not once per subject (`DueCalendar`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import takewhile
from zoneinfo import ZoneInfo

from bot.core.types import SubjectRef

MAX_CATCH_UP_DAYS = 8
MIN_GAP = timedelta(hours=22)  # two local days' occurrences are at least 23 h apart


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A local wall-clock time, every day or on one weekday (Monday is 0)."""

    at: time
    timezone: str
    weekday: int | None = None


@dataclass(frozen=True, slots=True)
class Occurrence:
    local_date: date
    due_at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class DesiredSchedule:
    subject: SubjectRef
    kind: str  # a registered push kind's name
    recurrence: Recurrence


@dataclass(frozen=True, slots=True)
class DueOutcome:
    """What a due schedule comes to at one instant: the occurrences to record and where it moves on to."""

    record: tuple[Occurrence, ...]  # the due one and any passed since, oldest first, at most MAX_CATCH_UP_DAYS
    today: date  # the subject's local date now: a recorded occurrence on another date was missed
    advance: Occurrence  # the first occurrence after now


def local_instant(on: date, at: time, timezone: str) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time inside a spring-forward gap (02:30 in Berlin on the last Sunday of March) maps to the instant
    the clocks jump over it, and an ambiguous fall-back time to its first occurrence, so a daily reminder
    fires exactly once on both switch days.
    """
    zone = ZoneInfo(timezone)
    local = datetime.combine(on, at, tzinfo=zone)  # fold=0: the earlier offset
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        # In a gap fold=0 lands after the jump (02:30 CET is 03:30 CEST); walk back to the jump itself.
        for _ in range(180):  # gaps are at most a couple of hours
            before = (instant - timedelta(minutes=1)).astimezone(zone)
            if before.date() != on or before.time() < at:
                break
            instant -= timedelta(minutes=1)
    return instant


def iter_occurrences(recurrence: Recurrence, after: datetime) -> Iterator[Occurrence]:
    """Occurrences strictly after `after`, oldest first (local dates in the subject's zone)."""
    day = after.astimezone(ZoneInfo(recurrence.timezone)).date() - timedelta(days=1)
    while True:
        if recurrence.weekday is None or day.weekday() == recurrence.weekday:
            due = local_instant(day, recurrence.at, recurrence.timezone)
            if due > after:
                yield Occurrence(day, due)
        day += timedelta(days=1)


def occurrences(recurrence: Recurrence, after: datetime, until: datetime) -> list[Occurrence]:
    """Occurrences with after < due_at <= until."""
    if until - after < MIN_GAP:  # nothing recurs faster than daily, DST days included
        return []
    return list(takewhile(lambda o: o.due_at <= until, iter_occurrences(recurrence, after)))


def next_occurrence(recurrence: Recurrence, after: datetime) -> Occurrence:
    """The first occurrence strictly after `after`."""
    return next(iter_occurrences(recurrence, after))


def due_outcome(recurrence: Recurrence, due: Occurrence, now: datetime) -> DueOutcome:
    """The catch-up rule for one schedule whose occurrence `due` has passed by `now`."""
    return _outcome(recurrence, due, now, next_occurrence(recurrence, now))


def _outcome(recurrence: Recurrence, due: Occurrence, now: datetime, advance: Occurrence) -> DueOutcome:
    missed = [due, *occurrences(recurrence, due.due_at, now)]
    today = now.astimezone(ZoneInfo(recurrence.timezone)).date()
    return DueOutcome(tuple(missed[-MAX_CATCH_UP_DAYS:]), today, advance)


class DueCalendar:
    """`due_outcome` at one instant, memoized: the thousands of schedules due in a minute share a few zones,
    times and due occurrences, so each distinct one is worked out once (next instants once per recurrence)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._next: dict[Recurrence, Occurrence] = {}
        self._outcomes: dict[tuple[Recurrence, Occurrence], DueOutcome] = {}

    def advance(self, recurrence: Recurrence) -> Occurrence:
        found = self._next.get(recurrence)
        if found is None:
            found = self._next[recurrence] = next_occurrence(recurrence, self.now)
        return found

    def outcome(self, recurrence: Recurrence, due: Occurrence) -> DueOutcome:
        key = (recurrence, due)
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = _outcome(recurrence, due, self.now, self.advance(recurrence))
        return found

    @property
    def computed(self) -> int:
        """How many distinct (recurrence, due occurrence) outcomes were worked out."""
        return len(self._outcomes)
