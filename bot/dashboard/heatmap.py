"""Check-in heatmaps as the pages draw them: one cell per member (or learner) and local date.

Each state has its own symbol and words as well as its colour, so the map reads without colour too
(colour-blind readers, a black-and-white print, a screen reader reading the cell's title).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.accountability.daily import ALL_TASKS
from bot.accountability.streaks import task_count
from bot.core.types import Lang, PauseSpan
from bot.i18n import Translator
from bot.plan.calendar import is_paused_on

CellState = Literal["done", "partial", "frozen", "missed", "open", "paused", "future", "before"]
SHORT_WEEKDAYS: Mapping[Lang, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
SYMBOLS: Mapping[CellState, str] = {
    "done": "✓",
    "partial": "◐",
    "frozen": "❄",
    "missed": "✗",
    "open": "·",
    "paused": "‖",  # in every common font (⏸ is missing from many)
    "future": "",
    "before": "–",
}


@dataclass(frozen=True, slots=True)
class Cell:
    on: date
    state: CellState
    tasks: int  # tasks checked in that day (0-3)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.state]


@dataclass(frozen=True, slots=True)
class Days:
    """What a row's days are measured against: today, the first day still open for a check-in (yesterday
    before noon), and the first day that can be missed at all (a start, a joining)."""

    today: date
    open_from: date
    first: date | None = None


def cell_state(on: date, mask: int, days: Days, pauses: Sequence[PauseSpan], frozen: Collection[date]) -> CellState:
    if on > days.today:
        return "future"
    if mask:
        return "done" if mask & ALL_TASKS == ALL_TASKS else "partial"
    if on in frozen:
        return "frozen"
    if is_paused_on(pauses, on):
        return "paused"
    if days.first is not None and on < days.first:
        return "before"
    return "open" if on >= days.open_from else "missed"


def row(
    dates: Sequence[date],
    masks: Mapping[date, int],
    days: Days,
    pauses: Sequence[PauseSpan] = (),
    frozen: Collection[date] = (),
) -> list[Cell]:
    return [Cell(d, cell_state(d, masks.get(d, 0), days, pauses, frozen), task_count(masks.get(d, 0))) for d in dates]


def state_words(_: Translator, before: str) -> dict[CellState, str]:
    """The legend, and each cell's title; `before` says what the days before the first one are."""
    return {
        "done": _("all three tasks checked in"),
        "partial": _("some tasks checked in"),
        "frozen": _("frozen: a single missed day covered by a freeze"),
        "missed": _("missed"),
        "open": _("today, not checked in yet"),
        "paused": _("paused"),
        "future": _("still to come"),
        "before": before,
    }
