"""Scheduled delivery: record what is due in the outbox, then drain it through the adapters.

Policies in one place:
- A push is recorded (unique per recipient, kind and local date) before it is sent.
- Pushes that fell due while the bot was down are sent on start if it is still the same local day for the
  recipient; earlier days are recorded as skipped (at most MAX_CATCH_UP_DAYS of them).
- Rate limits wait and retry; blocked/unknown recipients are deactivated; a migrated group follows its new
  id and is resent at once; other failures retry with backoff and end as `failed` with the platform's reason.
- A push that takes several messages and fails partway is retried from the first message that didn't go
  out (the row counts delivered messages), so nobody gets the same part twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.adapter import Adapter, DeliveryResult, RecipientEvents, Target
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.delivery.kinds import Push, Rendered, RenderFailed, Skip
from bot.delivery.outbox import DueBatch, DueRow, OutboxItem, OutboxRepo
from bot.delivery.render import PushRenderer
from bot.delivery.schedule import MAX_CATCH_UP_DAYS, DueSchedule, Occurrence, next_occurrence, occurrences

log = logging.getLogger(__name__)

Pace = Callable[[Target], Awaitable[None]]


async def _no_pace(_target: Target) -> None:
    return None


class DeliveryService:
    def __init__(
        self,
        outbox: OutboxRepo,
        renderer: PushRenderer,
        adapters: Sequence[Adapter],
        recipients: RecipientEvents,
        clock: Clock,
        metrics: Metrics,
        *,
        worker_id: str = "main",
        pace: Pace = _no_pace,
        batch_size: int = 500,
        claim_size: int = 50,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
    ) -> None:
        self.outbox = outbox
        self.renderer = renderer
        self.adapters = {adapter.platform: adapter for adapter in adapters}
        self.recipients = recipients
        self.clock = clock
        self.metrics = metrics
        self.worker_id = worker_id
        self.pace = pace
        self.batch_size = batch_size
        self.claim_size = claim_size  # small claims: a worker never holds more than it sends within its lease
        self.lease = lease
        self.max_attempts = max_attempts
        self._draining = asyncio.Lock()

    async def tick(self) -> int:
        """Record every push whose time has come; returns how many outbox rows were written.

        Safe in every worker: each batch of due schedules is claimed, recorded and advanced in one
        transaction (on PostgreSQL with SKIP LOCKED), and outbox rows are unique per recipient and day."""
        now = self.clock.now()
        written = 0
        while True:
            taken, inserted = await self.outbox.claim_due(now, self.batch_size, lambda due: self._plan(due, now))
            written += inserted
            if taken < self.batch_size:
                return written

    def _plan(self, due: list[DueSchedule], now: datetime) -> DueBatch:
        """The outbox rows and schedule advances for a batch of due schedules (pure: no I/O)."""
        batch = DueBatch()
        for schedule in due:
            missed = [Occurrence(schedule.local_date, schedule.due_at)]
            missed += occurrences(schedule.recurrence, schedule.due_at, now)
            today = now.astimezone(ZoneInfo(schedule.recurrence.timezone)).date()
            for occurrence in missed[-MAX_CATCH_UP_DAYS:]:
                on_time = occurrence.local_date == today
                batch.rows.append(
                    DueRow(
                        schedule.platform,
                        schedule.subject,
                        schedule.kind,
                        occurrence.local_date,
                        occurrence.due_at,
                        "pending" if on_time else "skipped",
                        None if on_time else "missed: the bot was not running on that local day",
                    )
                )
            batch.advances.append((schedule.id, next_occurrence(schedule.recurrence, now)))
        return batch

    # sending -------------------------------------------------------------------------------------------
    async def drain(self) -> int:
        """Send everything claimable now, one message at a time; returns how many were sent.

        Sending one at a time (per worker) means a crash leaves at most one message in flight whose
        fate is unknown; pacing, not parallelism, is what keeps a platform's rate limit.
        """
        if self._draining.locked():  # one drain per worker: the other pass finds the rows already claimed
            return 0
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> int:
        sent = 0
        while self.adapters:
            claimed_at = self.clock.now()
            platforms = list(self.adapters)
            items = await self.outbox.claim(claimed_at, self.worker_id, platforms, self.claim_size, self.lease)
            if not items:
                return sent
            try:
                pushes = await self.renderer.render_batch(items)
            except Exception as error:
                log.exception("rendering a batch of %d pushes failed", len(items))
                failed: Rendered = RenderFailed(f"internal error while rendering: {type(error).__name__}")
                pushes = [failed] * len(items)
            held = {item.id for item in items}
            for index, (item, push) in enumerate(zip(items, pushes, strict=True)):
                now = self.clock.now()
                if now - claimed_at >= self.lease / 2:
                    # Slow sends (a long flood wait): keep the rest of the batch, and drop what another
                    # worker took over after our lease ran out, so neither of us sends it twice.
                    held = await self.outbox.renew([i.id for i in items[index:]], self.worker_id, now + self.lease)
                    claimed_at = now
                if item.id in held:
                    sent += await self.send(item, push)
        return sent

    async def send(self, item: OutboxItem, push: Rendered) -> bool:
        """Deliver one claimed row and record the result; never raises."""
        now = self.clock.now()
        try:
            match push:
                case Skip(reason):
                    await self.outbox.finish(item.id, "skipped", now, reason)
                    self._count(item, "skipped")
                    return False
                case RenderFailed(reason):
                    await self._fail_or_retry(item, reason, None)
                    return False
                case Push():
                    result = await self._deliver(push, skip=item.messages_sent)
                    return await self._record(item, push, result)
        except Exception as error:  # one bad row must not stop the fan-out
            log.exception("delivery %s failed", item.id)
            await self._fail_or_retry(item, f"internal error: {type(error).__name__}", None)
            return False

    async def _deliver(self, push: Push, skip: int = 0) -> DeliveryResult:
        adapter = self.adapters[push.target.platform]
        await self.pace(push.target)
        return await adapter.deliver(push.target, push.replies, skip=skip)

    async def _record(self, item: OutboxItem, push: Push, result: DeliveryResult) -> bool:
        now = self.clock.now()
        if result.outcome == "migrated":
            new_target = await self.recipients.apply(push.target, result)
            if new_target is not None:
                result = await self._deliver(Push(new_target, push.replies))
        if result.outcome == "sent":
            await self.outbox.finish(item.id, "sent", now)
            self._count(item, "sent")
            return True
        if result.outcome == "gone":
            await self.recipients.apply(push.target, result)
            await self.outbox.finish(item.id, "failed", now, f"recipient gone: {result.reason}")
            self._count(item, "failed")
            return False
        if result.outcome == "retry":
            delay = timedelta(seconds=max(result.retry_after or 1.0, 0.0))
            await self.outbox.retry(
                item.id, now + delay, f"rate limited: {result.reason}", count_attempt=False, delivered=result.delivered
            )
            self._count(item, "retry")
            return False
        await self._fail_or_retry(item, result.reason or result.outcome, None, result.delivered)
        return False

    async def _fail_or_retry(self, item: OutboxItem, reason: str, delay: timedelta | None, delivered: int = 0) -> None:
        now = self.clock.now()
        if item.attempts + 1 >= self.max_attempts:
            await self.outbox.finish(item.id, "failed", now, reason)
            self._count(item, "failed")
            return
        backoff = delay or timedelta(seconds=30 * 2**item.attempts)
        await self.outbox.retry(item.id, now + backoff, reason, delivered=delivered)
        self._count(item, "retry")

    def _count(self, item: OutboxItem, status: str) -> None:
        self.metrics.delivery(item.platform, status)
