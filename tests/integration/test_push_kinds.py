"""Push kinds plug in from outside the delivery package: a test-only feature's kind is scheduled,
recorded in the outbox and delivered like the bot's own, and one worker never drains twice at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import time
from typing import Any

import pytest

from bot.app import FEATURES, Runtime
from bot.core.clock import ManualClock
from bot.core.markup import plain
from bot.core.registry import Registry
from bot.core.types import Reply
from bot.delivery.kinds import Feature, PushKind, PushKinds, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence
from bot.delivery.service import DeliveryService
from tests.support import Chatter, RecordingDeliverer, at, make_runtime

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only


def hello_when(who: Subscriber) -> Recurrence | None:
    """Every learner who opted in (here: whoever set a reminder) hears hello at 10:00 their time."""
    if who.user is None or who.user.reminder_time is None:
        return None
    return Recurrence(time(10, 0), who.user.timezone)


async def hello_render(request: PushRequest) -> Sequence[Reply] | Skip:
    if request.recipient.lang != "en":
        return Skip("hello speaks English only")
    return [Reply(plain(f"Hello from a test-only kind, local day {request.today.isoformat()}"))]


def register_nothing(registry: Registry) -> None:
    return None


HELLO = PushKind("hello", "user", hello_when, hello_render, follows_plan=False)
TEST_FEATURE = Feature("hello", register_nothing, (HELLO,))


@pytest.fixture
async def runtime(database_url: str, clock: ManualClock, platform: RecordingDeliverer) -> AsyncIterator[Runtime]:
    app = make_runtime(database_url, clock, [platform], features=(*FEATURES, TEST_FEATURE))
    await app.open()
    yield app
    await app.stop()


async def test_a_kind_from_outside_delivery_is_scheduled_recorded_and_delivered(
    runtime: Runtime, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    ann = Chatter(runtime.core, name="Ann")
    await ann.say("/remind 21:00")  # a reminder, no plan: only the test kind wants Ann
    assert runtime.kinds.get("hello") is HELLO
    clock.set(at("2026-11-29 10:00"))
    assert await runtime.delivery.tick() == 1
    [item] = await runtime.database.outbox.items()
    assert (item.kind, item.local_date.isoformat(), item.status) == ("hello", "2026-11-29", "pending")
    assert await runtime.delivery.drain() == 1
    assert platform.texts() == ["Hello from a test-only kind, local day 2026-11-29"]
    [item] = await runtime.database.outbox.items()
    assert item.status == "sent"
    assert "Next push: Monday 2026-11-30 10:00 (UTC)" in await ann.text("/settings")  # the kind moved on a day


async def test_a_kind_skips_with_its_own_reason(runtime: Runtime, platform: RecordingDeliverer, clock) -> None:
    li = Chatter(runtime.core, user_id="2", name="Li", locale="zh-hans")
    await li.say("/remind 21:00")
    clock.set(at("2026-11-29 10:00"))
    await runtime.delivery.tick()
    assert await runtime.delivery.drain() == 0
    [item] = await runtime.database.outbox.items()
    assert (item.status, item.reason) == ("skipped", "hello speaks English only")
    assert platform.sent == []


def test_kind_names_are_checked() -> None:
    with pytest.raises(ValueError, match="twice"):
        PushKinds([HELLO, HELLO])
    with pytest.raises(ValueError, match="short lowercase"):
        PushKinds([PushKind("Hello World", "user", hello_when, hello_render)])


class DrainsAgainWhileSending(RecordingDeliverer):
    """During its first send, the scheduler's other job fires: a second drain in the same worker."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__("console", clock)
        self.delivery: DeliveryService | None = None
        self.second: int | None = None

    async def deliver(self, target: Any, replies: Any, skip: int = 0) -> Any:
        if self.delivery is not None and self.second is None:
            self.second = -1
            self.second = await self.delivery.drain()
        return await super().deliver(target, replies, skip)


async def test_one_drain_per_worker(database_url: str, clock: ManualClock) -> None:
    platform = DrainsAgainWhileSending(clock)
    app = make_runtime(database_url, clock, [platform])
    await app.open()
    try:
        for n in range(5):
            await Chatter(app.core, user_id=str(10 + n), name=f"learner {n}").say("/start")
        clock.set(at("2026-11-30 08:00"))
        assert await app.delivery.tick() == 5
        app.delivery.claim_size = 2  # several claims: a second drain could take the rest between them
        platform.delivery = app.delivery
        assert await app.delivery.drain() == 5
        assert platform.second == 0  # the overlapping pass found a drain running and left it alone
        assert len(platform.sent) == 5
    finally:
        await app.stop()


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]
