"""The APScheduler wiring: fixed job ids and policies, a catch-up pass on start, the arXiv ingest job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.delivery.scheduler import JOB_DEFAULTS, Scheduler
from bot.delivery.service import DeliveryService
from bot.papers.ingest import ArxivIngestJob
from tests.fakes.arxiv import API_PATH, FakeArxiv
from tests.support import SHARED, Chatter, RecordingDeliverer, at

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only

FEED = SHARED / "fixtures" / "arxiv" / "rss_cs.CL_pub2026-08-20_weekday.xml"


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]


async def test_scheduler_starts_fixed_jobs_and_catches_up_at_once(
    delivery: DeliveryService, platform: RecordingDeliverer, ann: Chatter, clock: ManualClock
) -> None:
    await ann.say("/start")
    clock.set(at("2026-11-30 09:00"))  # the 08:00 push fell due while we were "down"
    ran = asyncio.Event()

    async def extra() -> None:
        ran.set()

    scheduler = Scheduler(delivery, extra_jobs=[("test.extra", extra, IntervalTrigger(hours=1))])
    await scheduler.start()
    try:
        assert sorted(scheduler.job_ids()) == ["deliveries.drain", "deliveries.tick", "test.extra"]
        assert len(platform.sent) == 1  # start-up ran one full pass before returning
        await asyncio.wait_for(ran.wait(), 5)  # extra jobs also run once right away
        assert scheduler.scheduler is not None
        for job in scheduler.scheduler.get_jobs():
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (
                JOB_DEFAULTS["coalesce"],
                JOB_DEFAULTS["max_instances"],
                JOB_DEFAULTS["misfire_grace_time"],
            )
    finally:
        await scheduler.stop()
    assert scheduler.job_ids() == []


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-08-20 05:00", "America/New_York"))  # a Thursday, after the announcement


@pytest.fixture
async def fake() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def test_arxiv_ingest_job_fetches_once_a_weekday(app: Runtime, clock: ManualClock, fake: FakeArxiv) -> None:
    if not FEED.exists():
        pytest.skip("shared arXiv fixtures not available")
    fake.add_feed("/rss/cs.CL", FEED.read_bytes(), etag='"v1"')
    repo = app.database.papers
    job = ArxivIngestJob(fake.url("/rss/cs.CL"), fake.url(API_PATH), repo, clock)
    try:
        record = await job()
        assert record is not None and record.status == "ok"
        assert await job() is None  # today's feed is in: nothing to do until tomorrow
        assert len(fake.requests_to("/rss/cs.CL")) == 1
    finally:
        await job.stop()
