"""Per-platform send pacing with aiolimiter: a global rate per platform and a slower one per group chat.

Telegram allows about 30 messages a second overall and 20 a minute into one group; pacing below those
keeps a fan-out free of 429s instead of relying on retries.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot.core.adapter import Target


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


class Pacer:
    def __init__(self, limits: dict[str, Limits] | None = None, max_groups: int = 10_000) -> None:
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        # Capacity 1: sends are spaced evenly instead of bursting, because platforms count in sliding
        # windows and a full bucket's burst plus the steady rate would overshoot one.
        self._global: dict[str, AsyncLimiter] = {
            platform: AsyncLimiter(1, 1 / limit.per_second) for platform, limit in self.limits.items()
        }
        self._groups: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()
        self.max_groups = max_groups

    def _group(self, target: Target, per_minute: float) -> AsyncLimiter:
        key = (target.platform, target.external_id)
        limiter = self._groups.get(key)
        if limiter is None:
            limiter = self._groups[key] = AsyncLimiter(per_minute, 60)
            if len(self._groups) > self.max_groups:  # forget the least recently used group
                self._groups.popitem(last=False)
        else:
            self._groups.move_to_end(key)
        return limiter

    async def __call__(self, target: Target) -> None:
        limit = self.limits.get(target.platform)
        if limit is None:
            return
        if target.kind == "chat" and limit.per_group_per_minute:
            await self._group(target, limit.per_group_per_minute).acquire()
        await self._global[target.platform].acquire()
