"""Several workers on one database (both backends): ticks and claims never hand the same work out twice,
and the ops endpoints report what the workers did."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.delivery.service import DeliveryService
from bot.ops import OpsServer, PrometheusMetrics
from storage.outbox import ScheduleRow, SqlOutbox
from tests.botproc import free_port
from tests.support import Chatter, RecordingDeliverer, at, make_runtime

LEARNERS = 30


OpenWorker = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def workers(database_url: str, clock: ManualClock, app: Runtime) -> AsyncIterator[OpenWorker]:
    """Opens worker processes' runtimes on the same database (and the same clock), each pushing through
    its own platform; `app` migrated the database first."""
    opened: list[Runtime] = []

    async def open_worker(platform: RecordingDeliverer, worker_id: str, **overrides: Any) -> Runtime:
        runtime = make_runtime(database_url, clock, [platform], worker_id=worker_id, **overrides)
        await runtime.open()
        opened.append(runtime)
        return runtime

    yield open_worker
    for runtime in reversed(opened):
        await runtime.stop()


@pytest.fixture
async def second_app(database_url: str, clock: ManualClock, app: Runtime) -> AsyncIterator[Runtime]:
    """Another worker process's runtime on the same database (and the same clock)."""
    other = make_runtime(database_url, clock)
    await other.open()
    yield other
    await other.stop()


async def enrol_learners(core) -> None:
    for n in range(LEARNERS):
        await Chatter(core, user_id=str(100 + n), name=f"learner {n}").say("/start")


async def test_concurrent_ticks_record_each_push_once(workers: OpenWorker, clock: ManualClock) -> None:
    a = await workers(RecordingDeliverer("console", clock), "a")
    b = await workers(RecordingDeliverer("console", clock), "b")
    first, second = a.delivery, b.delivery
    first.batch_size = second.batch_size = 7  # several batches each, interleaved
    await enrol_learners(a.core)
    clock.set(at("2026-11-30 08:00"))
    written = await asyncio.gather(first.tick(), second.tick(), first.tick())
    assert sum(written) == LEARNERS
    outbox: SqlOutbox = a.database.outbox
    items = await outbox.items()
    assert Counter((i.subject, i.kind, i.local_date) for i in items).most_common(1)[0][1] == 1
    async with outbox.sessions() as session:
        next_due = (await session.execute(select(ScheduleRow.next_due_at).where(ScheduleRow.kind == "daily"))).all()
    assert {row[0] for row in next_due} == {at("2026-12-01 08:00")}  # every schedule moved on exactly once


async def test_concurrent_claims_are_disjoint_and_a_dead_lease_comes_back(
    workers: OpenWorker, second_app: Runtime, clock: ManualClock
) -> None:
    worker_a = await workers(RecordingDeliverer("console", clock), "a")
    first = worker_a.delivery
    await enrol_learners(worker_a.core)
    clock.set(at("2026-11-30 08:00"))
    await first.tick()
    a: SqlOutbox = worker_a.database.outbox
    b: SqlOutbox = second_app.database.outbox
    lease = timedelta(seconds=30)
    claims = await asyncio.gather(
        *(o.claim(clock.now(), w, ["console"], 4, lease) for o, w in [(a, "a"), (b, "b")] * 3)
    )
    ids = [item.id for claim in claims for item in claim]
    assert ids and len(ids) == len(set(ids)) <= 24  # nobody got a row another one holds
    rest = await b.claim(clock.now(), "b", ["console"], 100, lease)
    assert sorted(ids + [item.id for item in rest]) == sorted({i.id for i in await a.items()})
    assert await b.claim(clock.now(), "b", ["console"], 100, lease) == []  # every lease still live
    clock.advance(lease + timedelta(seconds=1))  # every worker "died": all their claims come back
    assert len(await b.claim(clock.now(), "b", ["console"], 100, lease)) == LEARNERS


class FloodWaitingPlatform(RecordingDeliverer):
    """Each send takes 90 s (a long flood wait); during the second, another worker drains."""

    def __init__(self, clock: ManualClock, other: DeliveryService) -> None:
        super().__init__("console", clock)
        self.other = other

    async def deliver(self, target: Any, replies: Any, skip: int = 0) -> Any:
        assert self.clock is not None
        self.clock.advance(timedelta(seconds=90))
        if len(self.sent) == 1:
            await self.other.drain()
        return await super().deliver(target, replies, skip)


