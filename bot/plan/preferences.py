"""Per-learner (or, in a group, per-group) preferences: /lang /timezone /settings."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, time
from zoneinfo import ZoneInfo

from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.replies import current_value_reply, expired_button, usage_reply, weekday_name
from bot.core.types import Button, Enrolment, Reply
from bot.i18n import Translator, translator
from bot.plan.calendar import DAYS_PER_WEEK, PlanDay, plan_day
from bot.plan.zones import LIKELY, find_zones, zone_at_location

LANG_NAMES = {"zh": "中文 (zh)", "en": "English (en)"}
ZONE_ACTION = "tz"  # `tz:<IANA zone>` sets the zone picked from a short list


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


async def lang(ctx: Context) -> Reply:
    if "language" not in ctx.args:
        return current_value_reply(ctx, LANG_NAMES[ctx.lang])
    # A learner's choice is stored as one: a platform's locale (or the console's LANG) never overrides it.
    await ctx.save(lang=ctx.args["language"], **({} if ctx.in_group else {"lang_chosen": True}))
    _ = translator(ctx.lang)
    return Reply(plain(_("I'll reply in English from now on.")))


async def timezone(ctx: Context) -> Reply:
    """A city or country (English or Chinese), a UTC offset, an IANA name, or a shared location's lat,lng."""
    _ = ctx._
    query: str | None = ctx.args.get("zone")
    if query is None:
        return current_value_reply(ctx, ctx.timezone)
    now = ctx.services.clock.now()
    # the place index is built on first use (about a second of CPU): keep it off the event loop
    zones = await asyncio.to_thread(zone_at_location, query) or await asyncio.to_thread(find_zones, query, now)
    if not zones:
        return usage_reply(
            ctx,
            _(
                "Unknown timezone or place {value}. Try a city (Berlin, 上海), a country (Japan), an offset "
                "(+8, UTC-5) or an IANA name such as Asia/Shanghai.",
                value=query[:40],
            ),
        )
    if len(zones) > 1:
        return zone_choices(
            ctx, zones, _("Which timezone do you mean? {value} could be any of these:", value=query[:40])
        )
    return await set_timezone(ctx, zones[0])


def zone_choices(ctx: Context, zones: Sequence[str], question: str) -> Reply:
    return Reply(plain(question), buttons=tuple(Button(zone, f"{ZONE_ACTION}:{zone}") for zone in zones))


async def set_timezone(ctx: Context, zone: str) -> Reply:
    _ = ctx._
    await ctx.save(timezone=zone, **({} if ctx.in_group else {"timezone_asked": True}))
    await ctx.schedules_changed()
    now = ctx.services.clock.now().astimezone(ZoneInfo(zone))
    return Reply(plain(_("Timezone set to {zone} (local time now {time}).", zone=zone, time=now.strftime("%H:%M"))))


async def zone_pressed(ctx: Context, payload: str) -> Reply:
    """A zone button: the same rule as /timezone in a group (admins only)."""
    zones = find_zones(payload, ctx.services.clock.now()) if "/" in payload or payload == "UTC" else []
    if zones != [payload]:
        return expired_button(ctx)
    if ctx.in_group:
        check = ctx.incoming.admin_check
        if check is None or not await check():
            return Reply(
                plain(ctx._("Only group administrators can use /{command} here.", command="timezone")), ephemeral=True
            )
    return await set_timezone(ctx, payload)


def timezone_question(ctx: Context) -> Reply | None:
    """Asked once, to a new learner in a private chat who never set a zone: the likely ones for their language."""
    user = ctx.user
    if ctx.in_group or user.timezone_asked or user.timezone != ctx.services.default_timezone:
        return None
    _ = ctx._
    text = _("Which timezone are you in? Now: {zone}. Pick one, or send /timezone with your city.", zone=user.timezone)
    if user.platform == "telegram":
        text += "\n" + _("You can also share your location with me.")
    return zone_choices(ctx, LIKELY.get(user.lang, LIKELY["en"]), text)


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
    if not ctx.services.schedules.pushes:
        lines.append(plain(_("Pushes: none here. The console doesn't send pushes; they come on Telegram or Discord.")))
        return lines
    found = await ctx.services.schedules.next_due(ctx.subject)
    if found is not None:
        when = found[1].astimezone(ZoneInfo(ctx.timezone))
        stamp = f"{weekday_name(ctx.lang, when.weekday())} {when:%Y-%m-%d %H:%M} ({ctx.timezone})"
        lines.append(plain(_("Next push: {when}", when=stamp)))
    return lines


def position_line(_: Translator, day: PlanDay) -> str:
    if day.status == "upcoming":
        return _.plural("Plan position: starts in {n} day", "Plan position: starts in {n} days", day.days_until_start)
    if day.status == "complete":
        return _("Plan position: the 20 weeks are complete")
    where = _("Plan position: week {week}, day {day}", week=day.week, day=day.day)
    return where + (" " + _("(paused)") if day.status == "paused" else "")


def history_lines(_: Translator, enrolment: Enrolment) -> list[Rich]:
    """How the position got there: every jump and pause (a catch-up is a pause of the missed days)."""
    events: list[tuple[date, str]] = []
    for jump in enrolment.jumps:
        week, day = jump.day_index // DAYS_PER_WEEK + 1, jump.day_index % DAYS_PER_WEEK + 1
        events.append((jump.on, _("{date}: jumped to week {week}, day {day}", date=jump.on, week=week, day=day)))
    for pause in enrolment.pauses:
        if pause.end is None:
            events.append((pause.start, _("{date}: paused, not resumed yet", date=pause.start)))
        elif (days := (pause.end - pause.start).days) > 0:  # paused and resumed the same day: nothing moved
            text = _.plural("{date}: paused for {n} day", "{date}: paused for {n} days", days, date=pause.start)
            events.append((pause.start, text))
    return [plain("• " + text) for _on, text in sorted(events)]


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
    ]
    if enrolment is not None:
        day = plan_day(enrolment.start_date, ctx.today(), enrolment.pauses, enrolment.jumps)
        lines.append(plain(position_line(_, day)))
        lines += history_lines(_, enrolment)
    lines.append(plain(_("Reading day: {day}", day=weekday_name(ctx.lang, ctx.reading_day))))
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
                choices=("zh", "en"),
            )
        ],
        group_admin=True,
    )(lang)
    registry.command(
        "timezone",
        en="Your timezone: a city, a country, an offset such as +8, or an IANA name",
        zh="设置时区：城市、国家、UTC 偏移（如 +8）或 IANA 名称",
        args=[
            ArgSpec(
                "zone",
                "text",
                {
                    "en": "a city or country (Berlin, 上海, Japan), an offset (+8, UTC-5) or an IANA name",
                    "zh": "城市或国家（如 上海、Berlin、日本）、UTC 偏移（如 +8、UTC-5）或 IANA 名称",
                },
                max_length=64,
                label={"en": "a city, country, offset or timezone", "zh": "城市、国家、偏移或时区"},
            )
        ],
        group_admin=True,
    )(timezone)
    registry.action(ZONE_ACTION)(zone_pressed)
    registry.command("settings", en="Your settings", zh="查看设置")(settings)
