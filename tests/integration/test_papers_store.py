"""Paper storage and the daily ingest against a loopback fake arXiv, on a real migrated SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot.app import Runtime
from bot.cli import arxiv_fetch
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.papers.feed import ArxivClient, parse_feed
from bot.papers.ingest import backfill, ingest_feed, ingest_if_due
from storage.papers import TYPE_PRIORITY, SqlPaperStore
from storage.schema import metadata
from tests.fakes.arxiv import API_PATH, FakeArxiv, FakeTime, Scripted, api_entries, fixture
from tests.support import at, make_runtime, sync_url

CL_0820 = "rss_cs.CL_pub2026-08-20_weekday.xml"
CL_0817 = "rss_cs.CL_pub2026-08-17_weekday.xml"
LG_0817 = "rss_cs.LG_pub2026-08-17_weekday.xml"
SATURDAY = "rss_cs.CL_pub2026-08-15_saturday_empty.xml"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Oops</title></head><body><p>Maintenance<br></body></html>"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-08-20 05:00", "America/New_York"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def client(fake: FakeArxiv) -> AsyncIterator[ArxivClient]:
    time = FakeTime()
    async with ArxivClient(
        fake.url("/rss/cs.CL"), fake.url(API_PATH), sleep=time.sleep, monotonic=time.monotonic
    ) as arxiv:
        yield arxiv


@pytest.fixture
def repo(app: Runtime) -> SqlPaperStore:
    store: SqlPaperStore = app.database.papers
    return store


def test_migrations_match_the_models(app: Runtime, database_url: str) -> None:
    """`alembic upgrade head` (run by Runtime.open) and metadata must describe the same schema."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


async def test_weekday_feed_is_stored_and_recorded(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(CL_0820), etag='"v1"')
    record = await ingest_feed(client, repo, clock)
    assert record.status == "ok" and record.items == 141 and len(record.new_ids) == 141
    assert record.type_counts == {"new": 72, "cross": 27, "replace": 27, "replace-cross": 15}
    assert record.feed_date == date(2026, 8, 20)
    assert await repo.paper_count() == 141
    [stored] = await repo.fetches()
    assert stored.status == "ok" and len(stored.new_ids) == 141 and stored.at == clock.now()
    # The ETag was remembered: the next fetch is conditional and ends as not_modified.
    again = await ingest_feed(client, repo, clock)
    assert again.status == "not_modified"
    assert fake.requests_to("/rss/cs.CL")[-1].headers.get("If-None-Match") == '"v1"'


async def test_a_repeated_feed_is_recorded_as_stale(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(CL_0820), etag='"monday"')
    await ingest_feed(client, repo, clock)
    # Next day the server hands yesterday's items under a new ETag: nothing we haven't seen.
    fake.add_feed("/rss/cs.CL", fixture(CL_0820), etag='"tuesday"')
    record = await ingest_feed(client, repo, clock)
    assert record.status == "stale" and record.items == 141 and record.new_ids == ()
    assert record.error is None
    assert await repo.paper_count() == 141


@pytest.mark.parametrize("name", [SATURDAY, "rss_cs.CL_pub2025-11-28_thanksgiving_empty.xml"])
async def test_weekend_and_holiday_feeds_are_empty_not_errors(
    name: str, fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(name))
    record = await ingest_feed(client, repo, clock)
    assert (record.status, record.items, record.error) == ("empty", 0, None)
    assert [f.status for f in await repo.fetches()] == ["empty"]


