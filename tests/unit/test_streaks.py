"""The pure streak rules (bot/accountability/streaks.py): every edge case the accountability issue lists."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bot.accountability.streaks import (
    MAX_FREEZES,
    DayState,
    RunDays,
    advance,
    group_streak,
    replay,
    standing,
    task_count,
    why_days,
)
from bot.core.types import PauseSpan

D0 = date(2026, 3, 1)


def d(n: int) -> date:
    return D0 + timedelta(days=n)


def run(days: list[int], pauses: tuple[PauseSpan, ...] = ()) -> list[DayState]:
    return replay([d(n) for n in days], pauses)


def test_consecutive_days_count_and_best_is_kept_after_a_break() -> None:
    states = run([0, 1, 2, 5, 6])
    assert [s.current for s in states] == [1, 2, 3, 1, 2]
    assert states[-1].best == 3 and states[-1].run_start == d(5)


def test_freeze_earned_on_every_7th_counted_day_and_capped_at_two() -> None:
    states = run(list(range(22)))
    assert [s.on for s in states if s.earned] == [d(6), d(13)]  # the 21st day is at the cap: nothing earned
    assert states[6].freezes == 1 and states[13].freezes == 2 and states[20].freezes == MAX_FREEZES
    assert not states[20].earned


def test_freeze_applied_to_a_single_missed_day() -> None:
    states = run([*range(7), 8])  # day 7 missed, one freeze held
    last = states[-1]
    assert last.frozen == d(7) and last.freezes == 0 and last.current == 8 and last.run_start == d(0)


def test_two_consecutive_missed_days_break_and_keep_the_freezes() -> None:
    states = run([*range(7), 9])
    assert states[-1].current == 1 and states[-1].frozen is None and states[-1].freezes == 1


def test_single_missed_day_without_a_freeze_breaks() -> None:
    states = run([0, 1, 3])
    assert states[-1].current == 1


def test_two_freezes_cover_two_separate_single_misses() -> None:
    states = run([*range(14), 15, 17])
    assert [s.frozen for s in states[-2:]] == [d(14), d(16)]
    assert states[-1].freezes == 0 and states[-1].current == 16


def test_undo_of_the_earning_day_takes_the_freeze_back() -> None:
    """Undo drops the day's state: the latest remaining state is what the learner holds again."""
    states = run(list(range(7)))
    assert states[-1].earned and states[-1].freezes == 1
    after_undo = states[-2]
    assert after_undo.freezes == 0
    # and the same day checked in again earns it again, exactly once
    again = advance(after_undo, d(6))
    assert again == states[-1]


def test_pause_neither_breaks_nor_extends() -> None:
    pauses = (PauseSpan(d(3), d(10)),)  # days 3..9 paused, resumed on day 10
    states = run([0, 1, 2, 10, 11], pauses)
    assert [s.current for s in states] == [1, 2, 3, 4, 5]
    assert states[-1].run_start == d(0)
    open_pause = (PauseSpan(d(3)),)
    assert standing(states[2], d(30), open_pause).current == 3  # still paused: nothing breaks


def test_a_missed_day_next_to_a_pause_is_a_single_missed_day() -> None:
    pauses = (PauseSpan(d(7), d(10)),)  # 7..9 paused, 10 missed, 11 counted: one missed day, frozen
    states = run([*range(7), 11], pauses)
    assert states[-1].frozen == d(10) and states[-1].current == 8
    states = run([*range(7), 12], pauses)  # 10 and 11 missed: broken
    assert states[-1].current == 1


def test_timezone_change_can_not_count_a_date_twice_and_out_of_order_days_replay_the_same() -> None:
    """Days are local dates at check-in time; flying west repeats a date (counted once)."""
    forward = replay([d(0), d(1), d(2)])
    assert replay([d(0), d(1), d(1), d(2)]) == forward
    # a date checked in after a later one (westward flight, or /done yesterday after today's /done)
    inserted = advance(advance(forward[0], d(1)), d(2))
    assert inserted == forward[-1]


