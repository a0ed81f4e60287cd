"""/calendar and its live feed through the real core, real SQLite and the real web server on a free port.

The feed is read back with vobject (independent of the icalendar library that writes it) and checked
day by day against the plan calendar (bot/plan/calendar.py) after /pause, /catchup, /goto and /remind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import vobject  # type: ignore[import-untyped]

from bot.app import Runtime
from bot.core.clock import ManualClock, local_today
from bot.core.types import ChatRef, Enrolment, PauseSpan, SubjectRef, User
from bot.plan import load_plan
from bot.plan.calendar import plan_day
from bot.web.tokens import new_token
from tests.support import Chatter, make_runtime, settings_for

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def web_app(database_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = make_runtime(database_url, clock, settings=settings_for(database_url, web_port=0))
    await runtime.open()
    assert runtime.web is not None
    await runtime.web.start()
    yield runtime
    await runtime.web.stop()
    await runtime.stop()


@pytest.fixture
async def client(web_app: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    assert web_app.web is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_app.web.port}", trust_env=False) as http:
        yield http


@pytest.fixture
def ann(web_app: Runtime) -> Chatter:
    return Chatter(web_app.core, user_id="1", name="Ann", locale="en")


@pytest.fixture
def li(web_app: Runtime) -> Chatter:
    return Chatter(web_app.core, user_id="2", name="李雷", locale="zh-hans")


async def link(who: Chatter, line: str = "/calendar") -> str:
    """The feed's path from the https:// (here http://) line of the reply; the webcal:// one names it too."""
    text = await who.text(line)
    web = [row for row in text.splitlines() if row.startswith("http://")]
    webcal = [row for row in text.splitlines() if row.startswith("webcal://")]
    assert len(web) == len(webcal) == 1, text
    assert urlsplit(webcal[0]).path == urlsplit(web[0]).path
    return urlsplit(web[0]).path


async def learner(app: Runtime, external_id: str = "1") -> tuple[User, Enrolment]:
    user = await app.database.store.find_user("console", external_id)
    assert user is not None
    enrolment = await app.database.store.get_enrolment(SubjectRef("user", user.id))
    assert enrolment is not None
    return user, enrolment


def read_ics(text: str) -> Any:
    """vobject keeps the first VTIMEZONE it read for a TZID for the whole process, and each feed defines
    its zone only for its own dates: forget the earlier ones, so every file is read on its own."""
    registry = vobject.icalendar.__dict__["__tzidMap"]
    for tzid in [name for name in registry if name != "UTC"]:
        del registry[tzid]
    return vobject.readOne(text, validate=True)


def events_of(body: bytes) -> list[Any]:
    calendar = read_ics(body.decode("utf-8"))
    return list(calendar.vevent_list)


def resumed_tomorrow(pauses: tuple[PauseSpan, ...], today: date) -> tuple[PauseSpan, ...]:
    """The documented rule for an open pause: the feed shows the plan as if it resumed tomorrow."""
    return tuple(PauseSpan(p.start, today + timedelta(days=1)) if p.end is None else p for p in pauses)


async def check_against_plan(app: Runtime, body: bytes, at: time, zone: str) -> list[Any]:
    """Every date from today until the plan ends: an event exactly on the active plan days, with the
    plan's week, day, block and tasks, at the reminder time in the learner's zone."""
    user, enrolment = await learner(app)
    today = local_today(app.clock, user.timezone)
    pauses = resumed_tomorrow(enrolment.pauses, today)
    events = {event.dtstart.value.date(): event for event in events_of(body)}
    plan = load_plan(user.lang)
    expected = 0
    on = today
    while (day := plan_day(enrolment.start_date, on, pauses, enrolment.jumps)).status != "complete":
        event = events.get(on)
        assert (event is not None) == (day.status == "active"), (on, day)
        if event is not None:
            expected += 1
            block = plan.block_for_week(day.week)
            assert event.summary.value == f"Week {day.week} · Day {day.day}: {block.title}", on
            assert block.tasks[0].text in event.description.value
            start = event.dtstart.value
            assert (start.hour, start.minute) == (at.hour, at.minute), on
            assert start.utcoffset() == ZoneInfo(zone).utcoffset(datetime.combine(on, at)), on
        on += timedelta(days=1)
    assert len(events) == expected
    assert min(events, default=today) >= today
    return [events[d] for d in sorted(events)]


# the replies ------------------------------------------------------------------------------------------------
async def test_calendar_needs_the_plan_and_refuses_other_words(ann: Chatter, li: Chatter) -> None:
    assert "Send /start" in await ann.text("/calendar")
    assert "/start" in await li.text("/calendar") and "计划" in await li.text("/calendar")
    await ann.say("/start")
    await li.say("/start")
    refusal = await ann.text("/calendar now")
    assert "now is not one of the choices" in refusal and "/calendar [reset]" in refusal
    chinese = await li.text("/calendar now")
    assert "now" in chinese and "/calendar [reset]" in chinese and "用法" in chinese
    assert "http" not in refusal + chinese


