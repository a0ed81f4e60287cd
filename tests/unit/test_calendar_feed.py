"""The calendar feed's content, built without a server: events, times across DST, VTIMEZONE, ETag inputs.

Every file is also read back by vobject, an iCalendar parser independent of the icalendar library that
writes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject  # type: ignore[import-untyped]
from icalendar import Calendar

from bot.calendar.days import DEFAULT_AT, learner_calendar, plan_calendar, projected_pauses
from bot.calendar.ics import calendar_digest, to_ics
from bot.core.types import Enrolment, Jump, PauseSpan, SubjectRef, User
from bot.plan import load_plan
from bot.plan.calendar import PLAN_DAYS, plan_day
from bot.web.conditional import etag_matches, http_date, not_modified
from bot.web.pages import PageRequest
from tests.support import settings_for

NEW_YORK = "America/New_York"  # DST began on 2026-03-08 at 02:00
STAMP = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def learner(timezone: str = NEW_YORK, at: time | None = time(7, 30), lang: Any = "en") -> User:
    return User(1, "console", "1", "Ann", lang, timezone, at, reading_day=5)


def enrolled(start: date, pauses: tuple[PauseSpan, ...] = (), jumps: tuple[Jump, ...] = ()) -> Enrolment:
    return Enrolment(1, SubjectRef("user", 1), start, datetime(2026, 1, 1, tzinfo=UTC), pauses, jumps)


def read_ics(text: str) -> Any:
    """vobject keeps the first VTIMEZONE it read for a TZID for the whole process, and each feed defines
    its zone only for its own dates: forget the earlier ones, so every file is read on its own."""
    registry = vobject.icalendar.__dict__["__tzidMap"]
    for tzid in [name for name in registry if name != "UTC"]:
        del registry[tzid]
    return vobject.readOne(text, validate=True)


def parsed(data: bytes) -> Any:
    """The file through vobject: a second, independent reader of the same bytes."""
    return read_ics(data.decode("utf-8"))


def by_date(data: bytes) -> dict[date, Any]:
    return {event.dtstart.value.date(): event for event in parsed(data).vevent_list}


def test_events_across_a_dst_change_keep_the_local_time_and_shift_in_utc() -> None:
    data = to_ics(learner_calendar(learner(), enrolled(date(2026, 3, 1)), date(2026, 3, 5)), STAMP)
    events = by_date(data)
    before, after = events[date(2026, 3, 7)].dtstart.value, events[date(2026, 3, 9)].dtstart.value
    assert (before.hour, before.minute) == (after.hour, after.minute) == (7, 30)
    assert before.utcoffset() == timedelta(hours=-5) and after.utcoffset() == timedelta(hours=-4)
    assert before.astimezone(UTC).hour == 12 and after.astimezone(UTC).hour == 11
    text = data.decode()
    assert "DTSTART;TZID=America/New_York:20260309T073000" in text
    zones = list(Calendar.from_ical(data).walk("VTIMEZONE"))
    assert [str(zone["tzid"]) for zone in zones] == [NEW_YORK]
    assert {c.name for c in zones[0].subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_one_event_per_remaining_day_with_stable_uids_and_plan_words() -> None:
    start, today = date(2026, 3, 1), date(2026, 3, 5)
    events = parsed(to_ics(learner_calendar(learner(), enrolled(start), today), STAMP)).vevent_list
    assert len(events) == PLAN_DAYS - 4
    plan = load_plan("en")
    for offset, event in enumerate(events):
        on = today + timedelta(days=offset)
        day = plan_day(start, on)
        block = plan.block_for_week(day.week)
        assert event.dtstart.value.date() == on
        assert event.uid.value == f"studybuddy-console-1-{on.isoformat()}@studybuddy"
        assert event.summary.value == f"Week {day.week} · Day {day.day}: {block.title}"
        for number, task in enumerate(block.tasks, start=1):
            assert f"{number}. {task.text} ({task.minutes} min)" in event.description.value
    assert len({event.uid.value for event in events}) == len(events)


def test_slot_days_list_their_tasks_and_last_longer() -> None:
    # 2026-03-07 is a Saturday (the reading day); 2026-03-01 a plan month's first day.
    events = by_date(to_ics(learner_calendar(learner(), enrolled(date(2026, 3, 1)), date(2026, 3, 1)), STAMP))
    plan = load_plan("en")
    daily = plan.block_for_week(1).daily_minutes
    ordinary, saturday, sunday = events[date(2026, 3, 3)], events[date(2026, 3, 7)], events[date(2026, 3, 8)]
    assert ordinary.dtend.value - ordinary.dtstart.value == timedelta(minutes=daily)
    assert plan.labels.weekly not in ordinary.description.value
    assert "arXiv" in saturday.description.value and plan.labels.weekly in saturday.description.value
    assert saturday.dtend.value - saturday.dtstart.value == timedelta(minutes=daily + 60)
    assert "Kaggle" in sunday.description.value and "Review" in sunday.description.value
    # Sunday 2026-03-08 is the DST day: the end is 4 elapsed hours after the start, in UTC too.
    elapsed = sunday.dtend.value.astimezone(UTC) - sunday.dtstart.value.astimezone(UTC)
    assert elapsed == timedelta(minutes=daily + 120)
    first = events[date(2026, 3, 1)].description.value
    assert plan.labels.monthly in first and plan.monthly_tasks[0] in first
    assert plan.labels.monthly not in events[date(2026, 3, 2)].description.value
    assert plan.labels.monthly in events[date(2026, 3, 29)].description.value  # plan month 2 starts


def test_an_open_pause_keeps_today_free_and_resumes_tomorrow_where_it_stopped() -> None:
    start, today = date(2026, 3, 1), date(2026, 3, 10)
    paused = enrolled(start, (PauseSpan(date(2026, 3, 8)),))  # paused since Sunday: day index 7 waits
    assert projected_pauses(paused.pauses, today) == (PauseSpan(date(2026, 3, 8), date(2026, 3, 11)),)
    events = parsed(to_ics(learner_calendar(learner(), paused, today), STAMP)).vevent_list
    assert events[0].dtstart.value.date() == date(2026, 3, 11)
    assert events[0].summary.value.startswith("Week 2 · Day 1: ")
    assert len(events) == PLAN_DAYS - 7


def test_a_jump_and_a_closed_pause_move_the_events_like_the_plan() -> None:
    today = date(2026, 3, 20)
    moved = enrolled(date(2026, 3, 1), (PauseSpan(date(2026, 3, 2), date(2026, 3, 4)),), (Jump(today, 35),))
    events = parsed(to_ics(learner_calendar(learner(), moved, today), STAMP)).vevent_list
    assert events[0].dtstart.value.date() == today and events[0].summary.value.startswith("Week 6 · Day 1: ")
    assert len(events) == PLAN_DAYS - 35


def test_an_upcoming_plan_starts_on_its_start_date_and_a_finished_one_is_empty() -> None:
    ahead = learner_calendar(learner(), enrolled(date(2026, 4, 1)), date(2026, 3, 5))
    assert ahead.days[0].on == date(2026, 4, 1) and len(ahead.days) == PLAN_DAYS
    done = learner_calendar(learner(), enrolled(date(2025, 1, 1)), date(2026, 3, 5))
    assert done.days == ()
    parsed(to_ics(done, STAMP))  # still a valid, empty calendar


def test_reminders_off_use_the_default_time_and_utc_learners_get_utc_times() -> None:
    cal = learner_calendar(learner("UTC", None), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    assert cal.at == DEFAULT_AT == time(8, 0)
    first = parsed(to_ics(cal, STAMP)).vevent_list[0].dtstart.value
    assert first == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)


def test_chinese_learners_get_chinese_words() -> None:
    cal = learner_calendar(learner(lang="zh"), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    event = parsed(to_ics(cal, STAMP)).vevent_list[0]
    assert event.summary.value.startswith("第1周") and "：" in event.summary.value
    assert "分钟" in event.description.value
    assert "计划" in cal.name


def test_the_file_names_its_refresh_interval_and_is_the_same_for_the_same_content() -> None:
    cal = learner_calendar(learner(), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    data = to_ics(cal, STAMP)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT4H" in data.decode() and "X-PUBLISHED-TTL:PT4H" in data.decode()
    assert to_ics(cal, STAMP) == data
    again = learner_calendar(learner(), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    assert calendar_digest(again) == calendar_digest(cal)
    other_time = learner_calendar(learner(at=time(7, 45)), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    next_day = learner_calendar(learner(), enrolled(date(2026, 3, 1)), date(2026, 3, 6))
    other_zone = learner_calendar(learner("Europe/Berlin"), enrolled(date(2026, 3, 1)), date(2026, 3, 5))
    digests = {calendar_digest(c) for c in (cal, other_time, next_day, other_zone)}
    assert len(digests) == 4


def test_plan_calendar_for_a_group_uses_the_groups_owner_in_uids() -> None:
    cal = plan_calendar(
        "en",
        enrolled(date(2026, 3, 1)),
        date(2026, 3, 5),
        timezone="Asia/Shanghai",
        at=time(20, 0),
        reading_day=5,
        owner="console-chat-100",
    )
    event = parsed(to_ics(cal, STAMP)).vevent_list[0]
    assert event.uid.value == "studybuddy-console-chat-100-2026-03-05@studybuddy"
    assert event.dtstart.value == datetime(2026, 3, 5, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


# conditional GET ------------------------------------------------------------------------------------------
def request(**headers: str) -> PageRequest:
    return PageRequest({}, {}, {name.replace("_", "-"): value for name, value in headers.items()}, None)  # type: ignore[arg-type]


CHANGED = datetime(2026, 3, 5, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"if_none_match": '"abc"'}, True),
        ({"if_none_match": 'W/"abc"'}, True),
        ({"if_none_match": '"x", "abc"'}, True),
        ({"if_none_match": "*"}, True),
        ({"if_none_match": '"other"'}, False),
        ({"if_none_match": '"other"', "if_modified_since": "Thu, 05 Mar 2026 12:00:30 GMT"}, False),
        ({"if_modified_since": "Thu, 05 Mar 2026 12:00:30 GMT"}, True),
        ({"if_modified_since": "Thu, 05 Mar 2026 13:00:00 GMT"}, True),
        ({"if_modified_since": "Thu, 05 Mar 2026 12:00:29 GMT"}, False),
        ({"if_modified_since": "not a date"}, False),
    ],
)
def test_not_modified(headers: dict[str, str], expected: bool) -> None:
    assert not_modified(request(**headers), '"abc"', CHANGED) is expected


def test_http_dates_and_weak_etags() -> None:
    assert http_date(CHANGED) == "Thu, 05 Mar 2026 12:00:30 GMT"
    assert etag_matches('W/"a"', '"a"') and not etag_matches('"b"', '"a"')


@pytest.mark.parametrize(
    ("public_url", "problem"),
    [
        ("https://bot.example.org", None),
        ("https://example.org/studybuddy/", None),
        ("bot.example.org", "PUBLIC_URL"),
        ("ftp://bot.example.org", "PUBLIC_URL"),
        ("https://bot.example.org/?a=1", "PUBLIC_URL"),
        ("https://bot.example.org:port", "PUBLIC_URL"),
        ("https://", "PUBLIC_URL"),
    ],
)
def test_public_url_must_be_a_web_address(public_url: str, problem: str | None) -> None:
    from bot.config import config_problems

    problems = config_problems(settings_for("sqlite+aiosqlite://", web_port=8080, public_url=public_url))
    assert (problems[0].split("=")[0] if problems else None) == problem


def test_public_url_without_web_port_and_clashing_ports_are_reported() -> None:
    from bot.config import config_problems

    alone = config_problems(settings_for("sqlite+aiosqlite://", public_url="https://bot.example.org"))
    assert any("WEB_PORT" in line for line in alone)
    clash = config_problems(settings_for("sqlite+aiosqlite://", web_port=9464, health_port=9464))
    assert any("HEALTH_PORT" in line for line in clash)
    assert config_problems(settings_for("sqlite+aiosqlite://", web_port=0, health_port=0)) == []
