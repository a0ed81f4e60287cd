"""Benchmark /papers with a learner's feedback over 5,000 stored papers, and the event loop's stall while the
ranking indexes (BM25 + tf-idf) are built.

1. `/papers` with feedback (10 👍, 10 👎, 5 read; model cached, as for every /papers between two ingests and
   feedback changes), against a plain SELECT of the same rows. Target: ratio <= 3.
2. The same with the model retrained (feedback just changed), and cold (indexes built anew, after an ingest).
3. The longest gap between the ticks of a 1 ms asyncio ticker while the indexes are built and the model
   trained (`rank_off_loop` on a cold cache). Target: < 50 ms. Also shown: the same for a whole cold
   /papers, whose SELECT of 5,000 rows converts them on the loop (as the plain SELECT baseline does).

Run: `python bench/papers_feedback.py [--rounds N]`. Not part of pytest; no network.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.papers import learn, ranking  # noqa: E402
from bot.papers.feed import ArxivPaper, parse_feed  # noqa: E402
from bot.papers.ranking import load_taste, papers_reply  # noqa: E402
from bot.plan import load_plan  # noqa: E402
from bot.plan.calendar import PlanDay  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.papers import PaperRow, SqlPaperStore  # noqa: E402
from storage.repository import SqlStore  # noqa: E402

FIXTURES = REPO.parent / "shared/fixtures/arxiv"
PAPERS = 5000
NOW = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)


def corpus(size: int) -> list[ArxivPaper]:
    """Real papers from every fixture (the June week first), re-numbered to reach `size`, all this week's."""
    real: dict[str, ArxivPaper] = {}
    for path in [*sorted((FIXTURES / "week-2026-06").glob("*.xml")), *sorted(FIXTURES.glob("*.xml"))]:
        try:
            real.update((p.arxiv_id, p) for p in parse_feed(path.read_bytes()).papers)
        except Exception:
            continue
    pool = list(real.values())
    day = NOW.date()
    return [
        replace(pool[i % len(pool)], arxiv_id=f"9999.{i:05d}", announced=day - timedelta(days=i % 7))
        for i in range(size)
    ]


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def longest_stall(work: Callable[[], Awaitable[object]]) -> float:
    """The longest time the loop could not run a 1 ms ticker while `work` ran."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.001)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    await work()
    done.set()
    await tick
    return worst


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not FIXTURES.is_dir():
        print(f"fixtures missing under {FIXTURES}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await upgrade(engine)
        store, papers = SqlPaperStore(engine), corpus(PAPERS)
        await store.upsert_papers(papers, NOW)
        user, _new = await SqlStore(engine).get_or_create_user("console", "bench", "Bench", "en", "UTC")
        ids = [p.arxiv_id for p in papers]
        for arxiv_id in ids[:10]:
            await store.set_vote(user.id, arxiv_id, 1)
        for arxiv_id in ids[100:110]:
            await store.set_vote(user.id, arxiv_id, -1)
        for arxiv_id in ids[200:205]:
            await store.set_read(user.id, arxiv_id, NOW.date())
        plan, day, since = load_plan("en"), PlanDay("active", 32), NOW.date() - timedelta(days=7)
        table = PaperRow.__table__

        async def plain_select() -> None:
            async with store.sessions() as session:
                rows = (await session.execute(select(table).where(table.c.announced >= since))).all()
                assert len(rows) == PAPERS

        async def reply() -> None:
            taste = await load_taste(store, [user.id])
            await papers_reply(store, plan, day, "en", NOW.date(), ["speech recognition"], 5, taste)

        async def retrained() -> None:
            learn._MODELS.clear()  # as after a 👍 or 👎
            await reply()

        async def cold() -> None:
            ranking._INDEX_CACHE.clear()  # as on the first /papers after an ingest
            learn._MODELS.clear()
            await reply()

        await reply()  # warm imports, plan, translations and the day's indexes
        selects = [await timed(plain_select) for _ in range(args.rounds)]
        replies = [await timed(reply) for _ in range(args.rounds)]
        retrains = [await timed(retrained) for _ in range(args.rounds)]
        colds = [await timed(cold) for _ in range(max(1, args.rounds // 2))]
        stall = max([await longest_stall(cold) for _ in range(max(1, args.rounds // 2))])
        stored = await store.recent_papers(since)
        taste = await load_taste(store, [user.id])

        async def build_only() -> None:
            ranking._INDEX_CACHE.clear()
            learn._MODELS.clear()
            await ranking.rank_off_loop(stored, plan.block_for_week(5).keywords, ["speech recognition"], 5, taste)

        build_stall = max([await longest_stall(build_only) for _ in range(max(1, args.rounds // 2))])
        await engine.dispose()
    select_s, reply_s = statistics.median(selects), statistics.median(replies)
    print(f"/papers with feedback over {PAPERS} stored papers (10 liked, 10 disliked, 5 read)")
    print(f"plain SELECT of the rows: {select_s * 1000:.1f} ms")
    print(f"/papers reply, model and indexes cached: {reply_s * 1000:.1f} ms")
    print(f"/papers reply, model retrained: {statistics.median(retrains) * 1000:.1f} ms")
    print(f"/papers reply, indexes built anew: {statistics.median(colds) * 1000:.1f} ms")
    print(f"ratio cached reply / plain SELECT: {reply_s / select_s:.2f} (target <= 3)")
    print(f"ratio retrained reply / plain SELECT: {statistics.median(retrains) / select_s:.2f}")
    print(f"longest event-loop stall while the indexes are built: {build_stall * 1000:.1f} ms (target < 50)")
    print(f"longest event-loop stall in a whole cold /papers (its SELECT included): {stall * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
