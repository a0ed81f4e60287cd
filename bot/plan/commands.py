"""Commands that enrol and move through the plan: /start /today /week /plan /goto /pause /resume."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.replies import expired_button
from bot.core.types import Enrolment, Reply, SubjectRef
from bot.plan import TOTAL_WEEKS, Plan, load_plan
from bot.plan.calendar import DAYS_PER_WEEK, PlanDay, plan_day
from bot.plan.views import WEEK_ACTION, day_buttons, day_view, plan_overview, week_button, week_view

MAX_START_OFFSET = timedelta(days=366)
WEEK_ARG = ArgSpec(
    "N",
    "int",
    {"en": "a plan week from 1 to 20", "zh": "计划中的周数，1 到 20"},
    minimum=1,
    maximum=TOTAL_WEEKS,
)


def plan_of(ctx: Context) -> Plan:
    """The plan in the chat's language."""
    return load_plan(ctx.lang)


async def current(ctx: Context, *, fall_back_to_user: bool = True) -> tuple[Enrolment | None, PlanDay | None]:
    """The enrolment a command reads: the group's cohort, or in a group without one, the sender's own."""
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    if enrolment is None and ctx.in_group and fall_back_to_user:
        enrolment = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    if enrolment is None:
        return None, None
    return enrolment, day_of(ctx, enrolment)


def day_of(ctx: Context, enrolment: Enrolment) -> PlanDay:
    return plan_day(enrolment.start_date, ctx.today(), enrolment.pauses, enrolment.jumps)


def not_enrolled(ctx: Context) -> Reply:
    _ = ctx._
    if ctx.in_group:
        return Reply(
            plain(_("This group hasn't started the plan yet. An admin can send /start (or /start YYYY-MM-DD)."))
        )
    return Reply(plain(_("You haven't started the plan yet. Send /start to begin today, or /start YYYY-MM-DD.")))


def today_reply(ctx: Context, day: PlanDay) -> Reply:
    on = ctx.today()
    return Reply(day_view(plan_of(ctx), day, on, ctx.reading_day, ctx._), buttons=day_buttons(day, on, ctx._))


def with_day(ctx: Context, heading: Reply, day: PlanDay) -> Reply:
    """A confirmation followed by the day it leads to, with the day's buttons."""
    reply = today_reply(ctx, day)
    return Reply(join([heading.text, plain(""), reply.text]), buttons=reply.buttons)


async def start(ctx: Context) -> Reply:
    _ = ctx._
    today = ctx.today()
    start_on: date | None = ctx.args.get("date")
    existing = await ctx.store.get_enrolment(ctx.subject)
    if start_on is None and existing is not None:
        intro = _(
            "You are already on the plan (since {date}). To restart, send /start YYYY-MM-DD.",
            date=existing.start_date.isoformat(),
        )
        return with_day(ctx, Reply(plain(intro)), day_of(ctx, existing))
    start_on = start_on or today
    if abs(start_on - today) > MAX_START_OFFSET:
        return Reply(plain(_("Pick a start date within a year of today.")), ephemeral=True)
    enrolment = await ctx.store.enrol(ctx.subject, start_on)
    await ctx.schedules_changed()
    if ctx.in_group:
        welcome = _("This group starts the 20-week plan on {date}.", date=start_on.isoformat())
    else:
        welcome = _(
            "Welcome, {name}! Your 20-week plan starts on {date}.",
            name=ctx.user.display_name,
            date=start_on.isoformat(),
        )
    tips = _("/today shows today's tasks, /plan the whole plan, /help everything else.")
    return with_day(ctx, Reply(join([bold(welcome), plain(tips)])), day_of(ctx, enrolment))


async def today(ctx: Context) -> Reply:
    _enrolment, day = await current(ctx)
    return not_enrolled(ctx) if day is None else today_reply(ctx, day)


async def week(ctx: Context) -> Reply:
    _enrolment, day = await current(ctx)
    number = ctx.args.get("N") or (day.week if day is not None and day.in_plan else 1)
    nav = []
    if number > 1:
        nav.append(week_button(f"◀ {ctx._('Week {week}', week=number - 1)}", number - 1))
    if number < TOTAL_WEEKS:
        nav.append(week_button(f"{ctx._('Week {week}', week=number + 1)} ▶", number + 1))
    return Reply(week_view(plan_of(ctx), number, day, ctx._), buttons=tuple(nav))


async def week_pressed(ctx: Context, payload: str) -> Reply:
    if not payload.isdigit() or not 1 <= int(payload) <= TOTAL_WEEKS:
        return expired_button(ctx)
    ctx.args = {"N": int(payload)}
    return await week(ctx)


async def plan(ctx: Context) -> Reply:
    _enrolment, day = await current(ctx)
    return Reply(plan_overview(plan_of(ctx), day, ctx._))


async def goto(ctx: Context) -> Reply:
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    if enrolment is None:
        return not_enrolled(ctx)
    enrolment = await ctx.store.add_jump(enrolment.id, ctx.today(), (ctx.args["N"] - 1) * DAYS_PER_WEEK)
    heading = Reply(bold(ctx._("Moved to week {week}, day 1.", week=ctx.args["N"])))
    return with_day(ctx, heading, day_of(ctx, enrolment))


async def pause(ctx: Context) -> Reply:
    _ = ctx._
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    if enrolment is None:
        return not_enrolled(ctx)
    if enrolment.paused:
        return Reply(plain(_("The plan is already paused. Send /resume to continue.")))
    await ctx.store.start_pause(enrolment.id, ctx.today())
    return Reply(plain(_("Paused. Your place is kept; reminders stop until you send /resume.")))


async def resume(ctx: Context) -> Reply:
    _ = ctx._
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    if enrolment is None:
        return not_enrolled(ctx)
    if not enrolment.paused:
        return Reply(plain(_("The plan isn't paused.")))
    enrolment = await ctx.store.end_pause(enrolment.id, ctx.today())
    return with_day(ctx, Reply(bold(_("Welcome back!"))), day_of(ctx, enrolment))


def register(registry: Registry) -> None:
    registry.command(
        "start",
        en="Start the plan (today, or on a date) or see where you are",
        zh="开始学习计划（今天或指定日期），或查看当前进度",
        args=[
            ArgSpec(
                "date",
                "date",
                {"en": "the plan's first day; may be in the past", "zh": "计划第一天，可以是过去的日期"},
            )
        ],
        group_admin=True,
    )(start)
    registry.command("today", en="Today's topics and tasks", zh="今天的学习内容和任务")(today)
    registry.command(
        "week", en="One week of the plan (default: yours)", zh="查看某一周的计划（默认本周）", args=[WEEK_ARG]
    )(week)
    registry.action(WEEK_ACTION)(week_pressed)
    registry.command("plan", en="The four phases and where you are", zh="四个阶段总览及当前位置")(plan)
    registry.command(
        "goto",
        en="Jump: today becomes day 1 of week N",
        zh="跳转：今天成为第 N 周的第 1 天",
        args=[replace(WEEK_ARG, required=True)],
        group_admin=True,
    )(goto)
    registry.command(
        "pause", en="Pause the plan; nothing moves until /resume", zh="暂停计划，直到 /resume", group_admin=True
    )(pause)
    registry.command("resume", en="Continue a paused plan", zh="继续已暂停的计划", group_admin=True)(resume)
