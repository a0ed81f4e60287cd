"""Replies every feature gives the same way: a refusal with the command's usage, an expired button,
weekday names."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import Rich, bold, plain
from bot.core.registry import WEEKDAYS_ZH
from bot.core.types import Lang, Reply


def usage_reply(ctx: Context, problem: str, command: str | None = None) -> Reply:
    """`problem`, then how to use the command (or subcommand) being run."""
    name = command or ctx.command
    usage = ctx.services.registry.usage(name, ctx.lang) if name else None
    text: Rich = plain(problem)
    if usage:
        text = plain(problem + "\n") + bold(ctx._("Usage:")) + plain("\n" + usage)
    return Reply(text, ephemeral=True)


def expired_button(ctx: Context) -> Reply:
    return Reply(plain(ctx._("This button no longer works. Send /today for a fresh one.")), ephemeral=True)


def current_value_reply(ctx: Context, current: str) -> Reply:
    """A command given no argument where a current value exists: that value, then how to change it."""
    return usage_reply(ctx, ctx._("Now: {value}", value=current))


WEEKDAY_NAMES_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(lang: Lang, day: int) -> str:
    """A weekday as people write it ("Saturday", "周六"); the short codes are only for typing."""
    return weekday_names(lang)[day]


def weekday_names(lang: Lang) -> tuple[str, ...]:
    """Monday first, as `date.weekday()` counts."""
    return WEEKDAYS_ZH if lang == "zh" else WEEKDAY_NAMES_EN
