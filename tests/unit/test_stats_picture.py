"""The /stats picture: phone size, readable text, Chinese drawn with a CJK font (English when there is none),
and a different cell for every kind of day."""

from __future__ import annotations

import functools
import io
import logging
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import Image

from bot.accountability.stats_canvas import Label
from bot.accountability.stats_days import DayCell, window_start
from bot.accountability.stats_fonts import FONTS, Face, FontLibrary
from bot.accountability.stats_picture import Drawing, PlanPlace, StatsData, draw_stats, render_stats

TODAY = date(2026, 11, 25)  # a Wednesday: the last column is part-filled
FIRST = window_start(TODAY, 20)
START = date(2026, 9, 7)
# One day of every kind, at known places in the grid.
KNOWN: dict[date, DayCell] = {
    date(2026, 9, 1): DayCell("before_start"),
    date(2026, 9, 8): DayCell("missed"),
    date(2026, 9, 15): DayCell("paused"),
    date(2026, 9, 16): DayCell("frozen"),
    date(2026, 9, 17): DayCell("checked", 1),
    date(2026, 9, 18): DayCell("checked", 2),
    date(2026, 9, 19): DayCell("checked", 3),
    TODAY: DayCell("open"),
}
MIN_TEXT = 28


def sample() -> StatsData:
    cells: dict[date, DayCell] = {}
    day = FIRST
    while day <= TODAY:
        cells[day] = KNOWN.get(day, DayCell("before_start" if day < START else "checked", 2))
        day += timedelta(days=1)
    return StatsData(FIRST, TODAY, cells, 5, 12, 1, 2, PlanPlace("active", 80, week=12, day=3), plan_days=140)


def has_cjk_font() -> bool:
    return FONTS.fonts_for("zh").lang == "zh"


def need_cjk_font() -> None:
    if not has_cjk_font():
        if os.environ.get("CI"):
            pytest.fail("CI must install a CJK font (Debian: fonts-noto-cjk)")
        pytest.skip("no CJK font installed here (Debian: apt-get install fonts-noto-cjk)")


