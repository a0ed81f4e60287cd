"""The outbox contract: its rows and the port the delivery service records and claims them through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from bot.core.types import SubjectRef
from bot.delivery.schedule import DesiredSchedule, Occurrence, Recurrence

OutboxStatus = Literal["pending", "sending", "sent", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    platform: str
    subject: SubjectRef
    kind: str
    local_date: date
    due_at: datetime
    attempts: int = 0
    status: OutboxStatus = "pending"
    reason: str | None = None
    messages_sent: int = 0  # delivered by earlier attempts: the next one skips them


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """An outbox row a due schedule gets; the recipient and kind come from the schedule itself."""

    local_date: date
    due_at: datetime
    status: OutboxStatus = "pending"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DuePlan:
    """What every schedule sharing one recurrence and due occurrence gets: its rows and its next occurrence."""

    rows: tuple[PlannedRow, ...]
    advance: Occurrence


# Called once per distinct (recurrence, due occurrence) among the claimed schedules, never once per row.
DuePlanner = Callable[[Recurrence, Occurrence], DuePlan]


class OutboxRepo(Protocol):
    async def replace_schedules(
        self,
        platform: str,
        subject: SubjectRef,
        kinds: Sequence[str],
        desired: Sequence[tuple[DesiredSchedule, Occurrence]],
    ) -> None: ...

    async def claim_due(self, now: datetime, limit: int, plan: DuePlanner) -> tuple[int, int]:
        """Take up to `limit` due schedules (skipping ones another worker holds), record what `plan` makes
        of each group sharing a recurrence and due occurrence, and advance them, in one transaction;
        returns (schedules taken, rows inserted)."""
        ...

    async def next_due(self, subject: SubjectRef) -> tuple[str, datetime] | None: ...

    async def claim(
        self, now: datetime, worker: str, platforms: Sequence[str], limit: int, lease: timedelta
    ) -> list[OutboxItem]: ...

    async def renew(self, ids: Sequence[int], worker: str, until: datetime) -> set[int]:
        """Extend the worker's lease on those of `ids` it still holds (a row whose lease ran out may have
        gone to another worker); returns the ids still held."""
        ...

    async def finish(self, item_id: int, status: OutboxStatus, now: datetime, reason: str | None = None) -> None: ...

    async def retry(
        self, item_id: int, at: datetime, reason: str, count_attempt: bool = True, delivered: int = 0
    ) -> None:
        """Back to pending at `at`; rate limits don't count as failed attempts. `delivered` messages of the
        push went out before the failure and are added to the row's progress."""
        ...
