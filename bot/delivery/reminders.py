"""Reminders: the daily push of the plan day (to a learner, and a group's channel post) and the commands
that set when it comes: /remind (personal), /grouppost (a group's channel posts), /readingday."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import time

from bot.accountability.daily import DayLoop, day_loop
from bot.accountability.ports import ACCOUNTABILITY
from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.replies import current_value_reply, weekday_name
from bot.core.types import Reply, SubjectRef
from bot.delivery.kinds import Feature, PushKind, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence
from bot.plan import load_plan
from bot.plan.calendar import weekly_slots
from bot.plan.views import day_buttons, day_view

TIME_ARG = ArgSpec(
    "time",
    "time",
    {"en": "24-hour local time such as 07:30, or off", "zh": "24 小时制本地时间，如 07:30，或 off 关闭"},
    required=True,
    allow_off=True,
    label={"en": "a time (HH:MM) or off", "zh": "时间（HH:MM）或 off"},
)
DAY_ARG = ArgSpec(
    "day",
    "weekday",
    {"en": "mon, tue, ... sun", "zh": "mon、tue …… sun 或 周一……周日"},
    label={"en": "a weekday (mon ... sun)", "zh": "星期几（周一……周日）"},
)


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


# the pushes --------------------------------------------------------------------------------------------
def daily_when(who: Subscriber) -> Recurrence | None:
    """A learner on the plan gets their day at their reminder time."""
    user = who.user
    if user is None or not who.enrolled or user.reminder_time is None:
        return None
    return Recurrence(user.reminder_time, user.timezone)


def group_daily_when(who: Subscriber) -> Recurrence | None:
    """A group gets the day posted in its chat at its post time."""
    chat = who.chat
    if chat is None or chat.post_time is None:
        return None
    return Recurrence(chat.post_time, chat.timezone)


async def render_daily(request: PushRequest) -> Sequence[Reply] | Skip:
    day, today, _ = request.day, request.today, request._
    assert day is not None  # a kind that follows the plan gets its day
    reading_day = request.recipient.reading_day
    if day.status == "complete" and not (weekly_slots(today, reading_day) or day.plan_month_starts):
        return Skip("plan complete: nothing scheduled for today")  # after week 20 only the weekly/monthly rhythm
    plan = load_plan(request.recipient.lang)
    loop = await push_loop(request)
    view = day_view(plan, day, today, reading_day, _, done=loop.done, missed=len(loop.missed))
    body = join([bold(_("Good morning! Here is your study day.")), plain(""), view])
    if "review" in weekly_slots(today, reading_day):  # the plan's weekly review slot: ask for it in words
        body += plain("\n\n" + _("Review day: write this week's review with /review followed by your text."))
    buttons = day_buttons(day, today, _, all_done=loop.all_done, shift_days=loop.shift_days)
    return [Reply(body, buttons=buttons)]


async def push_loop(request: PushRequest) -> DayLoop:
    """A learner's push shows their check-in state and catch-up offer, like /today; a group's shows none."""
    user = request.recipient.user
    if request.recipient.subject.kind != "user" or user is None:
        return DayLoop()
    return await day_loop(request.services.port(ACCOUNTABILITY), user.id, request.enrolment, request.today)


DAILY = PushKind("daily", "user", daily_when, render_daily)
GROUP_DAILY = PushKind("group_daily", "chat", group_daily_when, render_daily)


# the commands ------------------------------------------------------------------------------------------
async def remind(ctx: Context) -> Reply:
    _ = ctx._
    if "time" not in ctx.args:
        now = ctx.user.reminder_time
        return current_value_reply(ctx, f"{hhmm(now)} ({ctx.user.timezone})" if now else _("off"))
    at: time | None = ctx.args["time"]
    ctx.user = await ctx.store.update_user(ctx.user.id, reminder_time=at)
    me = SubjectRef("user", ctx.user.id)
    await ctx.schedules_changed(me)
    if at is None:
        return Reply(plain(_("Daily reminders are off. Turn them on again with /remind HH:MM.")))
    enrolled = await ctx.store.get_enrolment(me) is not None
    text = _("I'll send your day's tasks every day at {time} ({zone}).", time=hhmm(at), zone=ctx.user.timezone)
    if not enrolled:
        text += "\n" + _("Send /start first: reminders begin once you are on the plan.")
    return Reply(plain(text), ephemeral=True)


async def grouppost(ctx: Context) -> Reply:
    _ = ctx._
    at: time | None = ctx.args["time"]
    await ctx.save(post_time=at)
    await ctx.schedules_changed()
    if at is None:
        return Reply(plain(_("Daily group posts are off.")))
    text = _("I'll post the day's tasks here every day at {time} ({zone}).", time=hhmm(at), zone=ctx.timezone)
    if await ctx.store.get_enrolment(ctx.subject) is None:
        text += "\n" + _("This group hasn't started the plan yet. An admin can send /start (or /start YYYY-MM-DD).")
    return Reply(plain(text))


async def readingday(ctx: Context) -> Reply:
    if "day" not in ctx.args:
        return current_value_reply(ctx, weekday_name(ctx.lang, ctx.reading_day))
    await ctx.save(reading_day=ctx.args["day"])
    await ctx.schedules_changed()
    return Reply(plain(ctx._("Weekly reading posts will come on {day}.", day=weekday_name(ctx.lang, ctx.args["day"]))))


def register(registry: Registry) -> None:
    registry.command(
        "remind",
        en="Daily reminder time (HH:MM) or off",
        zh="每日提醒时间（HH:MM）或 off",
        args=[replace(TIME_ARG, required=False)],
    )(remind)
    registry.command(
        "grouppost",
        en="Post the day's tasks in this chat at HH:MM, or off",
        zh="每天在本群的 HH:MM 发布当日任务，或 off 关闭",
        args=[TIME_ARG],
        scope="group",
        group_admin=True,
    )(grouppost)
    registry.command(
        "readingday",
        en="Weekday of the weekly arXiv reading post",
        zh="每周 arXiv 论文阅读推送的星期",
        args=[DAY_ARG],
        group_admin=True,
    )(readingday)


FEATURE = Feature("reminders", register, (DAILY, GROUP_DAILY))