async def test_a_slow_worker_keeps_its_claims_and_nothing_is_sent_twice(
    workers: OpenWorker, clock: ManualClock
) -> None:
    other_platform = RecordingDeliverer("console", clock)
    other = (await workers(other_platform, "b")).delivery
    slow = FloodWaitingPlatform(clock, other)
    worker_a = await workers(slow, "a")
    first = worker_a.delivery
    assert first.lease == timedelta(minutes=2)
    for n in range(3):
        await Chatter(worker_a.core, user_id=str(100 + n), name=f"learner {n}").say("/start")
    clock.set(at("2026-11-30 08:00"))
    await first.tick()
    assert await first.drain() == 3  # 270 s for three sends, past the 2-minute lease: renewed on the way
    assert other_platform.sent == []  # the other worker found nothing it could take
    received = Counter(target.external_id for target, _replies, _at in slow.sent + other_platform.sent)
    assert received == {"100": 1, "101": 1, "102": 1}


async def test_healthz_and_metrics(workers: OpenWorker, clock: ManualClock) -> None:
    metrics = PrometheusMetrics()
    platform = RecordingDeliverer("console", clock)
    platform.connected = True
    worker = await workers(platform, "main", metrics=metrics)
    delivery = worker.delivery
    ann = Chatter(worker.core, name="Ann")
    await ann.say("/start")
    await ann.say("/nosuchcommand")
    await ann.say("hello")  # not a command: not counted
    clock.set(at("2026-11-30 08:00"))
    await delivery.tick()
    assert await delivery.drain() == 1
    server = OpsServer(worker.database.ping, [platform], metrics, port=free_port())
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{server.port}"
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 200
                assert await response.json() == {"database": "ok", "adapters": {"console": "connected"}}
            platform.connected = False
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 503
                assert (await response.json())["adapters"] == {"console": "disconnected"}
            async with session.get(f"{base}/metrics") as response:
                assert response.status == 200 and response.content_type == "text/plain"
                page = await response.text()
    finally:
        await server.stop()
    assert 'studybuddy_deliveries_total{platform="console",status="sent"} 1.0' in page
    assert 'studybuddy_commands_total{command="start",platform="console"} 1.0' in page
    assert 'studybuddy_commands_total{command="unknown",platform="console"} 1.0' in page
    assert "studybuddy_command_seconds_count 2.0" in page


async def test_healthz_reports_an_unreachable_database() -> None:
    from storage.db import create_engine, ping

    engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2")
    server = OpsServer(partial(ping, engine), [], PrometheusMetrics(), port=free_port())
    await server.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}/healthz") as r:
            assert r.status == 503
            body = await r.json()
        assert body["database"].startswith("error: ") and "nobody" not in body["database"]
    finally:
        await server.stop()
        await engine.dispose()


async def test_a_lease_is_held_by_one_worker_until_it_runs_out(
    app: Runtime, second_app: Runtime, clock: ManualClock
) -> None:
    mine, theirs = app.database.store, second_app.database.store
    ttl = timedelta(minutes=10)
    assert await mine.take_lease("job", "a", clock.now(), ttl)
    assert not await theirs.take_lease("job", "b", clock.now(), ttl)
    assert await mine.take_lease("job", "a", clock.now() + timedelta(minutes=5), ttl)  # the holder renews
    assert not await theirs.take_lease("job", "b", clock.now() + timedelta(minutes=14), ttl)
    later = clock.now() + timedelta(minutes=16)  # the renewed lease ran out at +15
    assert await theirs.take_lease("job", "b", later, ttl)
    assert not await mine.take_lease("job", "a", later, ttl)
    assert await mine.take_lease("another job", "a", later, ttl)  # leases are per name


async def test_racing_for_a_free_lease_one_worker_wins(app: Runtime, second_app: Runtime, clock: ManualClock) -> None:
    stores = [app.database.store, second_app.database.store]
    ttl = timedelta(minutes=10)
    for start in (clock.now(), clock.now() + timedelta(hours=1)):  # a new lease, then an expired one
        won = await asyncio.gather(*(stores[n % 2].take_lease("job", f"w{n}", start, ttl) for n in range(6)))
        assert won.count(True) == 1, won
