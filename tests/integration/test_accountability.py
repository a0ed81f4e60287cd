"""Check-ins, streaks, groups, nudges, recaps, /stats and /export through the real core on real SQLite."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from PIL import Image

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, SubjectRef
from bot.delivery.service import DeliveryService
from tests.support import Chatter, RecordingDeliverer, at, snapshot

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only

GROUP_A = ChatRef("console", "-100", "group", "Group A")
GROUP_B = ChatRef("console", "-200", "group", "Group B")


LEARNERS = {"1": ("Ann", "en"), "2": ("Bob", "zh"), "3": ("Cy", "en"), "4": ("Dee", "en"), "5": ("Eve", "en")}


async def put_on_the_plan(app: Runtime, start: date) -> None:
    """Check-ins need a plan day: the learners of these tests are on their own plan from `start`."""
    store = app.database.store
    for external_id, (name, lang) in LEARNERS.items():
        user, _created = await store.get_or_create_user("console", external_id, name, lang, "UTC")
        await store.enrol(SubjectRef("user", user.id), start)


NOT_ON_THE_PLAN = {"test_export_has_one_event_per_remaining_day"}


@pytest.fixture(autouse=True)
async def on_the_plan(app: Runtime, clock: ManualClock, request: pytest.FixtureRequest) -> None:
    """Everyone starts on the test's first day; a test that moves the clock back restarts them there."""
    if request.node.originalname not in NOT_ON_THE_PLAN:
        await put_on_the_plan(app, clock.now().date())


def in_group(core: Core, user_id: str, name: str, chat: ChatRef, admin: bool = False) -> Chatter:
    return Chatter(core, user_id=user_id, name=name, chat=chat, admin=admin)


async def days_of_done(who: Chatter, clock: ManualClock, days: int) -> None:
    """Check in on `days` consecutive days, moving the clock one day after each."""
    for _ in range(days):
        await who.say("/done")
        clock.advance(timedelta(days=1))


# check-ins and bad input ---------------------------------------------------------------------------------
async def test_done_all_some_and_more_tasks(ann: Chatter) -> None:
    text = await ann.text("/done 1 3")
    assert "checked in for 2026-11-29: tasks 1, 3" in text and "Streak: 1 day" in text
    assert "tasks 1, 2, 3" in await ann.text("/done 2")
    assert "Already checked in" in await ann.text("/done")


@pytest.mark.parametrize("line", ["/done 7", "/done abc", "/done 0", "/done 1 x"])
async def test_bad_done_arguments_change_nothing(ann: Chatter, database_url: str, line: str) -> None:
    await ann.say("/help")  # the user row exists before the snapshot
    before = snapshot(database_url)
    text = await ann.text(line)
    assert "is not a task number (1, 2 or 3)" in text and "/done [tasks]" in text
    assert snapshot(database_url) == before


async def test_done_twice_and_undo_nothing_change_nothing(ann: Chatter, database_url: str) -> None:
    await ann.say("/done")
    before = snapshot(database_url)
    assert "Already checked in for 2026-11-29" in await ann.text("/done")
    assert snapshot(database_url) == before
    assert "Took back your check-in" in await ann.text("/undo")
    before = snapshot(database_url)
    assert "Nothing to undo" in await ann.text("/undo")
    assert snapshot(database_url) == before


@pytest.mark.postgresql_too
async def test_top_in_private_and_groupnudge_by_non_admin_change_nothing(
    core: Core, ann: Chatter, database_url: str
) -> None:
    member = in_group(core, "1", "Ann", GROUP_A, admin=False)
    await member.say("/join")
    before = snapshot(database_url)
    assert "works in a group chat" in await ann.text("/top")
    assert "Only group administrators can use /groupnudge" in await member.text("/groupnudge 18:00")
    assert "Only group administrators" in await member.text("/groupshare 70")
    assert snapshot(database_url) == before


