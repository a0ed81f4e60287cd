"""Scheduled pushes end to end on a real SQLite database, with the injected clock (no sleeping)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Runtime
from bot.core.adapter import DeliveryResult
from bot.core.clock import ManualClock
from bot.core.types import ChatRef, SubjectRef
from bot.delivery.service import DeliveryService
from storage.outbox import SqlOutbox
from tests.support import THIRTY_ZONES as ZONES
from tests.support import Chatter, RecordingDeliverer, at, make_runtime, snapshot

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]


async def run_until(delivery: DeliveryService, clock: ManualClock, until: datetime, step: timedelta) -> None:
    while clock.now() < until:
        clock.advance(step)
        await delivery.tick()
        await delivery.drain()


async def test_start_turns_on_the_08_00_reminder(ann: Chatter, delivery: DeliveryService, platform, clock) -> None:
    await ann.say("/timezone Asia/Shanghai")
    await ann.say("/start")  # 17:00 in Shanghai: today's 08:00 has passed
    settings = await ann.text("/settings")
    assert "Daily reminder: 08:00" in settings and "Next push: Monday 2026-11-30 08:00 (Asia/Shanghai)" in settings
    await run_until(delivery, clock, at("2026-11-30 08:10", "Asia/Shanghai"), timedelta(minutes=5))
    assert len(platform.sent) == 1
    target, replies, sent_at = platform.sent[0]
    assert target.external_id == "1" and sent_at == at("2026-11-30 08:00", "Asia/Shanghai")
    assert "Week 1 · Day 2" in replies[0].text.to_plain()


async def test_remind_off_and_new_time(ann: Chatter, delivery, platform, clock) -> None:
    await ann.say("/start")
    assert "every day at 21:15 (UTC)" in await ann.text("/remind 21:15")
    await run_until(delivery, clock, at("2026-11-29 21:20"), timedelta(minutes=5))
    assert [s[2] for s in platform.sent] == [at("2026-11-29 21:15")]
    assert "off" in await ann.text("/remind off")
    await run_until(delivery, clock, at("2026-12-01 23:00"), timedelta(minutes=30))
    assert len(platform.sent) == 1
    assert "Daily reminder: off" in await ann.text("/settings")


async def test_reading_day_post(ann: Chatter, delivery, platform, clock) -> None:
    await ann.say("/start")
    assert "Wednesday" in await ann.text("/readingday wednesday")
    await run_until(delivery, clock, at("2026-12-02 08:05"), timedelta(minutes=5))
    texts = platform.texts()
    assert sum("Weekly reading" in t for t in texts) == 1
    assert sum("Good morning" in t for t in texts) == 3  # Mon, Tue, Wed


async def test_paused_and_deactivated_recipients_get_nothing(ann: Chatter, core, delivery, platform, clock) -> None:
    await ann.say("/start")
    await ann.say("/pause")
    await run_until(delivery, clock, at("2026-11-30 09:00"), timedelta(minutes=30))
    assert platform.sent == []
    await ann.say("/resume")
    user = await core.services.store.find_user("console", "1")
    await core.services.store.update_user(user.id, active=False)
    await run_until(delivery, clock, at("2026-12-01 09:00"), timedelta(minutes=30))
    assert platform.sent == []
    items = await outbox_of(core).items()
    assert [i.status for i in items if i.kind == "daily"] == ["skipped", "skipped"]
    assert "paused" in items[0].reason and "deactivated" in items[1].reason


def outbox_of(core) -> SqlOutbox:
    outbox = core.services.schedules.outbox
    assert isinstance(outbox, SqlOutbox)
    return outbox


async def test_downtime_policy_same_local_day_sent_earlier_days_skipped(
    ann: Chatter, core, delivery, platform, clock
) -> None:
    await ann.say("/start")
    clock.set(at("2026-12-02 10:00"))  # down since Sunday: Mon and Tue missed, Wed 08:00 still today
    await delivery.tick()
    await delivery.drain()
    items = await outbox_of(core).items()
    daily = [(i.local_date, i.status) for i in items if i.kind == "daily"]
    assert daily == [(date(2026, 11, 30), "skipped"), (date(2026, 12, 1), "skipped"), (date(2026, 12, 2), "sent")]
    assert len(platform.sent) == 1


async def test_a_row_written_but_not_sent_is_sent_after_restart(
    database_url: str, clock: ManualClock, ann: Chatter, delivery, app: Runtime
) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 08:00"))
    assert await delivery.tick() == 1  # recorded ... and then the process dies before sending
    await app.stop()
    platform = RecordingDeliverer("console", clock)
    second = make_runtime(database_url, clock, [platform])
    await second.open()
    try:
        restarted = second.delivery
        await restarted.tick()
        assert await restarted.drain() == 1
        assert len(platform.sent) == 1
        assert await restarted.tick() == 0 and await restarted.drain() == 0  # never twice
    finally:
        await second.stop()


async def test_a_claimed_row_of_a_dead_process_is_resent_after_restart(
    database_url: str, clock: ManualClock, ann: Chatter, delivery, app: Runtime
) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 08:00"))
    await delivery.tick()
    claimed = await outbox_of(app.core).claim(clock.now(), "dead", ["console"], 10, timedelta(minutes=2))
    assert len(claimed) == 1  # in flight when the process was killed
    await app.stop()
    platform = RecordingDeliverer("console", clock)
    second = make_runtime(database_url, clock, [platform])
    await second.open()  # on SQLite one process owns delivery: claims left in flight come back at once
    try:
        restarted = second.delivery
        if not second.database.sqlite:
            # Several workers share PostgreSQL, so a start-up cannot know the claim is dead: its lease decides.
            assert await restarted.drain() == 0
            clock.advance(timedelta(minutes=2, seconds=1))
        assert await restarted.drain() == 1
        assert len(platform.sent) == 1
    finally:
        await second.stop()


@pytest.mark.postgresql_too
async def test_platform_outcomes(ann: Chatter, core, delivery, platform, clock) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 08:00"))
    platform.script = [
        DeliveryResult("retry", "Too Many Requests", retry_after=7),
        DeliveryResult("failed", "Bad Gateway"),
    ]
    await delivery.tick()
    assert await delivery.drain() == 0
    clock.advance(timedelta(seconds=7))
    assert await delivery.drain() == 0  # failed once: backs off 30 s
    clock.advance(timedelta(seconds=30))
    assert await delivery.drain() == 1
    clock.set(at("2026-12-01 08:00"))
    platform.script = [DeliveryResult("gone", "Forbidden: bot was blocked by the user")]
    await delivery.tick()
    await delivery.drain()
    user = await core.services.store.find_user("console", "1")
    assert user.active is False
    items = await outbox_of(core).items()
    assert items[-1].status == "failed" and "blocked" in items[-1].reason
    await ann.say("/today")  # writing again makes the user reachable again
    assert (await core.services.store.find_user("console", "1")).active


async def test_a_push_that_failed_partway_resumes_after_the_delivered_messages(
    ann: Chatter, core, delivery, platform, clock
) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 08:00"))
    platform.script = [
        DeliveryResult("retry", "Too Many Requests", retry_after=5, delivered=2),
        DeliveryResult("failed", "Bad Gateway", delivered=1),
    ]
    await delivery.tick()
    assert await delivery.drain() == 0
    assert (await outbox_of(core).items())[0].messages_sent == 2
    clock.advance(timedelta(seconds=5))
    assert await delivery.drain() == 0
    clock.advance(timedelta(seconds=30))
    assert await delivery.drain() == 1
    assert platform.skips == [0, 2, 3]  # each attempt starts after what earlier ones delivered
    item = (await outbox_of(core).items())[0]
    assert (item.status, item.messages_sent) == ("sent", 3)


async def test_failures_end_in_a_visible_failed_state(ann: Chatter, core, delivery, platform, clock) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 08:00"))
    platform.script = [DeliveryResult("failed", f"boom {i}") for i in range(5)]
    await delivery.tick()
    for _ in range(6):
        await delivery.drain()
        clock.advance(timedelta(minutes=10))
    item = (await outbox_of(core).items())[0]
    assert (item.status, item.attempts, item.reason) == ("failed", 5, "boom 4")


async def test_group_posts_reach_the_configured_chat_only(core, delivery, platform, clock) -> None:
    group = ChatRef("console", "-42", "group", "Readers")
    admin = Chatter(core, user_id="9", name="Boss", chat=group, admin=True)
    member = Chatter(core, user_id="5", name="Mo", chat=group, admin=False)
    assert "Only group administrators" in await member.text("/grouppost 07:00")
    await admin.say("/start")
    assert "every day at 07:00" in await admin.text("/grouppost 07:00")
    assert "Group posts: 07:00" in await member.text("/settings")
    # A tick sends everything due by then: half-hour ticks over the day miss nothing 5-minute ones would.
    await run_until(delivery, clock, at("2026-11-30 07:00"), timedelta(minutes=30))
    assert [(t.kind, t.external_id) for t, _r, _a in platform.sent] == [("chat", "-42")]
    assert "off" in await admin.text("/grouppost off")


@pytest.mark.postgresql_too
async def test_group_migration_follows_the_new_chat(core, delivery, platform, clock) -> None:
    group = ChatRef("console", "-42", "group", "Readers")
    admin = Chatter(core, user_id="9", name="Boss", chat=group, admin=True)
    await admin.say("/start")
    await admin.say("/grouppost 07:00")
    clock.set(at("2026-11-30 07:00"))
    platform.script = [DeliveryResult("migrated", "group upgraded", new_external_id="-100777")]
    await delivery.tick()
    assert await delivery.drain() == 1
    assert platform.sent[0][0].external_id == "-100777"
    assert await core.services.store.find_chat("console", "-100777") is not None


BAD = [
    ("/remind 25:00", "not a time"),
    ("/remind 7pm", "not a time"),
    ("/remind 24:00", "expected a time (HH:MM) or off"),
    ("/grouppost 07:00", "works in a group chat"),
    ("/readingday someday", "not a weekday"),
]


@pytest.mark.parametrize(("line", "expected"), BAD)
async def test_bad_reminder_input(ann: Chatter, delivery, database_url: str, line: str, expected: str) -> None:
    await ann.say("/start")
    before = snapshot(database_url)
    assert expected in await ann.text(line)
    assert snapshot(database_url) == before


async def test_users_in_thirty_zones_over_ten_days_with_dst(
    app: Runtime, clock: ManualClock, platform: RecordingDeliverer
) -> None:
    """27 Mar - 6 Apr 2026 holds Europe's spring-forward (29 Mar) and the southern fall-backs (5 Apr).

    One learner per zone at a random :00/:30 time, through the real tick, outbox and sender; every zone
    and reminder time is covered without a database in tests/unit/test_reminder_times.py."""
    assert len(ZONES) == 30
    delivery = app.delivery
    store = app.services.store
    rng = random.Random(7)
    clock.set(datetime(2026, 3, 27, 0, 0, tzinfo=UTC))
    expected: dict[str, tuple[str, time]] = {}
    for n in range(len(ZONES)):
        zone = ZONES[n % len(ZONES)]
        reminder = time(rng.randrange(24), rng.choice((0, 30)))
        user, _ = await store.get_or_create_user("console", f"u{n}", f"user {n}", "en", zone)
        await store.update_user(user.id, timezone=zone, reminder_time=reminder, reading_day=6)
        await store.enrol(SubjectRef("user", user.id), date(2026, 3, 20))
        await app.services.schedules.refresh(SubjectRef("user", user.id))
        expected[f"u{n}"] = (zone, reminder)
    end = datetime(2026, 4, 6, 0, 0, tzinfo=UTC)
    # Every zone here is a whole or half hour off UTC, Kolkata (+5:30), Tehran (+3:30), Adelaide
    # (+9:30/+10:30) and St John's (-2:30) included: a 30-minute step lands exactly on every :00/:30 time.
    await run_until(delivery, clock, end, timedelta(minutes=30))
    daily = [(t, at_) for t, replies, at_ in platform.sent if "Good morning" in replies[0].text.to_plain()]
    per_user_day: Counter[tuple[str, date]] = Counter()
    for target, sent_at in daily:
        zone, reminder = expected[target.external_id]
        local = sent_at.astimezone(ZoneInfo(zone))
        per_user_day[(target.external_id, local.date())] += 1
        intended = datetime.combine(local.date(), reminder, tzinfo=ZoneInfo(zone))
        if intended.astimezone(UTC).astimezone(ZoneInfo(zone)).time() == reminder:
            assert local.time() == reminder, (target.external_id, zone, local)
        else:  # the reminder time does not exist that day (spring forward): sent at the jump
            assert local.date() == date(2026, 3, 29) and zone in (
                "Europe/Berlin",
                "Europe/Paris",
                "Europe/Madrid",
                "Europe/London",
                "Europe/Athens",
                "Europe/Helsinki",
            )
    assert max(per_user_day.values()) == 1
    for external_id, (zone, _reminder) in expected.items():
        first = datetime(2026, 3, 27, tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
        last = (end - timedelta(seconds=1)).astimezone(ZoneInfo(zone)).date()
        days = {d for (uid, d) in per_user_day if uid == external_id}
        window = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        assert days <= window and len(window - days) <= 2  # only a partial first/last local day may be missing


async def test_monthly_tasks_come_with_the_first_push_of_each_plan_month(
    ann: Chatter, delivery, platform, clock
) -> None:
    await ann.say("/start 2026-11-03")  # plan day 28 (week 5, day 1) is 2026-12-01
    await run_until(delivery, clock, at("2026-12-01 08:05"), timedelta(minutes=5))
    by_day = {sent_at.date(): replies[0].text.to_plain() for _t, replies, sent_at in platform.sent}
    assert "Monthly tasks" in by_day[date(2026, 12, 1)] and "Week 5 · Day 1" in by_day[date(2026, 12, 1)]
    assert "Monthly tasks" not in by_day[date(2026, 11, 30)]
