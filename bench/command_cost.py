"""What one command costs through the core, without a platform: CPU per call and database statements per call.

The same SQLite file and bootstrap as `studybuddy run` (delivery on, so the schedule book is the real one),
driven by `tests.support.Chatter` the way an adapter calls `Core.handle`. For each command it prints the
median CPU time per call (this process, every thread: aiosqlite runs SQLite writes in its own thread), the
wall time, and the SQL statements (reads in the event loop included) and pooled connections each call takes
(SQLAlchemy's `before_cursor_execute` and pool `checkout` events).
`--profile` prints the top of a cProfile of the `/today` calls.

    python bench/command_cost.py [--calls 300] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402

from bot.app import bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.types import ChatRef  # noqa: E402
from storage.loop_reads import loop_reader  # noqa: E402
from tests.support import Chatter, RecordingDeliverer, at  # noqa: E402

NOW = "2026-11-25 09:00"
GROUP = ChatRef("console", "-100", "group", "Cost group")


class Statements:
    """Counts the statements the engine sends to the database."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


async def cost(
    name: str, call: Callable[[], Awaitable[object]], calls: int, statements: Statements, checkouts: Statements
) -> None:
    for _ in range(5):
        await call()  # warm the statement caches
    cpu: list[float] = []
    wall: list[float] = []
    before, taken = statements.count, checkouts.count
    for _ in range(calls):
        started_cpu, started = time.process_time(), time.perf_counter()
        await call()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    per_call = (statements.count - before) / calls
    connections = (checkouts.count - taken) / calls
    print(
        f"{name:<20} {statistics.median(cpu) * 1000:6.2f} ms CPU   {statistics.median(wall) * 1000:6.2f} ms wall"
        f"   {per_call:4.1f} statements   {connections:4.1f} connections  (per call, median)"
    )


async def main(calls: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'cost.db'}"
        clock = ManualClock(at(NOW))
        app = bootstrap(
            Settings(database_url=url, _env_file=None), clock=clock, adapters=[RecordingDeliverer()], deliver=True
        )
        await app.open()
        statements = Statements()
        checkouts = Statements()
        event.listen(app.database.engine.sync_engine, "before_cursor_execute", statements)
        reader = loop_reader(app.database.engine)  # reads of a SQLite file run in the loop, on their own engine
        if reader is not None:
            event.listen(reader.sync_engine, "before_cursor_execute", statements)
        event.listen(app.database.engine.sync_engine.pool, "checkout", checkouts)
        try:
            ann = Chatter(app.core, user_id="1", name="Ann")
            await ann.say("/start 2026-11-02")
            await ann.say("/done")
            bob = Chatter(app.core, user_id="2", name="Bob")
            await bob.say("/start 2026-11-02")  # no check-in: /today also looks for missed days
            member = Chatter(app.core, user_id="1", name="Ann", chat=GROUP, admin=True)
            await member.say("/start 2026-11-02")
            await member.say("/join")
            await cost("/today (checked in)", lambda: ann.say("/today"), calls, statements, checkouts)
            await cost("/today (not yet)", lambda: bob.say("/today"), calls, statements, checkouts)
            await cost("/today in a group", lambda: member.say("/today"), calls, statements, checkouts)
            await cost("/streak", lambda: ann.say("/streak"), calls, statements, checkouts)
            await cost("/top", lambda: member.say("/top"), calls, statements, checkouts)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(calls):
                    await bob.say("/today")
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        finally:
            await app.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.profile))
