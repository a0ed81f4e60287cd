"""Check-ins, streaks and group accountability: /done /undo /streak /join /leave /top /groupnudge
/groupshare /nudge /stats, and the "Done ✓" button (`done:<YYYY-MM-DD>`).

Check-ins are always the sender's own, on their own local calendar (their timezone, even in a group);
see bot/accountability/streaks.py for the streak rules and bot/accountability/board.py for the group rules.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from functools import cache, lru_cache

from bot.accountability.board import build_top, leaderboard, learner_day, streak_words
from bot.accountability.daily import ALL_TASKS
from bot.accountability.ports import ACCOUNTABILITY, AccountabilityRepo, GroupJoin
from bot.accountability.stats_view import stats_picture
from bot.accountability.streaks import MAX_FREEZES, WHY_DAYS, DayState, Standing, Why, standing, why_days
from bot.buddies.weeks import leave_buddies
from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry, Subcommand
from bot.core.replies import expired_button, usage_reply, weekday_name, weekday_names
from bot.core.types import Lang, PauseSpan, Reply, SubjectRef
from bot.dashboard.commands import STATS_WEB
from bot.delivery.reminders import TIME_ARG
from bot.i18n import N_, Translator, translator
from bot.plan.calendar import has_tasks, plan_day
from bot.plan.commands import current, loop_of, render_day
from bot.plan.views import DONE_ACTION, UNDO_ACTION

TASKS = (1, 2, 3)
YESTERDAY_WORDS = ("yesterday", "昨天")
DONE_ARG = ArgSpec(
    "tasks",
    "text",
    {
        "en": "nothing for all of today's tasks, task numbers 1-3 (e.g. 1 3), and/or yesterday (until noon)",
        "zh": "留空表示今天全部任务；或任务编号 1-3（如 1 3）；可加 yesterday（中午前补昨天）",
    },
    max_length=40,
)


UNDO_ARG = ArgSpec(
    "day",
    "text",
    {"en": "nothing for today, or yesterday (until noon)", "zh": "留空表示今天；或 yesterday（中午前撤销昨天的）"},
    max_length=20,
    label={"en": "nothing or yesterday", "zh": "留空或 yesterday"},
)


class DoneError(ValueError):
    """A /done argument that isn't a task number or `yesterday`."""


def parse_done(raw: str | None) -> tuple[bool, int]:
    """`/done [yesterday] [N ...]` -> (for yesterday, task bit mask); no numbers means all three tasks."""
    yesterday, mask = False, 0
    for token in (raw or "").lower().replace(",", " ").split():
        if token in YESTERDAY_WORDS:
            yesterday = True
        elif token.isdigit() and int(token) in TASKS:
            mask |= 1 << (int(token) - 1)
        else:
            raise DoneError(token)
    return yesterday, mask or ALL_TASKS


def task_list(mask: int) -> str:
    return ", ".join(str(n) for n in TASKS if mask & (1 << (n - 1)))


def task_count(mask: int) -> int:
    return sum(1 for n in TASKS if mask & (1 << (n - 1)))


async def plan_refusal(ctx: Context, on: date) -> Reply | None:
    """A check-in needs a plan day with tasks: the learner's own plan (in a group without one, the group's)."""
    _ = ctx._
    enrolment = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    if enrolment is None and ctx.chat is not None:
        enrolment = await ctx.store.get_enrolment(SubjectRef("chat", ctx.chat.id))
    if enrolment is None:
        return Reply(
            plain(_("You haven't started the plan yet, so there is nothing to check in. Send /start to begin.")),
            ephemeral=True,
        )
    day = plan_day(enrolment.start_date, on, enrolment.pauses, enrolment.jumps)
    if day.status == "upcoming":
        return Reply(
            plain(
                _(
                    "Your plan starts on {start}; there is nothing to check in for {date} yet.",
                    start=(on + timedelta(days=day.days_until_start)).isoformat(),
                    date=on.isoformat(),
                )
            ),
            ephemeral=True,
        )
    if day.status == "paused":
        return Reply(
            plain(
                _(
                    "Your plan is paused on {date}, so there is nothing to check in. Send /resume first.",
                    date=on.isoformat(),
                )
            ),
            ephemeral=True,
        )
    if not has_tasks(day, on, ctx.reading_day):
        return Reply(
            plain(
                _(
                    "You have completed the 20-week plan: only the weekly slot days ({reading} and the day "
                    "after) and each plan month's first day have tasks to check in. {date} has none.",
                    reading=weekday_name(ctx.lang, ctx.reading_day),
                    date=on.isoformat(),
                )
            ),
            ephemeral=True,
        )
    return None