async def test_in_a_group_the_link_is_not_posted(web_app: Runtime) -> None:
    group = ChatRef("console", "-100", "group", "Study group")
    ann = Chatter(web_app.core, user_id="1", name="Ann", locale="en", chat=group)
    await Chatter(web_app.core, user_id="1", name="Ann").say("/start")
    text = await ann.text("/calendar")
    assert "personal" in text and "private chat" in text and "http" not in text
    zh_group = ChatRef("console", "-200", "group", "学习群")
    li = Chatter(web_app.core, user_id="2", name="李雷", locale="zh-hans", chat=zh_group)
    text = await li.text("/calendar")
    assert "私聊" in text and "http" not in text


async def test_without_a_web_server_the_reply_points_to_export(app: Runtime) -> None:
    ann = Chatter(app.core, user_id="1", name="Ann", locale="en")
    li = Chatter(app.core, user_id="2", name="李雷", locale="zh-hans")
    await ann.say("/start")
    text = await ann.text("/calendar")
    assert "no web pages" in text and "/export" in text and "http" not in text
    text = await li.text("/calendar")
    assert "WEB_PORT" in text and "/export" in text and "网页" in text


# the feed follows the plan ----------------------------------------------------------------------------------
@pytest.mark.postgresql_too
async def test_the_feed_follows_catchup_goto_and_pause_day_by_day(
    web_app: Runtime, ann: Chatter, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await ann.say("/start 2026-11-20")  # nine days ago, nothing checked in: a catch-up is open
    path = await link(ann)
    first = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert first[0].summary.value.startswith("Week 2 · Day 3: ") and len(first) == 140 - 9

    assert "Shifted your plan" in await ann.text("/catchup")
    caught_up = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert len(caught_up) > len(first) and caught_up[0].dtstart.value.date() == date(2026, 11, 29)

    await ann.say("/goto 5")
    moved = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert moved[0].summary.value.startswith("Week 5 · Day 1: ") and len(moved) == 140 - 28

    await ann.say("/pause")
    paused = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert paused[0].dtstart.value.date() == date(2026, 11, 30)  # today is free
    assert paused[0].summary.value.startswith("Week 5 · Day 1: ")
    clock.advance(timedelta(days=3))  # still paused: the plan waits, the feed moves on with the days
    waiting = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert waiting[0].dtstart.value.date() == date(2026, 12, 3)
    assert waiting[0].summary.value.startswith("Week 5 · Day 1: ")

    await ann.say("/resume")
    resumed = await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "UTC")
    assert resumed[0].dtstart.value.date() == date(2026, 12, 2)
    assert [e.summary.value for e in resumed] == [e.summary.value for e in waiting]


async def test_the_feed_follows_remind_and_timezone_across_dst(
    web_app: Runtime, ann: Chatter, client: httpx.AsyncClient
) -> None:
    await ann.say("/start")
    path = await link(ann)
    await ann.say("/remind 06:15")
    await ann.say("/timezone America/New_York")
    body = (await client.get(path)).content
    events = await check_against_plan(web_app, body, time(6, 15), "America/New_York")
    # New York leaves standard time on 2027-03-14: the same 06:15 wall time, one hour less from UTC
    offsets = {e.dtstart.value.utcoffset() for e in events}
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}
    assert "BEGIN:VTIMEZONE" in body.decode() and "TZID:America/New_York" in body.decode()
    await ann.say("/remind off")
    await check_against_plan(web_app, (await client.get(path)).content, time(8, 0), "America/New_York")


async def test_a_chinese_learner_gets_a_chinese_feed(web_app: Runtime, li: Chatter, client: httpx.AsyncClient) -> None:
    await li.say("/start")
    text = await li.text("/calendar")
    assert "订阅" in text and "webcal://" in text
    events = events_of((await client.get(await link(li))).content)
    assert events[0].summary.value.startswith("第1周 · 第1天：")


async def test_export_sends_the_same_events_as_the_feed(ann: Chatter, client: httpx.AsyncClient) -> None:
    await ann.say("/start 2026-11-20")
    await ann.say("/remind 07:00")
    exported = (await ann.say("/export"))[0]
    assert exported.file is not None and exported.file.mime == "text/calendar"
    assert "131 plan days exported" in exported.text.to_plain()
    fed = (await client.get(await link(ann))).content

    def shown(body: bytes) -> list[tuple[str, Any, Any, str, str]]:
        return [
            (e.uid.value, e.dtstart.value, e.dtend.value, e.summary.value, e.description.value) for e in events_of(body)
        ]

    assert shown(exported.file.data) == shown(fed)


