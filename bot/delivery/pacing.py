"""Per-platform send limits, and pacing for pushes through adapters that don't pace themselves.

Telegram allows about 30 messages a second overall and 20 a minute into one group; staying below those
keeps a fan-out free of 429s instead of relying on retries. Each platform has one `SendBudget` that its
adapter shares between replies and pushes (replies first); for such an adapter delivery does not pace
at all, since the adapter's own limiter already counts every message of a push. Adapters without a
budget (test doubles, a limiter given by hand) are paced here, with the same budget type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.core.adapter import Target
from bot.core.ratelimit import Priority, SendBudget, Timer


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float
    per_group_per_minute: float | None = None


DEFAULT_LIMITS = {
    "telegram": Limits(per_second=29, per_group_per_minute=19),
    "discord": Limits(per_second=40, per_group_per_minute=None),
}


def shared_limits(workers: int = 1, per_second: float | None = None) -> dict[str, Limits]:
    """Each of `workers` processes sharing one outbox paces itself at 1/N of a platform's limits.

    Workers don't coordinate their sends, so the platform's budget (or `per_second`, an override for
    self-hosted API servers and tests) is split evenly; a group still gets at least one message a minute.
    """
    workers = max(1, workers)
    return {
        platform: Limits(
            per_second=(per_second or limit.per_second) / workers,
            per_group_per_minute=max(1.0, limit.per_group_per_minute / workers) if limit.per_group_per_minute else None,
        )
        for platform, limit in DEFAULT_LIMITS.items()
    }


def budget(limits: Limits, timer: Timer | None = None) -> SendBudget:
    return SendBudget(limits.per_second, per_group_per_minute=limits.per_group_per_minute, timer=timer)


def platform_budgets(limits: dict[str, Limits], timer: Timer | None = None) -> dict[str, SendBudget]:
    """One budget per platform, for its adapter and (where the adapter has none) for delivery."""
    return {platform: budget(limit, timer) for platform, limit in limits.items()}


@runtime_checkable
class SelfPacing(Protocol):
    """An adapter that draws every message, reply or push, from its platform's budget."""

    @property
    def send_budget(self) -> SendBudget | None: ...


def self_paced(adapters: Sequence[object]) -> frozenset[str]:
    """The platforms whose adapter paces its own sends: delivery must not take a second slot for them."""
    return frozenset(
        getattr(adapter, "platform", "")
        for adapter in adapters
        if isinstance(adapter, SelfPacing) and adapter.send_budget is not None
    )


class Pacer:
    """Waits for a push's slot in its platform's budget (and its group's), unless the adapter does that."""

    def __init__(
        self,
        limits: dict[str, Limits] | None = None,
        *,
        skip: Iterable[str] = (),
        timer: Timer | None = None,
    ) -> None:
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.skip = frozenset(skip)
        self.budgets = platform_budgets(self.limits, timer)

    async def __call__(self, target: Target) -> None:
        if target.platform in self.skip:
            return
        budget = self.budgets.get(target.platform)
        if budget is None:
            return
        group = target.external_id if target.kind == "chat" else None
        await budget.acquire(Priority.PUSH, group)
