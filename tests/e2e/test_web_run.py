"""`studybuddy run` as a real process with WEB_PORT: a Telegram /calendar link that a real HTTP client opens."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vobject  # type: ignore[import-untyped]

from tests.botproc import bot_env, free_port, start_bot
from tests.fakes.telegram import FakeTelegramServer, updates

TOKEN = "987654:web-run-token-value_never-logged"
ANN = 7101
STARTUP_TIMEOUT = 30.0


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN) as fake:
        yield fake


async def drain(stream: asyncio.StreamReader | None, sink: list[bytes]) -> None:
    """Read the bot's output as it comes: at LOG_LEVEL=DEBUG a feed's queries fill a pipe's 64 KiB
    buffer, and a bot blocked writing its log would stop answering."""
    while stream is not None and (chunk := await stream.read(1 << 16)):
        sink.append(chunk)


async def stop(proc: asyncio.subprocess.Process, readers: list[asyncio.Task[None]]) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    await asyncio.gather(*readers)
    assert proc.returncode is not None
    return proc.returncode


def read_ics(text: str) -> Any:
    """vobject keeps the first VTIMEZONE it read for a TZID for the whole process, and each feed defines
    its zone only for its own dates: forget the earlier ones, so every file is read on its own."""
    registry = vobject.icalendar.__dict__["__tzidMap"]
    for tzid in [name for name in registry if name != "UTC"]:
        del registry[tzid]
    return vobject.readOne(text, validate=True)


def feed_url(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("http://")]
    assert len(lines) == 1, text
    return lines[0]


async def test_calendar_link_from_telegram_opens_the_feed_until_reset(
    server: FakeTelegramServer, tmp_path: Path
) -> None:
    port, health = free_port(), free_port()
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.api_url,
        WEB_PORT=str(port),
        HEALTH_PORT=str(health),
    )
    proc = await start_bot(tmp_path, env)
    chunks: list[bytes] = []
    readers = [asyncio.create_task(drain(proc.stdout, chunks)), asyncio.create_task(drain(proc.stderr, chunks))]
    url = ""
    try:
        server.push_update(updates.private_message("/start", user_id=ANN))
        await server.wait_for("sendMessage", timeout=STARTUP_TIMEOUT)
        server.push_update(updates.private_message("/calendar", user_id=ANN))
        reply = await server.wait_for("sendMessage", count=2)
        text = reply.params["text"]
        assert f"webcal://127.0.0.1:{port}/calendar/" in text
        url = feed_url(text)
        assert url.startswith(f"http://127.0.0.1:{port}/calendar/") and url.endswith(".ics")
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            feed = await http.get(url)
            assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
            events = read_ics(feed.text).vevent_list
            assert len(events) == 140 and events[0].summary.value.startswith("Week 1 · Day 1: ")
            assert (await http.get(url, headers={"If-None-Match": feed.headers["etag"]})).status_code == 304
            metrics = await http.get(f"http://127.0.0.1:{health}/metrics")  # still its own, internal server
            assert metrics.status_code == 200
            assert (await http.get(f"http://127.0.0.1:{port}/metrics")).status_code == 404

            server.push_update(updates.private_message("/calendar reset", user_id=ANN))
            reset = await server.wait_for("sendMessage", count=3)
            fresh = feed_url(reset.params["text"])
            assert "1 earlier calendar link stopped working" in reset.params["text"]
            assert (await http.get(url)).status_code == 404
            assert (await http.get(fresh)).status_code == 200
    finally:
        code = await stop(proc, readers)
    output = b"".join(chunks).decode(errors="replace")
    assert code == 0, output[-5000:]
    assert TOKEN not in output and "Traceback" not in output
    # The web server never logs a link's token; only PTB's DEBUG echo of the message sent carries it.
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    echoes = [line for line in output.splitlines() if token in line]
    assert echoes and all(" DEBUG telegram.ext.ExtBot: " in line for line in echoes)
