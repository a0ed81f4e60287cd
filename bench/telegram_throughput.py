"""Replies per second for `/today`: our Telegram adapter (real App, SQLite, core, HTML rendering) versus a
bare python-telegram-bot Application that answers a constant string, both against the same fake Bot API.

The fake runs in its own process so its CPU doesn't compete with the bot being measured. Both bots use
the same concurrency (64 updates at once) and neither uses the 30 msg/s flood throttle, which would
cap both at 30/s and hide the difference; ours keeps the 429-retry part of its rate limiter.

    python bench/telegram_throughput.py --updates 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder, CommandHandler, ContextTypes  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.fakes.telegram import updates  # noqa: E402

TOKEN = "555000:bench-token"
USERS = 50
CONCURRENCY = 64
BARE_REPLY = "Today: week 1, day 1 — tokenizers."


class Fake:
    """The fake Bot API in a subprocess, driven over its control endpoints."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.http = httpx.AsyncClient(trust_env=False, timeout=30)

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--token", TOKEN,
            cwd=REPO, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = (await self.proc.stdout.readline()).decode().strip()
        if not self.url.startswith("http://127.0.0.1"):
            raise RuntimeError(f"fake did not start: {self.url!r}")

    async def stop(self) -> None:
        await self.http.aclose()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()

    async def push(self, batch: list[dict[str, Any]]) -> None:
        (await self.http.post(f"{self.url}/_fake/updates", json=batch)).raise_for_status()


class Replies:
    """Counted on the bot side when the fake has answered a send, so measuring adds no load to the fake."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.reached = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()

    async def wait(self, at_least: int) -> None:
        self.target = at_least
        self.reached.clear()
        if self.count < at_least:
            await asyncio.wait_for(self.reached.wait(), 300)


REPLIES = Replies()


def today_updates(n: int) -> list[dict[str, Any]]:
    return [updates.private_message("/today", user_id=10_000 + i % USERS) for i in range(n)]


CPU_MS: dict[str, list[float]] = {"ours": [], "bare": []}


async def measure(fake: Fake, n: int, who: str) -> float:
    """Push n /today updates at once; replies per second until the n-th reply came back from the fake.

    Also records this process's CPU per reply: on a busy machine wall-clock rates wobble, CPU cost less.
    """
    before = REPLIES.count
    cpu, started = time.process_time(), time.perf_counter()
    await fake.push(today_updates(n))
    await REPLIES.wait(before + n)
    elapsed = time.perf_counter() - started
    CPU_MS[who].append((time.process_time() - cpu) * 1000 / n)
    return n / elapsed


async def with_ours(fake: Fake, work: Callable[[], Awaitable[float]], db: Path) -> float:
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    made: list[TelegramAdapter] = []

    def telegram(core: Any, recipients: Any) -> list[TelegramAdapter]:
        made.append(
            TelegramAdapter(core, TOKEN, api_url=fake.url, recipients=recipients, rate_limiter=limiter, poll_timeout=5)
        )
        return made

    app = bootstrap(
        Settings(database_url=f"sqlite+aiosqlite:///{db}", _env_file=None), adapters=telegram, deliver=False
    )
    adapter = made[0]
    send = adapter._send

    async def counted_send(*args: Any) -> None:
        await send(*args)
        REPLIES.add()

    adapter._send = counted_send  # type: ignore[method-assign]
    await app.start()
    try:
        return await work()
    finally:
        await app.stop()


async def with_bare(fake: Fake, work: Callable[[], Awaitable[float]]) -> float:
    async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(BARE_REPLY)
        REPLIES.add()

    no_env = {"trust_env": False}
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs=no_env))
        .get_updates_request(HTTPXRequest(read_timeout=15, httpx_kwargs=no_env))
        .concurrent_updates(CONCURRENCY)
        .job_queue(None)
        .build()
    )
    application.add_handler(CommandHandler("today", today))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=5)
    try:
        return await work()
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def main(n: int, rounds: int) -> None:
    fake = Fake()
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"

            async def enrol() -> float:  # warm-up: every user on the plan, so /today renders a real day
                before = REPLIES.count
                await fake.push([updates.private_message("/start", user_id=10_000 + i) for i in range(USERS)])
                await REPLIES.wait(before + USERS)
                return 0.0

            await with_ours(fake, enrol, db)
            ours: list[float] = []
            bare: list[float] = []
            for index in range(rounds):
                ours.append(await with_ours(fake, lambda: measure(fake, n, "ours"), db))
                bare.append(await with_bare(fake, lambda: measure(fake, n, "bare")))
                print(
                    f"round {index + 1}: ours {ours[-1]:7.1f} replies/s ({CPU_MS['ours'][-1]:.2f} ms CPU/reply)"
                    f"   bare PTB {bare[-1]:7.1f} replies/s ({CPU_MS['bare'][-1]:.2f} ms CPU/reply)"
                )
    finally:
        await fake.stop()
    best_ours, best_bare = max(ours), max(bare)
    print(f"updates per round: {n}, users: {USERS}, concurrency: {CONCURRENCY}, rounds: {rounds}")
    print(f"ours:     {best_ours:8.1f} replies/s (best; median {statistics.median(ours):.1f})")
    print(f"bare PTB: {best_bare:8.1f} replies/s (best; median {statistics.median(bare):.1f})")
    print(f"ratio ours/bare: {best_ours / best_bare:.2f} (target >= 0.7)")
    cpu_ours, cpu_bare = statistics.median(CPU_MS["ours"]), statistics.median(CPU_MS["bare"])
    ratio = cpu_bare / cpu_ours
    print(f"CPU per reply (median): ours {cpu_ours:.2f} ms, bare {cpu_bare:.2f} ms; ratio bare/ours {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=500, help="/today updates per measured round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of ours and bare")
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.rounds))
