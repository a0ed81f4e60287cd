"""The commands through the real core and a real, migrated SQLite database."""

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.types import ChatRef
from tests.support import Chatter, at, snapshot

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only


async def test_start_then_today_in_english(ann: Chatter) -> None:
    text = await ann.text("/start")
    assert "Welcome! Your 20-week plan starts on 2026-11-29." in text and "Week 1 · Day 1" in text
    assert "Ann" not in text  # a private chat speaks to "you"
    today = await ann.text("/today")
    assert "Phase 1" in today and "Today's tasks" in today and "(60 min)" in today


async def test_chinese_locale_gets_chinese(li: Chatter) -> None:
    text = await li.text("/start")
    assert "欢迎！你的20周学习计划从 2026-11-29 开始。" in text and "第1周 · 第1天" in text and "数学基础" in text


async def test_backdated_start_shows_week_3_day_4(ann: Chatter, clock: ManualClock) -> None:
    start = (clock.now() - timedelta(days=17)).date()
    text = await ann.text(f"/start {start.isoformat()}")
    assert "Week 3 · Day 4" in text
    assert "Deep Learning Frameworks" in text or "PyTorch" in text


async def test_start_again_shows_where_you_are(ann: Chatter) -> None:
    await ann.say("/start 2026-11-20")
    text = await ann.text("/start")
    assert "already on the plan (since 2026-11-20)" in text and "Week 2 · Day 3" in text


async def test_future_start_counts_down(ann: Chatter) -> None:
    text = await ann.text("/start 2026-12-02")
    assert "starts in 3 days" in text


async def test_today_inside_a_block_names_the_right_week(ann: Chatter, clock: ManualClock) -> None:
    await ann.say(f"/start {(clock.now() - timedelta(days=7 * 5 + 1)).date()}")
    text = await ann.text("/today")
    assert "Week 6 · Day 2" in text and "weeks 5-6, now week 6" in text and "Attention Is All You Need" in text


async def test_goto_pause_and_resume_shift_the_plan(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    assert "Moved to week 8, day 1" in await ann.text("/goto 8")
    clock.advance(timedelta(days=2))
    assert "Week 8 · Day 3" in await ann.text("/today")
    assert "Paused" in await ann.text("/pause")
    assert "already paused" in await ann.text("/pause")
    clock.advance(timedelta(days=10))
    assert "Paused at week 8, day 3" in await ann.text("/today")
    text = await ann.text("/resume")
    assert "Welcome back" in text and "Week 8 · Day 3" in text
    clock.advance(timedelta(days=1))
    assert "Week 8 · Day 4" in await ann.text("/today")
    assert "isn't paused" in await ann.text("/resume")


async def test_week_and_plan_views(ann: Chatter) -> None:
    await ann.say("/start")
    week = (await ann.say("/week 19"))[0]
    assert "Week 19" in week.text.to_plain()
    assert [b.action for b in week.buttons] == ["week:18", "week:20"]
    assert "Week 20" in (await ann.press("week:20"))[0].text.to_plain()
    plan = await ann.text("/plan")
    assert plan.count("Phase ") == 4 and "▶ W1 " in plan and "(the source text ends here)" in plan


async def test_lang_timezone_and_settings(ann: Chatter, clock: ManualClock) -> None:
    await ann.say("/start")
    assert "Timezone set to Asia/Shanghai (local time now 17:00)" in await ann.text("/timezone Asia/Shanghai")
    assert "从现在起我会用中文回复" in await ann.text("/lang zh")
    settings = await ann.text("/settings")
    assert "时区：Asia/Shanghai" in settings and "语言：中文" in settings
    clock.set(at("2026-11-29 23:30", "UTC"))  # already the 30th in Shanghai
    assert "第1周 · 第2天" in await ann.text("/today")


async def test_not_enrolled_is_told_how_to_start(ann: Chatter) -> None:
    assert "Send /start" in await ann.text("/today")
    assert "Send /start" in await ann.text("/goto 3")


async def test_help_lists_commands_and_explains_one(ann: Chatter, li: Chatter) -> None:
    text = await ann.text("/help")
    for name in ("/start", "/today", "/week", "/plan", "/goto", "/pause", "/resume", "/lang", "/timezone"):
        assert name in text
    assert "/goto <N>" in await ann.text("/help goto")
    assert "全部命令" in await li.text("/help")


BAD_INPUTS = [
    ("/frobnicate", "Unknown command"),
    ("/goto", "Missing the week number (1-20)."),
    ("/goto 1 2", "Too many arguments"),
    ("/start 2026-13-45", "not a valid date"),
    ("/start 1999-01-01", "within a year"),
    ("/goto 0", "out of range; expected the week number (1-20)"),
    ("/goto 21", "out of range; expected the week number (1-20)"),
    ("/goto abc", "whole number"),
    ("/timezone Mars/Olympus", "Unknown timezone"),
    ("/lang klingon", "klingon is not one of the choices; expected zh or en."),
    ("/" + "x" * 10_000, "too long"),
    ("/today " + "y" * 10_000, "too long"),
    ("/goto \x00\x1b[31m3", "Control characters"),
    ("/timezone '; DROP TABLE users; --", "Unknown timezone"),
    ("/start 2026-01-01' OR '1'='1", "not a valid date"),
    ("/help " + "z" * 100, "too long"),
]


@pytest.mark.parametrize(("line", "expected"), BAD_INPUTS)
async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    ann: Chatter, database_url: str, line: str, expected: str
) -> None:
    await ann.say("/start 2026-11-20")
    before = snapshot(database_url)
    replies = await ann.say(line)
    assert len(replies) == 1
    assert expected in replies[0].text.to_plain()
    assert snapshot(database_url) == before


