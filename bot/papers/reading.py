"""/reading: the papers read this week and the weekly reading slot's state.

"This week" is the learner's local Monday to today, the week the plan's reading slot belongs to.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.accountability.board import learner_day
from bot.core.context import Context
from bot.core.markup import Rich, bold, join, link, plain
from bot.core.registry import Registry
from bot.core.replies import weekday_name
from bot.core.types import Reply
from bot.papers.ports import PAPERS


def week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


async def reading(ctx: Context) -> Reply:
    _ = ctx._
    repo = ctx.port(PAPERS)
    today, _grace = learner_day(ctx.services.clock, ctx.user)
    marks = await repo.reads([ctx.user.id], week_start(today), today)
    papers = await repo.get_papers([m.arxiv_id for m in marks]) if marks else {}
    lines: list[Rich] = [bold(_("Your reading this week (from {date})", date=week_start(today).isoformat()))]
    if marks:
        lines.append(plain(_("Reading slot: done ✓ ({count} read)", count=len(marks))))
        for mark in marks:
            paper = papers.get(mark.arxiv_id)
            title = paper.title if paper is not None else mark.arxiv_id
            url = paper.link if paper is not None else f"https://arxiv.org/abs/{mark.arxiv_id}"
            day = weekday_name(ctx.lang, mark.read_on.weekday()) if mark.read_on else ""
            lines.append(plain("• ") + link(title, url) + plain(f" ({day})"))
    else:
        lines.append(
            plain(
                _(
                    "Reading slot: open (your reading day: {day}). Mark a paper read with ✓ in /papers or /read ID.",
                    day=weekday_name(ctx.lang, ctx.user.reading_day),
                )
            )
        )
    return Reply(join(lines), ephemeral=ctx.in_group)


def register(registry: Registry) -> None:
    en, zh = "This week's reading: papers read, the slot's state", "本周阅读：已读论文和阅读打卡状态"
    registry.command("reading", en=en, zh=zh)(reading)
