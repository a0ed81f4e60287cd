"""The /stats picture, drawn with Pillow: a GitHub-style heatmap of 20 weeks of check-ins and a phase bar.

/stats calls it on a worker thread (drawing is CPU work). Labels are ASCII (dates, numbers, P1..P4) because a server
can't be relied on to have CJK fonts; the translated explanation travels as the reply's caption.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFont

from bot.accountability.streaks import task_count


@dataclass(frozen=True, slots=True)
class StatsData:
    """What the stats picture shows."""

    first_day: date  # a Monday, 20 weeks before the current week's Monday
    today: date
    tasks_by_day: dict[date, int]
    phases: tuple[tuple[int, int, int], ...]  # (number, first week, last week)
    plan_days_done: int  # 0..140
    plan_days: int


WIDTH, HEIGHT = 900, 320
CELL, GAP = 16, 3
LEFT, TOP = 60, 40
BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
MUTED = (150, 150, 150)
LEVELS = ((235, 237, 240), (155, 233, 168), (64, 196, 99), (33, 110, 57))  # 0..3 tasks
FUTURE = (250, 250, 250)
PHASE_COLOURS = ((99, 110, 250), (239, 85, 59), (0, 204, 150), (171, 99, 250))
WEEKDAY_LABELS = ("Mon", "", "Wed", "", "Fri", "", "Sun")


def render_stats(data: StatsData) -> bytes:
    """A 900x320 PNG: one column per week (Monday at the top), one cell per day, darker = more tasks."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((LEFT, 10), f"Check-ins {data.first_day.isoformat()} .. {data.today.isoformat()}", fill=INK, font=font)
    for row, label in enumerate(WEEKDAY_LABELS):
        if label:
            draw.text((18, TOP + row * (CELL + GAP) + 2), label, fill=MUTED, font=font)
    weeks = (data.today - data.first_day).days // 7 + 1
    total_days = total_tasks = 0
    for week in range(weeks):
        x = LEFT + week * (CELL + GAP)
        monday = data.first_day + timedelta(days=7 * week)
        if monday.day <= 7:
            draw.text((x, TOP + 7 * (CELL + GAP) + 2), monday.strftime("%b"), fill=MUTED, font=font)
        for weekday in range(7):
            day = monday + timedelta(days=weekday)
            tasks = task_count(data.tasks_by_day.get(day, 0))
            total_days += tasks > 0
            total_tasks += tasks
            colour = FUTURE if day > data.today else LEVELS[tasks]
            y = TOP + weekday * (CELL + GAP)
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour)
    legend_x = LEFT + weeks * (CELL + GAP) + 30
    draw.text((legend_x, TOP), f"days checked in: {total_days}", fill=INK, font=font)
    draw.text((legend_x, TOP + 20), f"tasks done: {total_tasks}", fill=INK, font=font)
    for level, colour in enumerate(LEVELS):
        y = TOP + 50 + level * (CELL + GAP)
        draw.rectangle((legend_x, y, legend_x + CELL - 1, y + CELL - 1), fill=colour)
        draw.text((legend_x + CELL + 8, y + 2), f"{level} task{'s' if level != 1 else ''}", fill=MUTED, font=font)
    _phase_bar(draw, font, data)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _phase_bar(draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, data: StatsData) -> None:
    """The plan as one bar split into its four phases; the filled part is the days behind the learner."""
    top, height = 230, 28
    left, right = LEFT, WIDTH - 40
    span = right - left
    total_weeks = data.plan_days / 7
    draw.text((left, top - 22), f"Plan progress: day {data.plan_days_done} of {data.plan_days}", fill=INK, font=font)
    done_x = left + span * data.plan_days_done / data.plan_days
    for index, (number, first, last) in enumerate(data.phases):
        x0 = left + span * (first - 1) / total_weeks
        x1 = left + span * last / total_weeks
        colour = PHASE_COLOURS[index % len(PHASE_COLOURS)]
        faded = tuple(int(c + (255 - c) * 0.75) for c in colour)
        draw.rectangle((x0, top, x1 - 2, top + height), fill=faded)
        if done_x > x0:
            draw.rectangle((x0, top, min(done_x, x1 - 2), top + height), fill=colour)
        draw.text((x0 + 4, top + height + 6), f"P{number}: weeks {first}-{last}", fill=INK, font=font)
    draw.line((done_x, top - 4, done_x, top + height + 4), fill=INK, width=2)
