"""Push kinds: what a feature schedules, in one object each, and the registry the delivery package reads.

A kind says who wants it and when (`when`: a recipient's settings -> a local recurrence, or none) and
what it says (`render`: at send time, from the recipient's current state). The scheduler, the outbox and
the renderer know kinds only through `PushKinds`, so a feature adds a scheduled post without touching
this package: it lists the kind in its `Feature`, and the bootstrap registers the feature.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.core.adapter import Target
from bot.core.context import Services
from bot.core.registry import Registry
from bot.core.types import Chat, Enrolment, Lang, Reply, SubjectRef, User
from bot.delivery.outbox import OutboxItem
from bot.delivery.schedule import Recurrence
from bot.i18n import Translator, translator
from bot.plan.calendar import PlanDay
from bot.web.pages import Page

Audience = Literal["user", "chat"]
MAX_KIND_NAME = 16  # the outbox's `kind` column


@dataclass(frozen=True, slots=True)
class Subscriber:
    """What decides whether and when a subject wants a kind: its settings, and whether it is enrolled."""

    subject: SubjectRef
    user: User | None
    chat: Chat | None
    enrolled: bool

    @property
    def timezone(self) -> str:
        return self.chat.timezone if self.chat is not None else self.user.timezone if self.user else "UTC"

    @property
    def reading_day(self) -> int:
        return self.chat.reading_day if self.chat is not None else self.user.reading_day if self.user else 5


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a claimed push goes to, as they are at send time."""

    subject: SubjectRef
    target: Target
    lang: Lang
    timezone: str
    reading_day: int
    active: bool
    user: User | None = None
    chat: Chat | None = None


@dataclass(frozen=True, slots=True)
class PushRequest:
    """Everything a kind's `render` may use; `day` is the plan day when the kind follows the plan."""

    item: OutboxItem
    recipient: Recipient
    enrolment: Enrolment | None
    day: PlanDay | None
    today: date
    services: Services

    @property
    def _(self) -> Translator:
        return translator(self.recipient.lang)


@dataclass(frozen=True, slots=True)
class Push:
    """A rendered push: what to send, and where."""

    target: Target
    replies: tuple[Reply, ...]


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to send, for a reason recorded on the outbox row (paused, plan complete, nobody to nudge)."""

    reason: str


@dataclass(frozen=True, slots=True)
class RenderFailed:
    """Rendering raised: the row is retried with backoff and ends `failed`, never silently skipped."""

    reason: str


Rendered = Push | Skip | RenderFailed
When = Callable[[Subscriber], Recurrence | None]
Render = Callable[[PushRequest], Awaitable[Sequence[Reply] | Skip]]


@dataclass(frozen=True, slots=True)
class PushKind:
    name: str
    audience: Audience
    when: When
    render: Render
    # Sent only to an enrolled subject whose plan day is active or complete (not paused, not upcoming).
    follows_plan: bool = True


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature package plugged into the bot: its commands, the pushes it schedules, its web pages."""

    name: str
    register: Callable[[Registry], None]
    push_kinds: tuple[PushKind, ...] = ()
    pages: tuple[Page, ...] = ()


class PushKinds:
    """Every registered kind by name; fixed once built."""

    def __init__(self, kinds: Iterable[PushKind]) -> None:
        self._kinds: dict[str, PushKind] = {}
        for kind in kinds:
            if not re.fullmatch(rf"[a-z][a-z0-9_]{{0,{MAX_KIND_NAME - 1}}}", kind.name):
                raise ValueError(f"push kind names are short lowercase words: {kind.name!r}")
            if kind.name in self._kinds:
                raise ValueError(f"push kind {kind.name!r} registered twice")
            self._kinds[kind.name] = kind

    @classmethod
    def of(cls, features: Iterable[Feature]) -> PushKinds:
        return cls(kind for feature in features for kind in feature.push_kinds)

    def get(self, name: str) -> PushKind | None:
        return self._kinds.get(name)

    def for_audience(self, audience: Audience) -> tuple[PushKind, ...]:
        return tuple(kind for kind in self._kinds.values() if kind.audience == audience)

    def __iter__(self) -> Iterator[PushKind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)
