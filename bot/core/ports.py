"""Repository ports: what the core needs from storage, nothing about how it is stored."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

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


class ChatRepo(Protocol):
    async def get_or_create_chat(
        self, platform: str, external_id: str, kind: ChatKind, title: str | None, lang: Lang, timezone: str
    ) -> Chat: ...

    async def update_chat(self, chat_id: int, **fields: Any) -> Chat: ...

    async def get_chat(self, chat_id: int) -> Chat | None: ...

    async def find_chat(self, platform: str, external_id: str) -> Chat | None: ...

    async def migrate_chat(self, platform: str, old_external_id: str, new_external_id: str) -> None:
        """A platform moved the chat (Telegram group -> supergroup): keep its history under the new id."""
        ...


class EnrolmentRepo(Protocol):
    async def get_enrolment(self, subject: SubjectRef) -> Enrolment | None: ...

    async def enrol(self, subject: SubjectRef, start_date: date) -> Enrolment:
        """Create, or restart from `start_date` (clearing pauses and jumps) when it exists."""
        ...

    async def start_pause(self, enrolment_id: int, on: date) -> None: ...

    async def end_pause(self, enrolment_id: int, on: date) -> None: ...

    async def add_jump(self, enrolment_id: int, on: date, day_index: int) -> None: ...


class Store(UserRepo, ChatRepo, EnrolmentRepo, Protocol):
    """Everything the command handlers read and write."""
