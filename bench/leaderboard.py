"""Benchmark `/top` and `/streak` on 20,000 users x 140 days of check-ins; prints ratios to bare SELECTs.

The database is a fresh migrated SQLite file filled with bulk inserts (raw sqlite3 `executemany`): every
user checks in on ~85% of the days, and their per-day streak states are computed with the real rules
(`bot.accountability.streaks.advance`). One study group of `--members` users is the leaderboard under test; at ~85%
check-ins its group streak spans the whole history, the costliest case for `/top`.

Each command is timed through the whole core (dispatch, resolving who is asking, the reads, the rules,
rendering), median of `--rounds`, against a baseline measured in the same run on the same engine: a bare
text SELECT, through an indexed lookup, of the same rows the reply is made of (the target, <= 3x):
- `/streak`: the learner's row found by platform id, joined to their streak rows of the 14-day window.
- `/top`: the group's roster found by platform chat id, with each member's row, latest streak row and
  check-ins of the week; plus the roster's check-ins over the days the group streak spans, counted per day
  by the database as `/top` does (the group streak can't be told without them; fetching them raw would make
  the baseline ~3x slower and the ratio flattering).
For reference it also prints the narrower single-table baselines (the window's streak rows; the week's
check-ins), which leave out finding the user or group, and the repository reads alone.
Run: `python bench/leaderboard.py [--users N] [--days N] [--members N] [--rounds N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.accountability.streaks import advance  # noqa: E402
from bot.app import bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.types import ChatRef  # noqa: E402
from storage.accountability import SqlAccountability  # noqa: E402
from tests.support import Chatter, at  # noqa: E402

NOW = "2026-11-29 09:00"
TODAY = date(2026, 11, 29)
GROUP = ChatRef("console", "-1000", "group", "Bench group")


def populate(path: Path, users: int, days: int, members: int) -> None:
    """Bulk-load users, check-ins, streak states and one group's roster straight into the migrated file."""
    rng = random.Random(20)
    first = TODAY - timedelta(days=days)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA journal_mode=WAL")
    stamp = "2026-01-01 00:00:00.000000"
    connection.executemany(
        "INSERT INTO users (id, platform, external_id, display_name, lang, timezone, reminder_time, reading_day,"
        " active, nudge_opt_out, created_at) VALUES (?, 'console', ?, ?, 'en', 'UTC', NULL, 5, 1, 0, ?)",
        [(uid, str(uid), f"user{uid}", stamp) for uid in range(1, users + 1)],
    )
    connection.execute(
        "INSERT INTO chats (id, platform, external_id, kind, title, lang, timezone, reading_day, active, created_at)"
        " VALUES (1, 'console', ?, 'group', ?, 'en', 'UTC', 5, 1, ?)",
        (GROUP.chat_id, GROUP.title, stamp),
    )
    connection.executemany(
        "INSERT INTO group_members (chat_id, user_id, joined_at, joined_on, active) VALUES (1, ?, ?, ?, 1)",
        [(uid, stamp, first.isoformat()) for uid in range(1, members + 1)],
    )
    checkins: list[tuple[int, str, int]] = []
    states: list[tuple[object, ...]] = []
    for uid in range(1, users + 1):
        prev = None
        for offset in range(days):
            if rng.random() < 0.85:
                day = first + timedelta(days=offset)
                checkins.append((uid, day.isoformat(), rng.choice((1, 3, 7, 7))))
                prev = advance(prev, day)
                states.append(
                    (
                        uid,
                        day.isoformat(),
                        prev.current,
                        prev.best,
                        prev.freezes,
                        prev.run_start.isoformat(),
                        prev.frozen.isoformat() if prev.frozen else None,
                        int(prev.earned),
                    )
                )
        if len(checkins) > 200_000:
            flush(connection, checkins, states)
    flush(connection, checkins, states)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def flush(connection: sqlite3.Connection, checkins: list, states: list) -> None:
    connection.executemany(
        "INSERT INTO checkins (user_id, local_date, tasks, chat_id, created_at)"
        " VALUES (?, ?, ?, NULL, '2026-01-01 00:00:00.000000')",
        checkins,
    )
    connection.executemany(
        "INSERT INTO streak_days (user_id, local_date, run_days, best, freezes, run_start, frozen_date, earned)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        states,
    )
    checkins.clear()
    states.clear()


