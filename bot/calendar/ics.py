"""A `PlanCalendar` as iCalendar (RFC 5545) bytes: the feed and `/export` send the same file.

Events are local times with a TZID and its VTIMEZONE, so 08:00 stays 08:00 across a DST change. DTSTAMP
is the instant the content last changed (not the time of the request), so an unchanged feed is
byte-for-byte the same and its ETag holds.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar.days import PlanCalendar

PRODID = "-//StudyBuddy//20-week plan//EN"
REFRESH = timedelta(hours=4)  # how often subscribers should fetch again (apps may stretch it)
FORMAT = "2"  # bump when the file's shape changes, so every feed's ETag changes with it


def calendar_digest(calendar: PlanCalendar) -> str:
    """A hash of everything the file shows, for the ETag and for knowing when the content changed."""
    return hashlib.sha256(f"{FORMAT}|{calendar!r}".encode()).hexdigest()


def to_ics(calendar: PlanCalendar, stamp: datetime) -> bytes:
    """`stamp` (aware) becomes every event's DTSTAMP."""
    from icalendar import Calendar, Event, vDuration  # imported by the first calendar, not by every start

    zone = ZoneInfo(calendar.timezone)
    ical = Calendar()
    ical.add("prodid", PRODID)
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("method", "PUBLISH")
    ical.add("x-wr-calname", calendar.name)
    ical.add("name", calendar.name)
    ical.add("x-wr-timezone", calendar.timezone)
    ical.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    ical.add("x-published-ttl", vDuration(REFRESH))
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    for day in calendar.days:
        start = datetime.combine(day.on, calendar.at, zone)
        end = (start.astimezone(UTC) + timedelta(minutes=day.minutes)).astimezone(zone)  # elapsed, across DST too
        event = Event()
        event.add("uid", day.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", day.summary)
        event.add("description", day.description)
        event.add("transp", "TRANSPARENT")
        ical.add_component(event)
    if calendar.days:
        # Only the transitions the events need (at most one per observance: the events span <= 20 weeks).
        # A long history comes out as RDATE lists, which some readers (dateutil's, under vobject) get wrong.
        first, last = calendar.days[0].on, calendar.days[-1].on
        ical.add_missing_timezones(first_date=first - timedelta(days=1), last_date=last + timedelta(days=2))
    data: bytes = ical.to_ical()  # icalendar types it loosely
    return data
