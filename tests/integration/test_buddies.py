"""Study buddies and weekly reviews through the real core on a real database, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.types import ChatRef
from bot.delivery.service import DeliveryService
from tests.support import Chatter, RecordingDeliverer, at, snapshot

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only

GROUP_A = ChatRef("console", "-100", "group", "Group A")
GROUP_B = ChatRef("console", "-200", "group", "Group B")
NAMES = ("Ada", "Bob", "Cyd", "Dee", "Eve", "Fay", "Gus", "Hal")


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]


def member(core: Core, n: int, chat: ChatRef = GROUP_A, admin: bool = False, name: str | None = None) -> Chatter:
    return Chatter(core, user_id=str(n + 1), name=name or NAMES[n], chat=chat, admin=admin)


def private(core: Core, n: int, name: str | None = None) -> Chatter:
    return Chatter(core, user_id=str(n + 1), name=name or NAMES[n])


async def opt_in(core: Core, count: int, chat: ChatRef = GROUP_A) -> list[Chatter]:
    people = [member(core, n, chat, admin=n == 0) for n in range(count)]
    for person in people:
        await person.say("/buddy on")
    return people


def pairs_line(text: str) -> list[set[str]]:
    """The groups of the "This week's study buddies: A ↔ B, C ↔ D" line."""
    line = next(x for x in text.splitlines() if x.startswith("This week's study buddies: "))
    return [set(group.split(" ↔ ")) for group in line.removeprefix("This week's study buddies: ").split(", ")]


async def run_until(delivery: DeliveryService, clock: ManualClock, until_text: str, step: timedelta) -> None:
    until = at(until_text)
    while clock.now() < until:
        clock.advance(step)
        await delivery.tick()
        await delivery.drain()


def posts(platform: RecordingDeliverer, needle: str = "study buddies") -> list[tuple[str, str]]:
    """(chat id, text) of every push containing `needle`."""
    return [
        (target.external_id, reply.text.to_plain())
        for target, replies, _at in platform.sent
        for reply in replies
        if needle in reply.text.to_plain()
    ]


# the Monday draw -------------------------------------------------------------------------------------------
async def test_monday_post_pairs_2_3_5_and_8_members_each_in_its_own_group(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    groups = {count: ChatRef("console", f"-{count}00", "group", f"G{count}") for count in (2, 3, 5, 8)}
    for count, chat in groups.items():
        await opt_in(core, count, chat)
    await run_until(delivery, clock, "2026-11-30 00:10", timedelta(minutes=5))  # Monday 00:00 UTC
    sent = posts(platform, "This week's study buddies")
    assert sorted(chat for chat, _text in sent) == sorted(chat.chat_id for chat in groups.values())  # once each
    for count, chat in groups.items():
        text = next(t for c, t in sent if c == chat.chat_id)
        split = pairs_line(text)
        assert sorted(n for g in split for n in g) == sorted(NAMES[:count])  # everyone once, nobody else
        sizes = sorted(len(g) for g in split)
        assert sizes == [2] * (count // 2 - 1) + [3 if count % 2 else 2]  # an odd count makes one trio
        assert "Waiting for a buddy" not in text


@pytest.mark.postgresql_too
async def test_one_member_is_told_nobody_is_paired_and_an_empty_group_gets_nothing(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    await opt_in(core, 1)
    other = member(core, 1, GROUP_B)
    await other.say("/buddy on")
    await other.say("/buddy off")  # the group has a schedule but nobody opted in
    await run_until(delivery, clock, "2026-11-30 00:10", timedelta(minutes=5))
    sent = posts(platform, "opted in")
    assert sent == [("-100", "Only Ada has opted in so far, so nobody is paired yet. Send /buddy on to join.")]


async def test_the_post_is_restart_safe_and_matches_buddies(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock, database_url: str
) -> None:
    people = await opt_in(core, 6)
    await run_until(delivery, clock, "2026-11-30 00:10", timedelta(minutes=5))
    await run_until(delivery, clock, "2026-11-30 06:00", timedelta(hours=1))
    (posted,) = posts(platform, "This week's study buddies")
    assert pairs_line(await people[0].text("/buddies")) == pairs_line(posted[1])
    # another worker (or a restart) on the same database: the outbox has the day, nothing is posted twice
    from tests.support import make_runtime

    second_platform = RecordingDeliverer("console", clock)
    second = make_runtime(database_url, clock, [second_platform])
    await second.open()
    try:
        await second.delivery.tick()
        await second.delivery.drain()
        assert second_platform.sent == []
        assert pairs_line(await member(second.core, 3).text("/buddies")) == pairs_line(posted[1])
    finally:
        await second.stop()


@pytest.mark.postgresql_too
async def test_the_post_follows_the_groups_timezone_across_a_dst_change(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    clock.set(at("2027-03-20 12:00"))  # Saturday before Berlin's switch to summer time (Sunday 28 March)
    admin = member(core, 0, admin=True)
    assert "Europe/Berlin" in await admin.text("/timezone Europe/Berlin")
    await opt_in(core, 4)
    await run_until(delivery, clock, "2027-03-29 00:00", timedelta(minutes=30))
    times = [when for _t, replies, when in platform.sent if "study buddies" in replies[0].text.to_plain()]
    assert times == [at("2027-03-22 00:00", "Europe/Berlin"), at("2027-03-29 00:00", "Europe/Berlin")]
    assert [t.utcoffset() for t in times] == [timedelta(0)] * 2 and [t.hour for t in times] == [23, 22]


async def test_four_members_rotate_through_every_pairing_before_repeating(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    await opt_in(core, 4)
    for week in range(6):
        monday = at("2026-11-30 00:30") + timedelta(weeks=week)
        # Only the ticks around each Monday's draw matter: the days between hold no buddy post, so the clock
        # jumps over them (to the same :00/:30 instants the ticks would have reached) instead of ticking.
        clock.set(max(clock.now(), monday - timedelta(hours=2)))
        await run_until(delivery, clock, f"{monday:%Y-%m-%d %H:%M}", timedelta(minutes=30))
    splits = [frozenset(frozenset(g) for g in pairs_line(t)) for _c, t in posts(platform, "This week's study buddies")]
    assert len(splits) == 6
    for n in range(2, 6):  # four people have three ways to pair up: none repeats within three weeks
        assert len({splits[n - 2], splits[n - 1], splits[n]}) == 3


@pytest.mark.postgresql_too
async def test_an_admin_shuffle_redraws_and_a_member_is_refused(
    core: Core, clock: ManualClock, database_url: str
) -> None:
    people = await opt_in(core, 4)
    before_text = await people[1].text("/buddies")
    before = snapshot(database_url)
    assert "Only group administrators can use /buddies shuffle here." in await people[1].text("/buddies shuffle")
    assert snapshot(database_url) == before
    shuffled = await people[0].text("/buddies shuffle")
    assert "Redrawn for the rest of this week." in shuffled
    assert pairs_line(shuffled) != pairs_line(before_text)
    assert pairs_line(await people[2].text("/buddies")) == pairs_line(shuffled)


# mid-week changes --------------------------------------------------------------------------------------------
@pytest.mark.postgresql_too
async def test_opting_out_mid_week_puts_the_partner_into_another_pair(core: Core, clock: ManualClock) -> None:
    people = await opt_in(core, 4)
    clock.set(at("2026-11-30 00:05"))  # Monday: a fresh week
    split = pairs_line(await people[0].text("/buddies"))
    clock.set(at("2026-12-02 12:00"))  # Wednesday
    quitter = people[1]
    partner = next(iter(next(g for g in split if "Bob" in g) - {"Bob"}))
    text = await quitter.text("/buddy off")
    assert "Bob opted out of study buddies." in text and "For the rest of this week:" in text
    after = pairs_line(await people[0].text("/buddies"))
    assert len(after) == 1 and after[0] == {"Ada", "Cyd", "Dee"} and partner in after[0]
    assert "Bob" not in await people[0].text("/buddies")
    assert "You haven't opted in to study buddies here." in await quitter.text("/buddy")


async def test_leaving_the_group_mid_week_tells_the_group_and_a_newcomer_pairs_up(core: Core) -> None:
    ada, bob = await opt_in(core, 2)
    await bob.say("/join")
    assert "Your buddy: Ada" in await bob.text("/buddy")
    text = await bob.text("/leave")
    assert "Bob left the roster." in text
    assert "Ada has no study buddy for the rest of this week" in text
    assert "Bob" not in await ada.text("/buddies")
    cyd = member(core, 2)
    assert "Your buddy this week: Ada" in await cyd.text("/buddy on")
    assert pairs_line(await ada.text("/buddies")) == [{"Ada", "Cyd"}]
    clock_free = await bob.text("/buddy")  # leaving opted Bob out: not drawn next week
    assert "You haven't opted in to study buddies here." in clock_free


# what a buddy sees ------------------------------------------------------------------------------------------
async def test_buddy_shows_each_groups_buddy_privately_and_only_this_group_in_a_group(
    core: Core, clock: ManualClock
) -> None:
    clock.set(at("2026-12-01 09:00"))  # Tuesday
    ada_a, bob_a = await opt_in(core, 2)
    ada_b = member(core, 0, GROUP_B)
    eve_b = member(core, 4, GROUP_B)
    await ada_b.say("/buddy on")
    await eve_b.say("/buddy on")
    await private(core, 1).say("/start 2026-11-23")  # check-ins are for learners on the plan
    clock.set(at("2026-11-30 10:00"))
    await bob_a.say("/done")
    clock.set(at("2026-12-01 10:00"))
    await bob_a.say("/done")
    mine = await private(core, 0).text("/buddy")
    assert "Group A" in mine and "Group B" in mine
    assert "Your buddy: Bob" in mine and "Your buddy: Eve" in mine
    assert "• Bob: Monday, Tuesday" in mine and "• Ada: no check-ins yet" in mine
    in_a = await ada_a.text("/buddy")
    assert "Your buddy: Bob" in in_a and "Eve" not in in_a and "Group B" not in in_a
    assert "Since Monday 2026-11-30".lower() in in_a.lower()


async def test_buddy_privately_without_a_group_and_on_off_outside_a_group(core: Core, database_url: str) -> None:
    ann = private(core, 0)
    assert "You have no study buddy yet. Buddies are per group" in await ann.text("/buddy")
    before = snapshot(database_url)
    assert "/buddy on works in a group chat" in await ann.text("/buddy on")
    assert snapshot(database_url) == before


async def test_bad_buddy_word_changes_nothing(core: Core, database_url: str) -> None:
    (ada,) = await opt_in(core, 1)
    before = snapshot(database_url)
    text = await ada.text("/buddy maybe")
    assert "/buddy on — be paired in this group every Monday" in text and "Usage:" in text
    assert snapshot(database_url) == before


async def test_the_nudge_names_each_missing_members_buddy(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    clock.set(at("2026-11-30 09:00"))  # Monday
    people = await opt_in(core, 4)
    for person in people:
        await person.say("/join")
    split = pairs_line(await people[0].text("/buddies"))
    await people[0].say("/groupnudge 18:00")
    await private(core, 0).say("/start")
    await people[0].say("/done")
    await run_until(delivery, clock, "2026-11-30 18:05", timedelta(minutes=5))
    (nudge,) = [t for _c, t in posts(platform, "Not checked in yet")]
    ada_mate = next(iter(next(g for g in split if "Ada" in g) - {"Ada"}))
    others = sorted(set(NAMES[:4]) - {"Ada", ada_mate})
    assert f"{ada_mate}, your buddy Ada has checked in today." in nudge
    assert f"{others[0]}, neither you nor your buddy {others[1]} has checked in yet today." in nudge
    assert f"{others[1]}, neither you nor your buddy {others[0]} has checked in yet today." in nudge


# weekly reviews -----------------------------------------------------------------------------------------------
@pytest.mark.postgresql_too
async def test_review_privately_stays_private_and_in_a_group_is_shared_there_only(core: Core) -> None:
    ada, bob = private(core, 0), private(core, 1)
    await ada.say("/start 2026-11-22")  # week 2 today
    await bob.say("/start")
    text = await ada.text("/review Learned attention.\nNext: transformers")
    assert "Your review of week 2 is saved. It is private: only you can read it." in text
    shown = await ada.text("/review")
    assert "Your review of week 2 (2026-11-29, private):" in shown and "Learned attention." in shown
    in_a, in_b = member(core, 1, GROUP_A), member(core, 1, GROUP_B)
    text = await in_a.text("/review Bob's week one: set up Python")
    assert "Bob's review of week 1 is saved and shared with this group" in text
    assert "Bob's week one" in await in_a.text("/reviews")
    assert "No reviews shared here this week yet." in await in_b.text("/reviews")  # never in another group
    assert "isn't shared with this group" in await in_b.text("/review")
    assert "Bob's week one" in await private(core, 1).text("/review 1")  # the owner reads it privately
    # sending again replaces it, here privately: it leaves the group
    assert "It replaces your earlier review" in await private(core, 1).text("/review Rewritten")
    assert "No reviews shared here this week yet." in await in_a.text("/reviews")
    assert "Learned attention" not in await member(core, 0, GROUP_A).text("/reviews")


async def test_review_of_another_week_and_bad_review_input_change_nothing(core: Core, database_url: str) -> None:
    ada = private(core, 0)
    await ada.say("/start 2026-11-22")
    assert "No review for week 1 yet." in await ada.text("/review 1")
    before = snapshot(database_url)
    assert "There is no week 21: the plan has weeks 1 to 20." in await ada.text("/review 21")
    assert "There is no week -1: the plan has weeks 1 to 20." in await ada.text("/review -1")
    assert "No review for week 2 yet." in await ada.text("/review   \n  ")
    too_long = "x" * 2001
    text = await ada.text(f"/review {too_long}")
    assert "That review is 2001 characters long; the limit is 2000. Nothing was saved" in text
    assert snapshot(database_url) == before
    assert "is saved" in await ada.text("/review " + "y" * 2000)  # the limit itself is fine


async def test_the_sunday_recap_names_who_wrote_a_review_with_its_first_line(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    clock.set(at("2026-11-27 09:00"))  # Friday
    ada, bob, cyd = (member(core, n) for n in range(3))
    for person, n in ((ada, 0), (bob, 1), (cyd, 2)):
        await private(core, n).say("/start 2026-11-16")
        await person.say("/join")
    await ada.say("/review Finished the tokenizer\nmore details here")
    await bob.say("/review Slow week")
    await member(core, 2, GROUP_B).say("/review Cyd shares elsewhere")
    await run_until(delivery, clock, "2026-11-29 20:05", timedelta(minutes=30))
    (recap,) = [t for c, t in posts(platform, "Weekly recap") if c == "-100"]
    assert "2 weekly reviews shared:" in recap
    assert "• Ada: Finished the tokenizer" in recap and "more details here" not in recap
    assert "• Bob: Slow week" in recap and "Cyd shares elsewhere" not in recap


async def test_the_daily_push_asks_for_the_review_on_the_review_day(
    core: Core, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    clock.set(at("2026-12-04 12:00"))  # Friday; the reading day is Saturday, the review slot Sunday
    ann = private(core, 0)
    await ann.say("/start 2026-11-23")
    await ann.say("/remind 08:00")
    await run_until(delivery, clock, "2026-12-06 08:30", timedelta(minutes=30))
    days = [t for _c, t in posts(platform, "Good morning!")]
    assert len(days) == 2
    assert "/review" not in days[0]  # Saturday
    assert "Review day: write this week's review with /review followed by your text." in days[1]
