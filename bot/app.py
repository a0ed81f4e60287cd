"""The composition root: settings -> database -> core -> adapters -> scheduler. Only this file wires."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.calendar_export import to_ics
from bot.core.accountability import accountability_schedules
from bot.core.clock import Clock, SystemClock
from bot.core.commands import build_registry
from bot.core.context import Services
from bot.core.delivery import Deliverer
from bot.core.delivery_service import DeliveryService
from bot.core.dispatcher import Core
from bot.core.papers import reading_post
from bot.core.pushes import PushRenderer
from bot.pacing import Pacer, shared_limits
from bot.render_stats import render_stats
from bot.settings import Settings
from storage.accountability import SqlAccountability
from storage.db import create_engine, default_database_url, is_sqlite
from storage.migrate import upgrade
from storage.outbox import SqlOutbox
from storage.papers import SqlPaperStore
from storage.repository import SqlStore

log = logging.getLogger(__name__)


class Component(Protocol):
    """Anything with an async lifecycle: adapters, the scheduler."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    engine: AsyncEngine | None = None
    store: SqlStore | None = None
    core: Core | None = None
    components: list[Component] = field(default_factory=list)
    delivery: DeliveryService | None = None

    @property
    def database_url(self) -> str:
        return self.settings.database_url or default_database_url()

    async def open(self) -> Core:
        """Database up to date, core ready; adapters come after."""
        self.engine = create_engine(self.database_url)
        await upgrade(self.engine)
        self.store = SqlStore(self.engine)
        papers = SqlPaperStore(self.engine)
        services = Services(
            store=self.store,
            clock=self.clock,
            registry=build_registry(),
            default_timezone=self.settings.default_timezone,
            papers=papers,
            reading_post=reading_post(papers, self.store, self.clock),
            outbox=SqlOutbox(self.engine),
            accountability=SqlAccountability(self.engine),
            stats_renderer=render_stats,
            calendar_export=to_ics,
        )
        self.core = Core(services)
        return self.core

    async def enable_delivery(self, deliverers: dict[str, Deliverer], worker_id: str = "main") -> DeliveryService:
        """Scheduled pushes through the given adapters; commands that change reminders reschedule."""
        assert self.core is not None and self.engine is not None, "App.open() first"
        services = self.core.services
        outbox = services.outbox
        assert isinstance(outbox, SqlOutbox), "App.open() wires the SQL outbox"
        if is_sqlite(self.database_url):
            released = await outbox.release_claims()
            if released:
                log.warning("re-queued %d push(es) left in flight by a previous run", released)
        # Several workers split each platform's rate; a claim is sent well within its lease.
        limits = shared_limits(self.settings.delivery_workers, self.settings.delivery_rate_per_second)
        lease = self.settings.delivery_lease_seconds
        rates = [limits[p].per_second for p in deliverers if p in limits]  # unpaced platforms: no bound
        claim_size = max(1, min(50, int(min(rates) * lease / 4))) if rates else 50
        delivery = DeliveryService(
            services,
            outbox,
            PushRenderer(services),
            deliverers,
            worker_id=worker_id,
            pace=Pacer(limits),
            claim_size=claim_size,
            lease=timedelta(seconds=lease),
            extra_chat_schedules=accountability_schedules,
        )
        services.reschedule = delivery.refresh
        self.delivery = delivery
        return delivery

    async def start(self, components: list[Component]) -> None:
        for component in components:
            await component.start()
            self.components.append(component)

    async def close(self) -> None:
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)
        self.components.clear()
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None