# conditional GET, tokens, bad requests ----------------------------------------------------------------------
async def test_an_unchanged_feed_answers_304_and_a_changed_one_200(
    ann: Chatter, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await ann.say("/start")
    path = await link(ann)
    first = await client.get(path)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert modified == "Sun, 29 Nov 2026 09:00:00 GMT"
    clock.advance(timedelta(hours=2))  # the same local day: nothing changed
    again = await client.get(path)
    assert again.status_code == 200 and again.content == first.content  # DTSTAMP doesn't move either
    assert again.headers["etag"] == etag and again.headers["last-modified"] == modified
    by_tag = await client.get(path, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.content == b"" and by_tag.headers["etag"] == etag
    by_date = await client.get(path, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304

    await ann.say("/remind 07:00")  # a change: a new ETag and a later Last-Modified
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.headers["last-modified"] == "Sun, 29 Nov 2026 11:00:00 GMT"
    assert (await client.get(path, headers={"If-Modified-Since": modified})).status_code == 200
    assert (await client.get(path, headers={"If-None-Match": changed.headers["etag"]})).status_code == 304

    clock.advance(timedelta(days=1))  # a new day: today's event is gone
    next_day = await client.get(path, headers={"If-None-Match": changed.headers["etag"]})
    assert next_day.status_code == 200 and len(events_of(next_day.content)) == 139


async def test_reset_revokes_every_earlier_link(web_app: Runtime, ann: Chatter, client: httpx.AsyncClient) -> None:
    await ann.say("/start")
    first, second = await link(ann), await link(ann)
    assert first != second  # each /calendar is a new link; the earlier one still works
    assert (await client.get(first)).status_code == 200 and (await client.get(second)).status_code == 200
    text = await ann.text("/calendar reset")
    assert "2 earlier calendar links stopped working" in text
    fresh = next(urlsplit(row).path for row in text.splitlines() if row.startswith("http://"))
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 404
    assert (await client.get(fresh)).status_code == 200


async def test_stored_tokens_are_hashes_only(web_app: Runtime, ann: Chatter) -> None:
    from tests.support import snapshot

    await ann.say("/start")
    token = (await link(ann)).removeprefix("/calendar/").removesuffix(".ics")
    rows = snapshot(web_app.settings.database_url or "")["web_tokens"]
    assert len(rows) == 1 and token not in repr(rows)


@pytest.mark.parametrize(
    "path",
    [
        f"/calendar/{new_token()}.ics",  # well formed, never issued
        "/calendar/abc.ics",
        "/calendar/" + "A" * 33 + ".ics",
        "/calendar/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ics",
        "/calendar/" + "A" * 32,
        "/calendar/",
        "/nothing-here",
    ],
    ids=["never-issued", "too-short", "too-long", "traversal", "no-suffix", "no-token", "elsewhere"],
)
async def test_unknown_and_malformed_tokens_are_404(ann: Chatter, client: httpx.AsyncClient, path: str) -> None:
    await ann.say("/start")
    await link(ann)
    response = await client.get(path)
    assert response.status_code == 404 and response.text == "Not found\n"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_10_kb_path_is_refused_and_the_server_keeps_answering(ann: Chatter, client: httpx.AsyncClient) -> None:
    await ann.say("/start")
    path = await link(ann)
    long = await client.get("/calendar/" + "A" * 10_000 + ".ics")
    assert long.status_code in (404, 414) and "Traceback" not in long.text
    assert (await client.get(path)).status_code == 200
    head = await client.head(path)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/cal")


@pytest.mark.postgresql_too
async def test_token_store_scopes_revocation_and_versions(web_app: Runtime, clock: ManualClock) -> None:
    import asyncio

    tokens = web_app.database.web
    token = await tokens.issue("calendar", "user:1")
    other = await tokens.issue("calendar", "user:2")
    assert await tokens.owner("calendar", token) == "user:1"
    assert await tokens.owner("dashboard", token) is None  # a token opens only its own kind of page
    assert await tokens.owner("calendar", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await tokens.owner("calendar", "not a token") is None
    assert await tokens.revoke("calendar", "user:1") == 1
    assert await tokens.revoke("calendar", "user:1") == 0
    assert await tokens.owner("calendar", token) is None and await tokens.owner("calendar", other) == "user:2"

    first = clock.now()
    both = await asyncio.gather(*(tokens.since("calendar", "user:3", "abc", first) for _ in range(4)))
    assert set(both) == {first}  # first fetches at once all succeed
    clock.advance(timedelta(minutes=5))
    assert await tokens.since("calendar", "user:3", "abc", clock.now()) == first  # unchanged content
    assert await tokens.since("calendar", "user:3", "def", clock.now()) == clock.now()  # changed