async def test_bad_input_answered_in_chinese(li: Chatter) -> None:
    await li.say("/start")
    assert "21 超出范围；需要周数（1 到 20）。" in await li.text("/goto 21")
    assert "用法" in await li.text("/goto 21")
    assert "未知时区" in await li.text("/timezone Mars/Olympus")


async def test_a_crashing_handler_is_answered_and_contained(ann: Chatter, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ann.core.registry

    async def boom(ctx):
        raise RuntimeError("kaboom")

    spec = registry.get("plan")
    monkeypatch.setitem(registry._commands, "plan", replace(spec, handler=boom))
    assert "something went wrong" in await ann.text("/plan")
    assert "Week 1" in await ann.text("/week 1")


async def test_group_settings_need_an_admin_and_reads_fall_back(core, ann: Chatter) -> None:
    group = ChatRef("console", "-100", "group", "Study group")
    member = Chatter(core, user_id="1", name="Ann", chat=group, admin=False)
    admin = Chatter(core, user_id="9", name="Boss", chat=group, admin=True)
    await ann.say("/start")
    assert "Only group administrators" in await member.text("/goto 3")
    assert "Week 1 · Day 1" in await member.text("/today")  # the member's own plan until the group has one
    assert "This group starts the 20-week plan" in await admin.text("/start 2026-11-01")
    assert "Week 5 · Day 1" in await member.text("/today")
    assert "Only group administrators" in await member.text("/timezone Asia/Tokyo")
    assert "Asia/Tokyo" in await admin.text("/timezone Asia/Tokyo")
    assert "Group settings" in await member.text("/settings")
    assert await member.say("just chatting") == []


async def test_hostile_display_name_is_cleaned(core) -> None:
    evil = Chatter(core, user_id="66", name="\u202eevil\x00" + "n" * 200, locale="en")
    evil.chat = ChatRef("console", "-100", "group", "Group")  # where the bot names people: a group roster
    text = await evil.text("/join")
    assert text.startswith("evil") and "joined the roster" in text and "\u202e" not in text and "\x00" not in text
