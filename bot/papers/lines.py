"""The papers' line in a group's weekly recap; kept free of accountability imports so the recap can use it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date

from bot.core.markup import Rich, plain
from bot.i18n import Translator
from bot.papers.ports import PaperRepo


async def reading_lines(
    repo: PaperRepo, member_ids: Collection[int], since: date, until: date, _: Translator
) -> list[Rich]:
    """How many papers the members read in the dates and the most read one; nothing when none was read."""
    marks = await repo.reads(member_ids, since, until)
    if not marks:
        return []
    counts = Counter(m.arxiv_id for m in marks)
    top_id, top_n = min(counts.items(), key=lambda item: (-item[1], item[0]))
    paper = (await repo.get_papers([top_id])).get(top_id)
    title = paper.title if paper is not None else top_id
    line = _("Papers read this week: {n}; most read: “{title}” ({count})", n=len(marks), title=title, count=top_n)
    return [plain(line)]
