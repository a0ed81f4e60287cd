"""Replies and pushes share Telegram's one budget, replies first: the real adapter (python-telegram-bot with
our rate limiter) against the fake Bot API, which enforces a flood limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import bootstrap
from bot.core.adapter import Target
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.markup import plain
from bot.core.ratelimit import ManualTimer, Priority, SendBudget
from bot.core.types import Reply
from tests.due_pushes import seed_due_pushes, zone_near_noon
from tests.fakes.telegram import ApiCall, FakeTelegramServer, updates
from tests.support import settings_for

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only

TOKEN = "6161:priority-test-token"
ANN = 5001


def to_chat(chat_id: int) -> Callable[[ApiCall], bool]:
    return lambda call: call.params.get("chat_id") == chat_id


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait for something the event loop will make true (a condition, not a duration)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def test_a_reply_takes_the_next_slot_before_pushes_that_waited_longer(core: Core) -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    async with FakeTelegramServer(token=TOKEN) as server:
        adapter = TelegramAdapter(core, TOKEN, api_url=server.api_url, budget=budget, poll_timeout=2)
        await adapter.start()
        try:

            def push(n: int) -> asyncio.Task[object]:
                return asyncio.ensure_future(
                    adapter.deliver(Target("telegram", "user", str(100 + n)), [Reply(plain("hi"))])
                )

            first = push(1)
            await server.wait_for("sendMessage")  # the budget was idle: straight through
            waiting = [push(n) for n in (2, 3, 4)]
            await until(lambda: budget.waiting(Priority.PUSH) == 3)
            server.push_update(updates.private_message("/help", user_id=ANN))
            await until(lambda: budget.waiting(Priority.REPLY) == 1)
            for sent in range(2, 6):
                await timer.advance(0.1)
                await server.wait_for("sendMessage", count=sent)
            await asyncio.gather(first, *waiting)
        finally:
            await adapter.stop()
    order = [call.params["chat_id"] for call in server.calls_of("sendMessage")]
    assert order == [101, ANN, 102, 103, 104]


async def test_pushes_and_replies_together_stay_under_the_flood_limit(database_url: str) -> None:
    """Through the bootstrap's wiring: one budget at DELIVERY_RATE_PER_SECOND for the adapter's replies and
    delivery's pushes (delivery doesn't pace Telegram a second time), against a fake that refuses more."""
    clock = ManualClock(datetime.now(UTC))
    async with FakeTelegramServer(token=TOKEN) as server:
        server.rate_limit(per_second=60)
        settings = settings_for(
            database_url, telegram_bot_token=TOKEN, telegram_api_url=server.api_url, delivery_rate_per_second=58
        )
        app = bootstrap(settings, clock=clock, ingest=False)
        await app.open()
        await seed_due_pushes(app, clock, zone_near_noon(clock.now()), 150, 800_000)
        (adapter,) = app.adapters
        assert isinstance(adapter, TelegramAdapter) and adapter.send_budget is not None
        budget = adapter.send_budget
        await adapter.start()
        try:
            await app.delivery.tick()
            fan_out = asyncio.create_task(app.delivery.drain())
            chatters = [7000 + n for n in range(12)]
            for chatter in chatters:
                await server.wait_for("sendMessage", count=len(server.calls_of("sendMessage")) + 5)
                server.push_update(updates.private_message("/help", user_id=chatter))
            assert await fan_out == 150
            for chatter in chatters:
                await server.wait_for("sendMessage", to_chat(chatter))
        finally:
            await adapter.stop()  # started here, not by app.start(): app.stop() doesn't know it
            await app.stop()
    assert server.rejected_429 == 0
    assert budget.granted[Priority.PUSH] == 150 and budget.granted[Priority.REPLY] >= len(chatters)
    assert len({c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok}) == 150 + len(chatters)