async def _pauses(ctx: Context) -> tuple[PauseSpan, ...]:
    enrolment = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    return enrolment.pauses if enrolment is not None else ()


def _repo(ctx: Context) -> AccountabilityRepo:
    return ctx.port(ACCOUNTABILITY)


def _streak_sentence(_: Translator, now: Standing) -> str:
    return _("Streak: {days} (best {best}).", days=streak_words(_, now.current), best=streak_words(_, now.best))


async def check_in(ctx: Context, on: date, mask: int) -> Reply:
    """Record a check-in for the learner's local date `on` (today, or yesterday before noon)."""
    _ = ctx._
    refusal = await plan_refusal(ctx, on)
    if refusal is not None:
        return refusal
    pauses = await _pauses(ctx)
    # In a group the check-in also puts the sender on its roster, in the same transaction.
    group = GroupJoin(ctx.chat.id, ctx.today(), ctx.services.clock.now()) if ctx.chat is not None else None
    outcome = await _repo(ctx).checkin(ctx.user.id, on, mask, pauses, group)
    if outcome.joined:
        await ctx.schedules_changed()
    if outcome.status == "already":
        return Reply(
            plain(
                _.plural(
                    "Already checked in for {date} (task {tasks}). Nothing changed; /undo takes it back.",
                    "Already checked in for {date} (tasks {tasks}). Nothing changed; /undo takes it back.",
                    task_count(outcome.tasks),
                    date=on.isoformat(),
                    tasks=task_list(outcome.tasks),
                )
            ),
            ephemeral=True,
        )
    today, grace = learner_day(ctx.services.clock, ctx.user)
    now = standing(outcome.latest, today, pauses, grace)
    n, tasks = task_count(outcome.tasks), task_list(outcome.tasks)
    if ctx.in_group:
        headline = _.plural(
            "{name} checked in for {date}: task {tasks}.",
            "{name} checked in for {date}: tasks {tasks}.",
            n,
            name=ctx.user.display_name,
            date=on.isoformat(),
            tasks=tasks,
        )
    else:  # a private chat speaks to "you"
        headline = _.plural(
            "You checked in for {date}: task {tasks}.",
            "You checked in for {date}: tasks {tasks}.",
            n,
            date=on.isoformat(),
            tasks=tasks,
        )
    lines = [bold(headline), plain(_streak_sentence(_, now))]
    day: DayState | None = outcome.day
    if day is not None and day.frozen is not None:
        lines.append(plain(_("A streak freeze covered the missed day {date}.", date=day.frozen.isoformat())))
    if day is not None and day.earned:
        lines.append(
            plain(_("You earned a streak freeze ({held} of {most} held).", held=day.freezes, most=MAX_FREEZES))
        )
    return Reply(join(lines))


_WHY_LABELS: dict[Why, tuple[str, str]] = {
    "counted": ("✓ ", N_("counted: checked in")),
    "frozen": ("❄ ", N_("frozen: a single missed day covered by a freeze")),
    "paused": ("⏸ ", N_("paused: neither breaks nor extends the streak")),
    "missed": ("✗ ", N_("missed")),
    "open": ("· ", N_("open: you can still check in")),
    "not_started": ("  ", N_("before your first check-in")),
}


