"""The one contract every chat adapter keeps, and what scheduled sending hands it.

The core decides *what* is due and records it; an adapter only delivers and classifies the platform's
answer into one of a few outcomes, so retry / deactivate / follow-migration policy lives in one place
(bot/delivery). Adapters get what they need from the bootstrap, never the whole store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bot.core.types import Reply

TargetKind = Literal["user", "chat"]
Outcome = Literal["sent", "retry", "gone", "migrated", "failed"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where a push goes: a user's private chat (by user id) or a group chat (by chat id)."""

    platform: str
    kind: TargetKind
    external_id: str


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    reason: str | None = None
    retry_after: float | None = None
    new_external_id: str | None = None
    delivered: int = 0  # platform messages that went out in this call, also when a later one failed

    @classmethod
    def sent(cls, delivered: int = 0) -> DeliveryResult:
        return cls("sent", delivered=delivered)


@runtime_checkable
class Adapter(Protocol):
    """A chat platform plugged into the bot: Telegram, Discord, or a test double."""

    @property
    def platform(self) -> str: ...

    @property
    def connected(self) -> bool:
        """For /healthz: up and receiving (or deliberately send-only)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, target: Target, replies: Sequence[Reply], skip: int = 0) -> DeliveryResult:
        """Send, never raise: map rate limits to `retry`, blocked/unknown chats to `gone`,
        a moved group to `migrated` (with the new id), anything else to `failed`.

        Replies may take several platform messages (long text is split, files go separately); `skip`
        leaves out the first ones, which an earlier attempt already delivered (`DeliveryResult.delivered`),
        so a retry resumes instead of posting them twice."""
        ...


class RecipientEvents(Protocol):
    """What an adapter reports about recipients outside of a send: the bot was blocked or removed, a
    group moved to a new id. Implemented by bot/delivery/recipients.py."""

    async def apply(self, target: Target, result: DeliveryResult) -> Target | None:
        """Turn a platform's answer into state; returns the target to resend to, when there is one."""
        ...

    async def migrate(self, platform: str, old_external_id: str, new_external_id: str) -> None: ...
