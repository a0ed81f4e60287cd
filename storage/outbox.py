"""Schedules and the outbox: scheduling state lives in our tables, not in pickled scheduler jobs.

The outbox row is written before anything is sent and is unique per (recipient, kind, local date), so a
restart or a second worker can never post the same day twice. Rows are claimed with a lease; on
PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so several workers share the work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any, cast

from sqlalchemy import (
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.types import SubjectKind, SubjectRef
from bot.delivery.outbox import DuePlan, DuePlanner, OutboxItem, OutboxStatus, PlannedRow
from bot.delivery.schedule import DesiredSchedule, Occurrence, Recurrence
from storage.base import SqlRepository
from storage.db import WRITE_INTENT
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


_SCHEDULES = cast(Table, ScheduleRow.__table__)
_DELIVERIES = cast(Table, DeliveryRow.__table__)
_OUTBOX_KEY = ["subject_kind", "subject_id", "kind", "local_date"]
_COPIED_COLUMNS = [
    "platform", "subject_kind", "subject_id", "kind", "local_date", "due_at",
    "status", "reason", "attempts", "next_attempt_at", "messages_sent", "created_at",
]  # fmt: skip
BULK_MIN = 16  # schedules moving on to one occurrence: this many or more share one UPDATE ... WHERE id IN

# The drain's per-push writes, built once: Core statements on the table (compiled once and cached).
_FINISH = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("item_id"))
    .values(
        status=bindparam("b_status", type_=String()),
        reason=bindparam("b_reason", type_=Text()),
        claimed_until=None,
        sent_at=bindparam("b_sent_at", type_=UTCDateTime()),
        attempts=_DELIVERIES.c.attempts + bindparam("b_attempt", type_=Integer()),
    )
)
_RETRY = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("item_id"))
    .values(
        status="pending",
        next_attempt_at=bindparam("b_at", type_=UTCDateTime()),
        reason=bindparam("b_reason", type_=Text()),
        claimed_until=None,
        attempts=_DELIVERIES.c.attempts + bindparam("b_attempt", type_=Integer()),
        messages_sent=_DELIVERIES.c.messages_sent + bindparam("b_delivered", type_=Integer()),
    )
)
_RENEW = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id.in_(bindparam("ids", expanding=True)),
        _DELIVERIES.c.status == "sending",
        _DELIVERIES.c.claimed_by == bindparam("b_worker", type_=String()),
    )
    .values(claimed_until=bindparam("b_until", type_=UTCDateTime()))
    .returning(_DELIVERIES.c.id)
)


class _DueWrites:
    """A claimed batch's writes, grouped: outbox rows copied from the schedules' own due occurrence per
    (status, reason), other rows one by one, and the schedules' next occurrences per occurrence."""

    def __init__(self) -> None:
        self.copied: dict[tuple[OutboxStatus, str | None], list[int]] = defaultdict(list)
        self.other_rows: list[tuple[int, PlannedRow]] = []
        self.advances: dict[Occurrence, list[int]] = defaultdict(list)

    def add(self, ids: list[int], due: Occurrence, plan: DuePlan) -> None:
        for row in plan.rows:
            if row.local_date == due.local_date and row.due_at == due.due_at:
                self.copied[(row.status, row.reason)] += ids
            else:
                self.other_rows += [(sid, row) for sid in ids]
        self.advances[plan.advance] += ids


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

    async def claim_due(self, now: datetime, limit: int, plan: DuePlanner) -> tuple[int, int]:
        """Take up to `limit` due schedules, record what `plan` makes of them and move them on, all in one
        transaction. On PostgreSQL the schedules are locked FOR UPDATE SKIP LOCKED, so workers ticking at
        the same moment each take different schedules instead of computing the same rows twice (the
        outbox's unique key would absorb that, but the work and the races on `next_due_at` are saved).
        Returns (schedules taken, outbox rows inserted).

        The work is done per group, not per row: `plan` is called once per (recurrence, due occurrence),
        the outbox rows are copied from the schedules by one INSERT ... SELECT per status, and schedules
        moving on to the same occurrence are updated by one statement."""
        schedules = _SCHEDULES
        query = (
            select(
                schedules.c.id,
                schedules.c.at_time,
                schedules.c.timezone,
                schedules.c.weekday,
                schedules.c.next_local_date,
                schedules.c.next_due_at,
            )
            .where(schedules.c.next_due_at <= now)
            .order_by(schedules.c.next_due_at, schedules.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.sessions.begin() as session:
            connection = await session.connection()
            rows = (await connection.execute(query)).all()
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for row in rows:
                groups[tuple(row[1:])].append(row[0])
            writes = _DueWrites()
            for (at, timezone, weekday, local_date, due_at), ids in groups.items():
                due = Occurrence(local_date, due_at)
                writes.add(ids, due, plan(Recurrence(at, timezone, weekday), due))
            inserted = await self._write_due(connection, writes, now)
        return len(rows), inserted

    async def _write_due(self, connection: AsyncConnection, writes: _DueWrites, now: datetime) -> int:
        # Every statement also requires the schedule to be still due: one another worker moved on after
        # our read (wherever that read takes no lock) gets neither a row nor a second advance from us.
        still_due = _SCHEDULES.c.next_due_at <= now
        inserted = 0
        for (status, reason), ids in writes.copied.items():
            inserted += await self._copy_due(connection, ids, status, reason, now, still_due)
        if writes.other_rows:
            inserted += await self._insert_rows(connection, writes.other_rows, now, still_due)
        single: list[dict[str, Any]] = []
        for advance, ids in writes.advances.items():
            if len(ids) < BULK_MIN:
                single += [{"sid": sid, "b_date": advance.local_date, "b_due": advance.due_at} for sid in ids]
                continue
            await connection.execute(
                update(_SCHEDULES)
                .where(_SCHEDULES.c.id.in_(bindparam("ids", expanding=True)), still_due)
                .values(
                    next_local_date=bindparam("b_date", type_=Date()),
                    next_due_at=bindparam("b_due", type_=UTCDateTime()),
                ),
                {"ids": ids, "b_date": advance.local_date, "b_due": advance.due_at},
            )
        if single:
            await connection.execute(
                update(_SCHEDULES)
                .where(_SCHEDULES.c.id == bindparam("sid"), still_due)
                .values(
                    next_local_date=bindparam("b_date", type_=Date()),
                    next_due_at=bindparam("b_due", type_=UTCDateTime()),
                ),
                single,
            )
        return inserted

    async def _copy_due(
        self,
        connection: AsyncConnection,
        ids: list[int],
        status: OutboxStatus,
        reason: str | None,
        now: datetime,
        still_due: Any,
    ) -> int:
        """Outbox rows for the schedules' own due occurrence, copied inside the database."""
        s = _SCHEDULES
        source = (
            select(
                s.c.platform,
                s.c.subject_kind,
                s.c.subject_id,
                s.c.kind,
                s.c.next_local_date,
                s.c.next_due_at,
                literal(status, String()),
                literal(reason, Text()),
                literal(0, Integer()),
                s.c.next_due_at,
                literal(0, Integer()),
                literal(now, UTCDateTime()),
            )
            .where(s.c.id.in_(bindparam("ids", expanding=True)), still_due)
            .order_by(s.c.next_due_at, s.c.id)
        )
        statement = (
            self._insert(_DELIVERIES)
            .from_select(_COPIED_COLUMNS, source)
            .on_conflict_do_nothing(index_elements=_OUTBOX_KEY)
            .returning(_DELIVERIES.c.id)  # counts on every driver (an INSERT's rowcount is -1 on psycopg)
        )
        return len((await connection.execute(statement, {"ids": ids})).all())

    async def _insert_rows(
        self, connection: AsyncConnection, rows: list[tuple[int, PlannedRow]], now: datetime, still_due: Any
    ) -> int:
        """Outbox rows for other occurrences than the due one (a catch-up after downtime): rare, one by one."""
        s = _SCHEDULES
        recipients = select(s.c.id, s.c.platform, s.c.subject_kind, s.c.subject_id, s.c.kind).where(
            s.c.id.in_(bindparam("ids", expanding=True)), still_due
        )
        found = await connection.execute(recipients, {"ids": sorted({sid for sid, _row in rows})})
        subjects = {r.id: r for r in found}
        values = [
            {
                "platform": subjects[sid].platform,
                "subject_kind": subjects[sid].subject_kind,
                "subject_id": subjects[sid].subject_id,
                "kind": subjects[sid].kind,
                "local_date": row.local_date,
                "due_at": row.due_at,
                "status": row.status,
                "reason": row.reason,
                "attempts": 0,
                "next_attempt_at": row.due_at,
                "messages_sent": 0,
                "created_at": now,
            }
            for sid, row in rows
            if sid in subjects
        ]
        if not values:
            return 0
        statement = (
            self._insert(_DELIVERIES).on_conflict_do_nothing(index_elements=_OUTBOX_KEY).returning(_DELIVERIES.c.id)
        )
        return len((await connection.execute(statement, values)).all())

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
        async with self._writer.begin() as connection:
            held = await connection.execute(_RENEW, {"ids": list(ids), "b_worker": worker, "b_until": until})
            return set(held.scalars().all())

    async def finish(self, item_id: int, status: OutboxStatus, now: datetime, reason: str | None = None) -> None:
        """Record a push's end: one Core UPDATE in a transaction of its own (no session, no ORM load), so
        the write lock is held for one statement and the cost per push stays a single round trip."""
        values = {
            "item_id": item_id,
            "b_status": status,
            "b_reason": reason,
            "b_sent_at": now if status == "sent" else None,
            "b_attempt": 1 if status in ("sent", "failed") else 0,
        }
        async with self._writer.begin() as connection:
            await connection.execute(_FINISH, values)

    async def retry(
        self, item_id: int, at: datetime, reason: str, count_attempt: bool = True, delivered: int = 0
    ) -> None:
        values = {
            "item_id": item_id,
            "b_at": at,
            "b_reason": reason,
            "b_attempt": 1 if count_attempt else 0,
            "b_delivered": delivered,
        }
        async with self._writer.begin() as connection:
            await connection.execute(_RETRY, values)

    @cached_property
    def _writer(self) -> AsyncEngine:
        """The engine as `sessions.begin()` uses it: on SQLite its transactions start with the write lock."""
        return self.engine.execution_options(**{WRITE_INTENT: True})

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
