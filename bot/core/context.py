"""What a handler sees: the incoming action, who sent it, where, and the services it may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.clock import Clock, local_today
from bot.core.metrics import NO_METRICS, Metrics
from bot.core.outbox import OutboxRepo
from bot.core.ports import AccountabilityRepo, PaperRepo, Store
from bot.core.registry import Registry
from bot.core.types import Chat, Incoming, Lang, SubjectRef, User
from bot.i18n import Translator, translator
from bot.plan import Plan, load_plan


@dataclass(slots=True)
class Services:
    """Long-lived collaborators, wired once in the composition root (bot/app.py)."""

    store: Store
    clock: Clock
    registry: Registry
    default_timezone: str = "UTC"
    plan_loader: Callable[[Lang], Plan] = load_plan
    # Optional collaborators: a feature without one answers that it isn't set up instead of failing.
    papers: PaperRepo | None = None
    outbox: OutboxRepo | None = None
    accountability: AccountabilityRepo | None = None
    reading_post: Callable[..., Awaitable[Any]] | None = None  # bot.core.papers.reading_post
    stats_renderer: Callable[..., bytes] | None = None  # bot/render_stats.py (Pillow stays out of the core)
    calendar_export: Callable[..., bytes] | None = None  # bot/calendar_export.py (icalendar likewise)
    metrics: Metrics = NO_METRICS
    reschedule: Callable[[SubjectRef], Awaitable[None]] | None = None


@dataclass(slots=True)
class Context:
    services: Services
    incoming: Incoming
    user: User
    chat: Chat | None
    args: dict[str, Any] = field(default_factory=dict)

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
    def subject(self) -> SubjectRef:
        """Whose plan a command acts on: the group's cohort in a group, the user's own elsewhere."""
        return SubjectRef("chat", self.chat.id) if self.chat is not None else SubjectRef("user", self.user.id)

    @property
    def _(self) -> Translator:
        return translator(self.lang)

    @property
    def plan(self) -> Plan:
        return self.services.plan_loader(self.lang)

    @property
    def store(self) -> Store:
        return self.services.store

    async def schedules_changed(self, subject: SubjectRef | None = None) -> None:
        """Tell the scheduler that reminder-relevant settings changed (no-op without a scheduler)."""
        if self.services.reschedule is not None:
            await self.services.reschedule(subject or self.subject)

    def today(self) -> date:
        """Today in the chat's own timezone: day boundaries are never the server's."""
        return local_today(self.services.clock, self.timezone)
