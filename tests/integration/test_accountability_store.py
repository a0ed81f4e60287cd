"""The accountability repository on a real migrated database: the streak window, group check-ins, leaving."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.accountability.ports import GroupJoin
from bot.accountability.streaks import NO_RUN, RunDays, replay
from bot.app import Runtime
from bot.core.types import Chat, PauseSpan, SubjectRef, User
from storage.accountability import SqlAccountability
from storage.outbox import DeliveryRow
from storage.repository import SqlStore
from tests.support import at

D0 = date(2026, 11, 1)
NOW = at("2026-11-29 09:00")


def d(n: int) -> date:
    return D0 + timedelta(days=n)


@pytest.fixture
def repo(app: Runtime) -> SqlAccountability:
    accountability: SqlAccountability = app.database.accountability
    return accountability


@pytest.fixture
def store(app: Runtime) -> SqlStore:
    sql_store: SqlStore = app.database.store
    return sql_store


@pytest.fixture
async def ann(store: SqlStore) -> User:
    user, _created = await store.get_or_create_user("console", "1", "Ann", "en", "UTC")
    return user


@pytest.fixture
async def group(store: SqlStore) -> Chat:
    return await store.get_or_create_chat("console", "-100", "group", "Group A", "en", "UTC")


async def test_streak_window_reads_pauses_from_their_own_columns(
    repo: SqlAccountability, store: SqlStore, ann: User
) -> None:
    enrolment = await store.enrol(SubjectRef("user", ann.id), d(0))
    await store.start_pause(enrolment.id, d(4))
    await store.end_pause(enrolment.id, d(6))
    await store.start_pause(enrolment.id, d(12))  # still open
    pauses = (PauseSpan(d(4), d(6)), PauseSpan(d(12)))
    days = [d(n) for n in (0, 1, 2, 3, 6, 8, 10)]
    for day in days:
        await repo.checkin(ann.id, day, 0b001, pauses)
    states = replay(days, pauses)
    window = await repo.streak_window(ann.id, d(7))
    assert window.pauses == pauses
    assert window.run == RunDays.of(states[4], states[5:])
    assert states[4].on == d(6) and states[4].current == 5  # the paused 4th and 5th were skipped


async def test_streak_window_of_a_learner_without_states_or_pauses(repo: SqlAccountability, ann: User) -> None:
    window = await repo.streak_window(ann.id, d(7))
    assert (window.pauses, window.run) == ((), NO_RUN)


async def test_roster_reads_each_member_by_name(
    repo: SqlAccountability, store: SqlStore, ann: User, group: Chat
) -> None:
    bob, _created = await store.get_or_create_user("console", "2", "Bob", "zh", "Asia/Tokyo")
    bob = await store.update_user(bob.id, reading_day=2, nudge_opt_out=True)
    enrolment = await store.enrol(SubjectRef("user", bob.id), d(0))
    await store.start_pause(enrolment.id, d(3))
    outcome = await repo.checkin(ann.id, d(1), 0b011, (), GroupJoin(group.id, d(1), NOW))
    assert await repo.join(group.id, bob.id, NOW, d(2))
    first, second = await repo.roster(group.id)
    assert (first.user, first.joined_on, first.latest, first.pauses) == (ann, d(1), outcome.latest, ())
    assert (second.user, second.joined_on, second.latest, second.pauses) == (bob, d(2), None, (PauseSpan(d(3)),))


async def test_a_group_checkin_writes_the_checkin_and_the_roster_row(
    repo: SqlAccountability, ann: User, group: Chat
) -> None:
    outcome = await repo.checkin(ann.id, d(0), 0b111, (), GroupJoin(group.id, d(0), NOW))
    assert outcome.status == "new" and outcome.joined
    assert await repo.checkins([ann.id], d(0), d(0)) == [(ann.id, d(0), 0b111)]
    assert [(m.user.id, m.joined_on) for m in await repo.roster(group.id)] == [(ann.id, d(0))]
    again = await repo.checkin(ann.id, d(1), 0b001, (), GroupJoin(group.id, d(1), NOW))
    assert again.status == "new" and not again.joined  # already on the roster: nothing to join
    assert [m.joined_on for m in await repo.roster(group.id)] == [d(0)]


async def test_a_checkin_after_leaving_rejoins_in_the_same_transaction(
    repo: SqlAccountability, ann: User, group: Chat
) -> None:
    await repo.checkin(ann.id, d(0), 0b111, (), GroupJoin(group.id, d(0), NOW))
    assert await repo.leave(group.id, ann.id)
    assert not await repo.leave(group.id, ann.id)  # not a member any more: nothing left
    outcome = await repo.checkin(ann.id, d(0), 0b111, (), GroupJoin(group.id, d(3), NOW))
    assert outcome.status == "already" and outcome.joined
    assert [m.joined_on for m in await repo.roster(group.id)] == [d(3)]


async def test_a_private_checkin_joins_no_roster(repo: SqlAccountability, ann: User, group: Chat) -> None:
    outcome = await repo.checkin(ann.id, d(0), 0b111, ())
    assert outcome.status == "new" and not outcome.joined
    assert await repo.roster(group.id) == []


async def test_a_failing_join_leaves_no_checkin_either(
    repo: SqlAccountability, ann: User, group: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_join(*_args: object) -> bool:
        raise RuntimeError("the roster write failed")

    monkeypatch.setattr(SqlAccountability, "_join", staticmethod(broken_join))
    with pytest.raises(RuntimeError, match="roster write failed"):
        await repo.checkin(ann.id, d(0), 0b111, (), GroupJoin(group.id, d(0), NOW))
    assert await repo.checkins([ann.id], d(0), d(0)) == []
    assert (await repo.streak_window(ann.id, d(0))).run == NO_RUN
    assert await repo.roster(group.id) == []


async def test_release_claims_counts_the_rows_it_put_back(app: Runtime) -> None:
    async with app.database.outbox.sessions.begin() as session:
        for n, status in enumerate(("sending", "sending", "sent")):
            session.add(
                DeliveryRow(
                    platform="console",
                    subject_kind="user",
                    subject_id=n,
                    kind="daily",
                    local_date=d(0),
                    due_at=NOW,
                    status=status,
                    next_attempt_at=NOW,
                )
            )
    assert await app.database.outbox.release_claims() == 2
    assert await app.database.outbox.release_claims() == 0
