"""Commands that enrol and move through the plan: /start /today /week /plan /goto /pause /resume /catchup."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.accountability.daily import DayLoop, day_loop
from bot.accountability.ports import ACCOUNTABILITY
from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.replies import expired_button
from bot.core.types import Button, Enrolment, Reply, SubjectRef
from bot.plan import TOTAL_WEEKS, Plan, load_plan
from bot.plan.calendar import DAYS_PER_WEEK, PlanDay, has_tasks, plan_day
from bot.plan.preferences import timezone_question
from bot.plan.views import (
    CATCHUP_ACTION,
    WEEK_ACTION,
    day_buttons,
    day_view,
    plan_overview,
    week_button,
    week_view,
)

RESTART_ACTION = "restart"  # `restart:<YYYY-MM-DD>` confirms /start DATE for someone already on the plan

MAX_START_OFFSET = timedelta(days=366)
WEEK_ARG = ArgSpec(
    "N",
    "int",
    {"en": "a plan week from 1 to 20", "zh": "计划中的周数，1 到 20"},
    minimum=1,
    maximum=TOTAL_WEEKS,
    label={"en": f"the week number (1-{TOTAL_WEEKS})", "zh": f"周数（1 到 {TOTAL_WEEKS}）"},
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


async def loop_of(ctx: Context, enrolment: Enrolment | None) -> DayLoop:
    """The sender's check-in state for today; a group's shared message shows nobody's own marks."""
    if ctx.in_group:
        return DayLoop()
    return await day_loop(ctx.port(ACCOUNTABILITY), ctx.user.id, enrolment, ctx.today())


def render_day(ctx: Context, day: PlanDay, loop: DayLoop, *, edit: bool = False) -> Reply:
    on, _ = ctx.today(), ctx._
    body = day_view(plan_of(ctx), day, on, ctx.reading_day, _, done=loop.done, missed=len(loop.missed))
    buttons = day_buttons(
        day,
        on,
        _,
        all_done=loop.all_done,
        shift_days=loop.shift_days,
        tasks=has_tasks(day, on, ctx.reading_day),
    )
    return Reply(body, buttons=buttons, edit=edit)


async def today_reply(ctx: Context, day: PlanDay, enrolment: Enrolment | None = None) -> Reply:
    return render_day(ctx, day, await loop_of(ctx, enrolment))


async def with_day(ctx: Context, heading: Reply, day: PlanDay, enrolment: Enrolment | None = None) -> Reply:
    """A confirmation followed by the day it leads to, with the day's buttons."""
    reply = await today_reply(ctx, day, enrolment)
    return Reply(join([heading.text, plain(""), reply.text]), buttons=reply.buttons)


def position(ctx: Context, day: PlanDay) -> str:
    """Where a schedule stands today, in words."""
    _ = ctx._
    if day.status == "upcoming":
        return _.plural("starts in {n} day", "starts in {n} days", day.days_until_start)
    if day.status == "complete":
        return _("the 20-week plan is complete")
    return _("week {week}, day {day}", week=day.week, day=day.day)


def restart_question(ctx: Context, existing: Enrolment, start_on: date) -> Reply:
    """/start DATE while enrolled: where they are, where the date would put them; nothing changes yet."""
    _ = ctx._
    now = position(ctx, day_of(ctx, existing))
    then = position(ctx, plan_day(start_on, ctx.today()))
    text = join(
        [
            bold(
                _(
                    "You are on the plan since {date}: today is {position}.",
                    date=existing.start_date.isoformat(),
                    position=now,
                )
            ),
            plain(
                _(
                    "Restarting on {date} would put you at {position}, and forget your pauses and jumps.",
                    date=start_on.isoformat(),
                    position=then,
                )
            ),
            plain(_("Nothing changed yet. Press the button or send /start {date} confirm.", date=start_on.isoformat())),
        ]
    )
    label = _("Restart on {date}", date=start_on.isoformat())
    return Reply(text, buttons=(Button(label, f"{RESTART_ACTION}:{start_on.isoformat()}"),), ephemeral=True)


async def start(ctx: Context) -> Reply | list[Reply]:
    _ = ctx._
    today = ctx.today()
    start_on: date | None = ctx.args.get("date")
    existing = await ctx.store.get_enrolment(ctx.subject)
    if start_on is None and existing is not None:
        intro = _(
            "You are already on the plan (since {date}). To restart, send /start YYYY-MM-DD.",
            date=existing.start_date.isoformat(),
        )
        return await with_day(ctx, Reply(plain(intro)), day_of(ctx, existing), existing)
    start_on = start_on or today
    if abs(start_on - today) > MAX_START_OFFSET:
        return Reply(plain(_("Pick a start date within a year of today.")), ephemeral=True)
    if existing is not None and ctx.args.get("confirm") is None:
        return restart_question(ctx, existing, start_on)
    return await enrol(ctx, start_on)