@pytest.mark.parametrize(
    ("response", "http_status", "error_part"),
    [
        (Scripted(200, b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>x"), 200, "FeedError"),
        (Scripted(200, HTML_PAGE, {"Content-Type": "text/html"}), 200, "FeedError"),
        (Scripted(500, b"Internal Server Error"), 500, "HTTP 500"),
    ],
    ids=["malformed-xml", "html-error-page", "http-500"],
)
async def test_failures_keep_stored_papers_and_are_recorded(
    response: Scripted,
    http_status: int,
    error_part: str,
    fake: FakeArxiv,
    client: ArxivClient,
    repo: SqlPaperStore,
    clock: ManualClock,
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(CL_0820), etag='"good"')
    await ingest_feed(client, repo, clock)
    before = await repo.recent_papers(date(2026, 8, 1))
    fake.script("/rss/cs.CL", response)
    record = await ingest_feed(client, repo, clock)
    assert record.status == "error" and record.failed
    assert record.http_status == http_status and error_part in (record.error or "")
    assert await repo.recent_papers(date(2026, 8, 1)) == before
    assert [f.status for f in await repo.fetches()] == ["error", "ok"]


async def test_the_same_paper_in_two_feeds_is_one_paper(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    cl, lg = parse_feed(fixture(CL_0817)), parse_feed(fixture(LG_0817))
    shared = {p.arxiv_id for p in cl.papers} & {p.arxiv_id for p in lg.papers}
    assert len(shared) == 27
    cl_url = fake.add_feed("/rss/cs.CL", fixture(CL_0817))
    lg_url = fake.add_feed("/rss/cs.LG", fixture(LG_0817))
    first = await ingest_feed(client, repo, clock, url=cl_url)
    second = await ingest_feed(client, repo, clock, url=lg_url)
    assert len(first.new_ids) == 101 and len(second.new_ids) == 212 - 27
    assert await repo.paper_count() == 101 + 212 - 27
    # The fixtures' README says "new in one, cross in the other"; in fact 12 of the 27 are (new, cross),
    # 10 are cross in both (primary cs.AI) and 5 are replace / replace-cross. The most original type wins.
    by_id = {p.arxiv_id: p for p in (*cl.papers, *lg.papers) if p.arxiv_id in shared}
    kinds = {i: {p.announce_type for p in (*cl.papers, *lg.papers) if p.arxiv_id == i} for i in shared}
    assert sum(kinds[i] == {"new", "cross"} for i in shared) == 12
    for arxiv_id in shared:
        paper = await repo.get_paper(arxiv_id)
        assert paper is not None and paper.version == by_id[arxiv_id].version
        assert paper.announce_type == min(kinds[arxiv_id], key=TYPE_PRIORITY.__getitem__)
        if "new" in kinds[arxiv_id]:
            assert paper.announce_type == "new"


async def test_a_replacement_bumps_the_version_and_never_lowers_it(repo: SqlPaperStore, clock: ManualClock) -> None:
    paper = next(p for p in parse_feed(fixture(CL_0820)).papers if p.announce_type == "new")
    await repo.upsert_papers([paper], clock.now())
    v2 = replace(paper, version=paper.version + 1, announce_type="replace", title="Better title")
    result = await repo.upsert_papers([v2], clock.now())
    assert result.updated_ids == (paper.arxiv_id,) and result.new_ids == ()
    stored = await repo.get_paper(paper.arxiv_id)
    assert stored is not None and (stored.version, stored.title) == (paper.version + 1, "Better title")
    await repo.upsert_papers([paper], clock.now())  # the old version arriving late changes nothing
    stored = await repo.get_paper(paper.arxiv_id)
    assert stored is not None and stored.version == paper.version + 1
    assert await repo.paper_count() == 1


async def test_backfill_pages_the_api_and_records_one_fetch(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.set_api_entries(api_entries(fixture("api_cat-cs.CL_max3_2026-09-24.xml")))
    seen: list[tuple[str, int, int]] = []
    record = await backfill(
        client, repo, 3, lambda cat, done, total: seen.append((cat, done, total)), clock, page_size=2
    )
    assert record.source == "api" and record.status == "ok"
    assert record.items == 6 and len(record.new_ids) == 3  # the fake answers both categories alike
    assert await repo.paper_count() == 3
    assert seen[-1] == ("cs.LG", 3, 3) and ("cs.CL", 2, 3) in seen
    queries = [r.query["search_query"] for r in fake.requests_to(API_PATH)]
    assert any(q.startswith("cat:cs.CL AND submittedDate:[20260817") for q in queries)


async def test_backfill_failure_keeps_earlier_pages(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.set_api_entries(api_entries(fixture("api_cat-cs.CL_max3_2026-09-24.xml")))
    record_pages: list[int] = []

    def progress(_cat: str, done: int, _total: int) -> None:
        record_pages.append(done)
        if done == 2:
            fake.script(API_PATH, Scripted(500, b"boom"))

    record = await backfill(client, repo, 3, progress, clock, page_size=2)
    assert record.status == "error" and record.http_status == 500
    assert await repo.paper_count() == 2
    assert (await repo.fetches())[0].status == "error"


async def test_ingest_if_due_fetches_once_a_weekday(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(CL_0820))
    first = await ingest_if_due(client, repo, clock)  # start-up on Thursday 05:00 New York: missing
    assert first is not None and first.status == "ok"
    assert await ingest_if_due(client, repo, clock) is None
    clock.set(at("2026-08-22 05:00", "America/New_York"))  # Saturday: nothing to fetch
    assert await ingest_if_due(client, repo, clock) is None
    assert len(fake.requests_to("/rss/cs.CL")) == 1


async def test_workers_sharing_a_database_fetch_the_feed_once(
    fake: FakeArxiv, client: ArxivClient, repo: SqlPaperStore, clock: ManualClock, database_url: str
) -> None:
    fake.add_feed("/rss/cs.CL", fixture(CL_0820))
    other = make_runtime(database_url, clock)  # another worker's store
    await other.open()
    time = FakeTime()
    try:
        async with ArxivClient(
            fake.url("/rss/cs.CL"), fake.url(API_PATH), sleep=time.sleep, monotonic=time.monotonic
        ) as other_client:
            records = await asyncio.gather(
                ingest_if_due(client, repo, clock, "worker-a"),
                ingest_if_due(other_client, other.database.papers, clock, "worker-b"),
            )
            assert [r.status for r in records if r is not None] == ["ok"]
            clock.advance(timedelta(minutes=15))  # the next run of both jobs: the day's feed is in
            assert await ingest_if_due(client, repo, clock, "worker-a") is None
            assert await ingest_if_due(other_client, other.database.papers, clock, "worker-b") is None
    finally:
        await other.stop()
    assert len(fake.requests_to("/rss/cs.CL")) == 1


async def test_cli_fetch_exit_codes(fake: FakeArxiv, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`studybuddy arxiv fetch`: 0 after a stored feed, 1 when the fetch is recorded as failed.
    (One request per run, so the client's 3 s politeness gap never makes the test wait.)"""
    url = fake.add_feed("/rss/cs.CL", fixture(CL_0820))
    settings = Settings(database_url=database_url, arxiv_feed_url=url, _env_file=None)
    assert await arxiv_fetch(settings, None) == 0
    assert "ok, 141 items, 141 new" in capsys.readouterr().out
    fake.script("/rss/cs.CL", Scripted(500, b"boom"))
    assert await arxiv_fetch(settings, None) == 1
    assert "error" in capsys.readouterr().out
    assert await arxiv_fetch(settings, 0) == 2
