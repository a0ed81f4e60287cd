"""Study buddies and weekly reviews: /buddy [on|off], /buddies [shuffle], /review [N | TEXT], /reviews.

Opt-in is per group. What a group sees is only ever its own members and the reviews shared with it; a
private `/buddy` lists the learner's buddy in each of their groups, and a review is read back in a group
only when it was shared with that group.
"""

from __future__ import annotations

import re
from datetime import date

from bot.accountability.ports import ACCOUNTABILITY
from bot.buddies.ports import BUDDIES, BuddyRepo, Review
from bot.buddies.weeks import current_week, dropped_note, monday_of, names, redraw, split_line
from bot.core.clock import local_today
from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry, Subcommand
from bot.core.replies import weekday_name
from bot.core.types import Chat, Reply, SubjectRef, User
from bot.plan.calendar import PlanDay, plan_day
from bot.plan.commands import current, not_enrolled
from bot.plan.model import TOTAL_WEEKS

MAX_REVIEW = 2000
WEEK_NUMBER = re.compile(r"[+-]?\d{1,4}")  # `/review 3` reads week 3; a review is more than a number
REVIEW_ARG = ArgSpec(
    "text",
    "text",
    {
        "en": "nothing for this week's review, a week number 1-20, or your review (up to 2,000 characters)",
        "zh": "留空查看本周复盘；或周数 1-20；或复盘内容（最多 2000 字）",
    },
    max_length=4096,  # longer than the limit, so an over-long review gets its own clear answer
)


def _repo(ctx: Context) -> BuddyRepo:
    return ctx.port(BUDDIES)


def _group_only(ctx: Context, command: str) -> Reply | None:
    if ctx.in_group:
        return None
    return Reply(plain(ctx._("/{command} works in a group chat; add me to your study group.", command=command)))


# /buddy --------------------------------------------------------------------------------------------------
async def _checkin_lines(ctx: Context, people: list[User], since: date, until: date) -> list[Rich]:
    rows = await ctx.port(ACCOUNTABILITY).checkins([u.id for u in people], since, until)
    days: dict[int, list[date]] = {}
    for uid, on, _mask in sorted(rows, key=lambda r: r[1]):
        days.setdefault(uid, []).append(on)
    lines = []
    for person in people:
        done = days.get(person.id, [])
        shown = ", ".join(weekday_name(ctx.lang, d.weekday()) for d in done) if done else ctx._("no check-ins yet")
        lines.append(plain(f"• {person.display_name}: {shown}"))
    return lines


async def _buddy_in(ctx: Context, chat: Chat) -> list[Rich]:
    _ = ctx._
    today = local_today(ctx.services.clock, chat.timezone)
    week = await current_week(_repo(ctx), chat.id, today)
    buddies = list(week.buddies_of(ctx.user.id)) if week is not None else []
    lines: list[Rich] = [bold(chat.title or _("this group"))]
    if buddies:
        lines.append(
            plain(_.plural("Your buddy: {names}", "Your buddies: {names}", len(buddies), names=names(buddies)))
        )
    else:
        lines.append(plain(_("No buddy yet: you'll be paired as soon as another member opts in, or on Monday.")))
    monday = monday_of(today)
    lines.append(plain(_("Check-ins this week (since Monday {date}):", date=monday.isoformat())))
    lines += await _checkin_lines(ctx, [ctx.user, *buddies], monday, today)
    return lines


async def buddy_show(ctx: Context) -> Reply:
    _ = ctx._
    repo = _repo(ctx)
    if ctx.chat is not None:  # in a group only this group's buddy: other groups' names stay there
        if ctx.chat.id not in await repo.groups_of(ctx.user.id):
            return Reply(
                plain(_("You haven't opted in to study buddies here. Send /buddy on to be paired every Monday.")),
                ephemeral=True,
            )
        return Reply(join(await _buddy_in(ctx, ctx.chat)), ephemeral=True)
    chats = await ctx.store.get_chats(await repo.groups_of(ctx.user.id))
    if not chats:
        return Reply(
            plain(
                _(
                    "You have no study buddy yet. Buddies are per group: send /buddy on in a study group and "
                    "I'll pair you with another member every Monday."
                )
            )
        )
    sections: list[Rich] = []
    for chat in sorted(chats.values(), key=lambda c: c.id):
        sections.append(join(await _buddy_in(ctx, chat)))
    return Reply(join(sections, "\n\n"))


