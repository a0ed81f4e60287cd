"""Rows become dataclasses by column name, never by a position that isn't found from a name (storage/rows.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from datetime import date, time, timedelta
from typing import Any

import pytest

from bot.accountability.ports import Contender
from bot.accountability.streaks import DayState, RunDays, replay
from bot.core.types import Chat, PauseSpan, User
from storage.accountability import (
    _ROSTER,
    _ROSTER_PAUSES,
    _STREAK_WINDOW,
    PAUSE_COLUMNS,
    STATE_COLUMNS,
    StreakDayRow,
    _row,
    to_member,
    to_state,
    to_window,
)
from storage.models import CHAT_COLUMNS, USER_COLUMNS, ChatRow, UserRow
from storage.repository import _CHAT_BY_ID, _USER_BY_ID, to_chat, to_user
from storage.rows import from_mapping, from_object, picker

ANN = User(1, "console", "ext-1", "Ann", "zh", "Asia/Tokyo", time(7, 30), 3, False, True)
STATE = DayState(date(2026, 3, 9), 5, 8, 1, date(2026, 3, 5), date(2026, 3, 7), True)


def values_of(item: Any) -> dict[str, Any]:
    return {field.name: getattr(item, field.name) for field in fields(item)}


@pytest.mark.parametrize(
    ("cls", "columns"),
    [(User, USER_COLUMNS), (Chat, CHAT_COLUMNS), (DayState, STATE_COLUMNS), (PauseSpan, PAUSE_COLUMNS)],
)
def test_every_field_has_a_column_and_every_column_a_field(cls: type[Any], columns: dict[str, Any]) -> None:
    """A field added to a core dataclass without a column (or the reverse) fails here, not in production."""
    assert set(columns) == {field.name for field in fields(cls)}


def test_from_mapping_fills_each_field_from_the_same_named_key_in_any_order() -> None:
    row = {f"u_{name}": value for name, value in reversed(values_of(ANN).items())}
    row["u_unrelated"] = "ignored"
    assert from_mapping(User, row, "u_") == ANN


def test_from_mapping_refuses_a_field_without_a_column() -> None:
    row = {name: value for name, value in values_of(ANN).items() if name != "nudge_opt_out"}
    with pytest.raises(KeyError, match="nudge_opt_out"):
        from_mapping(User, row)  # even a field with a default must come from its column


def test_picker_fills_each_field_from_its_label_wherever_the_label_sits() -> None:
    labels = ("u_unrelated", *(f"u_{name}" for name in reversed(values_of(ANN))))
    row = ("ignored", *reversed(values_of(ANN).values()))
    assert picker(User, labels, "u_")(row) == ANN


def test_picker_refuses_a_field_without_a_label_before_any_row() -> None:
    labels = [f"u_{name}" for name in values_of(ANN) if name != "nudge_opt_out"]
    with pytest.raises(KeyError, match="nudge_opt_out"):
        picker(User, labels, "u_")


def test_contenders_are_built_in_the_field_order_to_standings_passes() -> None:
    """`to_standings` builds each Contender positionally (a big group's hot loop): a reordered field fails here."""
    assert Contender._fields == ("user_id", "name", "timezone", "joined_on", "latest", "tasks", "pauses")


def test_from_object_follows_names_not_the_order_of_fields() -> None:
    @dataclass(frozen=True)
    class Reordered:  # the User fields in another order: positional filling would shift every value
        nudge_opt_out: bool
        reading_day: int
        display_name: str
        id: int

    row = UserRow(**values_of(ANN))
    assert from_object(Reordered, row, USER_COLUMNS) == Reordered(True, 3, "Ann", 1)


def test_to_user_and_to_chat_read_each_field_from_its_column() -> None:
    assert to_user(UserRow(**values_of(ANN))) == ANN
    chat = Chat(4, "telegram", "-100", "group", "Group", "en", "Europe/Berlin", time(9), time(18), 2, False)
    assert to_chat(ChatRow(**values_of(chat))) == chat


def test_streak_rows_map_fields_to_differently_named_columns_both_ways() -> None:
    row = _row(7, STATE)
    assert (row.user_id, row.local_date, row.run_days, row.frozen_date) == (7, STATE.on, 5, STATE.frozen)
    assert to_state(StreakDayRow(**{c.key: getattr(row, c.key) for c in STATE_COLUMNS.values()})) == STATE


def test_hot_reads_label_every_column_by_its_field() -> None:
    assert list(_USER_BY_ID.selected_columns.keys()) == list(USER_COLUMNS)
    assert list(_CHAT_BY_ID.selected_columns.keys()) == list(CHAT_COLUMNS)
    roster = list(_ROSTER.selected_columns.keys())
    assert roster == ["joined_on", *(f"u_{n}" for n in USER_COLUMNS), *(f"s_{n}" for n in STATE_COLUMNS)]
    assert list(_ROSTER_PAUSES.selected_columns.keys()) == ["user_id", "pause_start", "pause_end"]


def test_the_streak_window_gives_pauses_their_own_columns() -> None:
    window = list(_STREAK_WINDOW.selected_columns.keys())
    assert window == ["pause_start", "pause_end", *(f"s_{n}" for n in STATE_COLUMNS)]
    assert "is_pause" not in window and "frozen_date" not in window


def window_row(state: DayState | None = None, pause: PauseSpan | None = None) -> dict[str, Any]:
    row = {f"s_{name}": getattr(state, name) if state else None for name in STATE_COLUMNS}
    return row | {"pause_start": pause.start if pause else None, "pause_end": pause.end if pause else None}


def as_window_result(row: dict[str, Any]) -> tuple[Any, ...]:
    """The row as `_STREAK_WINDOW` returns it: values in the order of its labels."""
    return tuple(row[label] for label in _STREAK_WINDOW.selected_columns.keys())


@pytest.mark.parametrize("pauses_first", [True, False])  # NULLs sort first on SQLite, last on PostgreSQL
def test_to_window_splits_pause_rows_from_state_rows(pauses_first: bool) -> None:
    since = date(2026, 3, 8)
    before, inside = replace(STATE, on=date(2026, 3, 1)), STATE
    pauses = [PauseSpan(date(2026, 2, 1), date(2026, 2, 3)), PauseSpan(date(2026, 3, 10))]
    states = [window_row(before), window_row(inside)]
    paused = [window_row(pause=p) for p in pauses]
    rows = [as_window_result(row) for row in (paused + states if pauses_first else states + paused)]
    window = to_window(rows, since)
    assert window.pauses == tuple(pauses)
    assert window.run == RunDays.of(before, [inside])


def test_to_window_reads_the_run_the_full_states_give() -> None:
    """Only the latest row becomes a DayState: the dates read off the others must say what the states do."""
    rng = random.Random(5)
    start = date(2026, 3, 1)
    seen = {"frozen": 0, "base": 0}
    for _ in range(200):
        share = rng.random()  # of the days checked in: from none to nearly all, so runs earn and spend freezes
        days = [start + timedelta(days=n) for n in range(40) if rng.random() < share]
        states = replay(days)
        since = start + timedelta(days=rng.randrange(45))
        inside = [state for state in states if state.on >= since]
        before = [state for state in states if state.on < since]
        base = before[-1] if before else None
        rows = [as_window_result(window_row(state)) for state in ([base] if base else []) + inside]
        run = to_window(rows, since).run
        assert run == RunDays.of(base, inside)
        seen["frozen"] += bool(run.frozen)
        seen["base"] += base is not None
    assert min(seen.values()) > 20  # the histories had freezes inside the window and states before it


def test_to_member_reads_the_user_and_the_latest_state_by_prefix() -> None:
    user = {f"u_{name}": value for name, value in values_of(ANN).items()}
    pauses = {ANN.id: [PauseSpan(date(2026, 3, 1))]}
    member = to_member({"joined_on": date(2026, 3, 2), **user, **window_row(STATE)}, pauses)
    assert (member.user, member.joined_on, member.latest) == (ANN, date(2026, 3, 2), STATE)
    assert member.pauses == (PauseSpan(date(2026, 3, 1)),)
    assert to_member({"joined_on": date(2026, 3, 2), **user, **window_row()}, {}).latest is None
