"""APScheduler 3 on the bot's event loop: fixed-id jobs that only *trigger* work.

All state (what is due, what was sent) lives in our own tables, so the jobs use the in-memory job store:
nothing is pickled, a restart rebuilds the same jobs, and a missed tick costs nothing because the next
one reads the same tables. Each job coalesces and never overlaps itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.service import DeliveryService

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}


DRAIN_EVERY = 5  # seconds

Job = tuple[str, Callable[[], Awaitable[object]], IntervalTrigger | CronTrigger]


class Scheduler:
    """Runs `tick` (record what is due) every minute and `drain` (send) right after and every `DRAIN_EVERY`
    seconds: a worker whose tick found another worker recording the minute's pushes joins the sending
    that soon (an idle drain is one claim query)."""

    def __init__(
        self,
        delivery: DeliveryService,
        extra_jobs: list[Job] | None = None,
    ) -> None:
        self.delivery = delivery
        self.extra_jobs = extra_jobs or []
        self.scheduler: AsyncIOScheduler | None = None

    async def run_once(self) -> None:
        """One full pass; also what start-up runs, so pushes missed while down go out at once."""
        try:
            await self.delivery.tick()
            await self.delivery.drain()
        except Exception:
            log.exception("scheduled delivery pass failed; the next pass retries")

    async def _drain(self) -> None:
        try:
            await self.delivery.drain()
        except asyncio.CancelledError:
            # Shutdown cancels a drain mid-batch: its claimed pushes go back to pending at the next start (or
            # when their lease runs out), so this is not an error; the job is a leaf task, nothing awaits it.
            log.info("outbox drain stopped by shutdown; pushes it had claimed are sent after the restart")
        except Exception:
            log.exception("draining the outbox failed; the next pass retries")

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
        self.scheduler.add_job(self.run_once, CronTrigger(second=0), id="deliveries.tick", replace_existing=True)
        drains = IntervalTrigger(seconds=DRAIN_EVERY)
        self.scheduler.add_job(self._drain, drains, id="deliveries.drain", replace_existing=True)
        for job_id, func, trigger in self.extra_jobs:  # e.g. the arXiv ingest: also once right away
            self.scheduler.add_job(func, trigger, id=job_id, replace_existing=True, next_run_time=datetime.now(UTC))
        self.scheduler.start()
        await self.run_once()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    def job_ids(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs()] if self.scheduler else []
