"""The batched tick on a real database: schedules grouped by recurrence and due occurrence (large groups
written by one statement, small ones one by one, catch-up rows after downtime) end up with exactly the
outbox rows and next instants the per-schedule rule gives each of them."""

from __future__ import annotations

import random
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.core.types import SubjectRef
from bot.delivery.schedule import DesiredSchedule, DueCalendar, Occurrence, Recurrence, due_outcome, next_occurrence
from bot.delivery.service import DeliveryService
from storage.outbox import BULK_MIN, ScheduleRow, SqlOutbox, _DueWrites
from tests.support import RecordingDeliverer, at

Expected = dict[int, tuple[set[tuple[date, datetime, str]], Occurrence]]


@pytest.fixture
def app_adapters(platform: RecordingDeliverer) -> list[RecordingDeliverer]:
    return [platform]


async def schedule(outbox: SqlOutbox, subject_id: int, recurrence: Recurrence, first: Occurrence) -> None:
    subject = SubjectRef("user", subject_id)
    await outbox.replace_schedules(
        "console", subject, ["daily"], [(DesiredSchedule(subject, "daily", recurrence), first)]
    )


async def seed(outbox: SqlOutbox, since: datetime) -> dict[int, tuple[Recurrence, Occurrence]]:
    """A crowd sharing one zone and time (one bulk group), a Berlin crowd due at the same instant but
    moving on to another one, and a scattering of zones, times and weekdays (small groups)."""
    rng = random.Random(5)
    recurrences = [Recurrence(time(8, 0), "UTC")] * (BULK_MIN + 9)
    recurrences += [Recurrence(time(9, 0), "Europe/Berlin")] * (BULK_MIN + 1)
    zones = ["America/New_York", "Asia/Shanghai", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
    recurrences += [
        Recurrence(time(rng.randrange(24), rng.choice([0, 15, 30])), rng.choice(zones), rng.choice([None, 2, 5]))
        for _ in range(30)
    ]
    seeded = {}
    for subject_id, recurrence in enumerate(recurrences, start=1):
        first = next_occurrence(recurrence, since)
        await schedule(outbox, subject_id, recurrence, first)
        seeded[subject_id] = (recurrence, first)
    return seeded


def expected(seeded: dict[int, tuple[Recurrence, Occurrence]], now: datetime) -> Expected:
    """Per schedule, on its own: the rows it gets and where it moves on to."""
    result: Expected = {}
    for subject_id, (recurrence, due) in seeded.items():
        if due.due_at > now:
            result[subject_id] = (set(), due)
            continue
        outcome = due_outcome(recurrence, due, now)
        rows = {
            (o.local_date, o.due_at, "pending" if o.local_date == outcome.today else "skipped") for o in outcome.record
        }
        result[subject_id] = (rows, outcome.advance)
    return result


async def found(outbox: SqlOutbox, subject_ids: list[int]) -> Expected:
    result: Expected = {}
    items = await outbox.items()
    for subject_id in subject_ids:
        rows: set[tuple[date, datetime, str]] = {
            (i.local_date, i.due_at, i.status) for i in items if i.subject.id == subject_id
        }
        next_due = await outbox.next_due(SubjectRef("user", subject_id))
        assert next_due is not None
        result[subject_id] = (rows, Occurrence(next_due[1].date(), next_due[1]))
    return result


def with_local_dates(expected: Expected) -> Expected:
    """`next_due` reports an instant only: compare next occurrences by their UTC instant."""
    return {k: (rows, Occurrence(nxt.due_at.date(), nxt.due_at)) for k, (rows, nxt) in expected.items()}


@pytest.mark.parametrize("batch_size", [2000, 9])  # one batch, or many that cut across the groups
async def test_one_tick_writes_what_each_schedule_would_get_on_its_own(
    app: Runtime, delivery: DeliveryService, clock: ManualClock, batch_size: int
) -> None:
    outbox: SqlOutbox = app.database.outbox
    seeded = await seed(outbox, clock.now())
    clock.set(at("2026-11-30 08:00:30"))
    delivery.batch_size = batch_size
    written = await delivery.tick()
    want = expected(seeded, clock.now())
    assert sum(len(rows) for rows, _ in want.values()) == written > BULK_MIN * 2
    assert await found(outbox, list(seeded)) == with_local_dates(want)
    assert await delivery.tick() == 0  # everything moved on: nothing due twice


@pytest.mark.parametrize(
    "back_at",
    [
        "2026-12-02 13:00",  # three days down: the due occurrence skipped, so are the next ones but today's
        "2026-12-12 13:00",  # twelve days: the due one is older than MAX_CATCH_UP_DAYS and not recorded at all
    ],
)
async def test_after_downtime_missed_days_are_skipped_and_today_is_sent(
    app: Runtime, delivery: DeliveryService, clock: ManualClock, back_at: str
) -> None:
    outbox: SqlOutbox = app.database.outbox
    seeded = await seed(outbox, clock.now())
    clock.set(at(back_at))
    written = await delivery.tick()
    want = expected(seeded, clock.now())
    statuses = [status for rows, _ in want.values() for (_d, _t, status) in rows]
    assert "skipped" in statuses and "pending" in statuses
    assert len(statuses) == written
    assert await found(outbox, list(seeded)) == with_local_dates(want)


async def test_a_schedule_moved_on_before_the_writes_is_left_alone(
    app: Runtime, delivery: DeliveryService, clock: ManualClock
) -> None:
    """The writes require each schedule to be still due, so one that another worker moved on after our
    read (possible wherever the read takes no lock) gets neither a row nor a second advance from us."""
    outbox: SqlOutbox = app.database.outbox
    crowd = Recurrence(time(8, 0), "UTC")
    for subject_id in range(1, BULK_MIN + 3):
        await schedule(outbox, subject_id, crowd, next_occurrence(crowd, clock.now()))
    clock.set(at("2026-11-30 08:00:30"))
    async with outbox.sessions() as session:
        rows = (await session.execute(select(ScheduleRow.subject_id, ScheduleRow.id))).all()
    ids = {row.subject_id: row.id for row in rows}
    due = Occurrence(clock.now().date(), at("2026-11-30 08:00"))
    writes = _DueWrites()
    writes.add(list(ids.values()), due, delivery._plan(DueCalendar(clock.now()), crowd, due))
    moved_on = Occurrence(clock.now().date(), at("2026-11-30 20:00"))  # another worker's doing
    await schedule(outbox, 1, crowd, moved_on)
    async with outbox.sessions.begin() as session:
        inserted = await outbox._write_due(await session.connection(), writes, clock.now())
    assert inserted == BULK_MIN + 1
    assert {i.subject.id for i in await outbox.items()} == set(range(2, BULK_MIN + 3))
    assert await outbox.next_due(SubjectRef("user", 1)) == ("daily", moved_on.due_at)
    assert await outbox.next_due(SubjectRef("user", 2)) == ("daily", at("2026-12-01 08:00"))
