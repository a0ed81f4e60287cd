"""The /export calendar: remaining plan days as all-day events in an iCalendar (.ics) file.

UIDs are stable per learner and date, so importing a fresh export again updates events instead of
duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

PRODID = "-//StudyBuddy//20-week plan//EN"


@dataclass(frozen=True, slots=True)
class ExportDay:
    """One all-day calendar event."""

    on: date
    uid: str
    summary: str
    description: str


def to_ics(days: Sequence[ExportDay], name: str, stamp: datetime) -> bytes:
    """`stamp` (aware, UTC) is the DTSTAMP every event needs: the injected clock's now."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for day in days:
        event = Event()
        event.add("uid", day.uid)
        event.add("dtstamp", stamp)
        event.add("summary", day.summary)
        event.add("description", day.description)
        event.add("dtstart", day.on)  # a date, not a datetime: an all-day event in any timezone
        event.add("dtend", day.on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()  # icalendar types it loosely
    return data
