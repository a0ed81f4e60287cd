"""Fan-out at scale: how the cost of recording a minute's pushes grows with the number of users, and how
close the sender gets to Telegram's 30 messages/s without a single 429.

Figures are ratios against baselines measured in the same run:
- per-user cost of `tick()` (select due schedules + write outbox rows + advance schedules) at 10k and 50k
  users divided by the per-user cost at 1k (target <= 1.5 for 50k: linear);
- peak Python memory during the 50k tick (tracemalloc), per user;
- achieved send rate / the fake server's enforced limit of 30 msg/s (target >= 0.9) and the 429 count
  (target 0), with the real Telegram adapter and the real pacer against the fake Bot API in its own process.

    python bench/fanout.py [--sizes 1000 10000 50000] [--sends 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import Runtime, bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from storage.models import EnrolmentRow, UserRow  # noqa: E402
from storage.outbox import ScheduleRow  # noqa: E402

TOKEN = "777000:fanout-bench"
NOW = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"]


async def seeded_app(
    directory: str, users: int, platform: str = "telegram", adapters: Any = (), clock: ManualClock | None = None
) -> Runtime:
    """`users` enrolled learners whose daily push is due in the current minute, inserted in bulk."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{directory}/fanout-{users}.db", _env_file=None)
    app = bootstrap(settings, clock=clock or ManualClock(NOW), adapters=adapters, deliver=True, ingest=False)
    await app.open()
    rows = [
        {"id": n + 1, "platform": platform, "external_id": str(100_000 + n), "display_name": f"u{n}", "lang": "en",
         "timezone": "UTC", "reminder_time": dtime(8, 0), "reading_day": 5, "active": True, "nudge_opt_out": False,
         "created_at": NOW}
        for n in range(users)
    ]  # fmt: skip
    async with app.database.engine.begin() as connection:
        await connection.execute(insert(UserRow), rows)
        await connection.execute(
            insert(EnrolmentRow),
            [{"user_id": n + 1, "start_date": date(2026, 11, 20), "created_at": NOW} for n in range(users)],
        )
        await connection.execute(
            insert(ScheduleRow),
            [
                {"platform": platform, "subject_kind": "user", "subject_id": n + 1, "kind": "daily",
                 "at_time": dtime(8, 0), "timezone": ZONES[0], "weekday": None,
                 "next_local_date": NOW.date(), "next_due_at": NOW - timedelta(seconds=30)}
                for n in range(users)
            ],
        )  # fmt: skip
    return app


async def tick_cost(users: int) -> tuple[float, int]:
    """Seconds per user for one tick that records `users` pushes, and the tick's peak memory in bytes."""
    with tempfile.TemporaryDirectory() as directory:
        app = await seeded_app(directory, users)
        try:
            delivery = app.delivery
            tracemalloc.start()
            started = time.perf_counter()
            written = await delivery.tick()
            elapsed = time.perf_counter() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert written == users, (written, users)
            return elapsed / users, peak
        finally:
            await app.stop()


async def send_rate(sends: int, limit: float) -> tuple[float, int, int]:
    """Achieved messages/s through the real adapter and pacer against a fake enforcing `limit`/s."""
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--token", TOKEN,
        "--rate-limit", str(limit), cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert fake.stdout is not None
    url = (await fake.stdout.readline()).decode().strip()
    try:
        with tempfile.TemporaryDirectory() as directory:
            made: list[TelegramAdapter] = []

            def telegram(core: Any, recipients: Any) -> list[TelegramAdapter]:
                made.append(TelegramAdapter(core, TOKEN, api_url=url, recipients=recipients))
                return made

            app = await seeded_app(directory, sends, adapters=telegram)
            try:
                adapter = made[0]
                await adapter.application.initialize()
                delivery = app.delivery
                await delivery.tick()
                started = time.perf_counter()
                sent = await delivery.drain()
                elapsed = time.perf_counter() - started
                await adapter.application.shutdown()
            finally:
                await app.stop()
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = (await client.get(f"{url}/_fake/calls", params={"method": "sendMessage"})).json()
        rejected = int(answer["rejected_429"])
        return sent / elapsed, sent, rejected
    finally:
        fake.terminate()
        await fake.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--limit", type=float, default=30.0)
    args = parser.parse_args()

    costs: dict[int, tuple[float, int]] = {}
    for size in args.sizes:
        costs[size] = await tick_cost(size)
        per_user, peak = costs[size]
        print(f"tick with {size:>6} due users: {per_user * 1e6:8.1f} µs/user, peak {peak / size:8.0f} B/user")
    base = min(costs)
    for size in sorted(costs):
        if size != base:
            ratio = costs[size][0] / costs[base][0]
            print(f"per-user cost {size} vs {base}: {ratio:.2f}x  (target <= 1.5)")

    rate, sent, rejected = await send_rate(args.sends, args.limit)
    print(f"send rate: {rate:.1f} msg/s for {sent} pushes; achieved/limit = {rate / args.limit:.2f} "
          f"(target >= 0.9); 429 responses: {rejected} (target 0)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
