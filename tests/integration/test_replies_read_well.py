"""Replies a learner reads every day: argument errors in words, current values, /help for this chat,
/settings that explain the plan position, weekday names, the plan's own labels and punctuation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef
from tests.support import Chatter, snapshot

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only

GROUP = ChatRef("console", "-100", "group", "Study group")


# argument errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "en", "zh"),
    [
        ("/goto", "Missing the week number (1-20).", "缺少周数（1 到 20）。"),
        ("/goto x", "x is not a whole number; expected the week number (1-20).", "x 不是整数；需要周数（1 到 20）。"),
        ("/week 30", "30 is out of range; expected the week number (1-20).", "30 超出范围；需要周数（1 到 20）。"),
        ("/readingday someday", "expected a weekday (mon ... sun).", "需要星期几（周一……周日）。"),
        ("/nudge maybe", "maybe is not one of the choices; expected on or off.", "maybe 不是可选项；需要on 或 off。"),
    ],
)
async def test_argument_errors_name_the_argument_in_words(
    ann: Chatter, li: Chatter, database_url: str, line: str, en: str, zh: str
) -> None:
    await ann.say("/help")
    await li.say("/help")
    before = snapshot(database_url)
    english, chinese = await ann.text(line), await li.text(line)
    assert en in english and "Usage:" in english
    assert zh in chinese and "用法：" in chinese
    for text in (english, chinese):
        assert "Missing N" not in text and "缺少 N" not in text and "switch" not in text.split("用法")[0]
    assert snapshot(database_url) == before


# a current value and the usage, the same way for each command -------------------------------------------
async def test_remind_and_readingday_without_argument_show_the_current_value(
    ann: Chatter, li: Chatter, database_url: str
) -> None:
    await ann.say("/remind 07:30")
    await li.say("/remind off")
    before = snapshot(database_url)
    remind = await ann.text("/remind")
    assert remind.startswith("Now: 07:30 (") and "Usage:\n/remind [HH:MM|off]" in remind
    reading = await ann.text("/readingday")
    assert reading.startswith("Now: Saturday") and "Usage:\n/readingday [mon..sun]" in reading
    assert (await li.text("/readingday")).startswith("当前：周六")
    assert (await li.text("/remind")).startswith("当前：关闭")
    assert snapshot(database_url) == before


# /help for this chat ------------------------------------------------------------------------------------
async def test_help_in_a_private_chat_is_grouped_and_leaves_out_group_commands(ann: Chatter, li: Chatter) -> None:
    text = await ann.text("/help")
    headings = ["Plan", "Reminders", "Papers", "Check-ins"]
    positions = [text.index(f"\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)
    assert "/today —" in text and "/remind —" in text and "/done —" in text
    for group_only in ("/grouppost", "/groupnudge", "/groupshare", "/join", "/top"):
        assert f"{group_only} —" not in text
    assert "Group admin" not in text
    zh = await li.text("/help")
    assert "\n学习计划\n" in zh and "\n提醒\n" in zh and "\n论文\n" in zh and "\n打卡\n" in zh


async def test_help_in_a_group_shows_admin_commands_to_admins_only(core: Core) -> None:
    member = Chatter(core, user_id="5", name="Mo", locale="en", chat=GROUP)
    admin = Chatter(core, user_id="6", name="Ada", locale="en", chat=GROUP, admin=True)
    for_member, for_admin = await member.text("/help"), await admin.text("/help")
    assert "/join —" in for_member and "/top —" in for_member
    assert "/grouppost —" not in for_member and "/start —" not in for_member and "Group admin" not in for_member
    assert "\nGroup admin\n" in for_admin
    assert "/grouppost —" in for_admin and "/groupnudge —" in for_admin and "/start —" in for_admin
    assert for_admin.index("Group admin") > for_admin.index("Check-ins")


# /settings ----------------------------------------------------------------------------------------------
async def test_settings_show_position_and_how_it_got_there(ann: Chatter, li: Chatter, clock: ManualClock) -> None:
    await ann.say("/start 2026-11-20")
    await ann.say("/pause")
    clock.advance(timedelta(days=3))
    await ann.say("/resume")
    await ann.say("/goto 5")
    text = await ann.text("/settings")
    assert "Plan start: 2026-11-20" in text
    assert "Plan position: week 5, day 1" in text
    assert "• 2026-11-29: paused for 3 days" in text
    assert "• 2026-12-02: jumped to week 5, day 1" in text
    assert "Reading day: Saturday" in text
    assert "The console doesn't send pushes" in text  # this runtime keeps no schedules
    await li.say("/start 2026-11-20")
    zh = await li.text("/settings")
    assert "计划进度：第2周第6天" in zh and "论文阅读日：周六" in zh and "推送：这里没有" in zh


async def test_settings_of_a_paused_plan(ann: Chatter) -> None:
    await ann.say("/start 2026-11-20")
    await ann.say("/pause")
    text = await ann.text("/settings")
    assert "Plan position: week 2, day 3 (paused)" in text and "2026-11-29: paused, not resumed yet" in text


# the plan's labels, punctuation and weekday names --------------------------------------------------------
async def test_chinese_day_uses_the_sources_labels_and_full_width_punctuation(li: Chatter) -> None:
    await li.say("/start 2026-11-20")
    today = await li.text("/today")
    assert "第一阶段：基础夯实（4周）" in today
    assert "Python与机器学习基础（第2周）" in today and " (第2周)" not in today
    assert "学习内容" in today
    assert "Python项目（如Kaggle入门竞赛）（60分钟）" in today and " （60分钟）" not in today
    week = await li.text("/week 1")
    assert "每日任务（3-4小时）" in week
    assert "项目类型" in await li.text("/week 18")


async def test_english_outline_has_no_double_brackets(ann: Chatter) -> None:
    text = await ann.text("/plan")
    assert "Phase 1: Building the Foundations (4 weeks) · weeks 1-4" in text
    assert ") (" not in text
    assert "Key tips" in text


async def test_weekly_slot_shows_inline_code_without_backticks(li: Chatter, clock: ManualClock) -> None:
    await li.say("/start 2026-11-20")
    clock.advance(timedelta(days=6))  # Saturday, the default reading day
    today = await li.text("/today")
    assert "每周固定任务" in today and "cs.CL/cs.LG" in today and "`" not in today


async def test_settings_show_a_catch_up_as_the_pause_it_made(ann: Chatter) -> None:
    await ann.say("/start 2026-11-20")
    before = await ann.text("/settings")
    assert "Plan position: week 2, day 3" in before and "paused for" not in before
    await ann.say("/catchup")
    after = await ann.text("/settings")
    assert "Plan position: week 1, day 1" in after
    assert "• 2026-11-20: paused for 9 days" in after
