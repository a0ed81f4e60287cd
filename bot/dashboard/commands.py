"""/dashboard [reset] in a group (administrators) and /stats web [reset] in a private chat: the replies
that carry a page's secret link."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry, Subcommand
from bot.core.types import Reply
from bot.dashboard.secret_links import GROUP_DASHBOARD, LEARNER_STATS, issue_link

RESET_ARG = ArgSpec(
    "action",
    "choice",
    {"en": "replace the earlier links with a new one", "zh": "作废之前的链接并生成新链接"},
    choices=("reset",),
)


def no_web_pages(ctx: Context) -> Reply:
    return Reply(
        plain(
            ctx._(
                "This bot has no web pages: whoever runs it hasn't set WEB_PORT (and PUBLIC_URL), so there is no "
                "link to give."
            )
        ),
        ephemeral=True,
    )


async def dashboard(ctx: Context) -> Reply:
    _ = ctx._
    assert ctx.chat is not None  # a group command: the dispatcher refuses it elsewhere
    reset = ctx.args.get("action") == "reset"
    url = await issue_link(ctx.services, GROUP_DASHBOARD, ctx.chat.id, reset=reset)
    if url is None:
        return no_web_pages(ctx)
    lines = [
        bold(_("This group's dashboard (read-only):")),
        plain(url),
        plain(
            _(
                "Anyone with the link can see the group's check-ins, leaderboard, buddies, reviews and papers. "
                "/dashboard reset replaces it and turns off the earlier links."
            )
        ),
    ]
    if reset:
        lines.insert(0, plain(_("Earlier dashboard links are turned off.")))
    return Reply(join(lines))


async def stats_web(ctx: Context) -> Reply:
    _ = ctx._
    if ctx.in_group:  # the link opens one learner's page: it is never posted where others read it
        return Reply(plain(_("/stats web gives a private link: send it to me in a private chat.")), ephemeral=True)
    reset = ctx.args.get("action") == "reset"
    url = await issue_link(ctx.services, LEARNER_STATS, ctx.user.id, reset=reset)
    if url is None:
        return no_web_pages(ctx)
    lines = [
        bold(_("Your stats page:")),
        plain(url),
        plain(_("The link is yours alone: anyone who has it can see your stats. /stats web reset replaces it.")),
    ]
    if reset:
        lines.insert(0, plain(_("Earlier links to your stats page are turned off.")))
    return Reply(join(lines))


STATS_WEB = Subcommand(
    "web",
    {"en": "a private link to your stats page (reset: a new link)", "zh": "你的统计网页的私人链接（reset：换新链接）"},
    stats_web,
    (RESET_ARG,),
)


def register(registry: Registry) -> None:
    registry.command(
        "dashboard",
        en="A read-only web page of this group (admins; /dashboard reset replaces the link)",
        zh="本群的只读网页看板（管理员；/dashboard reset 更换链接）",
        args=[RESET_ARG],
        scope="group",
        group_admin=True,
    )(dashboard)
