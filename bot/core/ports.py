"""Repository ports: what the core needs from storage, nothing about how it is stored."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

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

    async def end_pause(self, enrolment_id: int, on: date) -> None: ...

    async def add_jump(self, enrolment_id: int, on: date, day_index: int) -> None: ...


class Store(UserRepo, ChatRepo, EnrolmentRepo, Protocol):
    """Everything the command handlers read and write."""


# papers (issue 6) ----------------------------------------------------------------------------------------
TopicAdd = Literal["added", "duplicate", "full"]


@dataclass(frozen=True, slots=True)
class Paper:
    """One stored arXiv paper (latest version seen), as the core ranks and shows it."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    announce_type: str
    announced: date | None
    link: str


class PaperRepo(Protocol):
    """Stored arXiv papers and each learner's own topics; ingest writes papers outside the core."""

    async def recent_papers(self, since: date, limit: int = 5000) -> Sequence[Paper]:
        """Papers announced on or after `since`, newest first."""
        ...

    async def paper_count(self) -> int: ...

    async def list_topics(self, user_id: int) -> list[str]: ...

    async def add_topic(self, user_id: int, topic: str, max_topics: int) -> TopicAdd:
        """Add unless a case-insensitive duplicate exists or the user already keeps `max_topics`."""
        ...

    async def remove_topic(self, user_id: int, topic: str) -> bool:
        """Remove case-insensitively; False when the user had no such topic."""
        ...


# accountability (issue 7) --------------------------------------------------------------------------------
from datetime import datetime  # noqa: E402

from bot.core.streaks import DayState  # noqa: E402
from bot.core.types import PauseSpan  # noqa: E402

CheckinStatus = Literal["new", "more", "already"]


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    """What a check-in changed: a new day, more tasks on a counted day, or nothing (`already`)."""

    status: CheckinStatus
    tasks: int  # the day's task mask after the check-in
    day: DayState | None  # the checked-in day's state when it newly counted
    latest: DayState | None  # the learner's latest counted day after the change


@dataclass(frozen=True, slots=True)
class StreakWindow:
    """What `/streak` shows, read together: the learner's own plan pauses and the bounded run states."""

    pauses: tuple[PauseSpan, ...]
    base: DayState | None  # the latest state before the window, if any
    states: list[DayState]  # every state inside the window, oldest first


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    tasks: int  # the mask that was taken back
    removed: DayState | None  # the state the day had (e.g. `earned` tells a freeze was taken back)
    latest: DayState | None


@dataclass(frozen=True, slots=True)
class Member:
    """An active roster member with the state of their latest counted day and their own plan pauses."""

    user: User
    joined_on: date  # the group's local date of joining: the member counts for group days from then
    latest: DayState | None
    pauses: tuple[PauseSpan, ...] = ()  # streak pauses are the member's own (a group's pause isn't theirs)


class AccountabilityRepo(Protocol):
    """Check-ins, incremental streak states, group rosters and the group-streak share."""

    async def checkin(
        self, user_id: int, on: date, tasks: int, chat_id: int | None, pauses: Sequence[PauseSpan]
    ) -> CheckinOutcome: ...

    async def undo(self, user_id: int, on: date, pauses: Sequence[PauseSpan]) -> UndoOutcome | None: ...

    async def streak_window(self, user_id: int, since: date) -> StreakWindow:
        """The learner's pauses, the latest state before `since` and every state from `since` on, in one
        connection: `/streak` is read often and each extra round trip costs more than the rows."""
        ...

    async def checkins(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, date, int]]: ...

    async def mask_counts(self, user_ids: Collection[int], since: date, until: date) -> list[tuple[int, int, int]]:
        """(user id, task mask, number of days with that mask) in the dates (inclusive): the week's tasks of a
        whole roster as a few aggregate rows instead of one row per member-day."""
        ...

    async def group_checked_per_day(self, chat_id: int, since: date, until: date) -> dict[date, int]:
        """Per date, how many active members checked in for it on or after the day they joined."""
        ...

    async def join(self, chat_id: int, user_id: int, now: datetime, on: date) -> bool:
        """Add (or re-activate) a roster member; False when already active (nothing written)."""
        ...

    async def leave(self, chat_id: int, user_id: int) -> bool: ...

    async def roster(self, chat_id: int) -> list[Member]: ...

    async def share(self, chat_id: int) -> int: ...

    async def set_share(self, chat_id: int, percent: int) -> None: ...
