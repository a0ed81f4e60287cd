"""`/top` as a chat shows it: the top ten with shared places, the caller's own place below them, how many
more members there are and where to see them all; a few lines for any size of group, in en and zh.

Through the real core on a migrated database; the dashboard, which reuses the ranking, still lists everyone.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.accountability.board import NAME_WIDTH, columns
from bot.accountability.streaks import task_count
from bot.app import Runtime
from bot.core.clock import ManualClock, local_today
from bot.core.dispatcher import Core
from bot.core.markup import Rich
from bot.core.types import ChatRef
from bot.dashboard.group_page import group_view
from storage.accountability import SqlAccountability
from tests.support import Chatter

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only

GROUP = ChatRef("console", "-300", "group", "Big group")
TELEGRAM_LIMIT = 4096
LONG_EN = "Maximilian Alexander Bartholomew von Hohenzollern-Sigmaringen {n:03}"
LONG_ZH = "欧阳诸葛司马上官长孙慕容令狐皇甫尉迟公孙轩辕东方端木独孤南宫 {n:03}"
PLACE = re.compile(r"^(\d+)\. (.+?) — streak ")


def member(core: Core, n: int, name: str, admin: bool = False, locale: str = "en") -> Chatter:
    return Chatter(core, user_id=str(n), name=name, chat=GROUP, admin=admin, locale=locale)


async def group_plan(core: Core) -> None:
    """Check-ins need a plan day: the group's own plan (the members have none of their own)."""
    assert "Day 1" in await member(core, 999, "Admin", admin=True).text("/start")


def places(text: str) -> list[tuple[int, str]]:
    return [(int(m[1]), m[2]) for m in map(PLACE.match, text.splitlines()) if m]


def bold_texts(rich: Rich) -> list[str]:
    return [span.text for span in rich.spans if span.style == "bold"]


async def test_ties_share_a_place_and_the_caller_below_the_top_sees_their_own(core: Core) -> None:
    await group_plan(core)
    people = [member(core, n, f"M{n:02}") for n in range(1, 15)]
    for who in people:
        await who.say("/join")
    await people[0].say("/done")  # 3 tasks
    await people[1].say("/done")  # 3 tasks: the same streak and tasks share first place
    for who in people[2:5]:
        await who.say("/done 1")  # 1 task each: three at place 3
    caller = people[13]  # no check-in, and last by name among the nine tied at place 6
    [reply] = await caller.say("/top")
    text = reply.text.to_plain()
    assert places(text) == [
        (1, "M01"),
        (1, "M02"),
        (3, "M03"),
        (3, "M04"),
        (3, "M05"),
        (6, "M06"),
        (6, "M07"),
        (6, "M08"),
        (6, "M09"),
        (6, "M10"),
        (6, "M14"),  # the caller's own line, after a gap line for M11..M13
    ]
    lines = text.splitlines()
    tenth = lines.index("6. M10 — streak 0 days, 0 tasks this week")
    assert lines[tenth + 1 : tenth + 3] == ["…", "6. M14 — streak 0 days, 0 tasks this week"]
    assert "…and 3 more members. An admin can send /dashboard for a page with everyone." in text
    assert "6. M14 — streak 0 days, 0 tasks this week" in bold_texts(reply.text)
    assert text.rstrip().endswith("Group streak: 0 days (a day counts when 50% of members check in).")


async def test_a_caller_in_the_top_gets_no_extra_line(core: Core) -> None:
    await group_plan(core)
    people = [member(core, n, f"M{n:02}") for n in range(1, 13)]
    for who in people:
        await who.say("/join")
    await people[11].say("/done")  # M12 alone checked in: first
    [reply] = await people[11].say("/top")
    text = reply.text.to_plain()
    assert places(text)[0] == (1, "M12") and len(places(text)) == 10
    assert "\n…\n" not in text and "…and 2 more members." in text
    assert bold_texts(reply.text) == ["Leaderboard of Big group", "1. M12 — streak 1 day, 3 tasks this week"]


async def test_the_member_right_after_the_top_needs_no_gap(core: Core) -> None:
    people = [member(core, n, f"M{n:02}") for n in range(1, 12)]
    for who in people:
        await who.say("/join")
    text = await people[10].text("/top")  # all tied, M11 is the eleventh line: straight after the top
    assert [name for _place, name in places(text)][-2:] == ["M10", "M11"]
    assert "\n…\n" not in text and "more member" not in text


async def test_a_small_group_shows_everyone_without_a_more_line(core: Core) -> None:
    await group_plan(core)
    ann, bob = member(core, 1, "Ann"), member(core, 2, "Bob")
    await ann.say("/done")
    await bob.say("/join")
    text = await bob.text("/top")
    assert places(text) == [(1, "Ann"), (2, "Bob")]
    assert "more member" not in text and "…" not in text