@cache  # /streak shows 14 days of at most six labels: translate them once per language
def why_labels(lang: Lang) -> dict[Why, str]:
    _ = translator(lang)
    return {why: mark + _(label) for why, (mark, label) in _WHY_LABELS.items()}


@lru_cache(maxsize=1024)  # every learner's 14 days fall in the same ~16 dates: formatted once, not per reply
def day_line(day: date, why: Why, lang: Lang) -> str:
    return f"{day.isoformat()} {weekday_names(lang)[day.weekday()]}  {why_labels(lang)[why]}"


def open_day(ctx: Context, yesterday: bool, closed: str) -> date | Reply:
    """The learner's date a `/done` or `/undo` acts on: today, or yesterday while it is still open (until
    noon local time); after that, the `closed` refusal."""
    today, grace = learner_day(ctx.services.clock, ctx.user)
    if not yesterday:
        return today
    return today - timedelta(days=1) if grace else Reply(plain(closed), ephemeral=True)


async def done(ctx: Context) -> Reply:
    _ = ctx._
    try:
        yesterday, mask = parse_done(ctx.args.get("tasks"))
    except DoneError as error:
        return usage_reply(ctx, _("{value} is not a task number (1, 2 or 3) or 'yesterday'.", value=str(error)[:20]))
    closed = _("/done yesterday works until noon your time ({zone}); yesterday is closed now.", zone=ctx.user.timezone)
    on = open_day(ctx, yesterday, closed)
    return on if isinstance(on, Reply) else await check_in(ctx, on, mask)


async def button_day(ctx: Context, payload: str) -> date | Reply:
    """The local date a Done/Undo button may still act on, or the reply saying it can't."""
    _ = ctx._
    try:
        on = date.fromisoformat(payload)
    except ValueError:
        return expired_button(ctx)
    today, grace = learner_day(ctx.services.clock, ctx.user)
    on = min(on, today)  # a group's button carries the group's date, which may be ahead of the member's
    if on == today or (grace and on == today - timedelta(days=1)):
        return on
    return Reply(
        plain(
            _(
                "That button was for {date}, which is not open for check-ins any more (your today is "
                "{today}). Send /done for today.",
                date=on.isoformat(),
                today=today.isoformat(),
            )
        ),
        ephemeral=True,
    )


async def refreshed(ctx: Context, on: date, answer: Reply) -> list[Reply]:
    """After a button press in a private chat: the message it sat on, redrawn with today's state (✓ marks,
    Done or Undo) and the outcome under it. A group's shared message isn't redrawn for one member."""
    if ctx.in_group or on != ctx.today() or answer.ephemeral:  # a refusal stays a short answer (a toast)
        return [answer]
    enrolment, day = await current(ctx)
    if day is None:
        return [answer]
    view = render_day(ctx, day, await loop_of(ctx, enrolment), edit=True)
    return [replace(view, text=join([view.text, plain(""), answer.text]))]


async def done_button(ctx: Context, payload: str) -> list[Reply]:
    on = await button_day(ctx, payload)
    if isinstance(on, Reply):
        return [on]
    return await refreshed(ctx, on, await check_in(ctx, on, ALL_TASKS))


async def undo_button(ctx: Context, payload: str) -> list[Reply]:
    on = await button_day(ctx, payload)
    if isinstance(on, Reply):
        return [on]
    return await refreshed(ctx, on, await take_back(ctx, on))


async def undo(ctx: Context) -> Reply:
    _ = ctx._
    raw = (ctx.args.get("day") or "").strip().lower()
    if raw and raw not in YESTERDAY_WORDS:
        return usage_reply(ctx, _("{value} is not 'yesterday'.", value=raw[:20]))
    closed = _("/undo yesterday works until noon your time ({zone}); yesterday is closed now.", zone=ctx.user.timezone)
    on = open_day(ctx, bool(raw), closed)
    return on if isinstance(on, Reply) else await take_back(ctx, on)


