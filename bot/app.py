"""The composition root: settings -> database -> core -> adapters -> scheduler. Only this file wires."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.clock import Clock, SystemClock
from bot.core.commands import build_registry
from bot.core.context import Services
from bot.core.dispatcher import Core
from bot.settings import Settings
from storage.db import create_engine, default_database_url
from storage.migrate import upgrade
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

    @property
    def database_url(self) -> str:
        return self.settings.database_url or default_database_url()

    async def open(self) -> Core:
        """Database up to date, core ready; adapters come after."""
        self.engine = create_engine(self.database_url)
        await upgrade(self.engine)
        self.store = SqlStore(self.engine)
        services = Services(
            store=self.store,
            clock=self.clock,
            registry=build_registry(),
            default_timezone=self.settings.default_timezone,
        )
        self.core = Core(services)
        return self.core

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
