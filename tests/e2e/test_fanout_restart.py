"""Kill `studybuddy run` (SIGKILL) in the middle of a daily fan-out, start it again: every due push is
delivered and none twice, except at most the one that was in flight at the kill."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import ManualClock
from bot.core.types import SubjectRef
from tests.botproc import bot_env, start_bot, stop_bot
from tests.fakes.telegram import FakeTelegramServer
from tests.support import make_runtime

TOKEN = "4242:fanout-test-token"
USERS = 240
FIRST_ID = 500_000


def zone_near_noon(now: datetime) -> str:
    """An Etc/GMT zone where it is around midday now, so 'due an hour ago' is still today locally."""
    offset = 12 - now.hour
    offset = max(-12, min(14, offset))
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def seed(database_url: str, zone: str) -> None:
    """Enrolled Telegram users whose 'daily' push fell due an hour ago (real time): sent at start-up."""
    real_now = datetime.now(UTC)
    clock = ManualClock(real_now - timedelta(hours=2))
    app = make_runtime(database_url, clock, deliver=True)
    await app.open()
    try:
        store = app.database.store
        reminder = (real_now - timedelta(hours=1)).astimezone(ZoneInfo(zone)).time()
        for n in range(USERS):
            user, _ = await store.get_or_create_user("telegram", str(FIRST_ID + n), f"learner {n}", "en", zone)
            await store.update_user(user.id, reminder_time=reminder.replace(second=0, microsecond=0))
            await store.enrol(SubjectRef("user", user.id), date.today() - timedelta(days=3))
            await app.services.schedules.refresh(SubjectRef("user", user.id))
    finally:
        await app.stop()


async def test_sigkill_mid_fanout_then_restart_delivers_each_push_once(tmp_path: Path) -> None:
    async with FakeTelegramServer(token=TOKEN) as server:
        server.rate_limit(per_second=30)
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.api_url, LOG_LEVEL="WARNING")
        await seed(env["DATABASE_URL"], zone_near_noon(datetime.now(UTC)))

        first = await start_bot(tmp_path, env)
        try:
            await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=USERS // 3, timeout=60)
        finally:
            first.kill()  # SIGKILL: no clean shutdown, claims and all left as they were
            await first.wait()
        sent_before = {c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok}
        assert len(sent_before) < USERS, "the kill came too late to be mid fan-out"

        second = await start_bot(tmp_path, env)
        try:
            while len({c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok}) < USERS:
                ok_so_far = sum(1 for c in server.calls_of("sendMessage") if c.ok)
                await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=ok_so_far + 1, timeout=30)
        finally:
            code, output = await stop_bot(second)
        assert code == 0, output

    assert [c.description for c in server.calls_of("sendMessage") if not c.ok] == []
    per_chat = Counter(c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok)
    assert set(per_chat) == {FIRST_ID + n for n in range(USERS)}
    assert sum(count - 1 for count in per_chat.values()) <= 1, per_chat.most_common(3)