async def take_back(ctx: Context, on: date) -> Reply:
    """Take back the check-in of the learner's local date `on`."""
    _ = ctx._
    today, grace = learner_day(ctx.services.clock, ctx.user)
    pauses = await _pauses(ctx)
    outcome = await _repo(ctx).undo(ctx.user.id, on, pauses)
    if outcome is None:
        return Reply(
            plain(_("Nothing to undo: you haven't checked in for {date}.", date=on.isoformat())),
            ephemeral=True,
        )
    lines = [
        bold(_("Took back your check-in for {date}.", date=on.isoformat())),
        plain(_streak_sentence(_, standing(outcome.latest, today, pauses, grace))),
    ]
    if outcome.removed is not None and outcome.removed.earned:
        lines.append(plain(_("The streak freeze earned that day is taken back too.")))
    if outcome.removed is not None and outcome.removed.frozen is not None:
        lines.append(plain(_("The freeze it spent on {date} is held again.", date=outcome.removed.frozen.isoformat())))
    return Reply(join(lines))


async def streak(ctx: Context) -> Reply:
    _ = ctx._
    today, grace = learner_day(ctx.services.clock, ctx.user)
    window = await _repo(ctx).streak_window(ctx.user.id, today - timedelta(days=WHY_DAYS - 1))
    pauses, run = window.pauses, window.run
    now = standing(run.latest, today, pauses, grace)
    figures = (  # plain lines alike: one span
        _("Current streak: {days}", days=streak_words(_, now.current)),
        _("Best streak: {days}", days=streak_words(_, now.best)),
        _(
            "Freezes held: {held} of {most} (one per 7 counted days; covers a single missed day)",
            held=now.freezes,
            most=MAX_FREEZES,
        ),
        "",
    )
    lines: list[Rich] = [
        bold(_("Streak of {name}", name=ctx.user.display_name) if ctx.in_group else _("Your streak")),
        plain("\n".join(figures)),
        bold(_("Last 14 days ({zone})", zone=ctx.user.timezone)),
    ]
    days = why_days(run, today, pauses, grace)
    before = [day for day, why in days if why == "not_started"]
    if before:  # the days before the first check-in say one thing: one line
        lines.append(
            plain(
                _.plural(
                    "{first}: {n} day before your first check-in",
                    "{first} to {last}: {n} days before your first check-in",
                    len(before),
                    first=before[0].isoformat(),
                    last=before[-1].isoformat(),
                )
            )
        )
    lang = ctx.lang  # a property: read once, not per day
    shown = [day_line(day, why, lang) for day, why in days if why != "not_started"]
    if shown:
        lines.append(plain("\n".join(shown)))  # one span: the day lines are plain text alike
    return Reply(join(lines))


async def join_(ctx: Context) -> Reply:
    _ = ctx._
    assert ctx.chat is not None
    if not await _repo(ctx).join(ctx.chat.id, ctx.user.id, ctx.services.clock.now(), ctx.today()):
        return Reply(plain(_("You are already on this group's roster.")), ephemeral=True)
    await ctx.schedules_changed()
    return Reply(
        plain(
            _(
                "{name} joined the roster. Check in with /done; /top shows the leaderboard.",
                name=ctx.user.display_name,
            )
        )
    )


async def leave(ctx: Context) -> Reply | list[Reply]:
    _ = ctx._
    assert ctx.chat is not None
    if not await _repo(ctx).leave(ctx.chat.id, ctx.user.id):
        return Reply(plain(_("You are not on this group's roster.")), ephemeral=True)
    left = Reply(plain(_("{name} left the roster. Your own streak is kept.", name=ctx.user.display_name)))
    return [left, *await leave_buddies(ctx)]  # out of this week's buddies too


async def top(ctx: Context) -> Reply:
    _ = ctx._
    assert ctx.chat is not None
    board = await build_top(_repo(ctx), ctx.services.clock, ctx.chat, ctx.user.id)
    if board is None:
        return Reply(plain(_("Nobody is on this group's roster yet. Send /join, or check in here with /done.")))
    return Reply(leaderboard(_, ctx.chat, board))