# streaks ---------------------------------------------------------------------------------------------------
async def test_yesterday_grace_before_and_after_noon(ann: Chatter, clock: ManualClock, database_url: str) -> None:
    await ann.say("/done")  # Sunday 29th
    clock.set(at("2026-12-01 11:59"))  # Monday 30th missed; Tuesday before noon
    text = await ann.text("/done yesterday")
    assert "checked in for 2026-11-30" in text and "Streak: 2 days" in text
    clock.set(at("2026-12-02 12:00"))  # Wednesday noon: Tuesday is closed
    before = snapshot(database_url)
    assert "works until noon" in await ann.text("/done yesterday")
    assert snapshot(database_url) == before


async def test_yesterday_after_today_replays_the_run(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/done")  # 29th
    clock.set(at("2026-12-01 08:00"))
    assert "Streak: 1 day" in await ann.text("/done")  # 1st: the 30th is missed, no freeze: a new run
    assert "Streak: 3 days" in await ann.text("/done yesterday")  # the 30th slots in: 29, 30, 1


async def test_freeze_earned_applied_and_taken_back_by_undo(ann: Chatter, clock: ManualClock) -> None:
    await days_of_done(ann, clock, 6)
    text = await ann.text("/done")  # the 7th counted day
    assert "You earned a streak freeze (1 of 2 held)" in text
    undone = await ann.text("/undo")
    assert "The streak freeze earned that day is taken back too" in undone and "Streak: 6 days" in undone
    assert "Freezes held: 0 of 2" in await ann.text("/streak")
    await ann.say("/done")
    clock.advance(timedelta(days=2, hours=4))  # one day missed (and past noon: it is closed)
    streak = await ann.text("/streak")
    assert "Current streak: 7 days" in streak and "Freezes held: 0 of 2" in streak  # the freeze will cover it
    assert "❄ frozen" in streak
    text = await ann.text("/done")
    assert "A streak freeze covered the missed day 2026-12-06" in text and "Streak: 8 days" in text


async def test_freezes_are_capped_at_two(ann: Chatter, clock: ManualClock) -> None:
    await days_of_done(ann, clock, 20)
    text = await ann.text("/done")  # day 21: would be the third freeze
    assert "earned" not in text
    assert "Freezes held: 2 of 2" in await ann.text("/streak")


async def test_two_missed_days_break_the_streak(ann: Chatter, clock: ManualClock) -> None:
    await days_of_done(ann, clock, 7)
    clock.advance(timedelta(days=2, hours=4))  # two days missed, and it is past noon: yesterday is closed
    streak = await ann.text("/streak")
    assert "Current streak: 0 days" in streak and "Best streak: 7 days" in streak and "Freezes held: 1 of 2" in streak
    assert streak.count("✗ missed") == 2


async def test_pause_neither_breaks_nor_extends(ann: Chatter, clock: ManualClock, database_url: str) -> None:
    await ann.say("/start")
    await days_of_done(ann, clock, 3)
    await ann.say("/pause")
    before = snapshot(database_url)
    assert "paused on" in await ann.text("/done")
    assert snapshot(database_url) == before
    clock.advance(timedelta(days=5))
    await ann.say("/resume")
    text = await ann.text("/done")
    assert "Streak: 4 days" in text
    assert "⏸ paused" in await ann.text("/streak")


async def test_timezone_change_west_can_not_count_a_date_twice(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/timezone Asia/Tokyo")
    clock.set(at("2026-11-30 08:00", "Asia/Tokyo"))  # 29th 23:00 UTC
    assert "checked in for 2026-11-30" in await ann.text("/done")
    await ann.say("/timezone America/Los_Angeles")  # same instant: the 29th, 15:00 local
    text = await ann.text("/done")
    assert "checked in for 2026-11-29" in text and "Streak: 2 days" in text  # an earlier date slots in
    clock.advance(timedelta(hours=10))  # 30th 01:00 in Los Angeles: the 30th already counted
    assert "Already checked in for 2026-11-30" in await ann.text("/done")
    assert "Current streak: 2 days" in await ann.text("/streak")


async def test_timezone_change_east_loses_a_date_that_a_freeze_can_cover(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/timezone Pacific/Honolulu")
    clock.set(at("2026-11-23 20:00", "Pacific/Honolulu"))
    await ann.say("/start 2026-11-23 confirm")
    await days_of_done(ann, clock, 7)  # 23rd..29th in Honolulu, freeze earned
    await ann.say("/timezone Pacific/Kiritimati")  # +14: it is now the 1st there, the 30th was skipped over
    text = await ann.text("/done")
    assert "checked in for 2026-12-01" in text and "A streak freeze covered the missed day 2026-11-30" in text


async def test_dst_days_count_as_local_dates(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/timezone America/New_York")
    clock.set(at("2026-03-07 23:30", "America/New_York"))
    await ann.say("/start 2026-03-07 confirm")
    for day in ("2026-03-07", "2026-03-08", "2026-03-09"):  # the 8th is 23 hours long
        clock.set(at(f"{day} 23:30", "America/New_York"))
        await ann.say("/done")
    clock.set(at("2026-03-09 23:45", "America/New_York"))
    streak = await ann.text("/streak")
    assert "Current streak: 3 days" in streak
    clock.set(at("2026-10-31 23:30", "America/New_York"))
    await ann.say("/start 2026-10-31 confirm")  # check-ins need a plan day: a second round of the plan
    await ann.say("/done")
    clock.set(at("2026-11-01 23:30", "America/New_York"))  # a 25-hour day
    await ann.say("/done")
    assert "Current streak: 2 days" in await ann.text("/streak")


async def test_done_button_today_yesterday_and_a_closed_day(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    reply = (await ann.say("/today"))[0]
    action = next(b.action for b in reply.buttons if b.action.startswith("done:"))
    assert action == "done:2026-11-29"
    clock.set(at("2026-11-30 10:00"))
    assert "checked in for 2026-11-29" in "".join(r.text.to_plain() for r in await ann.press(action))
    clock.set(at("2026-12-01 13:00"))
    closed = "".join(r.text.to_plain() for r in await ann.press(action))
    assert "not open for check-ins any more" in closed
    assert "This button no longer works" in "".join(r.text.to_plain() for r in await ann.press("done:nonsense"))


# groups ----------------------------------------------------------------------------------------------------
async def test_group_isolation_a_user_in_two_groups(core: Core) -> None:
    ann_a, ann_b = in_group(core, "1", "Ann", GROUP_A), in_group(core, "1", "Ann", GROUP_B)
    bob_a, cy_b = in_group(core, "2", "Bob", GROUP_A), in_group(core, "3", "Cy", GROUP_B)
    await ann_a.say("/join")
    await bob_a.say("/done 1")  # checking in adds to the roster
    await ann_b.say("/done")
    await cy_b.say("/join")
    top_a, top_b = await ann_a.text("/top"), await ann_b.text("/top")
    assert "Ann" in top_a and "Bob" in top_a and "Cy" not in top_a
    assert "Ann" in top_b and "Cy" in top_b and "Bob" not in top_b
    assert "1. Ann — streak 1 day, 3 tasks this week" in top_a and "2. Bob — streak 1 day, 1 task this week" in top_a
    assert "Group streak: 1 day" in top_a
    assert "left the roster" in await bob_a.text("/leave")
    assert "Bob" not in await ann_a.text("/top")
    assert "not on this group's roster" in await bob_a.text("/leave")


async def test_a_first_group_checkin_joins_and_refreshes_the_groups_schedules(
    app: Runtime, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[SubjectRef] = []

    async def refresh(subject: SubjectRef) -> None:
        refreshed.append(subject)

    monkeypatch.setattr(app.services.schedules, "refresh", refresh)
    ann = in_group(core, "1", "Ann", GROUP_A)
    await ann.say("/done 1")
    await ann.say("/done 2")  # already on the roster: nothing joined, nothing to refresh
    assert [subject.kind for subject in refreshed] == ["chat"]
    assert "1. Ann — streak 1 day, 2 tasks this week" in await ann.text("/top")


async def test_group_share_decides_the_group_day(core: Core, clock: ManualClock) -> None:
    admin = in_group(core, "1", "Ann", GROUP_A, admin=True)
    others = [in_group(core, str(i), f"M{i}", GROUP_A) for i in range(2, 5)]
    for member in others:
        await member.say("/join")
    await admin.say("/done")  # 1 of 4 is below 50%: today still open
    assert "Group streak: 0 days" in await admin.text("/top")
    await others[0].say("/done")  # 2 of 4
    assert "Group streak: 1 day" in await admin.text("/top")
    assert "60%" in await admin.text("/groupshare 60")
    assert "Group streak: 0 days (a day counts when 60% of members check in)" in await admin.text("/top")


async def test_a_group_streak_longer_than_the_short_window_is_read_in_full(core: Core, clock: ManualClock) -> None:
    ann, bob = in_group(core, "1", "Ann", GROUP_A), in_group(core, "2", "Bob", GROUP_A)
    for day in range(20):
        await ann.say("/done")
        if day % 2 == 0:  # Bob every other day: 1 of 2 members is still 50%
            await bob.say("/done 2")
        clock.advance(timedelta(days=1))
    top = await ann.text("/top")  # today is open, so the run ends yesterday
    # today is Saturday 19 Dec: the week so far is 14..18 Dec, Bob's task 2 on the 15th and 17th
    assert "1. Ann — streak 20 days, 15 tasks this week" in top and "2. Bob — streak 1 day, 2 tasks this week" in top
    assert "Group streak: 20 days" in top


@pytest.mark.postgresql_too
async def test_a_group_streak_of_more_than_a_year_is_not_cut_short(core: Core, clock: ManualClock) -> None:
    ann, ann_private = in_group(core, "1", "Ann", GROUP_A), Chatter(core, user_id="1", name="Ann")
    for _round in range(3):  # check-ins need a plan day: three rounds of the 140-day plan
        await ann_private.say(f"/start {clock.now().date().isoformat()} confirm")
        await days_of_done(ann, clock, 140)
    assert "Group streak: 420 days" in await ann.text("/top")


async def test_top_keeps_a_paused_members_streak_and_only_theirs(core: Core, clock: ManualClock) -> None:
    ann, bob = in_group(core, "1", "Ann", GROUP_A), in_group(core, "2", "Bob", GROUP_A)
    ann_private = Chatter(core, user_id="1", name="Ann")
    await ann_private.say("/start")
    for _ in range(3):
        await ann.say("/done")
        await bob.say("/done")
        clock.advance(timedelta(days=1))
    await ann_private.say("/pause")  # Ann's own plan pause covers her days; Bob has none
    clock.advance(timedelta(days=4))
    top = await ann.text("/top")
    assert "Ann — streak 3 days" in top and "Bob — streak 0 days" in top
    assert top.index("Ann") < top.index("Bob")


# nudges and recaps -----------------------------------------------------------------------------------------
@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]


async def run_until(delivery: DeliveryService, clock: ManualClock, until_text: str, step: timedelta) -> None:
    until = at(until_text)
    while clock.now() < until:
        clock.advance(step)
        await delivery.tick()
        await delivery.drain()


async def test_nudge_mentions_exactly_the_members_missing_today(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    admin = in_group(core, "1", "Ann", GROUP_A, admin=True)
    bob, cy, dee = (in_group(core, str(i), n, GROUP_A) for i, n in ((2, "Bob"), (3, "Cy"), (4, "Dee")))
    eve_elsewhere = in_group(core, "5", "Eve", GROUP_B)
    await eve_elsewhere.say("/join")
    for member in (admin, bob, cy, dee):
        await member.say("/join")
    assert "18:00" in await admin.text("/groupnudge 18:00")
    await admin.say("/done")
    await cy.say("/nudge off")
    await run_until(delivery, clock, "2026-11-29 18:05", timedelta(minutes=5))
    nudges = [t for t in platform.texts() if "Not checked in yet" in t]
    assert len(nudges) == 1
    line = next(x for x in nudges[0].splitlines() if x.startswith("Not checked in yet"))
    assert line == "Not checked in yet today: Bob, Dee"
    assert platform.sent[0][0].external_id == "-100"
    # next day everyone checks in: the nudge is skipped, not sent
    clock.set(at("2026-11-30 09:00"))
    for member in (admin, bob, dee):
        await member.say("/done")
    await run_until(delivery, clock, "2026-11-30 18:05", timedelta(minutes=5))
    assert len([t for t in platform.texts() if "Not checked in yet" in t]) == 1


async def test_weekly_recap_figures(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock, app: Runtime
) -> None:
    await put_on_the_plan(app, date(2026, 11, 22))
    clock.set(at("2026-11-23 09:00"))  # Monday
    ann, bob = in_group(core, "1", "Ann", GROUP_A), in_group(core, "2", "Bob", GROUP_A)
    clock.set(at("2026-11-22 09:00"))  # Ann's run starts the Sunday before the recap week
    await ann.say("/done")
    for day in range(23, 30):  # Mon 23rd .. Sun 29th
        clock.set(at(f"2026-11-{day} 09:00"))
        await ann.say("/done")
        if day in (23, 24, 27):
            await bob.say("/done 1")
    await run_until(delivery, clock, "2026-11-29 20:05", timedelta(minutes=5))
    recaps = [t for t in platform.texts() if "Weekly recap" in t]
    assert len(recaps) == 1
    recap = recaps[0]
    assert "Weekly recap: 2026-11-23 to 2026-11-29" in recap
    assert "Kept their streak all week: Ann (8)" in recap and "Bob (" not in recap
    assert "Tasks done this week: 24" in recap and "• Ann: 21" in recap and "• Bob: 3" in recap
    assert "Group days counted this week: 7 of 7" in recap  # Ann alone is 50% of two members
    assert "Group streak: 8 days" in recap


# /stats and /export ----------------------------------------------------------------------------------------
async def test_stats_is_a_png_of_the_expected_size(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start 2026-11-01 confirm")
    await days_of_done(ann, clock, 3)
    reply = (await ann.say("/stats"))[0]
    assert reply.image is not None and reply.image.mime == "image/png"
    assert reply.image.data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(reply.image.data))
    assert image.format == "PNG" and image.size[0] >= 1080
    assert "32 of 140 days" in reply.text.to_plain()


async def test_export_has_one_event_per_remaining_day(ann: Chatter, clock: ManualClock) -> None:
    assert "haven't started the plan" in await ann.text("/export")
    await ann.say("/start 2026-11-20")  # today is plan day index 9 (week 2, day 3)
    reply = (await ann.say("/export"))[0]
    assert reply.file is not None and reply.file.mime == "text/calendar"
    calendar = Calendar.from_ical(reply.file.data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 140 - 9
    first = events[0]
    assert first.decoded("dtstart").date() == date(2026, 11, 29)
    assert str(first["summary"]).startswith("Week 2 · Day 3: ")
    assert str(first["uid"]) == "studybuddy-console-1-2026-11-29@studybuddy"
    assert str(first["description"]).startswith("1. ")
    assert events[-1].decoded("dtstart").date() == date(2026, 11, 29) + timedelta(days=130)
    assert len({str(e["uid"]) for e in events}) == len(events)


async def test_chinese_replies(li: Chatter) -> None:
    text = await li.text("/done")
    assert "打卡" in text
    assert "连续" in await li.text("/streak")