async def per_call(fn: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(3):
        await fn()  # warm caches and prepared statements
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=140)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        app = bootstrap(Settings(database_url=url, _env_file=None), clock=ManualClock(at(NOW)), adapters=[])
        await app.open()  # migrates the empty file
        await app.stop()
        started = time.perf_counter()
        populate(path, args.users, args.days, args.members)
        print(f"loaded {args.users:,} users x {args.days} days in {time.perf_counter() - started:.1f}s")
        app = bootstrap(Settings(database_url=url, _env_file=None), clock=ManualClock(at(NOW)), adapters=[])
        await app.open()
        core = app.core
        repo: SqlAccountability = app.database.accountability
        member = Chatter(core, user_id="7", name="user7", chat=GROUP)
        private = Chatter(core, user_id="7", name="user7")
        assert "user7" in await private.text("/streak")
        board = await member.text("/top")
        assert board.count("\n") >= args.members, board[:200]

        window_start = (TODAY - timedelta(days=13)).isoformat()
        week_start = (TODAY - timedelta(days=TODAY.weekday())).isoformat()
        streak_start = (TODAY - timedelta(days=args.days)).isoformat()  # the group streak spans it all
        streak_same_rows = text(
            "SELECT u.*, s.* FROM users u JOIN streak_days s ON s.user_id = u.id"
            " WHERE u.platform = 'console' AND u.external_id = '7' AND s.local_date >= :since"
        )
        streak_rows = text("SELECT * FROM streak_days WHERE user_id = 7 AND local_date >= :since")
        board_rows = text(
            "SELECT u.*, s.*, c.local_date, c.tasks FROM chats g"
            " JOIN group_members m ON m.chat_id = g.id AND m.active"
            " JOIN users u ON u.id = m.user_id"
            " LEFT JOIN streak_days s ON s.user_id = m.user_id"
            "  AND s.local_date = (SELECT max(local_date) FROM streak_days WHERE user_id = m.user_id)"
            " LEFT JOIN checkins c ON c.user_id = m.user_id AND c.local_date >= :since"
            f" WHERE g.platform = 'console' AND g.external_id = '{GROUP.chat_id}'"
        )
        group_days = text(
            "SELECT c.local_date, count(*) FROM group_members m JOIN checkins c ON c.user_id = m.user_id"
            " WHERE m.chat_id = 1 AND m.active AND c.local_date >= m.joined_on AND c.local_date >= :since"
            " GROUP BY c.local_date"
        )
        week_rows = text(
            "SELECT user_id, local_date, tasks FROM checkins WHERE user_id IN "
            "(SELECT user_id FROM group_members WHERE chat_id = 1) AND local_date >= :since"
        )

        async def bare(*queries: tuple[object, str]) -> None:
            async with app.database.engine.connect() as connection:
                for query, since in queries:
                    (await connection.execute(query, {"since": since})).all()  # type: ignore[call-overload]

        async def top_reads() -> None:
            members = await repo.roster(1)
            ids = [m.user.id for m in members]
            await repo.share(1)
            await repo.mask_counts(ids, TODAY - timedelta(days=TODAY.weekday()), TODAY)
            await repo.group_checked_per_day(1, TODAY - timedelta(days=14), TODAY)
            first_join = min(m.joined_on for m in members)  # the group streak spans the group's whole life
            await repo.group_checked_per_day(1, first_join, TODAY - timedelta(days=15))

        streak_cmd = await per_call(lambda: private.say("/streak"), args.rounds)
        top_cmd = await per_call(lambda: member.say("/top"), args.rounds)
        results = {
            "/streak": (
                streak_cmd,
                await per_call(lambda: bare((streak_same_rows, window_start)), args.rounds),
                await per_call(lambda: bare((streak_rows, window_start)), args.rounds),
                await per_call(lambda: repo.streak_window(7, TODAY - timedelta(days=13)), args.rounds),
            ),
            "/top": (
                top_cmd,
                await per_call(lambda: bare((board_rows, week_start), (group_days, streak_start)), args.rounds),
                await per_call(lambda: bare((week_rows, week_start)), args.rounds),
                await per_call(top_reads, args.rounds),
            ),
        }
        await app.stop()

    def line(label: str, seconds: float, baseline: float | None = None, note: str = "") -> None:
        ratio = f"   {seconds / baseline:5.2f}x{note}" if baseline else ""
        print(f"  {label:<46} {seconds * 1000:8.2f} ms{ratio}")

    print(f"group of {args.members} members; median of {args.rounds} calls; ratios to the baseline above them")
    for name, (command, same_rows, narrow, reads) in results.items():
        print(name)
        line("baseline: bare SELECT of the same rows", same_rows)
        line("through the whole core", command, same_rows, "  (target <= 3)")
        line("reference: bare SELECT of one table's rows", narrow)
        line("through the whole core", command, narrow)
        line("repository reads alone", reads, narrow)


if __name__ == "__main__":
    asyncio.run(main())
