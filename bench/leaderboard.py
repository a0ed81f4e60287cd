"""Benchmark `/top` and `/streak` on 20,000 users x 140 days of check-ins; prints ratios to bare SELECTs.

The database is a fresh migrated SQLite file filled with bulk inserts (raw sqlite3 `executemany`): every
user checks in on ~85% of the days, and their per-day streak states are computed with the real rules
(`bot.accountability.streaks.advance`). One study group of `--members` users is the leaderboard under test; at ~85%
check-ins its group streak spans the whole history, the costliest case for `/top`.

Each command is timed through the whole core (dispatch, resolving who is asking, the reads, the rules,
rendering), median of `--rounds` (ten times as many for `/streak`, whose calls are ~20x shorter: 300
rounds of it last a tenth of a second, which a moment's load elsewhere on the machine could fill),
against baselines measured in the same run on the same engine and the same read path the bot's reads
take (`storage.unit.reading`: on SQLite the loop's read-only connection). For reference, a bare text
SELECT, through an indexed lookup, of every row the core reads:
- `/streak`: the learner's row found by platform id, joined to their streak rows of the 14-day window.
- `/top`: the group's roster found by platform chat id, with each member's row, latest streak row and
  check-ins of the week; plus the group's kept per-day counts (`group_days`) over the days its streak spans.
The target (<= 3x) is against the narrower single-table baseline: a bare SELECT of the rows the reply
shows (the window's streak rows for `/streak`; for `/top`, `SELECT user_id, local_date, tasks FROM checkins`
of every roster member for the group's week so far), which leaves out finding the user or group. `/top`
shows only the top 10 and the caller's place, but those places rank every member by streak and the week's
tasks, so the week's check-ins of the whole roster are what its lines show; a SELECT of just the shown
members' week is printed as a reference. The repository reads alone are printed too, each on its own line.
Run: `python bench/leaderboard.py [--users N] [--days N] [--members N] [--rounds N] [--database PATH]`.
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
from collections.abc import Awaitable, Callable, Sequence
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
from storage.unit import reading  # noqa: E402
from tests.support import Chatter, at  # noqa: E402

NOW = "2026-11-29 09:00"
TODAY = date(2026, 11, 29)
GROUP = ChatRef("console", "-1000", "group", "Bench group")
STREAK_ROUNDS_FACTOR = 10


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
    connection.execute(  # the kept per-day group counts, as migration 0010 fills them from the check-ins
        "INSERT INTO group_days (chat_id, local_date, checked) SELECT m.chat_id, c.local_date, count(*)"
        " FROM group_members m JOIN checkins c ON c.user_id = m.user_id"
        " WHERE m.active AND c.local_date >= m.joined_on GROUP BY m.chat_id, c.local_date"
    )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


def flush(
    connection: sqlite3.Connection, checkins: list[tuple[int, str, int]], states: list[tuple[object, ...]]
) -> None:
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


async def interleaved(calls: Sequence[Callable[[], Awaitable[object]]], rounds: int) -> list[float]:
    """The median seconds per call of each, taking one call of each in turn every round: on a shared,
    loaded machine the load then falls on a command and its baselines alike, so their ratio holds."""
    for call in calls:
        for _ in range(20):
            await call()  # warm caches and prepared statements
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, spent in zip(calls, times, strict=True):
            start = time.perf_counter()
            await call()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=140)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--database", type=Path, help="keep the loaded file here and reuse it on the next run (same sizes)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not path.exists():
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
        assert "streak" in (await private.text("/streak")).lower()
        board = await member.text("/top")
        shown = [line.split(". ", 1)[1].split(" — ", 1)[0] for line in board.splitlines() if " — streak " in line]
        assert len(board) < 4096 and "more members" in board and "user7 — " in board, board[:300]
        shown_ids = ", ".join(name.removeprefix("user") for name in shown)

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
        group_days = text("SELECT local_date, checked FROM group_days WHERE chat_id = 1 AND local_date >= :since")
        week_rows = text(
            "SELECT user_id, local_date, tasks FROM checkins WHERE user_id IN "
            "(SELECT user_id FROM group_members WHERE chat_id = 1) AND local_date >= :since"
        )
        shown_week_rows = text(
            f"SELECT user_id, local_date, tasks FROM checkins WHERE user_id IN ({shown_ids}) AND local_date >= :since"
        )

        async def bare(*queries: tuple[object, str], pooled: bool = False) -> None:
            """The way the bot reads (on a SQLite file: the event loop's own read-only connection), or with
            `pooled` on an aiosqlite connection: the baseline before reads moved into the loop."""
            opened = app.database.engine.connect() if pooled else reading(app.database.engine)
            async with opened as connection:
                for query, since in queries:
                    (await connection.execute(query, {"since": since})).all()  # type: ignore[call-overload]

        async def top_reads() -> None:
            # the roster's standings with the group's kept days since its first join (the streak spans them all)
            await repo.standings(1, TODAY - timedelta(days=TODAY.weekday()), TODAY, TODAY - timedelta(days=366))

        streak_figures = await interleaved(
            [
                lambda: private.say("/streak"),
                lambda: bare((streak_same_rows, window_start)),
                lambda: bare((streak_rows, window_start)),
                lambda: repo.streak_window(7, TODAY - timedelta(days=13)),
            ],
            STREAK_ROUNDS_FACTOR * args.rounds,
        )
        top_figures = await interleaved(
            [
                lambda: member.say("/top"),
                lambda: bare((board_rows, week_start), (group_days, streak_start)),
                lambda: bare((week_rows, week_start)),
                top_reads,
                lambda: bare((shown_week_rows, week_start)),
            ],
            args.rounds,
        )
        # The aiosqlite references in rounds of their own: the call that ran right after one was slower (the
        # thread hand-offs leave the caches cold; /streak ~15% in these runs), which charged the command,
        # the only call placed after it, for a reference it doesn't use. Their ratios compare within a round.
        pooled_figures = await interleaved(
            [
                lambda: private.say("/streak"),
                lambda: bare((streak_rows, window_start), pooled=True),
                lambda: member.say("/top"),
                lambda: bare((week_rows, week_start), pooled=True),
            ],
            max(args.rounds // 5, 20),
        )
        results = {"/streak": tuple(streak_figures), "/top": tuple(top_figures[:4])}
        pooled = {"/streak": pooled_figures[:2], "/top": pooled_figures[2:]}
        shown_only = top_figures[4]
        await app.stop()

    def line(label: str, seconds: float, baseline: float | None = None, note: str = "") -> None:
        ratio = f"   {seconds / baseline:5.2f}x{note}" if baseline else ""
        print(f"  {label:<52} {seconds * 1000:8.3f} ms{ratio}")

    print(
        f"group of {args.members} members; median of {args.rounds} interleaved calls"
        f" ({STREAK_ROUNDS_FACTOR * args.rounds} for /streak); ratios to the baseline above"
    )
    for name, (command, same_rows, narrow, reads) in results.items():
        print(name)
        line("baseline: bare SELECT of the rows the reply shows", narrow)
        line("through the whole core", command, narrow, "  (target <= 3)")
        line("repository reads alone", reads, narrow)
        line("reference: bare SELECT of every row the core reads", same_rows)
        line("through the whole core", command, same_rows)
    print(f"/top reference: bare SELECT of the week of only the {len(shown)} members shown")
    line("bare SELECT of their week", shown_only)
    line("through the whole core", results["/top"][0], shown_only)
    print("reference: the narrow baseline on a pooled aiosqlite connection (how every read went before)")
    for name, (command, through_aiosqlite) in pooled.items():
        line(f"{name}: bare SELECT of the rows it shows, aiosqlite", through_aiosqlite)
        line(f"{name}: through the whole core", command, through_aiosqlite)
    for name, (command, _same, narrow, _reads) in results.items():
        print(f"{name} through the core / bare SELECT of the rows it shows: {command / narrow:.2f} (target <= 3)")
    for name, (command, through_aiosqlite) in pooled.items():
        print(f"{name} through the core / the same SELECT through aiosqlite: {command / through_aiosqlite:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