def test_dst_days_are_ordinary_local_dates() -> None:
    # 2026-03-08 (US spring forward) and 2026-11-01 (fall back) are 23 and 25 hours long: just dates
    spring = replay([date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)])
    fall = replay([date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)])
    assert spring[-1].current == 3 and fall[-1].current == 3


def test_standing_today_is_open_and_yesterday_is_open_before_noon() -> None:
    states = run([0, 1, 2])
    assert standing(states[-1], d(3)).current == 3  # today not checked in yet: still alive
    no_freeze = standing(states[-1], d(4))
    assert no_freeze.current == 0 and not no_freeze.alive  # yesterday (day 3) missed, no freeze
    grace = standing(states[-1], d(4), grace=True)
    assert grace.current == 3 and grace.alive  # before noon day 3 can still be checked in


def test_standing_shows_the_pending_freeze_and_breaks_after_two_misses() -> None:
    states = run(list(range(7)))
    soon = standing(states[-1], d(8))
    assert soon.alive and soon.pending_freeze == d(7) and soon.freezes == 0
    broken = standing(states[-1], d(9))
    assert not broken.alive and broken.current == 0 and broken.freezes == 1 and broken.best == 7


def test_why_lines_for_the_last_14_days() -> None:
    pauses = (PauseSpan(d(10), d(12)),)
    states = run([*range(7), 8, 9, 12], pauses)  # 7 frozen, 10-11 paused, 13-14 missed, 15 is today
    lines = dict(why_days(RunDays.of(None, states), d(15), pauses))
    assert len(lines) == 14 and min(lines) == d(2)
    assert lines[d(2)] == "counted" and lines[d(7)] == "frozen" and lines[d(10)] == "paused"
    assert lines[d(13)] == "missed" and lines[d(14)] == "missed" and lines[d(15)] == "open"
    early = dict(why_days(RunDays.of(None, run([5])), d(6)))
    assert early[d(0)] == "not_started" and early[d(5)] == "counted"


def test_why_lines_with_a_base_state_before_the_window() -> None:
    states = run([*range(20), 21])
    window = [s for s in states if s.on >= d(8)]
    base = next(s for s in reversed(states) if s.on < d(8))
    lines = dict(why_days(RunDays.of(base, window), d(21)))
    assert lines[d(20)] == "frozen" and lines[d(8)] == "counted" and "not_started" not in lines.values()


def test_incremental_equals_replay_on_random_histories() -> None:
    """Check-ins in any order, undos of the latest day: the stored states always equal a full replay."""
    rng = random.Random(7)
    for _trial in range(200):
        days = sorted(rng.sample(range(60), rng.randint(1, 45)))
        pauses = (PauseSpan(d(20), d(20 + rng.randint(0, 5))),)
        full = replay([d(n) for n in days], pauses)
        stored: list[DayState] = []
        for n in days:
            stored.append(advance(stored[-1] if stored else None, d(n), pauses))
            if rng.random() < 0.2:  # undo today, then check in again
                stored.pop()
                stored.append(advance(stored[-1] if stored else None, d(n), pauses))
        assert stored == full


def test_task_count_and_group_streak() -> None:
    assert task_count(0b111) == 3 and task_count(0b101) == 2 and task_count(0) == 0
    today = d(10)
    checked = {d(10): 2, d(9): 2, d(8): 2, d(7): 1}
    members = {d(n): 4 for n in range(11)}
    assert group_streak(50, checked, lambda day: members[day], today, 30) == 3
    assert group_streak(75, checked, lambda day: members[day], today, 30) == 0
    # today below the share is still open: the streak runs up to yesterday
    assert group_streak(50, {d(9): 2, d(8): 2}, lambda day: members[day], today, 30) == 2


@pytest.mark.parametrize("bad", [0, -1])
def test_advance_refuses_a_day_not_after_the_previous(bad: int) -> None:
    with pytest.raises(ValueError):
        advance(run([1])[0], d(1 + bad))