def dark_rows_and_columns(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[list[bool], list[bool]]:
    """Which pixel rows and columns of the box hold ink (anything clearly darker than the white background)."""
    grey = image.crop(box).convert("L")
    width, height = grey.size
    dark = [value < 200 for value in grey.tobytes()]
    rows = [any(dark[y * width : (y + 1) * width]) for y in range(height)]
    columns = [any(dark[x::width]) for x in range(width)]
    return rows, columns


def ink_rows(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(dark_rows_and_columns(image, box)[0])


@functools.cache
def cmap_of(face: Face) -> frozenset[int]:
    """The code points a face has glyphs for; read once per face (a CJK font's table takes ~0.1 s)."""
    assert face.path is not None
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    return frozenset(font.getBestCmap())


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def label(drawing: Drawing, text: str) -> Label:
    return next(found for found in drawing.labels if found.text == text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_phone_size_and_no_small_text(lang: str) -> None:
    if lang == "zh":
        need_cjk_font()
    drawing = draw_stats(sample(), lang)  # type: ignore[arg-type]
    width, height = drawing.image.size
    assert width >= 1080 and height > width  # a portrait phone picture
    assert len(drawing.labels) > 40
    for drawn in drawing.labels:
        assert drawn.size >= MIN_TEXT, drawn
        top, bottom = drawn.box[1], drawn.box[3]
        assert bottom - top >= MIN_TEXT, drawn  # the rendered box, not just the requested size
    # The pixels agree with the record: the smallest labels really are that tall in the picture.
    title = drawing.labels[0]
    assert ink_rows(drawing.image, title.box) >= MIN_TEXT
    weekday = min(drawing.labels, key=lambda drawn: drawn.box[3] - drawn.box[1])
    assert ink_rows(drawing.image, weekday.box) >= MIN_TEXT
    png = render_stats(sample(), lang)  # type: ignore[arg-type]
    assert Image.open(io.BytesIO(png)).size == (width, height)


def test_spaces_survive_in_english_labels() -> None:
    """The old bitmap font dropped spaces ("dayschecked in"); a scalable font keeps the gap between words."""
    drawing = draw_stats(sample(), "en")
    _rows, columns = dark_rows_and_columns(drawing.image, label(drawing, "Days checked in").box)
    gaps, width = [], 0
    for inked in columns:
        if inked and width:
            gaps.append(width)
        width = 0 if inked else width + 1
    wide = [gap for gap in gaps if gap >= 12]  # a space at 40 px leaves 17-20 px; letters sit 4-8 px apart
    assert len(wide) == 2, gaps  # the two spaces of the three words


def test_chinese_labels_are_drawn_with_a_font_that_has_their_glyphs() -> None:
    need_cjk_font()
    drawing = draw_stats(sample(), "zh")
    assert drawing.fonts.lang == "zh"
    texts = [drawn.text for drawn in drawing.labels]
    assert "你的学习统计" in texts and "当前连续打卡" in texts and "第二阶段" in texts
    for drawn in drawing.labels:
        cmap = cmap_of(drawn.face)
        missing = [ch for ch in drawn.text if not ch.isspace() and ord(ch) not in cmap]
        assert not missing, (drawn.text, drawn.face.name, missing)
    assert sum(chinese(text) for text in texts) > 20
    # The check can fail: the Latin font would not have drawn the same labels.
    latin = FONTS.fonts_for("en").regular
    if latin.path is not None:
        assert ord("你") not in cmap_of(latin)


def test_without_a_cjk_font_chinese_falls_back_to_english_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "not-a-font.ttc"
    broken.write_bytes(b"this is not a font")
    library = FontLibrary(cjk=[(tmp_path / "missing.ttc", tmp_path / "missing-bold.ttc"), (broken, broken)])
    with caplog.at_level(logging.WARNING, logger="bot.accountability.stats_fonts"):
        first = draw_stats(sample(), "zh", library)
        second = draw_stats(sample(), "zh", library)
        english = draw_stats(sample(), "en", library)
    for drawing in (first, second):
        assert drawing.fonts.lang == "en"
        texts = [drawn.text for drawn in drawing.labels]
        assert "Your study stats" in texts and "Phase 2" in texts
        assert not any(chinese(text) for text in texts)
    assert english.fonts.lang == "en"
    warnings = [record for record in caplog.records if "No CJK font" in record.getMessage()]
    assert len(warnings) == 1
    assert "fonts-noto-cjk" in warnings[0].getMessage()


def test_without_any_font_file_pillows_scalable_font_draws_english(tmp_path: Path) -> None:
    library = FontLibrary(cjk=[], latin=[(tmp_path / "a.ttf", tmp_path / "b.ttf")])
    drawing = draw_stats(sample(), "en", library)
    assert drawing.fonts.regular.path is None
    assert all(drawn.size >= MIN_TEXT and drawn.box[3] - drawn.box[1] >= MIN_TEXT for drawn in drawing.labels)


def pixel(drawing: Drawing, day: date) -> tuple[int, int, int]:
    """A pixel inside the cell, clear of its rounded corner and of the pause/snowflake marks at its centre."""
    x0, y0, _x1, _y1 = drawing.cells[day]
    value = drawing.image.getpixel((x0 + 8, y0 + 8))
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


def marked_pixels(drawing: Drawing, day: date) -> int:
    """White pixels inside the cell (clear of its rounded corners): the pause sign or the snowflake."""
    x0, y0, x1, y1 = drawing.cells[day]
    inner = drawing.image.crop((x0 + 6, y0 + 6, x1 - 6, y1 - 6)).convert("L")
    histogram = inner.histogram()
    return sum(histogram[250:])


def test_every_kind_of_day_gets_its_own_cell() -> None:
    drawing = draw_stats(sample(), "en")
    colours = {day: pixel(drawing, day) for day in KNOWN}
    assert len(set(colours.values())) == len(KNOWN), colours  # all different
    background = drawing.image.getpixel((2, 2))
    assert colours[date(2026, 9, 1)] != background  # before the start is drawn, just paler than a missed day
    # Paused and frozen days carry a mark (not colour alone): the centre differs from the fill.
    for day in (date(2026, 9, 15), date(2026, 9, 16)):
        assert marked_pixels(drawing, day) > 20
    for day in (date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 17)):
        assert marked_pixels(drawing, day) == 0
    # Darker green for more tasks.
    greens = [sum(colours[date(2026, 9, d)]) for d in (17, 18, 19)]
    assert greens == sorted(greens, reverse=True)
    # No cell after today, and every day up to today has one.
    assert max(drawing.cells) == TODAY and min(drawing.cells) == FIRST
    assert len(drawing.cells) == (TODAY - FIRST).days + 1


@pytest.mark.parametrize(
    ("place", "line"),
    [
        (PlanPlace(None, 0), "Not started yet: send /start"),
        (PlanPlace("upcoming", 0, starts_on=date(2026, 12, 1)), "Starts on 2026-12-01"),
        (PlanPlace("paused", 30, week=5, day=2), "Paused in week 5, day 2: day 30 of 140"),
        (PlanPlace("complete", 140, week=21, day=1), "Plan complete: day 140 of 140"),
    ],
)
def test_the_plan_line_says_where_the_learner_is(place: PlanPlace, line: str) -> None:
    data = sample()
    data = StatsData(data.first_day, data.today, data.cells, 0, 0, 0, 2, place, data.plan_days)
    texts = [drawn.text for drawn in draw_stats(data, "en").labels]
    assert line in texts
    assert ("you are here" in texts) == (place.status == "paused")
