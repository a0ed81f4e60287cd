"""The group streak kept incrementally (`group_days`) always equals the count made from scratch.

Random sequences of what members really do, through the real commands: check-ins in the group and in
private (today and yesterday), undos, joins and leaves (and joining again), share changes, plan pauses,
days passing, a member in another timezone. After every step each group's kept per-day counts must equal
the counts recomputed from the check-ins, and `/top` must show the streak those counts give.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import pytest

from bot.accountability.streaks import group_streak
from bot.app import Runtime
from bot.core.clock import ManualClock, local_now
from bot.core.types import ChatRef
from storage.accountability import SqlAccountability
from tests.support import Chatter

GROUPS = (ChatRef("console", "-1", "group", "One"), ChatRef("console", "-2", "group", "Two"))
USERS = ("1", "2", "3", "4")
EVER = (date(2020, 1, 1), date(2030, 1, 1))


async def kept_and_recounted(app: Runtime, chat_id: int) -> tuple[dict[date, int], dict[date, int]]:
    repo: SqlAccountability = app.database.accountability
    return await repo.group_checked_per_day(chat_id, *EVER), await repo.recount_group_days(chat_id, *EVER)


async def chat_ids(app: Runtime) -> list[int]:
    ids = []
    for group in GROUPS:
        chat = await app.database.store.find_chat(group.platform, group.chat_id)
        if chat is not None:
            ids.append(chat.id)
    return ids


async def step(rng: random.Random, app: Runtime, clock: ManualClock) -> str:
    user = rng.choice(USERS)
    group = rng.choice(GROUPS)
    member = Chatter(app.core, user_id=user, name=f"user{user}", chat=group, admin=True)
    private = Chatter(app.core, user_id=user, name=f"user{user}")
    action = rng.choices(
        ["done", "done_private", "yesterday", "undo", "undo_yesterday", "join", "leave", "share", "pause",
         "resume", "day", "hours"],
        weights=[6, 4, 3, 2, 2, 2, 2, 1, 1, 1, 2, 1],
    )[0]  # fmt: skip
    if action == "done":
        await member.say(rng.choice(["/done", "/done 1", "/done 2 3"]))
    elif action == "done_private":
        await private.say("/done")
    elif action == "yesterday":
        await rng.choice([member, private]).say("/done yesterday")
    elif action == "undo":
        await private.say("/undo")
    elif action == "undo_yesterday":
        await private.say("/undo yesterday")
    elif action == "join":
        await member.say("/join")
    elif action == "leave":
        await member.say("/leave")
    elif action == "share":
        await member.say(f"/groupshare {rng.choice([10, 25, 50, 75, 100])}")
    elif action == "pause":
        await private.say("/pause")
    elif action == "resume":
        await private.say("/resume")
    elif action == "day":
        clock.advance(timedelta(days=rng.choice([1, 1, 2])))
    else:
        clock.advance(timedelta(hours=rng.choice([5, 13])))
    return f"{action} by {user} in {group.title}"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_kept_counts_equal_a_recount_after_every_step(app: Runtime, clock: ManualClock, seed: int) -> None:
    rng = random.Random(seed)
    for user in USERS:
        private = Chatter(app.core, user_id=user, name=f"user{user}")
        await private.say("/start 2026-11-01")
    await Chatter(app.core, user_id="4", name="user4").say("/timezone Asia/Shanghai")  # another local date
    history: list[str] = []
    for _ in range(70):
        history.append(await step(rng, app, clock))
        for chat_id in await chat_ids(app):
            kept, recounted = await kept_and_recounted(app, chat_id)
            assert kept == recounted, history
    counted_something = False
    for chat_id, group in zip(await chat_ids(app), GROUPS, strict=False):
        kept, _recounted = await kept_and_recounted(app, chat_id)
        counted_something |= bool(kept)
        await assert_top_shows(app, clock, group, chat_id)
    assert counted_something, "the sequence never checked anyone in: the test would prove nothing"


async def assert_top_shows(app: Runtime, clock: ManualClock, group: ChatRef, chat_id: int) -> None:
    """/top's group streak is the one the recounted days give, under the group's share setting."""
    repo: SqlAccountability = app.database.accountability
    chat = await app.database.store.get_chat(chat_id)
    assert chat is not None
    members = await repo.roster(chat_id)
    if not members:
        return
    today = local_now(clock, chat.timezone).date()
    joins = sorted(m.joined_on for m in members)
    recounted = await repo.recount_group_days(chat_id, *EVER)
    expected = group_streak(
        await repo.share(chat_id),
        recounted,
        lambda day: sum(1 for joined in joins if joined <= day),
        today,
        (today - joins[0]).days + 1,
    )
    board = await Chatter(app.core, user_id=USERS[0], name="user1", chat=group).text("/top")
    days = f"{expected} day" if expected == 1 else f"{expected} days"
    assert f"Group streak: {days}" in board, board


async def test_a_long_group_streak_is_read_from_the_kept_days(app: Runtime, clock: ManualClock) -> None:
    """Thirty days in a row of two members checking in: /top says 30 without recounting check-ins."""
    group = GROUPS[0]
    ann = Chatter(app.core, user_id="1", name="Ann", chat=group)
    bob = Chatter(app.core, user_id="2", name="Bob", chat=group)
    for user in ("1", "2"):
        await Chatter(app.core, user_id=user, name=f"user{user}").say("/start 2026-11-01")
    await ann.say("/join")
    await bob.say("/join")
    for _ in range(30):
        await ann.say("/done")
        await bob.say("/done")
        clock.advance(timedelta(days=1))
    assert "Group streak: 30 days" in await ann.text("/top")  # today still open: the run ends yesterday
    (chat_id,) = [i for i in await chat_ids(app)][:1]
    kept, recounted = await kept_and_recounted(app, chat_id)
    assert kept == recounted and len(kept) == 30 and set(kept.values()) == {2}
    await bob.say("/leave")  # Bob's days stop counting; alone, Ann still makes 100% of the roster
    kept, recounted = await kept_and_recounted(app, chat_id)
    assert kept == recounted and set(kept.values()) == {1}


async def test_concurrent_check_ins_are_each_counted_once(app: Runtime) -> None:
    group = GROUPS[0]
    members = [Chatter(app.core, user_id=str(i), name=f"m{i}", chat=group) for i in range(1, 9)]
    for i in range(1, 9):
        await Chatter(app.core, user_id=str(i), name=f"m{i}").say("/start 2026-11-01")
    await asyncio.gather(*(m.say("/join") for m in members))
    await asyncio.gather(*(m.say("/done") for m in members), *(m.say("/done") for m in members))
    (chat_id,) = (await chat_ids(app))[:1]
    kept, recounted = await kept_and_recounted(app, chat_id)
    assert kept == recounted and list(kept.values()) == [8]
