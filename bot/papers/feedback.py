"""Feedback on papers: /like /dislike /read /unread /paper, and the 👍 / 👎 / ✓ buttons (`pl:`, `pd:`, `pr:`
followed by the arXiv id) under every listed paper. Commands set a mark; a button toggles it (pressing
again undoes). Marks are the sender's own, also in a group.

Marking a paper read checks in the plan's weekly reading slot through the accountability port: the
day counts for the streak like /done. The slot is task bit READING_TASK (the fourth bit, past the three
daily tasks), so /top, task counts and the stats picture, which count the three daily bits, are unchanged.
/unread takes the mark back but not the day's check-in (/undo does that, as for /done).
"""

from __future__ import annotations

import re

from bot.accountability.board import learner_day, streak_words
from bot.accountability.ports import ACCOUNTABILITY, GroupJoin
from bot.accountability.streaks import standing
from bot.core.context import Context
from bot.core.markup import Rich, bold, italic, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Reply, SubjectRef
from bot.papers.ports import PAPERS, Feedback, Paper, Vote
from bot.papers.ranking import DISLIKE_ACTION, LIKE_ACTION, READ_ACTION, feedback_buttons, paper_head, paper_meta
from bot.plan.calendar import is_paused_on

READING_TASK = 0b1000  # the weekly reading slot's bit in a check-in's task mask (bits 0-2: the daily tasks)
MAX_ID_CHARS = 40
_NEW_STYLE = re.compile(r"\d{4}\.\d{4,5}")
_OLD_STYLE = re.compile(r"[a-z][a-z-]*(\.[A-Za-z]{2})?/\d{7}")
_VERSION = re.compile(r"v\d+$")
_PREFIX = re.compile(r"^(arxiv:|https?://arxiv\.org/(abs|pdf)/)", re.I)

ID_ARG = ArgSpec(
    "ID",
    "text",
    {"en": "an arXiv id, e.g. 2406.01234 or 2406.01234v2", "zh": "arXiv 编号，如 2406.01234 或 2406.01234v2"},
    max_length=4096,  # a long argument gets the clearer "not an arXiv id" reply below
)


