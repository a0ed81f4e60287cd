"""Schedules and the outbox: scheduling state lives in our tables, not in pickled scheduler jobs.

The outbox row is written before anything is sent and is unique per (recipient, kind, local date), so a
restart or a second worker can never post the same day twice. Rows are claimed with a lease; on
PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so several workers share the work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Date,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.types import SubjectKind, SubjectRef
from bot.delivery.outbox import DueBatch, OutboxItem, OutboxStatus
from bot.delivery.schedule import DesiredSchedule, DueSchedule, Occurrence, Recurrence
from storage.base import SqlRepository
from storage.models import Base, UTCDateTime, utcnow


class ScheduleRow(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "kind"),
        Index("ix_schedules_next_due_at", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    subject_kind: Mapped[SubjectKind] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    at_time: Mapped[time] = mapped_column(Time())
    timezone: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int | None] = mapped_column(Integer)
    next_local_date: Mapped[date] = mapped_column(Date())
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "kind", "local_date"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    subject_kind: Mapped[SubjectKind] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    local_date: Mapped[date] = mapped_column(Date())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OutboxStatus] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # platform messages of this push already delivered: a retry after a partial send resumes after them
    messages_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _due(row: ScheduleRow) -> DueSchedule:
    return DueSchedule(
        id=row.id,
        platform=row.platform,
        subject=SubjectRef(kind=row.subject_kind, id=row.subject_id),
        kind=row.kind,
        recurrence=Recurrence(at=row.at_time, timezone=row.timezone, weekday=row.weekday),
        local_date=row.next_local_date,
        due_at=row.next_due_at,
    )


def _item(row: DeliveryRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        platform=row.platform,
        subject=SubjectRef(kind=row.subject_kind, id=row.subject_id),
        kind=row.kind,
        local_date=row.local_date,
        due_at=row.due_at,
        attempts=row.attempts,
        status=row.status,
        reason=row.reason,
        messages_sent=row.messages_sent,
    )


class SqlOutbox(SqlRepository):
    # schedules ---------------------------------------------------------------------------------------
    async def replace_schedules(
        self,
        platform: str,
        subject: SubjectRef,
        kinds: Sequence[str],
        desired: Sequence[tuple[DesiredSchedule, Occurrence]],
    ) -> None:
        """Make the subject's schedules of `kinds` exactly `desired` (others of those kinds are removed)."""
        wanted = {d.kind for d, _ in desired}
        async with self.sessions.begin() as session:
            await session.execute(
                delete(ScheduleRow).where(
                    ScheduleRow.subject_kind == subject.kind,
                    ScheduleRow.subject_id == subject.id,
                    ScheduleRow.kind.in_([k for k in kinds if k not in wanted]),
                )
            )
            for schedule, first in desired:
                values = {
                    "platform": platform,
                    "subject_kind": subject.kind,
                    "subject_id": subject.id,
                    "kind": schedule.kind,
                    "at_time": schedule.recurrence.at,
                    "timezone": schedule.recurrence.timezone,
                    "weekday": schedule.recurrence.weekday,
                    "next_local_date": first.local_date,
                    "next_due_at": first.due_at,
                }
                statement = self._insert(ScheduleRow).values(**values)
                statement = statement.on_conflict_do_update(
                    index_elements=["subject_kind", "subject_id", "kind"],
                    set_={k: statement.excluded[k] for k in values if k not in ("subject_kind", "subject_id", "kind")},
                )
                await session.execute(statement)

    async def claim_due(
        self, now: datetime, limit: int, plan: Callable[[list[DueSchedule]], DueBatch]
    ) -> tuple[int, int]:
        """Take up to `limit` due schedules, record what `plan` makes of them and move them on, all in one
        transaction. On PostgreSQL the schedules are locked FOR UPDATE SKIP LOCKED, so workers ticking at
        the same moment each take different schedules instead of computing the same rows twice (the
        outbox's unique key would absorb that, but the work and the races on `next_due_at` are saved).
        Returns (schedules taken, outbox rows inserted)."""
        query = (
            select(ScheduleRow)
            .where(ScheduleRow.next_due_at <= now)
            .order_by(ScheduleRow.next_due_at, ScheduleRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.sessions.begin() as session:
            rows = (await session.execute(query)).scalars().all()
            batch = plan([_due(row) for row in rows])
            inserted = await self._write_due(await session.connection(), batch, now)
        return len(rows), inserted

    async def _write_due(self, connection: AsyncConnection, batch: DueBatch, now: datetime) -> int:
        inserted = 0
        if batch.rows:
            values = [
                {
                    "platform": row.platform,
                    "subject_kind": row.subject.kind,
                    "subject_id": row.subject.id,
                    "kind": row.kind,
                    "local_date": row.local_date,
                    "due_at": row.due_at,
                    "status": row.status,
                    "reason": row.reason,
                    "attempts": 0,
                    "next_attempt_at": row.due_at,
                    "created_at": now,
                }
                for row in batch.rows
            ]
            table = DeliveryRow.__table__
            statement = (
                self._insert(table)
                .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id", "kind", "local_date"])
                .returning(table.c.id)
            )
            inserted = len((await connection.execute(statement, values)).all())
        if batch.advances:
            await connection.execute(
                update(ScheduleRow)
                .where(ScheduleRow.id == bindparam("sid"))
                .values(
                    next_local_date=bindparam("b_date", type_=Date()),
                    next_due_at=bindparam("b_due", type_=UTCDateTime()),
                ),
                [{"sid": sid, "b_date": occ.local_date, "b_due": occ.due_at} for sid, occ in batch.advances],
            )
        return inserted

    async def next_due(self, subject: SubjectRef) -> tuple[str, datetime] | None:
        query = (
            select(ScheduleRow.kind, ScheduleRow.next_due_at)
            .where(ScheduleRow.subject_kind == subject.kind, ScheduleRow.subject_id == subject.id)
            .order_by(ScheduleRow.next_due_at)
            .limit(1)
        )
        async with self.sessions() as session:
            row = (await session.execute(query)).first()
        return (row.kind, row.next_due_at) if row else None

    # outbox --------------------------------------------------------------------------------------------
    async def claim(
        self, now: datetime, worker: str, platforms: Sequence[str], limit: int, lease: timedelta
    ) -> list[OutboxItem]:
        """Take up to `limit` sendable rows: pending and due, or claimed by a worker whose lease ran out."""
        claimable = or_(
            and_(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now),
            and_(DeliveryRow.status == "sending", DeliveryRow.claimed_until < now),
        )
        query = (
            select(DeliveryRow.id)
            .where(claimable, DeliveryRow.platform.in_(list(platforms)))
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        # The UPDATE checks `claimable` again: on SQLite the SELECT takes no lock, so two concurrent drains
        # could pick the same ids; the UPDATE runs under the write lock and takes only rows still free.
        claim = (
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(bindparam("ids", expanding=True)), claimable)
            .values(status="sending", claimed_by=worker, claimed_until=now + lease)
            .returning(DeliveryRow)
            .execution_options(synchronize_session=False)
        )
        for _attempt in range(3):  # lost every row to a concurrent claim: look again, there may be more
            async with self.sessions.begin() as session:
                ids = (await session.execute(query)).scalars().all()
                if not ids:
                    return []
                rows = (await session.execute(claim, {"ids": list(ids)})).scalars().all()
            if rows:
                return [_item(row) for row in sorted(rows, key=lambda row: (row.next_attempt_at, row.id))]
        return []

    async def renew(self, ids: Sequence[int], worker: str, until: datetime) -> set[int]:
        """Extend this worker's lease on the rows it still holds; returns their ids."""
        if not ids:
            return set()
        held = (
            update(DeliveryRow)
            .where(
                DeliveryRow.id.in_(list(ids)),
                DeliveryRow.status == "sending",
                DeliveryRow.claimed_by == worker,
            )
            .values(claimed_until=until)
            .returning(DeliveryRow.id)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions.begin() as session:
            return set((await session.execute(held)).scalars().all())

    async def finish(self, item_id: int, status: OutboxStatus, now: datetime, reason: str | None = None) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == item_id)
                .values(
                    status=status,
                    reason=reason,
                    claimed_until=None,
                    sent_at=now if status == "sent" else None,
                    attempts=DeliveryRow.attempts + (1 if status in ("sent", "failed") else 0),
                )
            )

    async def retry(
        self, item_id: int, at: datetime, reason: str, count_attempt: bool = True, delivered: int = 0
    ) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == item_id)
                .values(
                    status="pending",
                    next_attempt_at=at,
                    reason=reason,
                    claimed_until=None,
                    attempts=DeliveryRow.attempts + (1 if count_attempt else 0),
                    messages_sent=DeliveryRow.messages_sent + delivered,
                )
            )

    async def release_claims(self) -> int:
        """Return rows a dead process left in `sending` to `pending` (SQLite: one process owns the outbox,
        so at start-up every claim is stale; PostgreSQL workers rely on the lease instead)."""
        async with self.sessions.begin() as session:
            released = await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.status == "sending")
                .values(status="pending", claimed_by=None, claimed_until=None)
                .returning(DeliveryRow.id)  # counts on every driver (an ORM-path rowcount may be -1)
                .execution_options(synchronize_session=False)
            )
            return len(released.all())

    async def items(self, subject: SubjectRef | None = None) -> list[OutboxItem]:
        query = select(DeliveryRow).order_by(DeliveryRow.id)
        if subject is not None:
            query = query.where(DeliveryRow.subject_kind == subject.kind, DeliveryRow.subject_id == subject.id)
        async with self.sessions() as session:
            return [_item(row) for row in (await session.execute(query)).scalars()]
