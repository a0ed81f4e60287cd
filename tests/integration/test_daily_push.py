"""The daily push carries the same live state as /today: ✓ marks, Done or Undo, and the catch-up offer."""

from __future__ import annotations

import pytest

from bot.core.adapter import Adapter
from bot.core.clock import ManualClock
from bot.delivery.service import DeliveryService
from tests.support import Chatter, RecordingDeliverer, at

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[Adapter]:
    return [platform]


async def push_at(delivery: DeliveryService, clock: ManualClock, when: str) -> None:
    clock.set(at(when))
    await delivery.tick()
    await delivery.drain()


async def test_the_push_offers_the_catch_up_and_its_buttons_stay_live(
    ann: Chatter, delivery: DeliveryService, platform: RecordingDeliverer, clock: ManualClock
) -> None:
    await ann.say("/start")  # 09:00: the first push is tomorrow at 08:00
    await push_at(delivery, clock, "2026-11-30 08:05")
    first = platform.sent[-1][1][0]
    assert "You missed" not in first.text.to_plain()  # one missed day is no reason to shift
    assert [b.action for b in first.buttons] == ["week:1", "done:2026-11-30"]
    await push_at(delivery, clock, "2026-12-01 08:05")
    await push_at(delivery, clock, "2026-12-02 08:05")
    push = platform.sent[-1][1][0]
    assert "You missed 3 plan days since your last check-in." in push.text.to_plain()
    assert [b.action for b in push.buttons] == ["catchup:2026-12-02", "week:1", "done:2026-12-02"]
    [pressed] = await ann.press("done:2026-12-02")  # the push's own button redraws it
    assert pressed.edit and "✓ 1. " in pressed.text.to_plain()
    assert [b.action for b in pressed.buttons] == ["week:1", "undo:2026-12-02"]
