"""The learner's own stats page: streak and freezes, the check-ins of the last weeks, and the plan.

The same numbers `/streak` and `/stats` give, read the same way (the learner's local calendar, their own
plan pauses); the heatmap is HTML, so it reads at any size and in either language without a picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.accountability.board import learner_day, streak_words
from bot.accountability.ports import ACCOUNTABILITY
from bot.accountability.streaks import MAX_FREEZES, open_from, standing
from bot.core.context import Services
from bot.core.types import SubjectRef, User
from bot.dashboard.heatmap import SHORT_WEEKDAYS, SYMBOLS, Cell, Days, row, state_words
from bot.dashboard.render import html, not_found, respond
from bot.dashboard.secret_links import LEARNER_STATS, page_owner
from bot.i18n import Translator, translator
from bot.plan import load_plan
from bot.plan.calendar import DAYS_PER_WEEK, PLAN_DAYS, plan_day
from bot.plan.preferences import position_line
from bot.plan.views import phase_title
from bot.web.pages import PageRequest, PageResponse

HEATMAP_WEEKS = 12


@dataclass(frozen=True, slots=True)
class WeekRow:
    monday: date
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class PhaseRow:
    title: str
    weeks: str
    current: bool


@dataclass(frozen=True, slots=True)
class StatsView:
    name: str
    today: date
    timezone: str
    current: int
    best: int
    freezes: int
    checked_days: int
    weeks: list[WeekRow]  # oldest first
    position: str
    plan_days_done: int
    phases: list[PhaseRow]


async def stats_view(services: Services, user: User) -> StatsView:
    _ = translator(user.lang)
    today, grace = learner_day(services.clock, user)
    first = today - timedelta(days=today.weekday() + DAYS_PER_WEEK * (HEATMAP_WEEKS - 1))
    repo = services.port(ACCOUNTABILITY)
    window = await repo.streak_window(user.id, first)
    now = standing(window.run.latest, today, window.pauses, grace)
    masks = {on: mask for _uid, on, mask in await repo.checkins([user.id], first, today)}
    frozen = window.run.frozen

    enrolment = await services.store.get_enrolment(SubjectRef("user", user.id))
    day = plan_day(enrolment.start_date, today, enrolment.pauses, enrolment.jumps) if enrolment else None
    # Days before the plan's start (or, never enrolled, before the first check-in) aren't missed days.
    start = enrolment.start_date if enrolment is not None else min(masks, default=today)
    days = Days(today, open_from(today, grace), start)
    weeks = []
    for week in range(HEATMAP_WEEKS):
        monday = first + timedelta(days=DAYS_PER_WEEK * week)
        dates = [monday + timedelta(days=i) for i in range(DAYS_PER_WEEK)]
        weeks.append(WeekRow(monday, row(dates, masks, days, window.pauses, frozen)))

    plan = load_plan(user.lang)
    here = day.week if day is not None and day.in_plan else None
    phases = [
        PhaseRow(
            phase_title(p, _),
            _("weeks {first}-{last}", first=p.first_week, last=p.last_week),
            here is not None and p.first_week <= here <= p.last_week,
        )
        for p in plan.phases
    ]
    done = 0 if day is None or day.status == "upcoming" else min(day.day_index + 1, PLAN_DAYS)
    return StatsView(
        name=user.display_name,
        today=today,
        timezone=user.timezone,
        current=now.current,
        best=now.best,
        freezes=now.freezes,
        checked_days=sum(1 for mask in masks.values() if mask),
        weeks=weeks,
        position=position_line(_, day) if day is not None else _("You haven't started the plan yet."),
        plan_days_done=done,
        phases=phases,
    )


def labels(_: Translator, view: StatsView) -> dict[str, str]:
    return {
        "title": _("Stats of {name}", name=view.name),
        "as_of": _("As of {date} ({zone}); this page is read-only.", date=view.today.isoformat(), zone=view.timezone),
        "streak": _("Streak"),
        "current": _("Current streak: {days}", days=streak_words(_, view.current)),
        "best": _("Best streak: {days}", days=streak_words(_, view.best)),
        "freezes": _(
            "Freezes held: {held} of {most} (one per 7 counted days; covers a single missed day)",
            held=view.freezes,
            most=MAX_FREEZES,
        ),
        "heatmap": _("Check-ins of the last {weeks} weeks", weeks=HEATMAP_WEEKS),
        "checked": _.plural(
            "{n} day with a check-in in these weeks", "{n} days with a check-in in these weeks", view.checked_days
        ),
        "week_of": _("Week of"),
        "plan": _("The plan"),
        "progress": _("{done} of {total} plan days", done=view.plan_days_done, total=PLAN_DAYS),
        "legend": _("Legend"),
    }


async def stats_page(request: PageRequest) -> PageResponse:
    user_id = await page_owner(request, LEARNER_STATS)
    user = await request.services.store.get_user(user_id) if user_id is not None else None
    if user is None:
        return not_found()
    view = await stats_view(request.services, user)
    _ = translator(user.lang)
    body = html(
        "stats.html",
        user.lang,
        view=view,
        t=labels(_, view),
        states=state_words(_, before=_("before your plan started")),
        symbols=SYMBOLS,
        weekdays=SHORT_WEEKDAYS[user.lang],
        plan_days=PLAN_DAYS,
    )
    return respond(request, body)
