"""Per-learner (or, in a group, per-group) preferences: /lang /timezone /settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.commands.common import save, weekday_name
from bot.core.commands.reminders import next_push_lines
from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Reply
from bot.i18n import translator


def register(registry: Registry) -> None:
    @registry.command(
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
    )
    async def lang(ctx: Context) -> Reply:
        ctx = await save(ctx, lang=ctx.args["language"])
        _ = translator(ctx.lang)
        return Reply(plain(_("I'll reply in English from now on.")))

    @registry.command(
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
    )
    async def timezone(ctx: Context) -> Reply:
        _ = ctx._
        zone = ctx.args.get("zone")
        if zone is None:
            return Reply(plain(_("Your timezone is {zone}. Change it with /timezone Area/City.", zone=ctx.timezone)))
        ctx = await save(ctx, timezone=zone)
        await ctx.schedules_changed()
        now = ctx.services.clock.now().astimezone(ZoneInfo(zone))
        return Reply(plain(_("Timezone set to {zone} (local time now {time}).", zone=zone, time=now.strftime("%H:%M"))))

    @registry.command("settings", en="Your settings", zh="查看设置")
    async def settings(ctx: Context) -> Reply:
        _ = ctx._
        enrolment = await ctx.store.get_enrolment(ctx.subject)
        reading = ctx.chat.reading_day if ctx.chat is not None else ctx.user.reading_day
        lines: list[Rich] = [
            bold(_("Group settings") if ctx.in_group else _("Your settings")),
            plain(_("Language: {lang}", lang={"zh": "中文 (zh)", "en": "English (en)"}[ctx.lang])),
            plain(_("Timezone: {zone}", zone=ctx.timezone)),
            plain(
                _("Plan start: {date}", date=enrolment.start_date.isoformat())
                if enrolment
                else _("Plan start: not started (send /start)")
            ),
            plain(_("Reading day: {day}", day=weekday_name(ctx, reading))),
        ]
        lines += await next_push_lines(ctx)
        return Reply(join(lines))
