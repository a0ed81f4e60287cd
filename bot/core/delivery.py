"""The contract between scheduled sending and the adapters.

The core decides *what* is due and records it; an adapter only delivers and classifies the platform's
answer into one of a few outcomes, so retry / deactivate / follow-migration policy lives in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bot.core.ports import Store
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
class Deliverer(Protocol):
    """Implemented by each adapter that can push messages (Telegram, Discord, console)."""

    platform: str

    async def deliver(self, target: Target, replies: Sequence[Reply], skip: int = 0) -> DeliveryResult:
        """Send, never raise: map rate limits to `retry`, blocked/unknown chats to `gone`,
        a moved group to `migrated` (with the new id), anything else to `failed`.

        Replies may take several platform messages (long text is split, files go separately); `skip`
        leaves out the first ones, which an earlier attempt already delivered (`DeliveryResult.delivered`),
        so a retry resumes instead of posting them twice."""
        ...


async def apply_outcome(store: Store, target: Target, result: DeliveryResult) -> Target | None:
    """Turn a platform's answer into state: blocked/unknown recipients stop getting pushes, a moved
    group follows its new id. Returns the target to resend to, when there is one."""
    if result.outcome == "gone":
        if target.kind == "user":
            user = await store.find_user(target.platform, target.external_id)
            if user is not None:
                await store.update_user(user.id, active=False)
        else:
            chat = await store.find_chat(target.platform, target.external_id)
            if chat is not None:
                await store.update_chat(chat.id, active=False)
        return None
    if result.outcome == "migrated" and result.new_external_id and target.kind == "chat":
        await store.migrate_chat(target.platform, target.external_id, result.new_external_id)
        return Target(target.platform, "chat", result.new_external_id)
    return None
