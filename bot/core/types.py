"""Neutral message and domain types: what adapters translate to and from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from bot.core.markup import Rich

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("en", "zh")
ChatKind = Literal["private", "group", "channel"]
SubjectKind = Literal["user", "chat"]


def lang_from_locale(locale: str | None) -> Lang:
    """Platform locales such as zh-hans, zh_CN or zh map to Chinese; everything else to English."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


@dataclass(frozen=True, slots=True)
class ChatRef:
    platform: str
    chat_id: str
    kind: ChatKind = "private"
    title: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind != "private"


@dataclass(frozen=True, slots=True)
class UserRef:
    platform: str
    user_id: str
    display_name: str
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One user action: a command line typed in a chat, or a button pressed.

    `admin_check` is supplied by the adapter and only awaited for admin-only commands, so platforms
    that need an API call to answer it (Telegram's getChatMember) pay for it only when it matters.
    """

    chat: ChatRef
    user: UserRef
    text: str = ""
    action: str | None = None
    admin_check: Callable[[], Awaitable[bool]] | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler returns; each adapter renders it in its platform's way."""

    text: Rich = field(default_factory=Rich)
    buttons: tuple[Button, ...] = ()
    image: Attachment | None = None
    file: Attachment | None = None
    ephemeral: bool = False
    edit: bool = False  # answering a button: replace the message the button sat on (where the platform can)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    platform: str
    external_id: str
    display_name: str
    lang: Lang
    timezone: str
    reminder_time: time | None
    reading_day: int
    active: bool = True
    nudge_opt_out: bool = False
    lang_chosen: bool = False  # set by /lang: a platform's locale never overrides it
    timezone_asked: bool = False  # a new learner is asked for their zone once


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    platform: str
    external_id: str
    kind: ChatKind
    title: str | None
    lang: Lang
    timezone: str
    post_time: time | None = None
    nudge_time: time | None = None
    reading_day: int = 5
    active: bool = True


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Who follows the plan: a person, or a group chat's cohort."""

    kind: SubjectKind
    id: int


@dataclass(frozen=True, slots=True)
class PauseSpan:
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Jump:
    on: date
    day_index: int


@dataclass(frozen=True, slots=True)
class Enrolment:
    id: int
    subject: SubjectRef
    start_date: date
    created_at: datetime
    pauses: tuple[PauseSpan, ...] = ()
    jumps: tuple[Jump, ...] = ()

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None
