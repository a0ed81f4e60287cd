"""Replies every feature gives the same way: a refusal with the command's usage, an expired button,
weekday names."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import Rich, bold, plain
from bot.core.registry import WEEKDAYS_EN, WEEKDAYS_ZH
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


def weekday_name(lang: Lang, day: int) -> str:
    return (WEEKDAYS_ZH if lang == "zh" else WEEKDAYS_EN)[day]
