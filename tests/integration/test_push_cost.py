"""What each push of a fan-out costs the database, pinned so it can't silently grow back.

Counted with SQLAlchemy's events on the real engine during one drain: a claimed batch is read and
rendered with a few statements in all, and each push then costs its kind's own read (the daily push's
check-in state) and one UPDATE that records it. The batch after the current one is claimed and rendered
while the current one is sent, but the sends stay one at a time, each recorded before the next starts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Runtime
from bot.core.adapter import DeliveryResult
from bot.core.clock import ManualClock
from bot.delivery.service import DeliveryService
from tests.due_pushes import seed_due_pushes, zone_near_noon
from tests.support import DatabaseCost, RecordingDeliverer, counted, make_runtime

PER_PUSH = 2  # the daily kind's check-in read, and the UPDATE that records the push
PER_BATCH = 4  # claim (SELECT ids, UPDATE ... RETURNING), then the batch's users and enrolments
AT_THE_END = 2  # the look-ahead claim that found nothing, and one more look before calling it drained


def records_a_push(sql: str) -> bool:
    """The UPDATE that ends a push (sets sent_at)."""
    assignments = sql.partition(" WHERE ")[0]
    return assignments.startswith("UPDATE deliveries SET") and "sent_at=" in assignments


class InOrderPlatform(RecordingDeliverer):
    """Checks, at every send, that the pushes before it are already recorded and none is still going out
    (once given the app to look in: the statement counts leave it out)."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__("console", clock)
        self.app: Runtime | None = None
        self.in_flight = 0
        self.most_in_flight = 0
        self.recorded_before: list[int] = []

    async def deliver(self, target: Any, replies: Any, skip: int = 0) -> Any:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.app is not None:
                items = await self.app.database.outbox.items()
                self.recorded_before.append(sum(item.status == "sent" for item in items))
            return await super().deliver(target, replies, skip)
        finally:
            self.in_flight -= 1


@pytest.fixture
def platform(clock: ManualClock) -> InOrderPlatform:
    return InOrderPlatform(clock)


@pytest.fixture
def app_adapters(platform: InOrderPlatform) -> list[RecordingDeliverer]:
    return [platform]


async def due(app: Runtime, clock: ManualClock, learners: int) -> None:
    await seed_due_pushes(app, clock, zone_near_noon(clock.now()), learners, 700_000, platform="console")
    assert await app.delivery.tick() == learners


async def drain_cost(app: Runtime, delivery: DeliveryService) -> tuple[int, DatabaseCost]:
    with counted(app, records_a_push) as cost:
        sent = await delivery.drain()
    return sent, cost


@pytest.mark.parametrize(("learners", "claim_size"), [(12, 50), (12, 5), (24, 5)])
async def test_statements_per_push_are_pinned(
    app: Runtime, delivery: DeliveryService, clock: ManualClock, learners: int, claim_size: int
) -> None:
    delivery.claim_size = claim_size
    await due(app, clock, learners)
    sent, cost = await drain_cost(app, delivery)
    batches = -(-learners // claim_size)
    assert sent == learners
    assert cost.picked == learners  # one UPDATE records each push: no ORM load, no second write
    assert cost.statements == PER_PUSH * learners + PER_BATCH * batches + AT_THE_END
    # a claim's two statements share a transaction; every other statement is a short checkout of its own,
    # except reads of a SQLite file, which run in the event loop without one
    assert cost.connections == cost.statements - cost.loop_reads - batches


async def test_sends_stay_one_at_a_time_each_recorded_before_the_next(
    app: Runtime, delivery: DeliveryService, clock: ManualClock, platform: InOrderPlatform
) -> None:
    """The look-ahead claims and renders the next batch during this one's sends, never sends beside them."""
    platform.app = app
    delivery.claim_size = 4
    await due(app, clock, 10)
    assert await delivery.drain() == 10
    assert platform.most_in_flight == 1
    assert platform.recorded_before == list(range(10))
    assert {item.status for item in await app.database.outbox.items()} == {"sent"}


async def test_a_drain_finds_rows_that_fell_due_during_it(
    app: Runtime, delivery: DeliveryService, clock: ManualClock, platform: InOrderPlatform
) -> None:
    """The look-ahead ran before the batch's last row was retried: one more look still sends it."""
    platform.app = app
    delivery.claim_size = 2
    await due(app, clock, 2)
    # a flood wait too short to move the injected clock: the row is pending again, due at once
    platform.script = [DeliveryResult.sent(), DeliveryResult("retry", "flood", retry_after=1e-9)]
    assert await delivery.drain() == 2
    assert len(platform.sent) == 2 and platform.skips == [0, 0, 0]


class SlowPlatform(RecordingDeliverer):
    """Each send takes 90 s (a long flood wait, within the lease); during the second, another worker drains."""

    def __init__(self, clock: ManualClock, other: DeliveryService, engine: AsyncEngine) -> None:
        super().__init__("console", clock)
        self.other = other
        self.engine = engine

    async def deliver(self, target: Any, replies: Any, skip: int = 0) -> Any:
        assert self.clock is not None
        if not self.sent:  # a real send waits on the network: the look-ahead claims the next batch meanwhile
            await self.claimed_by_me(4)
        self.clock.advance(timedelta(seconds=90))
        if len(self.sent) == 1:
            await self.other.drain()
        return await super().deliver(target, replies, skip)

    async def claimed_by_me(self, rows: int) -> None:
        """Until the look-ahead has claimed its batch (it runs on its own task, a few round trips away)."""
        query = text("SELECT count(*) FROM deliveries WHERE status = 'sending' AND claimed_by = 'a'")
        for _ in range(500):
            async with self.engine.connect() as connection:
                if (await connection.execute(query)).scalar_one() >= rows:
                    return
            await asyncio.sleep(0.01)
        raise AssertionError("the look-ahead never claimed the next batch")


async def test_a_looked_ahead_batch_whose_lease_ran_out_is_not_sent_twice(
    app: Runtime, database_url: str, clock: ManualClock
) -> None:
    """The next batch was claimed as the first began; the first outlasted that claim's lease, so another
    worker took the looked-ahead rows over: the slow worker renews before sending them and leaves them be."""
    other_platform = RecordingDeliverer("console", clock)
    other = make_runtime(database_url, clock, [other_platform], worker_id="b")
    slow_runtime = make_runtime(
        database_url, clock, [SlowPlatform(clock, other.delivery, app.database.engine)], worker_id="a"
    )
    await other.open()
    await slow_runtime.open()
    try:
        slow = slow_runtime.delivery
        slow.claim_size = 2
        await due(app, clock, 4)
        assert await slow.drain() == 2
        sent = slow_runtime.adapters[0].sent + other_platform.sent  # type: ignore[attr-defined]
        assert Counter(target.external_id for target, _replies, _at in sent) == {str(700_000 + n): 1 for n in range(4)}
        assert [target.external_id for target, _replies, _at in other_platform.sent] == ["700002", "700003"]
    finally:
        await slow_runtime.stop()
        await other.stop()
