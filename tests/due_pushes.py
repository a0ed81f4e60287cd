"""Learners whose daily push fell due an hour ago, seeded in bulk for the fan-out tests (real processes
and in-process alike), and the zone that keeps "an hour ago" on today's local date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot.app import Runtime
from bot.core.clock import ManualClock
from storage.models import EnrolmentRow, UserRow
from storage.outbox import ScheduleRow
from tests.support import make_runtime


def zone_near_noon(now: datetime) -> str:
    """An Etc/GMT zone where it is around midday now, so 'due an hour ago' is still today locally."""
    offset = 12 - now.hour
    offset = max(-12, min(14, offset))
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def seed_due_pushes(
    app: Runtime, clock: ManualClock, zone: str, users: int, first_id: int, platform: str = "telegram"
) -> None:
    """`users` enrolled learners whose daily push fell due an hour ago, in three bulk inserts."""
    now = clock.now()
    due = now - timedelta(hours=1)
    local = due.astimezone(ZoneInfo(zone))
    at_time = local.time().replace(second=0, microsecond=0)
    rows = [
        {"platform": platform, "external_id": str(first_id + n), "display_name": f"learner {n}", "lang": "en",
         "timezone": zone, "reminder_time": at_time, "reading_day": 5, "active": True, "nudge_opt_out": False,
         "created_at": now}
        for n in range(users)
    ]  # fmt: skip
    async with app.database.engine.begin() as connection:
        ids = (await connection.execute(insert(UserRow).returning(UserRow.id), rows)).scalars().all()
        await connection.execute(
            insert(EnrolmentRow),
            [{"user_id": i, "start_date": local.date() - timedelta(days=3), "created_at": now} for i in ids],
        )
        await connection.execute(
            insert(ScheduleRow),
            [
                {"platform": platform, "subject_kind": "user", "subject_id": i, "kind": "daily", "at_time": at_time,
                 "timezone": zone, "weekday": None, "next_local_date": local.date(), "next_due_at": due}
                for i in ids
            ],
        )  # fmt: skip


async def seed_database(database_url: str, users: int, first_id: int, platform: str = "telegram") -> None:
    """Migrate the (fresh) database and seed it with `users` pushes due an hour ago, in real time, for a
    `studybuddy run` process to send when it starts."""
    clock = ManualClock(datetime.now(UTC))
    app = make_runtime(database_url, clock, deliver=True)
    await app.open()
    try:
        await seed_due_pushes(app, clock, zone_near_noon(clock.now()), users, first_id, platform)
    finally:
        await app.stop()
