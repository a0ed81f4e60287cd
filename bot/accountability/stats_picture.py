"""The /stats picture, drawn with Pillow at phone size: the streak, a heatmap of 20 weeks of check-ins and the
plan's four phases with the learner's place in them.

It is 1080 px wide (a phone shows it at full width) with no text under 40 px, so every label stays readable
when the phone scales it down. Labels are in the user's language; Chinese needs a CJK font (see stats_fonts),
without one the labels fall back to English. /stats calls `render_stats` on a worker thread (drawing is CPU work).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date, get_day_names
from PIL import Image

from bot.accountability.board import streak_words
from bot.accountability.stats_canvas import Box, Canvas, Colour, Label
from bot.accountability.stats_days import DayCell
from bot.accountability.stats_fonts import FONTS, FontLibrary, Fonts
from bot.core.types import Lang
from bot.i18n import Translator, translator
from bot.plan.calendar import DAYS_PER_WEEK, Status
from bot.plan.loader import load_plan


@dataclass(frozen=True, slots=True)
class PlanPlace:
    """Where the learner is in the plan (`status` None: not enrolled)."""

    status: Status | None
    days_done: int  # plan days behind the learner, today included
    week: int = 1
    day: int = 1
    starts_on: date | None = None


@dataclass(frozen=True, slots=True)
class StatsData:
    """What the stats picture shows."""

    first_day: date  # a Monday, `weeks - 1` weeks before the current week's Monday
    today: date
    cells: dict[date, DayCell]  # every day from first_day to today
    current: int
    best: int
    freezes: int
    max_freezes: int
    place: PlanPlace
    plan_days: int


@dataclass(frozen=True, slots=True)
class Drawing:
    """A drawn picture with what tests need to check it: every label and the box of every heatmap cell."""

    image: Image.Image
    fonts: Fonts
    labels: list[Label]
    cells: dict[date, Box]


WIDTH = 1080
MARGIN = 48
TEXT = 40  # the smallest text: a phone shows 1080 px at about 400 points, so this is ~15 pt
HEADING = 46
TITLE = 58
ROW = 64
MAX_HEIGHT = 3000

BACKGROUND: Colour = (255, 255, 255)
INK: Colour = (33, 37, 41)
MUTED: Colour = (96, 103, 112)
RULE: Colour = (222, 226, 230)
CHECKED: tuple[Colour, ...] = ((172, 230, 180), (72, 190, 100), (26, 117, 52))  # 1, 2, 3 tasks
MISSED: Colour = (244, 176, 176)
BEFORE_START: Colour = (238, 240, 243)
PAUSED: Colour = (168, 178, 196)
FROZEN: Colour = (96, 178, 238)
OPEN: Colour = (255, 255, 255)
MARK: Colour = (255, 255, 255)
# No red among the phases: faded, it would read as the missed days' pink.
PHASE_COLOURS: tuple[Colour, ...] = ((99, 110, 250), (240, 160, 30), (0, 184, 140), (171, 99, 250))


def render_stats(data: StatsData, lang: Lang, library: FontLibrary = FONTS) -> bytes:
    """The picture as PNG bytes (zlib's default level: `optimize` made it 3% smaller and the save 15x slower)."""
    out = io.BytesIO()
    draw_stats(data, lang, library).image.save(out, format="PNG")
    return out.getvalue()


def draw_stats(data: StatsData, lang: Lang, library: FontLibrary = FONTS) -> Drawing:
    fonts = library.fonts_for(lang)
    _ = translator(fonts.lang)
    canvas = Canvas(WIDTH, MAX_HEIGHT, fonts, BACKGROUND)
    y = MARGIN
    canvas.text((MARGIN, y), _("Your study stats"), TITLE, INK, bold=True)
    y += canvas.line_height(TITLE, bold=True)
    span = _(
        "{first} to {last}",
        first=format_date(data.first_day, "medium", locale=fonts.lang),
        last=format_date(data.today, "medium", locale=fonts.lang),
    )
    canvas.text((MARGIN, y), span, TEXT, MUTED)
    y += canvas.line_height(TEXT) + 24
    y = _table(
        canvas,
        y,
        [
            (_("Current streak"), streak_words(_, data.current)),
            (_("Best streak"), streak_words(_, data.best)),
            (_("Freezes held"), _("{held} of {most}", held=data.freezes, most=data.max_freezes)),
        ],
    )
    y += 40
    canvas.text((MARGIN, y), _("Check-ins, last {weeks} weeks", weeks=_weeks(data)), HEADING, INK, bold=True)
    y += canvas.line_height(HEADING, bold=True) + 8
    cells, y = _heatmap(canvas, y, data, fonts.lang)
    y = _legend(canvas, y + 28, _)
    checked = [cell for cell in data.cells.values() if cell.mark == "checked"]
    y = _table(
        canvas,
        y + 24,
        [
            (_("Days checked in"), streak_words(_, len(checked))),
            (_("Tasks done"), str(sum(cell.tasks for cell in checked))),
        ],
    )
    y = _plan(canvas, y + 40, data, _, fonts.lang)
    return Drawing(canvas.cropped(y + MARGIN), fonts, canvas.labels, cells)


def _weeks(data: StatsData) -> int:
    return (data.today - data.first_day).days // DAYS_PER_WEEK + 1


def _table(canvas: Canvas, y: int, rows: list[tuple[str, str]]) -> int:
    """Label on the left, value on the right, a thin rule under each row."""
    for label, value in rows:
        middle = y + ROW // 2
        canvas.text((MARGIN, middle), label, TEXT, MUTED, anchor="lm")
        canvas.text((WIDTH - MARGIN, middle), value, TEXT, INK, bold=True, anchor="rm")
        y += ROW
        canvas.draw.line((MARGIN, y, WIDTH - MARGIN, y), fill=RULE, width=2)
    return y


def _cell_colour(cell: DayCell) -> Colour:
    match cell.mark:
        case "checked":
            return CHECKED[min(max(cell.tasks, 1), len(CHECKED)) - 1]
        case "missed":
            return MISSED
        case "paused":
            return PAUSED
        case "frozen":
            return FROZEN
        case "open":
            return OPEN
        case _:
            return BEFORE_START


def _draw_cell(canvas: Canvas, box: Box, cell: DayCell, today: bool = False) -> None:
    """A day's square; paused days carry a pause sign and frozen days a snowflake, so colour is not the only cue."""
    x0, y0, x1, y1 = box
    draw = canvas.draw
    draw.rounded_rectangle(box, radius=6, fill=_cell_colour(cell), outline=MUTED if cell.mark == "open" else None)
    size = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if cell.mark == "paused":
        bar_w, bar_h = max(size // 8, 3), size // 2
        for dx in (-size / 6, size / 6):
            draw.rectangle((cx + dx - bar_w / 2, cy - bar_h / 2, cx + dx + bar_w / 2, cy + bar_h / 2), fill=MARK)
    elif cell.mark == "frozen":
        arm = size * 0.3
        for dx, dy in ((0, 1), (0.866, 0.5), (0.866, -0.5)):
            draw.line((cx - arm * dx, cy - arm * dy, cx + arm * dx, cy + arm * dy), fill=MARK, width=3)
    if today:
        draw.rounded_rectangle((x0 - 4, y0 - 4, x1 + 4, y1 + 4), radius=8, outline=INK, width=3)


def _heatmap(canvas: Canvas, top: int, data: StatsData, lang: Lang) -> tuple[dict[date, Box], int]:
    """One column per week (Monday at the top), month names above, weekday names on the left."""
    day_names = get_day_names("abbreviated", locale=lang)
    shown_rows = (0, 2, 4)  # Mon, Wed, Fri, as calendars do: every row labelled would crowd the column
    label_width = max(canvas.measure(day_names[row], TEXT) for row in shown_rows) + 20
    weeks = _weeks(data)
    pitch = (WIDTH - 2 * MARGIN - label_width) // weeks
    size = pitch - 6
    left = WIDTH - MARGIN - weeks * pitch + 6
    grid_top = top + TEXT + 16
    boxes: dict[date, Box] = {}
    months: list[tuple[int, str]] = []  # (x, name) where a month's first week starts
    for week in range(weeks):
        x = left + week * pitch
        monday = data.first_day + timedelta(days=DAYS_PER_WEEK * week)
        sunday = monday + timedelta(days=DAYS_PER_WEEK - 1)
        if week == 0 or sunday.month != (sunday - timedelta(days=DAYS_PER_WEEK)).month:
            name = format_date(sunday, "LLL", locale=lang)
            months.append((min(x, WIDTH - MARGIN - canvas.measure(name, TEXT)), name))  # the last stays inside
        for weekday in range(DAYS_PER_WEEK):
            day = monday + timedelta(days=weekday)
            if day > data.today:
                continue
            y = grid_top + weekday * pitch
            box = (x, y, x + size, y + size)
            boxes[day] = box
            _draw_cell(canvas, box, data.cells.get(day, DayCell("before_start")), today=day == data.today)
    if len(months) > 1 and months[0][0] + canvas.measure(months[0][1], TEXT) + 16 > months[1][0]:
        months.pop(0)  # the window's first, partial month gives way to the next month's name
    last_label_end = -1
    for x, name in months:
        if x > last_label_end + 16:
            last_label_end = canvas.text((x, grid_top - 16), name, TEXT, MUTED, anchor="ls")[2]
    for row in shown_rows:
        canvas.text((MARGIN, grid_top + row * pitch + size / 2), day_names[row], TEXT, MUTED, anchor="lm")
    return boxes, grid_top + DAYS_PER_WEEK * pitch - 6


def _legend(canvas: Canvas, top: int, _: Translator) -> int:
    """What the cell colours and marks mean, flowed over as many lines as the language needs."""
    swatch, step = 40, 48
    items: list[tuple[list[DayCell | None], str]] = [  # None: the ring that marks today, around nothing
        ([DayCell("checked", n) for n in (1, 2, 3)], _("1, 2 or 3 tasks")),
        ([DayCell("missed")], _("Missed")),
        ([DayCell("frozen")], _("Frozen (a freeze covered it)")),
        ([DayCell("paused")], _("Paused")),
        ([DayCell("before_start")], _("Before your start")),
        ([DayCell("open")], _("Still open for a check-in")),
        ([None], _("Today")),
    ]
    x, y = MARGIN, top
    for cells, text in items:
        label_x = len(cells) * step + 6
        if x > MARGIN and x + label_x + canvas.measure(text, TEXT) > WIDTH - MARGIN:
            x, y = MARGIN, y + ROW
        for index, cell in enumerate(cells):
            box = (x + index * step, y + 8, x + index * step + swatch, y + 8 + swatch)
            if cell is None:
                canvas.draw.rounded_rectangle(box, radius=8, outline=INK, width=3)
            else:
                _draw_cell(canvas, box, cell)
        canvas.text((x + label_x, y + 8 + swatch / 2), text, TEXT, INK, anchor="lm")
        x += label_x + canvas.measure(text, TEXT) + 36
    return y + ROW


def _place_line(_: Translator, data: StatsData) -> str:
    place = data.place
    progress = _("day {done} of {total}", done=place.days_done, total=data.plan_days)
    match place.status:
        case None:
            return _("Not started yet: send /start")
        case "upcoming":
            return _("Starts on {date}", date=place.starts_on.isoformat() if place.starts_on else "")
        case "complete":
            return _("Plan complete: {progress}", progress=progress)
        case "paused":
            return _("Paused in week {week}, day {day}: {progress}", week=place.week, day=place.day, progress=progress)
        case _:
            return _("Week {week}, day {day}: {progress}", week=place.week, day=place.day, progress=progress)


def _faded(colour: Colour, amount: float = 0.72) -> Colour:
    r, g, b = (int(c + (255 - c) * amount) for c in colour)
    return r, g, b


def _plan(canvas: Canvas, y: int, data: StatsData, _: Translator, lang: Lang) -> int:
    """The plan as one bar split into its phases, filled up to the learner's day, and the phases listed below."""
    phases = load_plan(lang).phases
    canvas.text((MARGIN, y), _("Plan progress"), HEADING, INK, bold=True)
    y += canvas.line_height(HEADING, bold=True) + 4
    canvas.text((MARGIN, y), _place_line(_, data), TEXT, INK)
    y += canvas.line_height(TEXT) + 36
    span = WIDTH - 2 * MARGIN
    total_weeks = data.plan_days / DAYS_PER_WEEK
    done = data.place.days_done
    done_x = MARGIN + span * done / data.plan_days
    bar_height = 48
    for index, phase in enumerate(phases):
        x0 = MARGIN + span * (phase.first_week - 1) / total_weeks
        x1 = MARGIN + span * phase.last_week / total_weeks - 6
        colour = PHASE_COLOURS[index % len(PHASE_COLOURS)]
        canvas.draw.rounded_rectangle((x0, y, x1, y + bar_height), radius=8, fill=_faded(colour))
        if done_x > x0:
            canvas.draw.rounded_rectangle((x0, y, min(done_x, x1), y + bar_height), radius=8, fill=colour)
    if data.place.status is not None and done > 0:
        canvas.draw.polygon([(done_x - 14, y - 22), (done_x + 14, y - 22), (done_x, y - 4)], fill=INK)
        canvas.draw.line((done_x, y - 4, done_x, y + bar_height + 4), fill=INK, width=4)
    y += bar_height + 32
    for index, phase in enumerate(phases):
        first_day, last_day = (phase.first_week - 1) * DAYS_PER_WEEK, phase.last_week * DAYS_PER_WEEK
        here = data.place.status in ("active", "paused") and first_day < done <= last_day
        finished = done >= last_day
        colour = PHASE_COLOURS[index % len(PHASE_COLOURS)]
        canvas.draw.rounded_rectangle(
            (MARGIN, y + 4, MARGIN + 36, y + 40), radius=6, fill=colour if here or finished else _faded(colour)
        )
        text_x = MARGIN + 56
        head = canvas.text((text_x, y), phase.label, TEXT, INK, bold=here)
        weeks = _("weeks {first}-{last}", first=phase.first_week, last=phase.last_week)
        canvas.text((head[2] + 20, y), weeks, TEXT, MUTED)
        state = _("you are here") if here else _("done") if finished else ""
        if state:
            canvas.text((WIDTH - MARGIN, y), state, TEXT, INK, bold=here, anchor="ra")
        y += canvas.line_height(TEXT)
        canvas.text((text_x, y), canvas.fit(phase.title, TEXT, WIDTH - MARGIN - text_x), TEXT, MUTED)
        y += canvas.line_height(TEXT) + 24
    return y