async def buddy_on(ctx: Context) -> Reply:
    _ = ctx._
    refused = _group_only(ctx, "buddy on")
    if refused is not None or ctx.chat is None:
        return refused or Reply()
    repo = _repo(ctx)
    if not await repo.set_opt_in(ctx.chat.id, ctx.user.id, True, ctx.services.clock.now()):
        return Reply(plain(_("You have already opted in to study buddies here.")), ephemeral=True)
    await ctx.schedules_changed()  # the group's Monday post
    monday = monday_of(ctx.today())
    await repo.join_week(ctx.chat.id, monday, ctx.user.id)  # a drawn week takes a newcomer at once
    week = await current_week(repo, ctx.chat.id, ctx.today())
    buddies = list(week.buddies_of(ctx.user.id)) if week is not None else []
    text = _("{name} opted in to study buddies.", name=ctx.user.display_name)
    if buddies:
        text += "\n" + _.plural(
            "Your buddy this week: {names}", "Your buddies this week: {names}", len(buddies), names=names(buddies)
        )
    else:
        text += "\n" + _("No buddy yet: you'll be paired as soon as another member opts in, or on Monday.")
    return Reply(plain(text))


async def buddy_off(ctx: Context) -> Reply:
    _ = ctx._
    refused = _group_only(ctx, "buddy off")
    if refused is not None or ctx.chat is None:
        return refused or Reply()
    repo = _repo(ctx)
    if not await repo.set_opt_in(ctx.chat.id, ctx.user.id, False, ctx.services.clock.now()):
        return Reply(plain(_("You haven't opted in to study buddies here.")), ephemeral=True)
    note = await dropped_note(ctx, await repo.drop(ctx.chat.id, monday_of(ctx.today()), ctx.user.id))
    text = _("{name} opted out of study buddies. /buddy on opts back in.", name=ctx.user.display_name)
    return Reply(plain(text + ("\n" + note if note else "")))


# /buddies ------------------------------------------------------------------------------------------------
async def _nobody_paired(ctx: Context, chat_id: int) -> Reply:
    _ = ctx._
    members = await _repo(ctx).opted_in(chat_id)
    if not members:
        return Reply(plain(_("Nobody here has opted in to study buddies yet. Send /buddy on to be paired.")))
    return Reply(
        plain(
            _("Only {name} has opted in so far, so nobody is paired yet. Send /buddy on to join.", name=names(members))
        )
    )


async def buddies_list(ctx: Context) -> Reply:
    assert ctx.chat is not None
    week = await current_week(_repo(ctx), ctx.chat.id, ctx.today())
    if week is None or not week.groups:
        return await _nobody_paired(ctx, ctx.chat.id)
    return Reply(split_line(ctx._, week))


async def buddies_shuffle(ctx: Context) -> Reply:
    _ = ctx._
    assert ctx.chat is not None
    check = ctx.incoming.admin_check
    if check is None or not await check():
        return Reply(
            plain(_("Only group administrators can use /{command} here.", command="buddies shuffle")), ephemeral=True
        )
    if len(await _repo(ctx).opted_in(ctx.chat.id)) < 2:
        return await _nobody_paired(ctx, ctx.chat.id)
    week = await redraw(_repo(ctx), ctx.chat.id, ctx.today())
    return Reply(join([bold(_("Redrawn for the rest of this week.")), split_line(_, week)]))


# /review -------------------------------------------------------------------------------------------------
async def _plan_week(ctx: Context) -> PlanDay | None:
    """The learner's own plan day (in their timezone); in a group without one of their own, the group's."""
    own = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    if own is not None:
        today = local_today(ctx.services.clock, ctx.user.timezone)
        return plan_day(own.start_date, today, own.pauses, own.jumps)
    _enrolment, day = await current(ctx)
    return day


def _shown(ctx: Context, review: Review) -> Reply:
    _ = ctx._
    where = _("shared with a group") if review.chat_id is not None else _("private")
    heading = _(
        "Your review of week {week} ({date}, {where}):",
        week=review.week,
        date=review.written_on.isoformat(),
        where=where,
    )
    return Reply(join([bold(heading), plain(review.text)]), ephemeral=ctx.in_group)


async def _show_review(ctx: Context, week: int) -> Reply:
    _ = ctx._
    review = await _repo(ctx).review(ctx.user.id, week)
    if review is None:
        return Reply(
            plain(
                _("No review for week {week} yet. Send /review followed by your text to write this week's.", week=week)
            ),
            ephemeral=True,
        )
    if ctx.chat is not None and review.chat_id != ctx.chat.id:
        return Reply(
            plain(
                _(
                    "Your review of week {week} isn't shared with this group; send /review {week} to me privately "
                    "to read it.",
                    week=week,
                )
            ),
            ephemeral=True,
        )
    return _shown(ctx, review)


