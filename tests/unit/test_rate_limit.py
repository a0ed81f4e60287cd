"""The shared send budget on a hand-moved timer: even spacing, replies before pushes, 429 pauses, groups."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.adapters.telegram.ratelimit import BudgetRateLimiter, counts_against_limit, group_of
from bot.core.adapter import Target
from bot.core.ratelimit import ManualTimer, Priority, SendBudget, settle
from bot.delivery.pacing import Limits, Pacer, self_paced


def start(
    budget: SendBudget, log: list[str], name: str, priority: Priority, group: int | None = None
) -> asyncio.Task[None]:
    async def run() -> None:
        await budget.acquire(priority, group)
        log.append(name)

    return asyncio.ensure_future(run())


async def test_sends_are_spaced_evenly_at_the_rate() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    log: list[str] = []
    tasks = [start(budget, log, f"p{n}", Priority.PUSH) for n in range(3)]
    await settle()
    assert log == ["p0"]
    await timer.advance(0.099)
    assert log == ["p0"]
    await timer.advance(0.001)
    assert log == ["p0", "p1"]
    await timer.advance(0.1)
    assert log == ["p0", "p1", "p2"]
    await asyncio.gather(*tasks)


async def test_a_rate_faster_than_the_loop_sends_a_few_milliseconds_worth_at_once() -> None:
    """At 8,192/s a slot is 0.12 ms, shorter than a turn of the loop: 5 ms worth (40) go at once, then
    the steady rate again, so a second never carries more than the rate plus that one burst. (A rate
    whose slot is a power of two keeps the timer's sums exact.)"""
    timer = ManualTimer()
    slot = 1 / 8192
    budget = SendBudget(8192, timer=timer)
    log: list[str] = []
    tasks = [start(budget, log, f"r{n}", Priority.REPLY) for n in range(70)]
    await settle()
    assert len(log) == 40
    await timer.advance(10 * slot)  # ten more slots have come round
    assert len(log) == 50
    await timer.advance(20 * slot)
    assert len(log) == 70
    await asyncio.gather(*tasks)
    await timer.advance(1.0)  # idle: the allowance is back, but never more than one burst
    more = [start(budget, log, f"s{n}", Priority.PUSH) for n in range(50)]
    await settle()
    assert len(log) == 70 + 40
    await timer.advance(10 * slot)
    assert len(log) == 70 + 50
    await asyncio.gather(*more)


async def test_telegrams_rate_has_no_burst() -> None:
    assert SendBudget(29).slack == 0 and SendBudget(50).slack == 0


async def test_a_waiting_reply_takes_the_next_slot_before_waiting_pushes() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    log: list[str] = []
    tasks = [start(budget, log, f"push{n}", Priority.PUSH) for n in range(4)]
    await settle()
    tasks.append(start(budget, log, "reply", Priority.REPLY))  # arrives after the pushes queued
    await settle()
    await timer.advance(0.1)
    assert log == ["push0", "reply"]
    await timer.advance(0.3)
    assert log == ["push0", "reply", "push1", "push2", "push3"]
    assert budget.granted == {Priority.REPLY: 1, Priority.PUSH: 4}
    await asyncio.gather(*tasks)


async def test_pushes_use_the_whole_rate_when_nobody_chats() -> None:
    timer = ManualTimer()
    budget = SendBudget(30, timer=timer)
    sent = 0

    async def fan_out() -> None:
        nonlocal sent
        while True:
            await budget.acquire(Priority.PUSH)
            sent += 1

    task = asyncio.ensure_future(fan_out())
    for _ in range(300):  # ten seconds in steps of a thirtieth
        await timer.advance(1 / 30)
    task.cancel()
    assert 0.9 * 300 <= sent <= 301


async def test_a_429_pauses_the_budget_for_replies_and_pushes_alike() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    await budget.acquire(Priority.PUSH)
    budget.pause(2.0)
    log: list[str] = []
    tasks = [start(budget, log, "push", Priority.PUSH), start(budget, log, "reply", Priority.REPLY)]
    await timer.advance(1.9)
    assert log == []
    await timer.advance(0.1)
    assert log == ["reply"]
    await timer.advance(0.1)
    assert log == ["reply", "push"]
    assert budget.pauses == 1
    await asyncio.gather(*tasks)


async def test_a_pause_that_arrives_while_waiting_still_holds() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    await budget.acquire()
    log: list[str] = []
    task = start(budget, log, "push", Priority.PUSH)
    await settle()
    budget.pause(1.0)  # the dispatcher already sleeps until 0.1
    await timer.advance(0.5)
    assert log == []
    await timer.advance(0.5)
    assert log == ["push"]
    await task


async def test_a_cancelled_waiter_gives_its_slot_to_the_next() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    await budget.acquire()
    log: list[str] = []
    first = start(budget, log, "gone", Priority.REPLY)
    second = start(budget, log, "next", Priority.PUSH)
    await settle()
    first.cancel()
    await timer.advance(0.1)
    assert log == ["next"]
    await second


async def test_a_group_gets_its_per_minute_limit_and_other_chats_go_on() -> None:
    timer = ManualTimer()
    budget = SendBudget(100, per_group_per_minute=3, timer=timer)
    log: list[str] = []
    for n in range(4):
        start(budget, log, f"g{n}", Priority.PUSH, group=-100)
        await timer.advance(0.01)
    start(budget, log, "private", Priority.PUSH)
    await timer.advance(0.01)
    assert log == ["g0", "g1", "g2", "private"]
    await timer.advance(59.0)
    assert "g3" not in log
    await timer.advance(1.0)
    assert log[-1] == "g3"


async def test_the_pacer_leaves_self_paced_platforms_alone() -> None:
    timer = ManualTimer()

    class Paced:
        platform = "telegram"
        send_budget = SendBudget(1, timer=timer)

    pacer = Pacer({"telegram": Limits(1), "discord": Limits(1)}, skip=self_paced([Paced()]), timer=timer)
    for _ in range(5):  # would take 4 s if paced
        await asyncio.wait_for(pacer(Target("telegram", "user", "1")), 1)
    await pacer(Target("discord", "user", "1"))
    waiting = asyncio.ensure_future(pacer(Target("discord", "user", "2")))
    await settle()
    assert not waiting.done()
    await timer.advance(1.0)
    assert waiting.done()


def test_what_telegram_counts_and_which_chats_are_groups() -> None:
    assert counts_against_limit("sendMessage") and counts_against_limit("editMessageText")
    assert not counts_against_limit("answerCallbackQuery") and not counts_against_limit("getUpdates")
    assert not counts_against_limit("sendChatAction")
    assert group_of(-1001) == -1001 and group_of("-5") == -5 and group_of("@channel") == "@channel"
    assert group_of(42) is None and group_of("42") is None and group_of(None) is None


class Calls:
    """A Bot API call that fails with the given errors first, then answers True."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.count = 0

    def __call__(self) -> Coroutine[Any, Any, bool]:
        async def call() -> bool:
            self.count += 1
            if self.errors:
                raise self.errors.pop(0)
            return True

        return call()


async def test_a_429_pauses_everyone_and_the_call_is_tried_again() -> None:
    timer = ManualTimer()
    budget = SendBudget(10, timer=timer)
    limiter = BudgetRateLimiter(budget)
    call = Calls(RetryAfter(3))
    request = asyncio.ensure_future(limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None))
    await settle()
    assert call.count == 1 and budget.paused_until == 3.0
    others: list[str] = []
    reply = start(budget, others, "reply", Priority.REPLY)
    await timer.advance(2.9)
    assert not request.done() and others == []
    await timer.advance(0.2)
    assert await request is True and call.count == 2
    await reply


async def test_transient_failures_are_tried_again_a_few_times_then_raised() -> None:
    budget = SendBudget(1000)
    limiter = BudgetRateLimiter(budget, max_transient_retries=2)
    recovered = Calls(NetworkError("Internal Server Error (500)"), TimedOut())
    assert await limiter.process_request(recovered, (), {}, "sendMessage", {"chat_id": 1}, Priority.PUSH) is True
    assert budget.granted[Priority.PUSH] == 3  # every try took its slot
    stuck = Calls(*(NetworkError("Bad Gateway") for _ in range(5)))
    with pytest.raises(NetworkError):
        await limiter.process_request(stuck, (), {}, "sendMessage", {"chat_id": 1}, Priority.PUSH)
    assert stuck.count == 3
    refused = Calls(BadRequest("Bad Request: message is too long"))
    with pytest.raises(BadRequest):  # a refusal, not a hiccup: asked once
        await limiter.process_request(refused, (), {}, "sendMessage", {"chat_id": 1}, Priority.PUSH)
    assert refused.count == 1
    uncounted = Calls(NetworkError("down"))
    with pytest.raises(NetworkError):  # not a message: no budget, no retry (PTB's callers handle it)
        await limiter.process_request(uncounted, (), {}, "answerCallbackQuery", {}, None)
    assert uncounted.count == 1