async def test_two_hundred_members_with_long_names_fit_one_message_in_en_and_zh(app: Runtime, core: Core) -> None:
    await group_plan(core)
    admin = member(core, 1, LONG_EN.format(n=1), admin=True)
    people = [admin] + [member(core, n, (LONG_EN if n % 2 else LONG_ZH).format(n=n)) for n in range(2, 201)]
    for who in people:
        await who.say("/join")
    for who in people[100:112]:
        await who.say("/done")  # twelve members lead; the admin (member 1) is far below them
    text = await admin.text("/top")
    assert len(text) < TELEGRAM_LIMIT // 2, len(text)
    ranked = places(text)
    assert len(ranked) == 11 and ranked[-1][0] == 13  # the top ten, then the caller tied at 13 with 187 more
    assert all(columns(name) <= NAME_WIDTH for _place, name in ranked) and ranked[-1][1].endswith("…")
    assert any(len(name) <= NAME_WIDTH // 2 for _place, name in ranked)  # a Chinese name: two columns a character
    assert "…and 189 more members." in text and "Group streak:" in text

    await admin.say("/lang zh")  # the group's replies in Chinese
    zh = await admin.text("/top")
    assert len(zh) < TELEGRAM_LIMIT // 2, len(zh)
    assert "还有 189 位成员" in zh and "/dashboard" in zh
    assert len(re.findall(r"^\d+\. ", zh, re.MULTILINE)) == 11

    chat = await app.database.store.get_or_create_chat("console", GROUP.chat_id, "group", GROUP.title, "en", "UTC")
    page = await group_view(app.services, chat)
    assert len(page.members) == 200  # the dashboard page still lists every member


async def test_standings_sum_tasks_carry_own_pauses_and_read_kept_days_from_the_first_join(
    app: Runtime, core: Core, clock: ManualClock
) -> None:
    """The one statement behind `/top`, compared with the separate reads it replaces."""
    repo: SqlAccountability = app.database.accountability
    ann, bob, admin = member(core, 1, "Ann"), member(core, 2, "Bob"), member(core, 3, "Ada", admin=True)
    await Chatter(core, user_id="1", name="Ann").say("/start 2026-11-20")  # Ann's own plan
    sunday = local_today(clock, "UTC")
    await ann.say("/done")  # 3 tasks on Sunday
    clock.advance(timedelta(days=1))
    await ann.say("/done 2")  # 1 task on Monday
    await bob.say("/join")
    assert "Paused" in await Chatter(core, user_id="1", name="Ann").text("/pause")  # her own pause, not Bob's
    chat = await app.database.store.get_or_create_chat("console", GROUP.chat_id, "group", GROUP.title, "en", "UTC")
    monday = sunday + timedelta(days=1)

    found = await repo.standings(chat.id, sunday, monday, sunday - timedelta(days=30))
    by_name = {c.name: c for c in found.contenders}
    assert set(by_name) == {"Ann", "Bob"} and found.share == 50
    assert by_name["Ann"].tasks == 4 and by_name["Bob"].tasks == 0
    totals = {uid: 0 for uid in (by_name["Ann"].user_id, by_name["Bob"].user_id)}
    for uid, mask, times in await repo.mask_counts(list(totals), sunday, monday):
        totals[uid] += task_count(mask) * times
    assert totals == {c.user_id: c.tasks for c in found.contenders}
    assert by_name["Ann"].latest is not None and by_name["Ann"].latest.on == monday
    assert by_name["Ann"].latest.current == 2 and by_name["Bob"].latest is None
    assert len(by_name["Ann"].pauses) == 1 and by_name["Bob"].pauses == ()
    assert found.days == await repo.group_checked_per_day(chat.id, sunday - timedelta(days=30), monday)
    assert found.days == {sunday: 1, monday: 1}  # nothing before Ann joined, though 30 days were allowed
    monday_only = await repo.standings(chat.id, monday, monday, monday)
    assert monday_only.days == {monday: 1}
    assert {c.name: c.tasks for c in monday_only.contenders} == {"Ann": 1, "Bob": 0}

    assert "70%" in await admin.text("/groupshare 70")
    assert (await repo.standings(chat.id, sunday, monday, sunday)).share == 70


@pytest.mark.postgresql_too
async def test_an_empty_roster_has_no_standings(app: Runtime, core: Core) -> None:
    admin = member(core, 3, "Ada", admin=True)
    assert "Nobody is on this group's roster yet" in await admin.text("/top")
    chat = await app.database.store.get_or_create_chat("console", GROUP.chat_id, "group", GROUP.title, "en", "UTC")
    found = await app.database.accountability.standings(
        chat.id, date(2026, 11, 23), date(2026, 11, 29), date(2026, 1, 1)
    )
    assert found.contenders == [] and found.days == {} and found.share == 50
