"""Per-learner (or, in a group, per-group) preferences: /lang /timezone /settings."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.replies import weekday_name
from bot.core.types import Reply
from bot.i18n import translator

LANG_NAMES = {"zh": "中文 (zh)", "en": "English (en)"}


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


async def lang(ctx: Context) -> Reply:
    await ctx.save(lang=ctx.args["language"])
    _ = translator(ctx.lang)
    return Reply(plain(_("I'll reply in English from now on.")))


async def timezone(ctx: Context) -> Reply:
    _ = ctx._
    zone = ctx.args.get("zone")
    if zone is None:
        return Reply(plain(_("Your timezone is {zone}. Change it with /timezone Area/City.", zone=ctx.timezone)))
    await ctx.save(timezone=zone)
    await ctx.schedules_changed()
    now = ctx.services.clock.now().astimezone(ZoneInfo(zone))
    return Reply(plain(_("Timezone set to {zone} (local time now {time}).", zone=zone, time=now.strftime("%H:%M"))))


async def push_lines(ctx: Context) -> list[Rich]:
    """Reminder or post time, and the next scheduled push in the reader's timezone."""
    _ = ctx._
    lines: list[Rich] = []
    if ctx.chat is not None:
        post = ctx.chat.post_time
        lines.append(plain(_("Group posts: {time}", time=_hhmm(post)) if post else _("Group posts: off")))
    else:
        remind = ctx.user.reminder_time
        lines.append(plain(_("Daily reminder: {time}", time=_hhmm(remind)) if remind else _("Daily reminder: off")))
    found = await ctx.services.schedules.next_due(ctx.subject)
    if found is not None:
        when = found[1].astimezone(ZoneInfo(ctx.timezone))
        stamp = f"{weekday_name(ctx.lang, when.weekday())} {when:%Y-%m-%d %H:%M} ({ctx.timezone})"
        lines.append(plain(_("Next push: {when}", when=stamp)))
    return lines


async def settings(ctx: Context) -> Reply:
    _ = ctx._
    enrolment = await ctx.store.get_enrolment(ctx.subject)
    lines: list[Rich] = [
        bold(_("Group settings") if ctx.in_group else _("Your settings")),
        plain(_("Language: {lang}", lang=LANG_NAMES[ctx.lang])),
        plain(_("Timezone: {zone}", zone=ctx.timezone)),
        plain(
            _("Plan start: {date}", date=enrolment.start_date.isoformat())
            if enrolment
            else _("Plan start: not started (send /start)")
        ),
        plain(_("Reading day: {day}", day=weekday_name(ctx.lang, ctx.reading_day))),
    ]
    lines += await push_lines(ctx)
    return Reply(join(lines))


def register(registry: Registry) -> None:
    registry.command(
        "lang",
        en="Reply language: zh or en",
        zh="回复语言：zh 或 en",
        args=[
            ArgSpec(
                "language",
                "choice",
                {"en": "zh (中文) or en (English)", "zh": "zh（中文）或 en（English）"},
                required=True,
                choices=("zh", "en"),
            )
        ],
        group_admin=True,
    )(lang)
    registry.command(
        "timezone",
        en="Your timezone (IANA name such as Europe/Berlin)",
        zh="设置时区（IANA 名称，如 Asia/Shanghai）",
        args=[
            ArgSpec(
                "zone",
                "timezone",
                {
                    "en": "an IANA timezone such as Asia/Shanghai or America/New_York",
                    "zh": "IANA 时区名，如 Asia/Shanghai、America/New_York",
                },
            )
        ],
        group_admin=True,
    )(timezone)
    registry.command("settings", en="Your settings", zh="查看设置")(settings)
