"""Small helpers shared by command modules."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.registry import WEEKDAYS_EN, WEEKDAYS_ZH


async def save(ctx: Context, **fields: Any) -> Context:
    """Write preferences to the subject of the chat and return a context that sees them."""
    if ctx.chat is not None:
        ctx.chat = await ctx.store.update_chat(ctx.chat.id, **fields)
    else:
        ctx.user = await ctx.store.update_user(ctx.user.id, **fields)
    return ctx


def weekday_name(ctx: Context, day: int) -> str:
    return (WEEKDAYS_ZH if ctx.lang == "zh" else WEEKDAYS_EN)[day]
