"""The loop a learner repeats every day: check-in state, catch-up, confirmed restarts, sticky choices,
timezones for people, and check-ins that stay correct when they race."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, Reply
from tests.support import Chatter, at, snapshot

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only

GROUP = ChatRef("console", "-100", "group", "Group")


def checkins_of(database_url: str) -> list[tuple[object, ...]]:
    return snapshot(database_url)["checkins"]


# data safety ---------------------------------------------------------------------------------------------
@pytest.mark.postgresql_too  # concurrent writes of one user: row locks differ
async def test_parallel_done_give_one_checkin_and_normal_replies(ann: Chatter, database_url: str) -> None:
    await ann.say("/start")
    texts = await asyncio.gather(*(ann.text("/done") for _ in range(6)))
    assert not any("something went wrong" in text for text in texts)
    assert sum("You checked in for 2026-11-29" in text for text in texts) == 1
    assert sum("Already checked in" in text for text in texts) == 5
    assert len(checkins_of(database_url)) == 1


@pytest.mark.postgresql_too  # concurrent writes of one user: row locks differ
async def test_parallel_done_and_undo_never_fail(ann: Chatter, database_url: str) -> None:
    await ann.say("/start")
    lines = ["/done", "/undo", "/done 1", "/undo", "/done 2", "/done"]
    texts = await asyncio.gather(*(ann.text(line) for line in lines))
    assert not any("something went wrong" in text for text in texts)
    assert len(checkins_of(database_url)) <= 1
    assert "Current streak" in await ann.text("/streak")


def actions(replies: list[Reply]) -> list[str]:
    return [button.action for reply in replies for button in reply.buttons]


# /today shows what is done ------------------------------------------------------------------------------
async def test_today_marks_checked_tasks_and_undo_replaces_done(ann: Chatter) -> None:
    await ann.say("/start")
    assert "✓" not in await ann.text("/today")
    await ann.say("/done 2")
    today = await ann.text("/today")
    assert "✓ 2. " in today and "✓ 1. " not in today and "✓ 3. " not in today
    assert actions(await ann.say("/today"))[-1] == "done:2026-11-29"
    await ann.say("/done")
    assert actions(await ann.say("/today"))[-1] == "undo:2026-11-29"


async def test_a_press_returns_the_redrawn_message(ann: Chatter, li: Chatter) -> None:
    await ann.say("/start")
    [pressed] = await ann.press("done:2026-11-29")
    assert pressed.edit and "✓ 1. " in pressed.text.to_plain()
    assert "You checked in for 2026-11-29: tasks 1, 2, 3." in pressed.text.to_plain()
    [undone] = await ann.press("undo:2026-11-29")
    assert undone.edit and "Took back your check-in for 2026-11-29." in undone.text.to_plain()
    assert actions([undone])[-1] == "done:2026-11-29"
    await li.say("/start")
    [zh] = await li.press("done:2026-11-29")
    assert "你已打卡 2026-11-29：任务 1, 2, 3。" in zh.text.to_plain() and [b.label for b in zh.buttons][-1] == "撤销 ↩"


async def test_a_group_press_does_not_redraw_the_shared_message(core: Core) -> None:
    admin = Chatter(core, user_id="1", name="Ann", chat=GROUP, admin=True)
    await admin.say("/start")
    [answer] = await admin.press("done:2026-11-29")
    assert not answer.edit and "Ann checked in for 2026-11-29: tasks 1, 2, 3." in answer.text.to_plain()


# catch-up -------------------------------------------------------------------------------------------------
async def test_two_missed_days_offer_a_catch_up_that_shifts_the_plan(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    await ann.say("/done")
    clock.advance(timedelta(days=1))
    assert "missed" not in await ann.text("/today")  # nothing missed yet
    clock.advance(timedelta(days=3))  # 30 Nov, 1 and 2 Dec missed; today is 3 Dec (plan day 5)
    replies = await ann.say("/today")
    text = replies[0].text.to_plain()
    assert "Week 1 · Day 5" in text and "You missed 3 plan days since your last check-in." in text
    assert actions(replies)[0] == "catchup:2026-12-03"
    assert replies[0].buttons[0].label == "Shift my plan by 3 days"
    shifted = await ann.text("/catchup")
    assert "Shifted your plan by 3 days: today is week 1, day 2 (was week 1, day 5)." in shifted
    assert "The days from 2026-11-30 to 2026-12-02 count as a pause" in shifted
    assert "Week 1 · Day 2" in await ann.text("/today")
    assert "Nothing to catch up" in await ann.text("/catchup")


async def test_a_catch_up_moves_at_most_fourteen_days(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    clock.advance(timedelta(days=20))  # never checked in: 20 plan days missed since the start
    assert "You missed 20 plan days" in await ann.text("/today")
    [pressed] = await ann.press("catchup:2026-12-19")
    assert "Shifted your plan by 14 days: today is week 1, day 7 (was week 3, day 7)." in pressed.text.to_plain()


async def test_one_missed_day_and_a_group_get_no_catch_up(core: Core, ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    await ann.say("/done")
    clock.advance(timedelta(days=2))  # only the 30th missed
    assert "catchup" not in " ".join(actions(await ann.say("/today")))
    admin = Chatter(core, user_id="1", name="Ann", chat=GROUP, admin=True)
    await admin.say("/start 2026-11-20")
    assert "catchup" not in " ".join(actions(await admin.say("/today")))


async def test_catch_up_in_chinese(li: Chatter, clock: ManualClock) -> None:
    await li.say("/start")
    clock.advance(timedelta(days=3))
    assert "自上次打卡以来，你错过了 3 个计划日。" in await li.text("/today")
    assert "计划已顺延 3 天：今天是第 1 周第 1 天（原来是第 1 周第 4 天）。" in await li.text("/catchup")


# no silent restart ---------------------------------------------------------------------------------------
async def test_start_date_while_enrolled_asks_first(ann: Chatter, database_url: str) -> None:
    await ann.say("/start")
    before = snapshot(database_url)
    replies = await ann.say("/start 2026-11-01")
    text = replies[0].text.to_plain()
    assert "You are on the plan since 2026-11-29: today is week 1, day 1." in text
    assert "Restarting on 2026-11-01 would put you at week 5, day 1" in text
    assert "/start 2026-11-01 confirm" in text and actions(replies) == ["restart:2026-11-01"]
    assert snapshot(database_url) == before
    assert "Week 5 · Day 1" in (await ann.press("restart:2026-11-01"))[0].text.to_plain()
    assert "Week 1 · Day 1" in await ann.text("/start 2026-11-29 confirm")


async def test_restart_question_in_chinese(li: Chatter) -> None:
    await li.say("/start")
    text = await li.text("/start 2026-12-05")
    assert "你从 2026-11-29 开始学习计划：今天是第 1 周第 1 天。" in text and "6 天后开始" in text


# check-ins need a plan day -------------------------------------------------------------------------------
async def test_done_without_a_plan_day_records_nothing(ann: Chatter, database_url: str, clock: ManualClock) -> None:
    assert "You haven't started the plan yet" in await ann.text("/done")
    await ann.say("/start 2026-12-05")
    assert "Your plan starts on 2026-12-05; there is nothing to check in for 2026-11-29 yet." in await ann.text("/done")
    [refused] = await ann.press("done:2026-11-29")  # a stale button: a refusal, not a redraw
    assert refused.ephemeral and not refused.edit and "Your plan starts on 2026-12-05" in refused.text.to_plain()
    await ann.say("/start 2026-11-29 confirm")
    await ann.say("/pause")
    assert "Your plan is paused on 2026-11-29" in await ann.text("/done")
    assert checkins_of(database_url) == []


async def test_after_week_20_only_slot_days_take_check_ins(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start 2026-07-01")  # 151 days ago: the plan is complete
    clock.set(at("2026-12-02 09:00"))  # a Wednesday: no weekly slot, not a plan month's first day
    text = await ann.text("/done")
    assert "You have completed the 20-week plan" in text and "Saturday" in text
    assert "Done ✓" not in [b.label for b in (await ann.say("/today"))[0].buttons]
    clock.set(at("2026-12-05 09:00"))  # Saturday, the reading day
    assert "You checked in for 2026-12-05" in await ann.text("/done")


async def test_undo_yesterday_takes_back_done_yesterday(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 11:00"))
    assert "You checked in for 2026-11-29" in await ann.text("/done yesterday")
    assert "Took back your check-in for 2026-11-29." in await ann.text("/undo yesterday")
    assert "Nothing to undo: you haven't checked in for 2026-11-29." in await ann.text("/undo yesterday")
    assert "is not 'yesterday'" in await ann.text("/undo tomorrow")
    clock.set(at("2026-11-30 12:00"))
    assert "/undo yesterday works until noon" in await ann.text("/undo yesterday")


# replies ------------------------------------------------------------------------------------------------
async def test_one_task_is_task_1_and_private_chats_say_you(ann: Chatter, li: Chatter) -> None:
    await ann.say("/start")
    assert "You checked in for 2026-11-29: task 1." in await ann.text("/done 1")
    assert "Already checked in for 2026-11-29 (task 1)." in await ann.text("/done 1")
    assert "Ann" not in await ann.text("/streak")
    await li.say("/start")
    assert "你已打卡 2026-11-29：任务 2。" in await li.text("/done 2")
    assert (await li.text("/streak")).startswith("你的连续打卡")


async def test_streak_summarises_the_days_before_the_first_check_in(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    clock.advance(timedelta(days=3))
    await ann.say("/done")
    text = await ann.text("/streak")
    assert "2026-11-19 to 2026-11-30: 12 days before your first check-in" in text
    assert "before your first check-in" not in text.split("12 days before your first check-in", 1)[1]


# a choice sticks ------------------------------------------------------------------------------------------
async def test_lang_is_stored_as_a_choice_and_a_new_locale_does_not_undo_it(core: Core, ann: Chatter) -> None:
    assert "Now: English (en)" in await ann.text("/lang") and "/lang [zh|en]" in await ann.text("/lang")
    await ann.say("/lang zh")
    same_person_new_device = Chatter(core, user_id="1", name="Ann", locale="en-US")
    assert "当前：中文 (zh)" in await same_person_new_device.text("/lang")


# timezones for people -------------------------------------------------------------------------------------
async def test_timezone_accepts_places_offsets_and_iana_names(ann: Chatter, li: Chatter, database_url: str) -> None:
    assert "Now: UTC" in await ann.text("/timezone")
    for query, zone in [
        ("Berlin", "Europe/Berlin"),
        ("Shanghai", "Asia/Shanghai"),
        ("上海", "Asia/Shanghai"),
        ("Japan", "Asia/Tokyo"),
        ("日本", "Asia/Tokyo"),
        ("america/new_york", "America/New_York"),
    ]:
        assert f"Timezone set to {zone} " in await ann.text(f"/timezone {query}"), query
    assert "Timezone: America/New_York" in await ann.text("/settings")
    before = snapshot(database_url)
    choices = (await ann.say("/timezone +8"))[0]
    assert "Which timezone do you mean?" in choices.text.to_plain()
    assert actions([choices])[0] == "tz:Asia/Shanghai" and "tz:Etc/GMT-8" in actions([choices])
    assert "tz:America/New_York" in actions(await ann.say("/timezone UTC-5"))
    assert actions(await ann.say("/timezone GMT+5:30"))[0] == "tz:Asia/Kolkata"
    unknown = await ann.text("/timezone Mars/Olympus")
    assert "Unknown timezone or place Mars/Olympus" in unknown and "Usage:" in unknown
    assert "Unknown timezone or place" in await ann.text("/timezone '; DROP TABLE users;--")
    assert snapshot(database_url) == before
    assert "未知时区或地点 火星" in await li.text("/timezone 火星")
    assert "Timezone set to Asia/Shanghai" in (await ann.press("tz:Asia/Shanghai"))[0].text.to_plain()
    assert "no longer works" in (await ann.press("tz:Not/AZone"))[0].text.to_plain()


async def test_a_new_learner_is_asked_for_a_zone_once(ann: Chatter, li: Chatter) -> None:
    [first] = await ann.say("/start")
    assert "Which timezone are you in? Now: UTC." in first.text.to_plain()
    assert "share your location" not in first.text.to_plain()  # that is for Telegram
    assert actions([first])[0] == "tz:America/New_York" and actions([first])[-1] == "done:2026-11-29"
    assert "Which timezone" not in await ann.text("/start 2026-11-29 confirm")
    await li.say("/timezone 上海")
    assert "时区" not in await li.text("/start")  # a zone already chosen: nothing to ask
