"""Heatmap cells: every state tells itself apart by symbol and words, not by colour alone."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.types import PauseSpan
from bot.dashboard.heatmap import SYMBOLS, Days, cell_state, row, state_words
from bot.i18n import translator

MON = date(2026, 11, 30)


def test_each_day_gets_its_state() -> None:
    days = [MON + timedelta(days=i) for i in range(7)]
    masks = {days[1]: 0b111, days[2]: 0b010, days[6]: 0b111}
    pauses = (PauseSpan(days[3], days[4]),)
    cells = row(days, masks, Days(today=days[5], open_from=days[4], first=days[1]), pauses, frozen={days[4]})
    assert [c.state for c in cells] == ["before", "done", "partial", "paused", "frozen", "open", "future"]
    assert [c.tasks for c in cells] == [
        0,
        3,
        1,
        0,
        0,
        0,
        3,
    ]  # a future day's check-in can't exist; counted all the same


def test_a_past_day_without_a_check_in_is_missed() -> None:
    assert cell_state(MON, 0, Days(MON + timedelta(days=2), MON + timedelta(days=2)), (), ()) == "missed"
    assert cell_state(MON, 0, Days(MON + timedelta(days=1), MON), (), ()) == "open"  # yesterday before noon


def test_states_differ_without_colour() -> None:
    visible = [symbol for state, symbol in SYMBOLS.items() if state != "future"]
    assert len(set(visible)) == len(visible) and all(visible)
    for lang in ("en", "zh"):
        words = state_words(translator(lang), before="x")
        assert len(set(words.values())) == len(words) and set(words) == set(SYMBOLS)
    assert state_words(translator("zh"), before="x")["done"] == "三项任务都已打卡"
