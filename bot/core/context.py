"""What a handler sees: the incoming action, who sent it, where, and the services it may use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from bot.core.clock import Clock, local_today
from bot.core.metrics import NO_METRICS, Metrics
from bot.core.ports import NO_SCHEDULES, Port, Ports, Schedules, Store
from bot.core.registry import Registry
from bot.core.types import Chat, Incoming, Lang, SubjectRef, User
from bot.i18n import Translator, translator

T = TypeVar("T")


@asynccontextmanager
async def no_unit_of_work() -> AsyncIterator[None]:
    yield


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators, built complete once by the bootstrap (bot/app.py) and never changed.

    `store` and `schedules` are the ports every feature shares; a feature's own collaborators (its
    repository, say) are bound in `ports` under the feature's typed `Port` key.
    """

    store: Store
    clock: Clock
    registry: Registry
    schedules: Schedules = NO_SCHEDULES
    ports: Ports = field(default_factory=Ports)
    default_timezone: str = "UTC"
    metrics: Metrics = NO_METRICS

    def port(self, key: Port[T]) -> T:
        return self.ports[key]

    def unit_of_work(self) -> AbstractAsyncContextManager[None]:
        """What one update runs inside: the store's unit of work when it has one (SqlStore has; test doubles
        needn't). An attribute lookup, not a runtime-checkable Protocol: that isinstance costs ~10 µs an update."""
        opener: Callable[[], AbstractAsyncContextManager[None]] | None = getattr(self.store, "unit_of_work", None)
        return opener() if opener is not None else no_unit_of_work()


@dataclass(slots=True)
class Context:
    """One command's view of the world; `user` and `chat` are refreshed when the command saves them."""

    services: Services
    incoming: Incoming
    user: User
    chat: Chat | None
    args: dict[str, Any] = field(default_factory=dict)
    command: str | None = None  # the command (and subcommand) being run, for its usage line

    @property
    def in_group(self) -> bool:
        return self.chat is not None

    @property
    def lang(self) -> Lang:
        """Groups speak their own language; private chats the user's."""
        return self.chat.lang if self.chat is not None else self.user.lang

    @property
    def timezone(self) -> str:
        return self.chat.timezone if self.chat is not None else self.user.timezone

    @property
    def reading_day(self) -> int:
        return self.chat.reading_day if self.chat is not None else self.user.reading_day

    @property
    def subject(self) -> SubjectRef:
        """Whose plan a command acts on: the group's cohort in a group, the user's own elsewhere."""
        return SubjectRef("chat", self.chat.id) if self.chat is not None else SubjectRef("user", self.user.id)

    @property
    def _(self) -> Translator:
        return translator(self.lang)

    @property
    def store(self) -> Store:
        return self.services.store

    def port(self, key: Port[T]) -> T:
        return self.services.ports[key]

    async def save(self, **fields: Any) -> None:
        """Write preferences to the subject of the chat (the group in a group, else the user) and see them."""
        if self.chat is not None:
            self.chat = await self.store.update_chat(self.chat.id, **fields)
        else:
            self.user = await self.store.update_user(self.user.id, **fields)

    async def schedules_changed(self, subject: SubjectRef | None = None) -> None:
        """Tell the scheduler that reminder-relevant settings changed (a no-op where nothing pushes)."""
        await self.services.schedules.refresh(subject or self.subject)

    def today(self) -> date:
        """Today in the chat's own timezone: day boundaries are never the server's."""
        return local_today(self.services.clock, self.timezone)
