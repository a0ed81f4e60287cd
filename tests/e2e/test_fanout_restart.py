"""Kill `studybuddy run` (SIGKILL) in the middle of a daily fan-out, start it again: every due push is
delivered and none twice, except at most the one that was in flight at the kill."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.botproc import bot_env, start_bot, stop_bot
from tests.due_pushes import seed_database
from tests.fakes.telegram import FakeTelegramServer

TOKEN = "4242:fanout-test-token"
USERS = 240
RATE = 90  # DELIVERY_RATE_PER_SECOND (a self-hosted Bot API server's): the kill lands mid fan-out all the same
FIRST_ID = 500_000


async def test_sigkill_mid_fanout_then_restart_delivers_each_push_once(tmp_path: Path) -> None:
    async with FakeTelegramServer(token=TOKEN) as server:
        server.rate_limit(per_second=RATE + 10)
        env = bot_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=server.api_url,
            DELIVERY_RATE_PER_SECOND=str(RATE),
            LOG_LEVEL="WARNING",
        )
        await seed_database(env["DATABASE_URL"], USERS, FIRST_ID)

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