def parse_arxiv_id(raw: str | None) -> str | None:
    """`2406.01234v2`, `arXiv:2406.01234`, `cs/0601001` -> the id without version; None when not an id."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_ID_CHARS:
        return None
    text = _VERSION.sub("", _PREFIX.sub("", text))
    if _NEW_STYLE.fullmatch(text) or _OLD_STYLE.fullmatch(text):
        return text
    return None


async def _paper(ctx: Context) -> Paper | Reply:
    """The stored paper the argument names, or the reply saying what is wrong with it."""
    _ = ctx._
    raw = (ctx.args.get("ID") or "").strip()
    if not raw:
        return Reply(plain(_("Which paper? Give its arXiv id, e.g. /{command} 2406.01234", command=ctx.command)))
    arxiv_id = parse_arxiv_id(raw)
    if arxiv_id is None:
        shown = raw if len(raw) <= MAX_ID_CHARS else raw[: MAX_ID_CHARS - 1] + "…"
        return Reply(
            plain(_("“{text}” is not an arXiv id. Ids look like 2406.01234 (or 2406.01234v2).", text=shown)),
            ephemeral=True,
        )
    found = (await ctx.port(PAPERS).get_papers([arxiv_id])).get(arxiv_id)
    if found is None:
        return Reply(
            plain(
                _(
                    "I have no paper arXiv:{id}: I keep the daily cs.CL / cs.LG papers; /papers lists them.",
                    id=arxiv_id,
                )
            ),
            ephemeral=True,
        )
    return found


async def _mark(ctx: Context, arxiv_id: str) -> Feedback:
    marks = await ctx.port(PAPERS).feedback([ctx.user.id])
    return next((m for m in marks if m.arxiv_id == arxiv_id), Feedback(ctx.user.id, arxiv_id))


def _title(paper: Paper) -> str:
    return paper.title or paper.arxiv_id


async def _vote(ctx: Context, paper: Paper, vote: Vote) -> Reply:
    _ = ctx._
    await ctx.port(PAPERS).set_vote(ctx.user.id, paper.arxiv_id, vote)
    if vote > 0:
        text = _("👍 Noted: more papers like “{title}”.", title=_title(paper))
    elif vote < 0:
        text = _("👎 Noted: fewer papers like “{title}”; it won't be listed for you again.", title=_title(paper))
    else:
        text = _("Took back your vote on “{title}”.", title=_title(paper))
    return Reply(plain(text), ephemeral=ctx.in_group)


async def _read(ctx: Context, paper: Paper) -> Reply:
    """Mark read on the learner's local today and check in the week's reading slot."""
    _ = ctx._
    today, grace = learner_day(ctx.services.clock, ctx.user)
    await ctx.port(PAPERS).set_read(ctx.user.id, paper.arxiv_id, today)
    lines: list[Rich] = [bold(_("✓ Read: “{title}”.", title=_title(paper)))]
    enrolment = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    pauses = enrolment.pauses if enrolment is not None else ()
    if is_paused_on(pauses, today):
        lines.append(plain(_("Your plan is paused today, so this is not a check-in.")))
        return Reply(join(lines), ephemeral=ctx.in_group)
    group = GroupJoin(ctx.chat.id, ctx.today(), ctx.services.clock.now()) if ctx.chat is not None else None
    outcome = await ctx.port(ACCOUNTABILITY).checkin(ctx.user.id, today, READING_TASK, pauses, group)
    if outcome.joined:
        await ctx.schedules_changed()
    now = standing(outcome.latest, today, pauses, grace)
    lines.append(
        plain(
            _(
                "This week's reading slot is checked in and today counts for your streak: {days}.",
                days=streak_words(_, now.current),
            )
        )
    )
    return Reply(join(lines), ephemeral=ctx.in_group)


async def _unread(ctx: Context, paper: Paper) -> Reply:
    _ = ctx._
    await ctx.port(PAPERS).set_read(ctx.user.id, paper.arxiv_id, None)
    return Reply(
        plain(_("“{title}” is no longer marked read. (/undo takes back today's check-in.)", title=_title(paper))),
        ephemeral=ctx.in_group,
    )


async def like(ctx: Context) -> Reply:
    paper = await _paper(ctx)
    return paper if isinstance(paper, Reply) else await _vote(ctx, paper, 1)


async def dislike(ctx: Context) -> Reply:
    paper = await _paper(ctx)
    return paper if isinstance(paper, Reply) else await _vote(ctx, paper, -1)


async def read(ctx: Context) -> Reply:
    paper = await _paper(ctx)
    if isinstance(paper, Reply):
        return paper
    if (await _mark(ctx, paper.arxiv_id)).read_on is not None:
        return Reply(plain(ctx._("You already marked “{title}” read.", title=_title(paper))), ephemeral=True)
    return await _read(ctx, paper)


async def unread(ctx: Context) -> Reply:
    paper = await _paper(ctx)
    if isinstance(paper, Reply):
        return paper
    if (await _mark(ctx, paper.arxiv_id)).read_on is None:
        return Reply(plain(ctx._("“{title}” is not marked read.", title=_title(paper))), ephemeral=True)
    return await _unread(ctx, paper)


async def show_paper(ctx: Context) -> Reply:
    """One paper with its whole abstract and the three feedback buttons."""
    _ = ctx._
    paper = await _paper(ctx)
    if isinstance(paper, Reply):
        return paper
    mark = await _mark(ctx, paper.arxiv_id)
    lines: list[Rich] = [paper_head(paper, _), plain(paper_meta(paper, _)), plain(""), plain(paper.abstract)]
    state = []
    if mark.vote > 0:
        state.append(_("you liked it"))
    elif mark.vote < 0:
        state.append(_("you disliked it"))
    if mark.read_on is not None:
        state.append(_("read on {date}", date=mark.read_on.isoformat()))
    if state:
        lines += [plain(""), italic(", ".join(state))]
    return Reply(join(lines), feedback_buttons(paper.arxiv_id, _))


async def _button_paper(ctx: Context, payload: str) -> Paper | Reply:
    arxiv_id = parse_arxiv_id(payload)
    found = (await ctx.port(PAPERS).get_papers([arxiv_id])).get(arxiv_id) if arxiv_id else None
    if found is None:
        return Reply(plain(ctx._("That paper is no longer stored; /papers lists the current ones.")), ephemeral=True)
    return found


async def like_button(ctx: Context, payload: str) -> Reply:
    paper = await _button_paper(ctx, payload)
    if isinstance(paper, Reply):
        return paper
    return await _vote(ctx, paper, 0 if (await _mark(ctx, paper.arxiv_id)).vote > 0 else 1)


async def dislike_button(ctx: Context, payload: str) -> Reply:
    paper = await _button_paper(ctx, payload)
    if isinstance(paper, Reply):
        return paper
    return await _vote(ctx, paper, 0 if (await _mark(ctx, paper.arxiv_id)).vote < 0 else -1)


async def read_button(ctx: Context, payload: str) -> Reply:
    paper = await _button_paper(ctx, payload)
    if isinstance(paper, Reply):
        return paper
    if (await _mark(ctx, paper.arxiv_id)).read_on is not None:
        return await _unread(ctx, paper)
    return await _read(ctx, paper)


def register(registry: Registry) -> None:
    commands = (
        ("like", like, "More papers like this one (arXiv id)", "多推荐类似的论文（arXiv 编号）"),
        ("dislike", dislike, "Fewer papers like this one (arXiv id)", "少推荐类似的论文（arXiv 编号）"),
        ("read", read, "Mark a paper read: checks in your weekly reading", "标记论文已读：完成本周阅读打卡"),
        ("unread", unread, "Take back a paper's read mark", "取消论文的已读标记"),
        ("paper", show_paper, "One paper with its abstract and feedback buttons", "查看一篇论文的摘要和反馈按钮"),
    )
    for name, handler, en, zh in commands:
        registry.command(name, en=en, zh=zh, args=[ID_ARG])(handler)
    registry.action(LIKE_ACTION)(like_button)
    registry.action(DISLIKE_ACTION)(dislike_button)
    registry.action(READ_ACTION)(read_button)
