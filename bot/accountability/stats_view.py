"""/stats: reads what the picture shows (check-ins, the streak window, the plan position) and draws it off the
event loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.accountability.board import learner_day
from bot.accountability.ports import ACCOUNTABILITY
from bot.accountability.stats_days import day_cells, window_start
from bot.accountability.stats_picture import PlanPlace, StatsData, render_stats
from bot.accountability.streaks import MAX_FREEZES, standing, why_days
from bot.core.context import Context
from bot.core.markup import plain
from bot.core.types import Attachment, Reply, SubjectRef
from bot.plan.calendar import PLAN_DAYS, PlanDay
from bot.plan.commands import current

STATS_WEEKS = 20


def plan_place(ctx: Context, day: PlanDay | None) -> PlanPlace:
    if day is None:
        return PlanPlace(None, 0)
    done = 0 if day.status == "upcoming" else min(day.day_index + 1, PLAN_DAYS)
    starts_on = ctx.today() + timedelta(days=day.days_until_start)
    return PlanPlace(day.status, done, day.week, day.day, starts_on)


async def stats_data(ctx: Context) -> StatsData:
    """The learner's own check-ins and streak on their own calendar; the plan position is the chat's plan (a
    group's cohort in a group, as /today shows)."""
    repo = ctx.port(ACCOUNTABILITY)
    today, grace = learner_day(ctx.services.clock, ctx.user)
    first = window_start(today, STATS_WEEKS)
    window = await repo.streak_window(ctx.user.id, first)
    rows = await repo.checkins([ctx.user.id], first, today)
    enrolment, day = await current(ctx)
    own = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id)) or enrolment
    start = own.start_date if own is not None else None
    now = standing(window.run.latest, today, window.pauses, grace)
    reasons = why_days(window.run, today, window.pauses, grace, days=(today - first).days + 1)
    return StatsData(
        first_day=first,
        today=today,
        cells=day_cells(reasons, {on: mask for _uid, on, mask in rows}, start),
        current=now.current,
        best=now.best,
        freezes=now.freezes,
        max_freezes=MAX_FREEZES,
        place=plan_place(ctx, day),
        plan_days=PLAN_DAYS,
    )


async def stats_picture(ctx: Context) -> Reply:
    data = await stats_data(ctx)
    png = await asyncio.to_thread(render_stats, data, ctx.lang)  # drawing is CPU work: keep it off the event loop
    caption = ctx._(
        "Check-ins of the last {weeks} weeks and your place in the plan: {done} of {total} days.",
        weeks=STATS_WEEKS,
        done=data.place.days_done,
        total=PLAN_DAYS,
    )
    return Reply(plain(caption), image=Attachment("stats.png", png, "image/png"))
