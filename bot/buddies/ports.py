"""What study buddies need from storage: per-group opt-ins, each week's split, and weekly reviews."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.buddies.pairing import Dropped, Group
from bot.core.ports import Port
from bot.core.types import User


@dataclass(frozen=True, slots=True)
class Week:
    """A group's split for the week starting `monday`; `draws` counts redraws (it seeds the next one)."""

    monday: date
    draws: int
    groups: tuple[tuple[User, ...], ...]

    @property
    def ids(self) -> list[Group]:
        return [tuple(u.id for u in group) for group in self.groups]

    def buddies_of(self, user_id: int) -> tuple[User, ...]:
        for group in self.groups:
            if any(u.id == user_id for u in group):
                return tuple(u for u in group if u.id != user_id)
        return ()


@dataclass(frozen=True, slots=True)
class Review:
    """A learner's review of one plan week; `chat_id` is the group it is shared with (None: private)."""

    user_id: int
    week: int
    text: str
    chat_id: int | None
    written_on: date  # the local date (the group's when shared) it was last written
    written_at: datetime


class BuddyRepo(Protocol):
    """Opt-ins per group, the week's split per group, and one review per learner and plan week."""

    async def set_opt_in(self, chat_id: int, user_id: int, on: bool, now: datetime) -> bool:
        """Opt in or out; False when nothing changed."""
        ...

    async def opted_in(self, chat_id: int) -> list[User]: ...

    async def groups_of(self, user_id: int) -> list[int]:
        """The chats where the learner has opted in."""
        ...

    async def week(self, chat_id: int, monday: date) -> Week | None:
        """The stored split, or None when the week hasn't been drawn."""
        ...

    async def recent(self, chat_id: int, monday: date, weeks: int) -> list[list[Group]]:
        """The splits of the `weeks` weeks before `monday`, most recent first (an undrawn week is empty)."""
        ...

    async def save_week(self, chat_id: int, monday: date, groups: Sequence[Group], draws: int, replace: bool) -> Week:
        """Store a draw; without `replace` a split stored meanwhile (another worker's) wins and is returned."""
        ...

    async def drop(self, chat_id: int, monday: date, user_id: int) -> Dropped | None:
        """Take the member out of the week's split in one transaction; None when they weren't in it."""
        ...

    async def join_week(self, chat_id: int, monday: date, user_id: int) -> Group | None:
        """Add a newcomer to a drawn week (see `pairing.rehome`); None when undrawn or already in it."""
        ...

    async def save_review(self, review: Review) -> bool:
        """Write (or replace) the learner's review of that week; True when it replaced one."""
        ...

    async def review(self, user_id: int, week: int) -> Review | None: ...

    async def shared_reviews(self, chat_id: int, since: date, until: date) -> list[tuple[User, Review]]:
        """Reviews shared with this group and written in the dates (inclusive), oldest first."""
        ...


BUDDIES: Port[BuddyRepo] = Port("buddies")
