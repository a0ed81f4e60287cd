"""Replies per second for `/today`: `studybuddy run` versus a bare python-telegram-bot Application that answers
a constant string, both against the same fake Bot API.

Ours is built the way `studybuddy run` builds itself (`bot.cli._run`): settings from the environment,
logging configured by the CLI, `bot.app.bootstrap(settings)` with no overrides. So it has everything a
deployment has: the Telegram adapter with its own rate limiter (`DELIVERY_RATE_PER_SECOND` raised, as for a
self-hosted Bot API server, so the flood limit caps neither side), ChatLanes, the scheduler and delivery,
Prometheus metrics with the ops server (`HEALTH_PORT`, as the compose file sets), INFO logging through the
redacting handler. Only the arXiv ingest is off (it would reach the network; it runs every 15 minutes).

The fake runs in its own process so its CPU doesn't compete with the bot being measured. Both bots take
at most 64 updates at once. Replies are counted on the bot side when the fake has answered them.

    python bench/telegram_throughput.py --updates 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
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
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import bootstrap  # noqa: E402
from bot.cli import _settings as cli_settings  # noqa: E402
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


def run_environment(fake: Fake, db: Path) -> dict[str, str]:
    """What a deployment sets (compose file, README), pointed at the fake and a scratch SQLite file."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "DELIVERY_RATE_PER_SECOND": "100000",  # a self-hosted Bot API server: no flood throttle on either side
        "HEALTH_PORT": str(free_port()),
        "LOG_LEVEL": "INFO",
        "ARXIV_INGEST": "false",  # no network; the job runs every 15 minutes, not per reply
        "DEFAULT_TIMEZONE": "UTC",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def with_ours(fake: Fake, work: Callable[[], Awaitable[float]], db: Path) -> float:
    """`studybuddy run` in this process: the CLI's settings and logging, then `bootstrap(settings)` as is."""
    os.environ.update(run_environment(fake, db))
    settings = cli_settings()
    app = bootstrap(settings)
    adapter = next(a for a in app.adapters if isinstance(a, TelegramAdapter))
    answer = adapter._answer

    async def counted(*args: Any, **kwargs: Any) -> None:  # replies only, not scheduled pushes
        await answer(*args, **kwargs)
        REPLIES.add()

    adapter._answer = counted  # type: ignore[method-assign]
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