async def review(ctx: Context) -> Reply:
    _ = ctx._
    raw: str | None = ctx.args.get("text")
    if raw is not None and WEEK_NUMBER.fullmatch(raw):
        week = int(raw)
        if not 1 <= week <= TOTAL_WEEKS:
            return Reply(
                plain(_("There is no week {week}: the plan has weeks 1 to {last}.", week=week, last=TOTAL_WEEKS)),
                ephemeral=True,
            )
        return await _show_review(ctx, week)
    day = await _plan_week(ctx)
    if day is None and ctx.in_group:
        return Reply(
            plain(_("Reviews follow your own plan weeks: send /start to me privately to begin the plan.")),
            ephemeral=True,
        )
    if day is None:
        return not_enrolled(ctx)
    if day.status == "upcoming":
        return Reply(plain(_("Your plan hasn't started yet: reviews begin in week 1.")), ephemeral=True)
    if day.status == "complete":
        return Reply(
            plain(_("Your plan is complete, so there is no current week to review. /review N shows week N's.")),
            ephemeral=True,
        )
    if raw is None:
        return await _show_review(ctx, day.week)
    if len(raw) > MAX_REVIEW:
        return Reply(
            plain(
                _(
                    "That review is {n} characters long; the limit is {limit}. Nothing was saved: shorten it and "
                    "send it again.",
                    n=len(raw),
                    limit=MAX_REVIEW,
                )
            ),
            ephemeral=True,
        )
    shared = ctx.chat.id if ctx.chat is not None else None
    replaced = await _repo(ctx).save_review(
        Review(ctx.user.id, day.week, raw, shared, ctx.today(), ctx.services.clock.now())
    )
    if shared is not None:
        text = _(
            "{name}'s review of week {week} is saved and shared with this group (/reviews lists this week's).",
            name=ctx.user.display_name,
            week=day.week,
        )
    else:
        text = _(
            "Your review of week {week} is saved. It is private: only you can read it. Send /review in a study "
            "group to share it with that group.",
            week=day.week,
        )
    if replaced:
        text += "\n" + _("It replaces your earlier review of that week.")
    return Reply(plain(text))


async def reviews(ctx: Context) -> Reply:
    _ = ctx._
    assert ctx.chat is not None
    today = ctx.today()
    shared = await _repo(ctx).shared_reviews(ctx.chat.id, monday_of(today), today)
    if not shared:
        return Reply(plain(_("No reviews shared here this week yet. Write yours with /review followed by your text.")))
    lines: list[Rich] = [bold(_("Reviews shared here this week"))]
    for user, item in shared:
        lines += [plain(""), bold(_("{name}, week {week}", name=user.display_name, week=item.week)), plain(item.text)]
    return Reply(join(lines))


def register(registry: Registry) -> None:
    registry.group(
        "buddy",
        en="Your study buddy (/buddy on|off in a group to opt in or out)",
        zh="你的学习伙伴（在群里 /buddy on|off 加入或退出）",
        subcommands=[
            Subcommand("show", {"en": "your buddy in each of your groups", "zh": "你在各群的学习伙伴"}, buddy_show),
            Subcommand("on", {"en": "be paired in this group every Monday", "zh": "在本群每周一参与配对"}, buddy_on),
            Subcommand("off", {"en": "stop being paired in this group", "zh": "退出本群的配对"}, buddy_off),
        ],
        default="show",
    )
    registry.group(
        "buddies",
        en="This week's study buddies in this group (admins: /buddies shuffle)",
        zh="本群本周的学习伙伴（管理员：/buddies shuffle 重新配对）",
        subcommands=[
            Subcommand("list", {"en": "this week's pairs", "zh": "本周的配对"}, buddies_list),
            Subcommand(
                "shuffle",
                {"en": "redraw this week's pairs (admins)", "zh": "重新抽取本周配对（管理员）"},
                buddies_shuffle,
            ),
        ],
        default="list",
        scope="group",
    )
    registry.command(
        "review",
        en="Your weekly review: /review TEXT writes it, /review shows it, /review N shows week N's",
        zh="每周复盘：/review 内容 写入，/review 查看，/review N 查看第 N 周",
        args=[REVIEW_ARG],
    )(review)
    registry.command("reviews", en="This week's reviews shared in this group", zh="本周本群分享的复盘", scope="group")(
        reviews
    )
