"""Benchmark the arXiv ingest and /papers ranking; prints ratios against baselines measured in the same run.

1. Ingest: parse + normalise + store (fresh migrated SQLite file each round) of the three largest
   fixtures, against `feedparser.parse` alone on the same bytes. Target: ratio <= 2.0.
2. Ranking: building the /papers reply over 2,000 stored papers (SELECT + BM25 + render), against a plain
   SELECT of the same rows.

Run: `python bench/arxiv_ingest.py [--rounds N]`. Not part of pytest; no network.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.papers.feed import ArxivPaper, parse_feed  # noqa: E402
from bot.papers.ranking import _INDEX_CACHE, papers_reply, rank_papers  # noqa: E402
from bot.plan import load_plan  # noqa: E402
from bot.plan.calendar import PlanDay  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.papers import PaperRow, SqlPaperStore  # noqa: E402

FIXTURES = REPO.parent / "shared/fixtures/arxiv"
RANKED_PAPERS = 2000
NOW = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)


async def fresh_store(folder: Path, name: str) -> SqlPaperStore:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / name}")
    await upgrade(engine)
    return SqlPaperStore(engine)


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def bench_ingest(blobs: list[bytes], rounds: int, folder: Path) -> tuple[float, float]:
    baseline: list[float] = []
    ours: list[float] = []
    for i in range(rounds):
        start = time.perf_counter()
        for data in blobs:
            feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
        baseline.append(time.perf_counter() - start)
        store = await fresh_store(folder, f"ingest{i}.db")

        async def ingest(store: SqlPaperStore = store) -> None:
            for data in blobs:
                await store.upsert_papers(parse_feed(data).papers, NOW)

        ours.append(await timed(ingest))
        await store.engine.dispose()
    return statistics.median(baseline), statistics.median(ours)


def corpus(size: int) -> list[ArxivPaper]:
    """Real papers from every fixture, re-numbered to reach `size`, all announced in the last week."""
    real: list[ArxivPaper] = []
    for path in sorted(FIXTURES.glob("*.xml")):
        try:
            real += parse_feed(path.read_bytes()).papers
        except Exception:
            continue
    day = NOW.date()
    return [
        replace(real[i % len(real)], arxiv_id=f"9999.{i:05d}", announced=day - timedelta(days=i % 7))
        for i in range(size)
    ]


async def bench_ranking(rounds: int, folder: Path) -> tuple[float, float, float, float]:
    store = await fresh_store(folder, "rank.db")
    await store.upsert_papers(corpus(RANKED_PAPERS), NOW)
    plan = load_plan("en")
    day = PlanDay("active", 32)  # week 5
    since = NOW.date() - timedelta(days=7)
    table = PaperRow.__table__

    async def plain_select() -> None:
        async with store.sessions() as session:
            rows = (await session.execute(select(table).where(table.c.announced >= since))).all()
            assert len(rows) == RANKED_PAPERS

    async def reply() -> None:
        await papers_reply(store, plan, day, "en", NOW.date(), ["speech recognition"], 5)

    papers = await store.recent_papers(since)

    async def rank_only() -> None:
        rank_papers(papers, plan.block_for_week(5).keywords, ["speech recognition"], 5)

    async def rank_cold() -> None:
        _INDEX_CACHE.clear()  # as on the first /papers after an ingest
        await rank_only()

    await reply()  # warm caches (plan, translations, bm25s imports)
    selects = [await timed(plain_select) for _ in range(rounds)]
    replies = [await timed(reply) for _ in range(rounds)]
    ranks = [await timed(rank_only) for _ in range(rounds)]
    colds = [await timed(rank_cold) for _ in range(rounds)]
    await store.engine.dispose()
    return statistics.median(selects), statistics.median(replies), statistics.median(ranks), statistics.median(colds)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = sorted(FIXTURES.glob("*.xml"), key=lambda p: p.stat().st_size, reverse=True)[:3]
    if len(files) < 3:
        print(f"fixtures missing under {FIXTURES}", file=sys.stderr)
        return 2
    blobs = [p.read_bytes() for p in files]
    items = sum(len(parse_feed(b).papers) for b in blobs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, ours = await bench_ingest(blobs, args.rounds, folder)
        select_s, reply_s, rank_s, cold_s = await bench_ranking(args.rounds, folder)
    print(f"ingest: {len(files)} largest fixtures, {sum(map(len, blobs)) / 1e6:.2f} MB, {items} items")
    print(f"  feedparser.parse alone        {base * 1000:8.1f} ms")
    print(f"  parse + normalise + store     {ours * 1000:8.1f} ms")
    print(f"  ratio                         {ours / base:8.2f}   (target <= 2.0)")
    print(f"/papers ranking over {RANKED_PAPERS} stored papers")
    print(f"  plain SELECT of the rows      {select_s * 1000:8.1f} ms")
    print(f"  BM25 rank, index cached       {rank_s * 1000:8.1f} ms")
    print(f"  BM25 rank, index built anew   {cold_s * 1000:8.1f} ms   (first /papers after an ingest)")
    print(f"  whole /papers reply           {reply_s * 1000:8.1f} ms")
    print(f"  ratio reply / plain SELECT    {reply_s / select_s:8.2f}")
    print(f"  ratio cold rank / plain SELECT {cold_s / select_s:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
