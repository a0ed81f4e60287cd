"""Push settings: /remind (personal), /grouppost (a group's channel posts), /readingday."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from bot.core.commands.common import save, weekday_name
from bot.core.context import Context
from bot.core.markup import Rich, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Reply, SubjectRef

TIME_ARG = ArgSpec(
    "time",
    "time",
    {"en": "24-hour local time such as 07:30, or off", "zh": "24 小时制本地时间，如 07:30，或 off 关闭"},
    required=True,
    allow_off=True,
)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


async def next_push_lines(ctx: Context) -> list[Rich]:
    """Settings lines: reminder/post time and the next scheduled push in the reader's timezone."""
    _ = ctx._
    lines: list[Rich] = []
    if ctx.chat is not None:
        post = ctx.chat.post_time
        lines.append(plain(_("Group posts: {time}", time=_hhmm(post)) if post else _("Group posts: off")))
    else:
        remind = ctx.user.reminder_time
        lines.append(plain(_("Daily reminder: {time}", time=_hhmm(remind)) if remind else _("Daily reminder: off")))
    outbox = ctx.services.outbox
    if outbox is not None:
        found = await outbox.next_due(ctx.subject)
        if found is not None:
            when = found[1].astimezone(ZoneInfo(ctx.timezone))
            stamp = f"{weekday_name(ctx, when.weekday())} {when:%Y-%m-%d %H:%M} ({ctx.timezone})"
            lines.append(plain(_("Next push: {when}", when=stamp)))
    return lines


def register(registry: Registry) -> None:
    @registry.command(
        "remind", en="Daily reminder time (HH:MM) or off", zh="每日提醒时间（HH:MM）或 off", args=[TIME_ARG]
    )
    async def remind(ctx: Context) -> Reply:
        _ = ctx._
        at: time | None = ctx.args["time"]
        ctx.user = await ctx.store.update_user(ctx.user.id, reminder_time=at)
        me = SubjectRef("user", ctx.user.id)
        await ctx.schedules_changed(me)
        if at is None:
            return Reply(plain(_("Daily reminders are off. Turn them on again with /remind HH:MM.")))
        enrolled = await ctx.store.get_enrolment(me) is not None
        text = _("I'll send your day's tasks every day at {time} ({zone}).", time=_hhmm(at), zone=ctx.user.timezone)
        if not enrolled:
            text += "\n" + _("Send /start first: reminders begin once you are on the plan.")
        return Reply(plain(text), ephemeral=True)

    @registry.command(
        "grouppost",
        en="Post the day's tasks in this chat at HH:MM, or off",
        zh="每天在本群的 HH:MM 发布当日任务，或 off 关闭",
        args=[TIME_ARG],
        scope="group",
        group_admin=True,
    )
    async def grouppost(ctx: Context) -> Reply:
        _ = ctx._
        assert ctx.chat is not None
        at: time | None = ctx.args["time"]
        ctx = await save(ctx, post_time=at)
        await ctx.schedules_changed()
        if at is None:
            return Reply(plain(_("Daily group posts are off.")))
        text = _("I'll post the day's tasks here every day at {time} ({zone}).", time=_hhmm(at), zone=ctx.timezone)
        if await ctx.store.get_enrolment(ctx.subject) is None:
            text += "\n" + _("This group hasn't started the plan yet. An admin can send /start (or /start YYYY-MM-DD).")
        return Reply(plain(text))

    @registry.command(
        "readingday",
        en="Weekday of the weekly arXiv reading post",
        zh="每周 arXiv 论文阅读推送的星期",
        args=[
            ArgSpec("day", "weekday", {"en": "mon, tue, ... sun", "zh": "mon、tue …… sun 或 周一……周日"}, required=True)
        ],
        group_admin=True,
    )
    async def readingday(ctx: Context) -> Reply:
        ctx = await save(ctx, reading_day=ctx.args["day"])
        await ctx.schedules_changed()
        return Reply(plain(ctx._("Weekly reading posts will come on {day}.", day=weekday_name(ctx, ctx.args["day"]))))
