"""/stats through the real core on a real database: the picture's cells follow real check-ins, a spent freeze,
a pause and missed days; Chinese users get the Chinese picture; drawing happens off the event loop."""

from __future__ import annotations

import io
import os
import threading
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.accountability import stats_picture, stats_view
from bot.accountability.stats_days import DayCell, window_start
from bot.accountability.stats_fonts import FONTS
from bot.accountability.stats_picture import Drawing, PlanPlace, StatsData, draw_stats
from bot.core.clock import ManualClock
from bot.core.types import Lang
from tests.support import Chatter

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only


def layout(today: date, lang: Lang) -> Drawing:
    """A picture with the same window and language: its cells sit where the real picture's do."""
    first = window_start(today, stats_view.STATS_WEEKS)
    cells = {first + timedelta(days=n): DayCell("missed") for n in range((today - first).days + 1)}
    return draw_stats(StatsData(first, today, cells, 0, 0, 0, 2, PlanPlace(None, 0), 140), lang)


def picture(replies: list) -> Image.Image:  # type: ignore[type-arg]
    reply = replies[0]
    assert reply.image is not None and reply.image.mime == "image/png"
    image = Image.open(io.BytesIO(reply.image.data))
    assert image.format == "PNG"
    return image.convert("RGB")


def colour_at(image: Image.Image, geometry: Drawing, day: date) -> tuple[int, int, int]:
    x0, y0, _x1, _y1 = geometry.cells[day]
    value = image.getpixel((x0 + 8, y0 + 8))
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


async def days_of_done(who: Chatter, clock: ManualClock, days: int) -> None:
    for _ in range(days):
        await who.say("/done")
        clock.advance(timedelta(days=1))


async def test_cells_follow_check_ins_freezes_pauses_and_missed_days(ann: Chatter, clock: ManualClock) -> None:
    assert "2026-11-29" in await ann.text("/start")  # a Sunday
    await days_of_done(ann, clock, 7)  # 29 Nov .. 5 Dec: the 7th counted day earns a freeze
    clock.advance(timedelta(days=1))  # 6 Dec missed ...
    assert "freeze covered the missed day 2026-12-06" in await ann.text("/done")  # ... and covered on 7 Dec
    clock.advance(timedelta(days=1))
    await ann.say("/pause")  # 8 Dec
    clock.advance(timedelta(days=3))
    await ann.say("/resume")  # 11 Dec
    await ann.say("/done 1")
    clock.advance(timedelta(days=3, hours=4))  # 14 Dec 13:00: 12 and 13 Dec missed, yesterday closed
    replies = await ann.say("/stats")
    image = picture(replies)
    today = date(2026, 12, 14)
    geometry = layout(today, "en")
    assert image.size[0] >= 1080 and image.size == geometry.image.size
    expected = {
        date(2026, 11, 28): stats_picture.BEFORE_START,
        date(2026, 11, 29): stats_picture.CHECKED[2],
        date(2026, 12, 6): stats_picture.FROZEN,
        date(2026, 12, 7): stats_picture.CHECKED[2],
        date(2026, 12, 9): stats_picture.PAUSED,
        date(2026, 12, 11): stats_picture.CHECKED[0],
        date(2026, 12, 12): stats_picture.MISSED,
        date(2026, 12, 13): stats_picture.MISSED,
        today: stats_picture.OPEN,
    }
    assert len(set(expected.values())) == 7  # before the start, 3 and 1 tasks, frozen, paused, missed, open
    assert {day: colour_at(image, geometry, day) for day in expected} == expected
    caption = replies[0].text.to_plain()
    assert "last 20 weeks" in caption and "13 of 140 days" in caption  # 3 paused days don't move the plan


async def test_a_chinese_user_gets_the_chinese_picture(li: Chatter, ann: Chatter) -> None:
    await li.say("/start")
    await li.say("/done")
    replies = await li.say("/stats")
    assert "最近 20 周的打卡" in replies[0].text.to_plain()
    image = picture(replies)
    today = date(2026, 11, 29)
    zh, en = layout(today, "zh"), layout(today, "en")
    title = (0, 0, 1080, zh.labels[1].box[3])  # the title and the date range: the same whatever the data
    assert image.crop(title).tobytes() == zh.image.crop(title).tobytes()
    if FONTS.fonts_for("zh").lang == "zh":
        assert zh.labels[0].text == "你的学习统计"
        assert image.crop(title).tobytes() != en.image.crop(title).tobytes()
    elif os.environ.get("CI"):
        pytest.fail("CI must install a CJK font (Debian: fonts-noto-cjk)")
    await ann.say("/start")
    english = picture(await ann.say("/stats"))
    english_title = (0, 0, 1080, en.labels[1].box[3])
    assert english.crop(english_title).tobytes() == en.image.crop(english_title).tobytes()


async def test_the_picture_is_drawn_off_the_event_loop(ann: Chatter, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = stats_picture.render_stats

    def recording(data: StatsData, lang: Lang) -> bytes:
        threads.append(threading.current_thread())
        return real(data, lang)

    monkeypatch.setattr(stats_view, "render_stats", recording)
    await ann.say("/stats")  # not enrolled: still a picture, with the plan not started
    assert threads and threads[0] is not threading.current_thread()
