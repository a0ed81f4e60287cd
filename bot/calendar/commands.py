"""/calendar (a private link to the learner's live feed, /calendar reset) and /export (the same events as a file).

A link's token is stored only as a hash, so it can never be shown twice: every `/calendar` issues a
fresh link and earlier ones keep working (a phone and a laptop may each hold one) until `/calendar reset`
ends them all and hands out one new link.
"""

from __future__ import annotations

import asyncio

from bot.calendar.days import PlanCalendar, learner_calendar, plan_calendar
from bot.calendar.feed import SCOPE, feed_path, owner_of
from bot.calendar.ics import to_ics
from bot.core.clock import local_today
from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Attachment, Reply, SubjectRef
from bot.plan.commands import not_enrolled
from bot.web.links import WebLinks, public_links
from bot.web.tokens import WEB_TOKENS

RESET = "reset"
CALENDAR_ARG = ArgSpec(
    "action",
    "choice",
    {
        "en": "nothing for your link; reset ends every earlier link and gives a new one",
        "zh": "留空获取你的日历链接；reset 让之前的链接全部失效并给你一个新链接",
    },
    choices=(RESET,),
)


def link_lines(ctx: Context, links: WebLinks, token: str) -> list[Rich]:
    _ = ctx._
    path = feed_path(token)
    return [
        plain(_("Subscribe with this link in your calendar app; it follows /pause, /catchup, /goto and /remind:")),
        plain(links.webcal(path)),
        plain(_("Or add it by its web address (in Google Calendar: Other calendars, From URL):")),
        plain(links.url(path)),
        plain(""),
        plain(
            _(
                "Keep it to yourself: anyone with the link sees your plan. I can't show it again (only a "
                "fingerprint of it is kept). /calendar gives another link; /calendar reset ends every earlier one."
            )
        ),
    ]


async def calendar(ctx: Context) -> Reply:
    _ = ctx._
    if ctx.in_group:
        return Reply(
            plain(
                _(
                    "Your calendar link is personal: anyone who has it sees your plan. Send /calendar to me in "
                    "a private chat and I'll answer there."
                )
            ),
            ephemeral=True,
        )
    links = public_links(ctx.services)
    if links is None:
        return Reply(
            plain(
                _(
                    "This bot's server has no web pages (WEB_PORT is not set), so there is no calendar to "
                    "subscribe to. /export sends your plan as a file to import instead."
                )
            ),
            ephemeral=True,
        )
    if await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id)) is None:
        return not_enrolled(ctx)
    tokens, owner = ctx.port(WEB_TOKENS), owner_of(ctx.user.id)
    if ctx.args.get("action") == RESET:
        revoked = await tokens.revoke(SCOPE, owner)
        heading = _.plural(
            "{n} earlier calendar link stopped working. Your new link:",
            "{n} earlier calendar links stopped working. Your new link:",
            revoked,
        )
    else:
        heading = _("Your calendar feed")
    token = await tokens.issue(SCOPE, owner)
    return Reply(join([bold(heading), *link_lines(ctx, links, token)]))


async def subject_calendar(ctx: Context) -> PlanCalendar | None:
    """What /export sends: in a group on the plan, the group's days (its zone and post time); elsewhere,
    the sender's own, exactly as their feed shows them."""
    chat = ctx.chat
    if chat is not None:
        cohort = await ctx.store.get_enrolment(ctx.subject)
        if cohort is not None:
            return plan_calendar(
                chat.lang,
                cohort,
                ctx.today(),
                timezone=chat.timezone,
                at=chat.post_time,
                reading_day=chat.reading_day,
                owner=f"{chat.platform}-chat{chat.external_id}",
            )
    own = await ctx.store.get_enrolment(SubjectRef("user", ctx.user.id))
    if own is None:
        return None
    return learner_calendar(ctx.user, own, local_today(ctx.services.clock, ctx.user.timezone))


async def export(ctx: Context) -> Reply:
    _ = ctx._
    plan = await subject_calendar(ctx)
    if plan is None:
        return not_enrolled(ctx)
    if not plan.days:
        return Reply(plain(_("Your plan is complete: no plan days are left to export.")))
    data = await asyncio.to_thread(to_ics, plan, ctx.services.clock.now())
    return Reply(
        plain(
            _.plural(
                "{n} plan day exported; import the file into any calendar app.",
                "{n} plan days exported; import the file into any calendar app.",
                len(plan.days),
            )
        ),
        file=Attachment("studybuddy-plan.ics", data, "text/calendar"),
    )


def register(registry: Registry) -> None:
    registry.command(
        "calendar",
        en="A private link that puts your plan in your calendar app and stays up to date",
        zh="私人日历订阅链接：把计划放进你的日历应用，并自动保持更新",
        args=[CALENDAR_ARG],
    )(calendar)
    registry.command(
        "export", en="Your remaining plan days as a calendar (.ics)", zh="把剩余的计划日导出为日历（.ics）"
    )(export)
