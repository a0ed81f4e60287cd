"""One send budget per platform, shared by interactive replies and scheduled pushes, replies first.

A platform counts every message a bot sends against one limit (Telegram: about 30 a second, 20 a minute
into one group). Pacing pushes and replies separately lets the two together overshoot it, and every
429 then pauses both. Here both draw from one budget: sends are spaced evenly at the platform's rate,
a waiting reply always takes the next slot before a waiting push, and a 429's `retry_after` pauses
the whole budget, for everyone. Time comes from an injectable `Timer`, so tests move it by hand.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Hashable
from enum import IntEnum
from typing import Protocol


class Priority(IntEnum):
    """Lower goes first: a person waiting on an answer beats a scheduled push."""

    REPLY = 0
    PUSH = 1


class Timer(Protocol):
    """Monotonic seconds and a way to wait for them."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopTimer:
    """The event loop's monotonic clock."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualTimer:
    """A timer tests move by hand: `sleep` returns only once `advance` has moved past its deadline."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own deadline, in order."""
        end = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= end:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
            await settle()
        self._now = end
        await settle()


async def settle(rounds: int = 20) -> None:
    """Let every task that can run, run (tests only: a few passes of the event loop)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class SlidingWindow:
    """At most `limit` grants in any `period` seconds (a group's 20 messages a minute)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = max(1, limit)
        self.period = period
        self.granted: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.granted and now - self.granted[0] >= self.period:
            self.granted.popleft()
        return 0.0 if len(self.granted) < self.limit else self.granted[0] + self.period - now


BURST_SECONDS = 0.005  # at 29/s this is no burst at all; at 100,000/s, 500 sends


class SendBudget:
    """A platform's sends per second for this process, spaced evenly, replies before pushes.

    Spacing (a bucket of one) instead of bursts, because platforms count in sliding windows and a full
    bucket's burst plus the steady rate would overshoot one. Only a rate so high that a slot is shorter
    than a turn of the event loop (a self-hosted Bot API server, hundreds a second) may send up to
    `BURST_SECONDS` worth at once: handing out one slot per turn would otherwise cap it at the loop's pace.
    `per_group_per_minute` also keeps each group chat under its own limit; a send waits for its group
    before it queues for the platform.
    """

    def __init__(
        self,
        per_second: float,
        *,
        per_group_per_minute: float | None = None,
        timer: Timer | None = None,
        max_groups: int = 10_000,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a send budget needs a positive rate")
        self.per_second = per_second
        self.interval = 1.0 / per_second
        self.slack = (max(1, int(per_second * BURST_SECONDS)) - 1) * self.interval
        self.per_group_per_minute = per_group_per_minute
        self.timer: Timer = timer or LoopTimer()
        self.max_groups = max_groups
        self._next_free = float("-inf")
        self._paused_until = float("-inf")
        self._waiters: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._groups: OrderedDict[Hashable, SlidingWindow] = OrderedDict()
        self._dispatcher: asyncio.Task[None] | None = None
        self.granted = {p: 0 for p in Priority}
        self.pauses = 0

    def waiting(self, priority: Priority | None = None) -> int:
        queues = self._waiters.values() if priority is None else [self._waiters[priority]]
        return sum(1 for queue in queues for future in queue if not future.done())

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def pause(self, seconds: float) -> None:
        """The platform said "too many requests, retry after": nobody sends until then."""
        until = self.timer.now() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    async def acquire(self, priority: Priority = Priority.REPLY, group: Hashable | None = None) -> None:
        """Wait for this send's slot: its group's window first (if any), then the platform's."""
        if group is not None and self.per_group_per_minute:
            await self._group_slot(group)
        now = self.timer.now()
        if now >= self._open_at() and self.waiting() == 0:
            self._grant(priority, now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[priority].append(future)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="send-budget")
        await future

    def _start_at(self) -> float:
        return max(self._next_free, self._paused_until)

    def _open_at(self) -> float:
        """When the next send may go: its slot, less the burst allowance (never during a pause)."""
        return max(self._next_free - self.slack, self._paused_until)

    def _grant(self, priority: Priority, now: float) -> None:
        # Woken a little late (the loop oversleeps by a millisecond or so)? Space the next slot from when
        # this one was due, or the rate falls a few percent short. Only for a quarter interval: that keeps
        # any 1 s window at the platform's count (29/s never becomes 31), and idle time earns no burst.
        due = self._start_at()
        if self.slack:
            base = max(due, now)  # the slot after the latest one handed out, or now when idle
        else:
            base = due if 0 <= now - due <= self.interval / 4 else now
        self._next_free = base + self.interval
        self.granted[priority] += 1

    def _next_waiter(self) -> tuple[Priority, asyncio.Future[None]] | None:
        for priority in Priority:
            queue = self._waiters[priority]
            while queue and queue[0].done():  # cancelled while waiting
                queue.popleft()
            if queue:
                return priority, queue.popleft()
        return None

    async def _dispatch(self) -> None:
        """Hand out slots one at a time, best priority first, until nobody waits."""
        while self.waiting():
            now = self.timer.now()
            start = self._open_at()
            if now < start:  # a pause arriving meanwhile moves the start: look again after
                await self.timer.sleep(start - now)
                continue
            chosen = self._next_waiter()
            if chosen is None:
                break
            priority, future = chosen
            self._grant(priority, now)
            future.set_result(None)

    async def _group_slot(self, group: Hashable) -> None:
        assert self.per_group_per_minute is not None
        window = self._groups.get(group)
        if window is None:
            window = self._groups[group] = SlidingWindow(int(self.per_group_per_minute), 60.0)
            if len(self._groups) > self.max_groups:  # forget the least recently used group
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(group)
        while (wait := window.wait(self.timer.now())) > 0:
            await self.timer.sleep(wait)
        window.granted.append(self.timer.now())
