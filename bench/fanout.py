"""Fan-out at scale: how the cost of recording a minute's pushes grows with the number of users, and how
close the sender gets to Telegram's 30 messages/s without a single 429.

Figures are ratios against baselines measured in the same run:
- per-user cost of `tick()` (select due schedules + write outbox rows + advance schedules) divided by the
  floor: a plain `sqlite3` select + `INSERT OR IGNORE` + update of the same rows in the same file and
  schema, one transaction, no date arithmetic (target <= 10);
- per-user cost of `tick()` at 10k and 50k users divided by the per-user cost at 1k (target <= 1.5: linear);
- peak Python memory during the 50k tick (tracemalloc), per user;
- achieved send rate / the fake server's enforced limit of 30 msg/s (target >= 0.9) and the 429 count
  (target 0), with the real Telegram adapter and the real pacer against the fake Bot API in its own process.

    python bench/fanout.py [--sizes 1000 10000 50000] [--sends 300]   (--sends 0: tick figures only)
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
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
RUNS = 3  # tick and floor are each timed as the best of a few runs: a shared machine is noisy
ZONES = ["UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"]


async def opened_app(directory: str, users: int, adapters: Any = (), clock: ManualClock | None = None) -> Runtime:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{directory}/fanout-{users}.db", _env_file=None)
    app = bootstrap(settings, clock=clock or ManualClock(NOW), adapters=adapters, deliver=True, ingest=False)
    await app.open()
    return app


async def seeded_app(
    directory: str,
    users: int,
    platform: str = "telegram",
    adapters: Any = (),
    clock: ManualClock | None = None,
    now: datetime = NOW,
) -> Runtime:
    """`users` enrolled learners whose daily push fell due 30 s before `now`, inserted in bulk."""
    app = await opened_app(directory, users, adapters, clock or ManualClock(now))
    at = (now - timedelta(seconds=30)).time().replace(second=0, microsecond=0)
    start = now.date() - timedelta(days=10)
    rows = [
        {"id": n + 1, "platform": platform, "external_id": str(100_000 + n), "display_name": f"u{n}", "lang": "en",
         "timezone": "UTC", "reminder_time": at, "reading_day": 5, "active": True, "nudge_opt_out": False,
         "created_at": now}
        for n in range(users)
    ]  # fmt: skip
    async with app.database.engine.begin() as connection:
        await connection.execute(insert(UserRow), rows)
        await connection.execute(
            insert(EnrolmentRow),
            [{"user_id": n + 1, "start_date": start, "created_at": now} for n in range(users)],
        )
        await connection.execute(
            insert(ScheduleRow),
            [
                {"platform": platform, "subject_kind": "user", "subject_id": n + 1, "kind": "daily",
                 "at_time": at, "timezone": ZONES[0], "weekday": None,
                 "next_local_date": now.date(), "next_due_at": now - timedelta(seconds=30)}
                for n in range(users)
            ],
        )  # fmt: skip
    return app


async def tick_cost(users: int) -> tuple[float, int, float]:
    """Seconds per user for one tick that records `users` pushes, the peak Python memory of such a tick
    in bytes (a tick of its own, traced: tracemalloc slows every allocation, so it is not timed), and
    seconds per user for the plain-sqlite3 floor doing the same writes to the same file. Before each run
    the schedules are reset to due and the outbox emptied; times are the best of a few runs each."""
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/fanout-{users}.db"
        await (await seeded_app(directory, users)).stop()
        seeded = _schedule_state(path)
        ticks = []
        for _run in range(RUNS):
            _reset(path, seeded)
            app = await opened_app(directory, users)
            try:
                started = time.perf_counter()
                written = await app.delivery.tick()
                ticks.append(time.perf_counter() - started)
                assert written == users, (written, users)
            finally:
                await app.stop()
        advanced = _schedule_state(path)
        floors = []
        for _run in range(RUNS):
            _reset(path, seeded)
            floors.append(floor_cost(path, advanced, users))
        _reset(path, seeded)
        app = await opened_app(directory, users)
        try:
            tracemalloc.start()
            written = await app.delivery.tick()
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert written == users, (written, users)
        finally:
            await app.stop()
        return min(ticks) / users, peak, min(floors) / users


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # as storage/db.py sets it
    return connection


def _checkpoint(path: str) -> None:
    connection = _connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _schedule_state(path: str) -> tuple[str, str]:
    """The (next_local_date, next_due_at) every seeded schedule shares, in the database's own text form."""
    connection = _connect(path)
    try:
        states = connection.execute("SELECT DISTINCT next_local_date, next_due_at FROM schedules").fetchall()
    finally:
        connection.close()
    assert len(states) == 1, states
    day, due = states[0]
    return str(day), str(due)


def _reset(path: str, state: tuple[str, str]) -> None:
    """Undo the tick: no outbox rows, every schedule due again."""
    connection = _connect(path)
    try:
        connection.execute("BEGIN")
        connection.execute("DELETE FROM deliveries")
        connection.execute("UPDATE schedules SET next_local_date = ?, next_due_at = ?", state)
        connection.execute("COMMIT")
    finally:
        connection.close()
    _checkpoint(path)  # the next writer starts with an empty WAL


def floor_cost(path: str, advanced: tuple[str, str], users: int) -> float:
    """Seconds for plain sqlite3 to select the due schedules, `INSERT OR IGNORE` their outbox rows and
    move each schedule on (by id, to the instant the tick computed), in one transaction."""
    now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    connection = _connect(path)
    try:
        started = time.perf_counter()
        connection.execute("BEGIN")
        due = connection.execute(
            "SELECT id, platform, subject_kind, subject_id, kind, next_local_date, next_due_at FROM schedules"
            " WHERE next_due_at <= ? ORDER BY next_due_at, id",
            (now,),
        ).fetchall()
        connection.executemany(
            "INSERT OR IGNORE INTO deliveries (platform, subject_kind, subject_id, kind, local_date, due_at,"
            " status, attempts, next_attempt_at, messages_sent, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0, ?)",
            [(p, sk, si, k, day, at, at, now) for _id, p, sk, si, k, day, at in due],
        )
        connection.executemany(
            "UPDATE schedules SET next_local_date = ?, next_due_at = ? WHERE id = ?",
            [(*advanced, row[0]) for row in due],
        )
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        written = connection.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    finally:
        connection.close()
    assert len(due) == written == users, (len(due), written, users)
    return elapsed


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

    costs: dict[int, tuple[float, int, float]] = {}
    for size in args.sizes:
        costs[size] = await tick_cost(size)
        per_user, peak, floor = costs[size]
        print(f"tick with {size:>6} due users: {per_user * 1e6:8.1f} µs/user, peak {peak / size:8.0f} B/user")
        print(f"plain sqlite3 floor with {size:>6} users: {floor * 1e6:8.1f} µs/user")
        print(f"tick / floor per user at {size}: {per_user / floor:.1f}x  (target <= 10)")
    base = min(costs)
    for size in sorted(costs):
        if size != base:
            ratio = costs[size][0] / costs[base][0]
            print(f"per-user cost {size} vs {base}: {ratio:.2f}x  (target <= 1.5)")

    if args.sends <= 0:
        return
    rate, sent, rejected = await send_rate(args.sends, args.limit)
    print(f"send rate: {rate:.1f} msg/s for {sent} pushes; achieved/limit = {rate / args.limit:.2f} "
          f"(target >= 0.9); 429 responses: {rejected} (target 0)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
