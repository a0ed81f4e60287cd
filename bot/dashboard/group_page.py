"""The group dashboard page: what `/top`, `/buddies`, `/reviews` and `/papers` show a group, on one page.

Read-only by design: it reads the week's buddy split but never draws one (`/buddies` does), and every
query is keyed by this group's id, so another group's members can't appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote

from bot.accountability.board import Board, build_board, streak_words
from bot.accountability.ports import ACCOUNTABILITY
from bot.buddies.ports import BUDDIES
from bot.buddies.weeks import monday_of
from bot.core.clock import local_now
from bot.core.context import Services
from bot.core.types import Chat, SubjectRef
from bot.dashboard.heatmap import SHORT_WEEKDAYS, SYMBOLS, Cell, Days, row, state_words
from bot.dashboard.render import html, not_found, respond
from bot.dashboard.secret_links import GROUP_DASHBOARD, page_owner
from bot.i18n import Translator, translator
from bot.papers.ports import PAPERS
from bot.papers.pushes import taste_of
from bot.papers.ranking import DEFAULT_COUNT, RECENT_DAYS, query_for, rank_off_loop
from bot.plan import load_plan
from bot.plan.calendar import plan_day
from bot.plan.preferences import position_line
from bot.web.pages import PageRequest, PageResponse

WEEK = 7


@dataclass(frozen=True, slots=True)
class MemberRow:
    place: int
    name: str
    streak: int
    best: int
    tasks: int
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class SharedReview:
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class PaperLink:
    title: str
    url: str
    arxiv_id: str


@dataclass(frozen=True, slots=True)
class GroupView:
    """Everything the page shows, gathered before rendering (so the template only lays it out)."""

    title: str
    today: date
    timezone: str
    position: str
    block: str | None
    days: list[date]
    members: list[MemberRow]
    group_streak: int
    share: int
    counted_days: int
    buddies: list[list[str]]
    reviews: list[SharedReview]
    papers: list[PaperLink]


def arxiv_url(arxiv_id: str) -> str:
    """The abstract page on arXiv, built from the id (a stored feed link is never put into the page)."""
    return "https://arxiv.org/abs/" + quote(arxiv_id, safe="./")


def member_rows(board: Board, days: list[date], masks: dict[tuple[int, date], int]) -> list[MemberRow]:
    out = []
    for place, entry in enumerate(board.rows, start=1):
        member = entry.member
        own = {d: masks.get((member.user.id, d), 0) for d in days}
        cells = row(days, own, Days(board.today, board.today, member.joined_on), member.pauses)
        out.append(
            MemberRow(place, member.user.display_name, entry.streak.current, entry.streak.best, entry.tasks, cells)
        )
    return out


async def group_view(services: Services, chat: Chat) -> GroupView:
    _ = translator(chat.lang)
    plan = load_plan(chat.lang)
    repo = services.port(ACCOUNTABILITY)
    today = local_now(services.clock, chat.timezone).date()
    monday = monday_of(today)
    days = [monday + timedelta(days=i) for i in range(WEEK)]

    enrolment = await services.store.get_enrolment(SubjectRef("chat", chat.id))
    day = plan_day(enrolment.start_date, today, enrolment.pauses, enrolment.jumps) if enrolment else None
    if day is None:
        position = _("This group hasn't started the plan yet. An admin can send /start (or /start YYYY-MM-DD).")
    else:
        position = position_line(_, day)
    block = plan.block_for_week(day.week).title if day is not None and day.in_plan else None

    board = await build_board(repo, services.clock, chat)
    ids = [entry.member.user.id for entry in board.rows]
    masks = {(uid, on): mask for uid, on, mask in await repo.checkins(ids, monday, today)} if ids else {}

    buddies_repo = services.port(BUDDIES)
    week = await buddies_repo.week(chat.id, monday)
    buddies = [[u.display_name for u in group] for group in week.groups] if week is not None else []
    shared = await buddies_repo.shared_reviews(chat.id, monday, today)

    papers_repo = services.port(PAPERS)
    query = query_for(plan, day, _)
    recent = await papers_repo.recent_papers(today - timedelta(days=RECENT_DAYS))
    taste = await taste_of(services, papers_repo, SubjectRef("chat", chat.id))
    ranked = await rank_off_loop(recent, query.keywords, (), DEFAULT_COUNT, taste) if recent else []

    return GroupView(
        title=chat.title or _("this group"),
        today=today,
        timezone=chat.timezone,
        position=position,
        block=block,
        days=days,
        members=member_rows(board, days, masks),
        group_streak=board.group_streak,
        share=board.share,
        counted_days=len(board.counted_days),
        buddies=buddies,
        reviews=[
            SharedReview(_("{name}, week {week}", name=user.display_name, week=item.week), item.text)
            for user, item in shared
        ],
        papers=[
            PaperLink(r.paper.title or r.paper.arxiv_id, arxiv_url(r.paper.arxiv_id), r.paper.arxiv_id) for r in ranked
        ],
    )


def labels(_: Translator, view: GroupView) -> dict[str, str]:
    """Every word on the page, in the group's language (the template holds no English of its own)."""
    return {
        "title": _("Dashboard of {group}", group=view.title),
        "as_of": _("As of {date} ({zone}); this page is read-only.", date=view.today.isoformat(), zone=view.timezone),
        "plan": _("Where the group is in the plan"),
        "week": _("This week's check-ins"),
        "member": _("Member"),
        "leaderboard": _("Leaderboard"),
        "place": "#",
        "streak": _("Streak"),
        "best": _("Best"),
        "tasks": _("Tasks this week"),
        "group_streak": _(
            "Group streak: {days} (a day counts when {share}% of members check in).",
            days=streak_words(_, view.group_streak),
            share=view.share,
        ),
        "counted": _("Group days counted this week: {n} of 7", n=view.counted_days),
        "nobody": _("Nobody is on this group's roster yet. Send /join, or check in here with /done."),
        "buddies": _("This week's study buddies"),
        "waiting": _("waiting for a buddy"),
        "reviews": _("Reviews shared here this week"),
        "papers": _("This week's top papers"),
        "legend": _("Legend"),
    }


async def group_page(request: PageRequest) -> PageResponse:
    chat_id = await page_owner(request, GROUP_DASHBOARD)
    chat = await request.services.store.get_chat(chat_id) if chat_id is not None else None
    if chat is None:
        return not_found()
    view = await group_view(request.services, chat)
    _ = translator(chat.lang)
    body = html(
        "group.html",
        chat.lang,
        view=view,
        t=labels(_, view),
        states=state_words(_, before=_("not on the roster yet")),
        symbols=SYMBOLS,
        weekdays=SHORT_WEEKDAYS[chat.lang],
    )
    return respond(request, body)
