"""Memory of `studybuddy run` under load: its peak RSS during a 50,000-user fan-out, then how much its RSS
grows over a soak of mixed commands and pushes (target <= 10%).

The bot runs as a real process (as tests/botproc.py starts it) against the fake Bot API in a process of
its own, with DELIVERY_RATE_PER_SECOND raised as for a self-hosted Bot API server. RSS is read from
/proc/<pid>/status (VmRSS now, VmHWM the peak). During the soak, learners send commands at a steady rate
and every minute a slice of them is made due again (their outbox rows for today removed and their
schedules set to now, by a second writer on the SQLite file), so pushes keep flowing too. Growth is
reported from the end of the fan-out and, separately, from the end of the soak's first minute (the first
time every command runs, its modules and caches are loaded: a one-off, not a leak).

    python bench/soak.py [--users 50000] [--minutes 10] [--fan-out-minutes 30] [--commands-per-second 10]
                         [--pushes-per-minute 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.fanout import seeded_app  # noqa: E402
from tests.botproc import bot_env  # noqa: E402
from tests.fakes.telegram import updates  # noqa: E402

TOKEN = "515151:soak-bench-token"
FIRST_EXTERNAL_ID = 100_000  # as bench/fanout.py seeds them
COMMANDS = ["/today", "/streak", "/settings", "/plan", "/help"]
MiB = 1024


def memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def database_text(instant: datetime) -> str:
    """An instant as SQLAlchemy stores a UTC DateTime in SQLite."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Outbox:
    """Read-only progress of the fan-out, and the soak's re-arming of pushes, straight on the SQLite file."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.connection.execute("PRAGMA busy_timeout=30000")

    def finished(self) -> tuple[int, int]:
        """(rows sent/failed/skipped, rows in all)."""
        done, total = self.connection.execute(
            "SELECT count(*) FILTER (WHERE status NOT IN ('pending', 'sending')), count(*) FROM deliveries"
        ).fetchone()
        return int(done), int(total)

    def sent_since(self, instant: datetime) -> int:
        query = "SELECT count(*) FROM deliveries WHERE status = 'sent' AND sent_at >= ?"
        return int(self.connection.execute(query, (database_text(instant),)).fetchone()[0])

    def rearm(self, first: int, last: int, now: datetime) -> None:
        """Make users first..last due again now: today's rows gone, schedules due."""
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.execute(
            "DELETE FROM deliveries WHERE subject_kind = 'user' AND kind = 'daily' AND subject_id BETWEEN ? AND ?"
            " AND status NOT IN ('pending', 'sending')",
            (first, last),
        )
        self.connection.execute(
            "UPDATE schedules SET next_local_date = ?, next_due_at = ?"
            " WHERE subject_kind = 'user' AND kind = 'daily' AND subject_id BETWEEN ? AND ?",
            (now.date().isoformat(), database_text(now), first, last),
        )
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


async def start_fake() -> tuple[asyncio.subprocess.Process, str]:
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--token", TOKEN,
        cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert fake.stdout is not None
    return fake, (await fake.stdout.readline()).decode().strip()


async def start_bot(directory: Path, database: str, api_url: str, log: IO[bytes]) -> asyncio.subprocess.Process:
    env = bot_env(
        directory,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        DELIVERY_RATE_PER_SECOND="5000",  # a self-hosted Bot API server: no flood limit caps the fan-out
        LOG_LEVEL="WARNING",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=directory, env=env, stdout=log, stderr=log
    )  # fmt: skip


async def fan_out(
    bot: asyncio.subprocess.Process, outbox: Outbox, users: int, limit: float
) -> tuple[float, float | None, int, int]:
    """Waits until every seeded push is done, or `limit` seconds; returns (seconds until every outbox row
    was recorded, seconds until every push was done or None, pushes done, peak RSS in KiB)."""
    started = time.monotonic()
    reported = started
    recorded: float | None = None
    while True:
        await asyncio.sleep(1)
        if bot.returncode is not None:
            raise SystemExit(f"studybuddy run exited with {bot.returncode} during the fan-out")
        done, total = outbox.finished()
        now = time.monotonic()
        if recorded is None and total >= users:
            recorded = now - started
        if now - reported >= 30:
            rss, _peak = memory(bot.pid)
            print(f"  fan-out: {done}/{users} done after {now - started:.0f} s, RSS {rss / MiB:.0f} MiB", flush=True)
            reported = now
        if (done >= users and recorded is not None) or now - started > limit:
            finished = now - started if done >= users else None
            return recorded or now - started, finished, done, memory(bot.pid)[1]


