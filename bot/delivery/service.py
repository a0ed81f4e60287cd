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
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.adapter import Adapter, DeliveryResult, RecipientEvents, Target
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.delivery.kinds import Push, Rendered, RenderFailed, Skip
from bot.delivery.outbox import DuePlan, OutboxItem, OutboxRepo, PlannedRow
from bot.delivery.render import PushRenderer
from bot.delivery.schedule import DueCalendar, Occurrence, Recurrence

log = logging.getLogger(__name__)

MISSED = "missed: the bot was not running on that local day"

Pace = Callable[[Target], Awaitable[None]]


async def _no_pace(_target: Target) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Batch:
    """Rows claimed together, with what each says (rendered from the recipients' state at claim time)."""

    claimed_at: datetime
    items: list[OutboxItem]
    pushes: list[Rendered]


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
        batch_size: int = 2000,  # schedules per claim transaction: few round trips, a short write lock
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
        calendar = DueCalendar(self.clock.now())  # one instant for the whole tick, its arithmetic shared
        written = 0
        while True:
            taken, inserted = await self.outbox.claim_due(
                calendar.now, self.batch_size, lambda recurrence, due: self._plan(calendar, recurrence, due)
            )
            written += inserted
            if taken < self.batch_size:
                return written

    @staticmethod
    def _plan(calendar: DueCalendar, recurrence: Recurrence, due: Occurrence) -> DuePlan:
        """The outbox rows and the next occurrence for every schedule with this recurrence and due
        occurrence (pure: no I/O): the ones on the subject's local today are sent, earlier ones skipped."""
        outcome = calendar.outcome(recurrence, due)
        rows = tuple(
            PlannedRow(o.local_date, o.due_at) if o.local_date == outcome.today
            else PlannedRow(o.local_date, o.due_at, "skipped", MISSED)
            for o in outcome.record
        )  # fmt: skip
        return DuePlan(rows, outcome.advance)

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
        """Claim and render the next batch while this one is sent: the reads and the rendering then wait on
        nothing the sends wait on, and no gap opens in the platform's budget between batches. The sends
        themselves stay one at a time, each recorded before the next starts."""
        if not self.adapters:
            return 0
        sent = 0
        batch = await self._next_batch()
        while batch is not None:
            upcoming = asyncio.create_task(self._next_batch(), name="delivery-next-batch")
            try:
                sent += await self._send_batch(batch)
            except BaseException:
                upcoming.cancel()
                with contextlib.suppress(BaseException):
                    await upcoming
                raise
            # Nothing was claimable when we looked ahead: rows may have fallen due since (a retry after a
            # flood wait), so look once more before calling the outbox drained.
            batch = await upcoming or await self._next_batch()
        return sent

    async def _next_batch(self) -> _Batch | None:
        """The next claim with its pushes rendered (a batch's reads are a few statements, not several a push)."""
        claimed_at = self.clock.now()
        items = await self.outbox.claim(claimed_at, self.worker_id, list(self.adapters), self.claim_size, self.lease)
        if not items:
            return None
        try:
            pushes = await self.renderer.render_batch(items)
        except Exception as error:
            log.exception("rendering a batch of %d pushes failed", len(items))
            failed: Rendered = RenderFailed(f"internal error while rendering: {type(error).__name__}")
            pushes = [failed] * len(items)
        return _Batch(claimed_at, items, pushes)

    async def _send_batch(self, batch: _Batch) -> int:
        sent = 0
        claimed_at, items = batch.claimed_at, batch.items
        held = {item.id for item in items}
        for index, (item, push) in enumerate(zip(items, batch.pushes, strict=True)):
            now = self.clock.now()
            if now - claimed_at >= self.lease / 2:
                # Slow sends (a long flood wait, or a batch that waited behind the one before it): keep the
                # rest of the batch, and drop what another worker took over after our lease ran out, so
                # neither of us sends it twice.
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