async def groupnudge(ctx: Context) -> Reply:
    _ = ctx._
    at: time | None = ctx.args["time"]
    await ctx.save(nudge_time=at)
    await ctx.schedules_changed()
    if at is None:
        return Reply(plain(_("Group nudges are off.")))
    return Reply(
        plain(
            _(
                "Every day at {time} ({zone}) I'll mention the members who haven't checked in yet.",
                time=at.strftime("%H:%M"),
                zone=ctx.timezone,
            )
        )
    )


async def groupshare(ctx: Context) -> Reply:
    assert ctx.chat is not None
    await _repo(ctx).set_share(ctx.chat.id, ctx.args["percent"])
    return Reply(
        plain(ctx._("The group's day now counts when {share}% of members check in.", share=ctx.args["percent"]))
    )


async def nudge(ctx: Context) -> Reply:
    _ = ctx._
    off = ctx.args["switch"] == "off"
    ctx.user = await ctx.store.update_user(ctx.user.id, nudge_opt_out=off)
    if off:
        return Reply(plain(_("Group nudges won't mention you. /nudge on turns them back on.")), ephemeral=True)
    return Reply(plain(_("Group nudges may mention you again.")), ephemeral=True)


async def stats(ctx: Context) -> Reply:
    """The stats picture (bot/accountability/stats_view.py reads its data and draws it off the event loop)."""
    return await stats_picture(ctx)


def register(registry: Registry) -> None:
    registry.command(
        "done",
        en="Check in today's tasks (all, or e.g. /done 1 3; /done yesterday until noon)",
        zh="打卡今天的任务（全部，或如 /done 1 3；中午前可 /done yesterday 补昨天）",
        args=[DONE_ARG],
    )(done)
    registry.action(DONE_ACTION)(done_button)
    registry.action(UNDO_ACTION)(undo_button)
    registry.command(
        "undo",
        en="Take back today's check-in (/undo yesterday until noon)",
        zh="撤销今天的打卡（中午前可 /undo yesterday 撤销昨天的）",
        args=[UNDO_ARG],
    )(undo)
    registry.command("streak", en="Your streak, freezes and the last 14 days", zh="你的连续打卡、冻结卡和最近 14 天")(
        streak
    )
    registry.command("join", en="Join this group's accountability roster", zh="加入本群的打卡名单", scope="group")(
        join_
    )
    registry.command("leave", en="Leave this group's roster", zh="退出本群的打卡名单", scope="group")(leave)
    registry.command("top", en="This group's leaderboard and group streak", zh="本群排行榜和群连续天数", scope="group")(
        top
    )
    registry.command(
        "groupnudge",
        en="Mention members who haven't checked in, daily at HH:MM, or off",
        zh="每天 HH:MM 提醒还没打卡的成员，或 off 关闭",
        args=[TIME_ARG],
        scope="group",
        group_admin=True,
    )(groupnudge)
    registry.command(
        "groupshare",
        en="Share of members (percent) whose check-ins make the group's day count",
        zh="群打卡日所需的成员打卡比例（百分比）",
        args=[ArgSpec("percent", "int", {"en": "1 to 100", "zh": "1 到 100"}, required=True, minimum=1, maximum=100)],
        scope="group",
        group_admin=True,
    )(groupshare)
    registry.command(
        "nudge",
        en="Whether group nudges may mention you: on or off",
        zh="群提醒是否可以提及你：on 或 off",
        args=[
            ArgSpec("switch", "choice", {"en": "on or off", "zh": "on 或 off"}, required=True, choices=("on", "off"))
        ],
    )(nudge)
    registry.group(
        "stats",
        en="A picture of your check-ins and plan progress (/stats web: your private stats page)",
        zh="打卡热力图和计划进度图（/stats web：你的私人统计网页）",
        subcommands=[
            Subcommand("picture", {"en": "the picture, here in the chat", "zh": "在聊天里发送统计图"}, stats),
            STATS_WEB,
        ],
        default="picture",
    )
