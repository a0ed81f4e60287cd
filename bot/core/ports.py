"""The ports every feature shares: people, chats, enrolments, key-value settings and schedules.

Each feature keeps its own ports beside it (bot/papers/ports.py, bot/accountability/ports.py); storage/
implements them all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from bot.core.types import Chat, ChatKind, Enrolment, Lang, SubjectRef, User


class UserRepo(Protocol):
    async def get_or_create_user(
        self, platform: str, external_id: str, display_name: str, lang: Lang, timezone: str
    ) -> tuple[User, bool]:
        """Return the user and whether it was created; keeps the display name current."""
        ...

    async def update_user(self, user_id: int, **fields: Any) -> User: ...

    async def get_user(self, user_id: int) -> User | None: ...

    async def find_user(self, platform: str, external_id: str) -> User | None: ...

    async def get_users(self, ids: Collection[int]) -> dict[int, User]: ...


class ChatRepo(Protocol):
    async def get_or_create_chat(
        self, platform: str, external_id: str, kind: ChatKind, title: str | None, lang: Lang, timezone: str
    ) -> Chat: ...

    async def update_chat(self, chat_id: int, **fields: Any) -> Chat: ...

    async def get_chat(self, chat_id: int) -> Chat | None: ...

    async def find_chat(self, platform: str, external_id: str) -> Chat | None: ...

    async def get_chats(self, ids: Collection[int]) -> dict[int, Chat]: ...

    async def migrate_chat(self, platform: str, old_external_id: str, new_external_id: str) -> None:
        """A platform moved the chat (Telegram group -> supergroup): keep its history under the new id."""
        ...


class EnrolmentRepo(Protocol):
    async def get_enrolment(self, subject: SubjectRef) -> Enrolment | None: ...

    async def get_enrolments(self, subjects: Collection[SubjectRef]) -> dict[SubjectRef, Enrolment]: ...

    async def enrol(self, subject: SubjectRef, start_date: date) -> Enrolment:
        """Create, or restart from `start_date` (clearing pauses and jumps) when it exists."""
        ...

    async def start_pause(self, enrolment_id: int, on: date) -> None: ...

    async def end_pause(self, enrolment_id: int, on: date) -> Enrolment:
        """End an open pause on `on`; returns the enrolment as it is now."""
        ...

    async def add_pause(self, enrolment_id: int, start: date, end: date) -> Enrolment:
        """A closed pause [start, end) in the past (a catch-up); returns the enrolment as it is now."""
        ...

    async def add_jump(self, enrolment_id: int, on: date, day_index: int) -> Enrolment:
        """Today becomes plan day `day_index` (ending an open pause), in one transaction."""
        ...


class Store(UserRepo, ChatRepo, EnrolmentRepo, Protocol):
    """Everything the command handlers read and write."""


class KeyValueStore(Protocol):
    """Small settings rows shared by every worker (Discord's command hash, feed validators, job leases)."""

    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str) -> None: ...

    async def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold the named lease until `now + ttl` unless another holder's still runs; True when held."""
        ...


class Schedules(Protocol):
    """When pushes fall due for a subject: commands that change reminder settings call `refresh`."""

    pushes: bool  # False: this runtime sends no pushes at all (the console), so /settings can say so

    async def refresh(self, subject: SubjectRef) -> None: ...

    async def next_due(self, subject: SubjectRef) -> tuple[str, datetime] | None:
        """The next scheduled push (kind name, UTC instant), if any."""
        ...


class NoSchedules:
    """A runtime that doesn't push (the console, one-off CLI commands) keeps no schedules."""

    pushes = False

    async def refresh(self, subject: SubjectRef) -> None:
        return None

    async def next_due(self, subject: SubjectRef) -> tuple[str, datetime] | None:
        return None


NO_SCHEDULES = NoSchedules()

T = TypeVar("T")


class Port(Generic[T]):
    """A typed key for one feature's collaborator in `Ports`: the feature names what it needs, the
    bootstrap binds an implementation, and the kernel never learns any feature's types."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name!r})"


class NotWired(LookupError):
    """A feature asked for a port the bootstrap didn't bind: a wiring bug, never user input."""


class Ports:
    """Feature collaborators bound once by the bootstrap; read-only afterwards."""

    __slots__ = ("_bound",)

    def __init__(self, bound: Mapping[Port[Any], object] | None = None) -> None:
        self._bound: Mapping[Port[Any], object] = dict(bound or {})

    def __getitem__(self, port: Port[T]) -> T:
        try:
            return cast(T, self._bound[port])
        except KeyError:
            raise NotWired(port.name) from None

    def __contains__(self, port: object) -> bool:
        return port in self._bound