async def soak(
    bot: asyncio.subprocess.Process,
    outbox: Outbox,
    api_url: str,
    users: int,
    minutes: float,
    commands_per_second: int,
    pushes_per_minute: int,
) -> tuple[int, int, list[int]]:
    """Mixed commands and pushes for `minutes`; returns (commands sent, pushes sent, RSS samples in KiB)."""
    chatters = itertools.cycle(range(min(users, 2000)))
    texts = itertools.cycle(COMMANDS)
    windows = itertools.cycle(range(1, users + 1, pushes_per_minute))
    soak_started = datetime.now(UTC)
    commands = 0
    samples = [memory(bot.pid)[0]]
    started = time.monotonic()
    next_rearm = started
    async with httpx.AsyncClient(base_url=api_url, trust_env=False, timeout=30) as client:
        while (elapsed := time.monotonic() - started) < minutes * 60:
            if bot.returncode is not None:
                raise SystemExit(f"studybuddy run exited with {bot.returncode} during the soak")
            if time.monotonic() >= next_rearm:
                first = next(windows)
                outbox.rearm(first, min(users, first + pushes_per_minute - 1), datetime.now(UTC))
                next_rearm += 60
            batch = [
                updates.private_message(next(texts), user_id=FIRST_EXTERNAL_ID + next(chatters))
                for _ in range(commands_per_second)
            ]
            await client.post("/_fake/updates", json=batch)
            commands += len(batch)
            await asyncio.sleep(max(0.0, 1 - (time.monotonic() - started - elapsed)))
            if len(samples) <= int(elapsed // 60):
                samples.append(memory(bot.pid)[0])
                print(f"  soak minute {len(samples) - 1}: RSS {samples[-1] / MiB:.0f} MiB", flush=True)
    samples.append(memory(bot.pid)[0])
    return commands, outbox.sent_since(soak_started), samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--commands-per-second", type=int, default=10)
    parser.add_argument("--pushes-per-minute", type=int, default=1200)
    parser.add_argument(
        "--fan-out-minutes", type=float, default=30.0, help="start the soak after this even if pushes are left"
    )
    parser.add_argument("--log", type=Path, help="keep the bot's log here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        now = datetime.now(UTC)
        app = await seeded_app(name, args.users, now=now)
        await app.stop()
        database = f"{name}/fanout-{args.users}.db"
        fake, api_url = await start_fake()
        outbox = Outbox(database)
        with (directory / "bot.log").open("wb") as log:
            bot = await start_bot(directory, database, api_url, log)
            try:
                recorded, finished, done, peak = await fan_out(bot, outbox, args.users, args.fan_out_minutes * 60)
                print(f"outbox rows for {args.users} due users recorded {recorded:.0f} s after start")
                if finished is not None:
                    print(f"fan-out of {args.users} pushes: {finished:.0f} s ({args.users / finished:.0f} pushes/s)")
                else:
                    print(f"fan-out unfinished after {args.fan_out_minutes:g} min: {done}/{args.users} pushes done;"
                          " the rest go out during the soak")  # fmt: skip
                print(f"peak RSS during the {args.users}-user fan-out: {peak / MiB:.0f} MiB")
                commands, pushes, samples = await soak(
                    bot, outbox, api_url, args.users, args.minutes, args.commands_per_second, args.pushes_per_minute
                )
                start, end = samples[0], samples[-1]
                print(f"soak: {args.minutes:g} min, {commands} commands, {pushes} pushes sent")
                print(f"RSS at soak start: {start / MiB:.1f} MiB")
                print(f"RSS at soak end: {end / MiB:.1f} MiB")
                print(f"RSS peak during the soak: {max(samples) / MiB:.1f} MiB")
                print(f"RSS growth over the soak: {(end - start) / start * 100:+.1f}%  (target <= 10)")
                if len(samples) > 2:  # the first minute runs every command path for the first time
                    warm = samples[1]
                    print(f"RSS after the soak's first minute: {warm / MiB:.1f} MiB")
                    print(f"RSS growth after the first minute: {(end - warm) / warm * 100:+.1f}%  (target <= 10)")
            finally:
                if bot.returncode is None:
                    bot.terminate()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bot.wait(), 30)
                if bot.returncode is None:
                    bot.kill()
                    await bot.wait()
                outbox.close()
                fake.terminate()
                await fake.wait()
        text = (directory / "bot.log").read_text(errors="replace")
        if args.log:
            args.log.write_text(text)
        errors = [line for line in text.splitlines() if "ERROR" in line]
        print(f"errors in the bot's log: {len(errors)}")
        for line in errors[:5]:
            print(f"  {line}")


if __name__ == "__main__":
    asyncio.run(main())
