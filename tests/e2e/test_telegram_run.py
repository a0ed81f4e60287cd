"""`studybuddy run` as a real subprocess against the loopback fake Bot API: polling, webhook, shutdown."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.botproc import bot_env, free_port, start_bot, stop_bot
from tests.fakes.telegram import FakeTelegramServer, post_webhook, updates

TOKEN = "987654:SUPER-secret-token-value_never-logged"
ANN = 7001
STARTUP_TIMEOUT = 30.0


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN) as fake:
        yield fake


async def test_run_polls_replies_and_shuts_down_cleanly(server: FakeTelegramServer, tmp_path: Path) -> None:
    proc = await start_bot(tmp_path, bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.api_url))
    output = ""
    try:
        server.push_update(updates.private_message("/start", user_id=ANN))
        welcome = await server.wait_for("sendMessage", timeout=STARTUP_TIMEOUT)
        assert welcome.ok and "Welcome" in welcome.result["text"]
        last = server.push_update(updates.private_message("/today", user_id=ANN))
        today = await server.wait_for("sendMessage", count=2)
        assert today.params["parse_mode"] == "HTML" and "reply_markup" in today.params
        server.push_update(updates.callback_query("week:1", user_id=ANN, message=today.result))
        await server.wait_for("answerCallbackQuery")
        await server.wait_for("sendMessage", count=3)
        assert server.get_commands(None, "zh") is not None
    finally:
        code, output = await stop_bot(proc)
    assert code == 0, output
    assert TOKEN not in output and TOKEN.split(":", 1)[1] not in output
    confirmed = [c for c in server.calls_of("getUpdates") if c.ok][-1]
    assert confirmed.params["offset"] > last["update_id"]  # the callback came later still
    assert confirmed.params["offset"] == max(server.delivered_update_ids) + 1
    assert server.pending_updates == []


async def test_run_in_webhook_mode(server: FakeTelegramServer, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.api_url,
        TELEGRAM_WEBHOOK_URL=url,
        TELEGRAM_WEBHOOK_SECRET="hook-secret-123",
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    proc = await start_bot(tmp_path, env)
    output = ""
    try:
        server.push_update(updates.private_message("/start", user_id=ANN))  # delivered by the fake via webhook
        await server.wait_for("sendMessage", timeout=STARTUP_TIMEOUT)
        assert server.webhook["secret_token"] == "hook-secret-123"
        assert await post_webhook(url, updates.private_message("/today", user_id=ANN), "wrong") == 403
        assert await post_webhook(url, updates.private_message("/today", user_id=ANN), "hook-secret-123") == 200
        await server.wait_for("sendMessage", count=2)
    finally:
        code, output = await stop_bot(proc)
    assert code == 0, output
    assert len(server.sent_texts(ANN)) == 2  # the refused update was never handled
    assert server.calls_of("getUpdates") == []
    assert TOKEN not in output and "hook-secret-123" not in output


def test_run_without_tokens_exits_2_and_explains(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=bot_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "DISCORD_BOT_TOKEN" in result.stderr
    assert "studybuddy console" in result.stderr