async def restart_pressed(ctx: Context, payload: str) -> Reply | list[Reply]:
    """The restart button: the same admin rule as /start in a group, and the same date limits."""
    try:
        start_on = date.fromisoformat(payload)
    except ValueError:
        return expired_button(ctx)
    if abs(start_on - ctx.today()) > MAX_START_OFFSET:
        return expired_button(ctx)
    if ctx.in_group:
        check = ctx.incoming.admin_check
        if check is None or not await check():
            return Reply(
                plain(ctx._("Only group administrators can use /{command} here.", command="start")), ephemeral=True
            )
    return await enrol(ctx, start_on)


async def enrol(ctx: Context, start_on: date) -> list[Reply]:
    _ = ctx._
    enrolment = await ctx.store.enrol(ctx.subject, start_on)
    await ctx.schedules_changed()
    if ctx.in_group:
        welcome = _("This group starts the 20-week plan on {date}.", date=start_on.isoformat())
    else:  # a private chat speaks to "you", not to the name
        welcome = _("Welcome! Your 20-week plan starts on {date}.", date=start_on.isoformat())
    tips = _("/today shows today's tasks, /plan the whole plan, /help everything else.")
    reply = await with_day(ctx, Reply(join([bold(welcome), plain(tips)])), day_of(ctx, enrolment), enrolment)
    question = timezone_question(ctx)
    if question is None:
        return [reply]
    await ctx.save(timezone_asked=True)  # asked once, in the welcome itself: one message, its buttons first
    return [Reply(join([reply.text, plain(""), question.text]), buttons=question.buttons + reply.buttons)]


async def today(ctx: Context) -> Reply:
    enrolment, day = await current(ctx)
    return not_enrolled(ctx) if day is None else await today_reply(ctx, day, enrolment)


async def catchup(ctx: Context) -> Reply:
    """Missed days become a pause, so today is the first missed plan day again (at most MAX_SHIFT days)."""
    _ = ctx._
    if ctx.in_group:  # the catch-up button sits only under a learner's own day; a group's cohort moves together
        return expired_button(ctx)
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    if enrolment is None:
        return not_enrolled(ctx)
    today = ctx.today()
    before = day_of(ctx, enrolment)
    loop = await loop_of(ctx, enrolment)
    pause = loop.shift(today)
    if before.status != "active" or pause is None:
        return Reply(plain(_("Nothing to catch up: you haven't missed two or more plan days.")), ephemeral=True)
    enrolment = await ctx.store.add_pause(enrolment.id, pause.start, today)
    await ctx.schedules_changed()
    after = day_of(ctx, enrolment)
    heading = bold(
        _.plural(
            "Shifted your plan by {n} day: today is {after} (was {before}).",
            "Shifted your plan by {n} days: today is {after} (was {before}).",
            loop.shift_days,
            after=position(ctx, after),
            before=position(ctx, before),
        )
    )
    moved = plain(
        _(
            "The days from {start} to {end} count as a pause; everything after moves with them.",
            start=pause.start.isoformat(),
            end=(today - timedelta(days=1)).isoformat(),
        )
    )
    return await with_day(ctx, Reply(join([heading, moved])), after, enrolment)


async def catchup_pressed(ctx: Context, payload: str) -> Reply:
    try:
        shown = date.fromisoformat(payload)
    except ValueError:
        return expired_button(ctx)
    if shown != ctx.today():
        return expired_button(ctx)
    return await catchup(ctx)


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
    return await with_day(ctx, heading, day_of(ctx, enrolment), enrolment)


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
    return await with_day(ctx, Reply(bold(_("Welcome back!"))), day_of(ctx, enrolment), enrolment)


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
            ),
            ArgSpec(
                "confirm",
                "choice",
                {"en": "confirm: restart a plan you are on", "zh": "confirm：确认重新开始已在进行的计划"},
                choices=("confirm",),
            ),
        ],
        group_admin=True,
    )(start)
    registry.action(RESTART_ACTION)(restart_pressed)
    registry.command(
        "catchup",
        en="Missed days? Shift your plan so today is the first one you missed",
        zh="错过了几天？顺延计划，让今天成为错过的第一天",
        scope="private",
    )(catchup)
    registry.action(CATCHUP_ACTION)(catchup_pressed)
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
