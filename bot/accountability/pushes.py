"""A group's accountability posts: the daily nudge (at its nudge time, when set) and the weekly recap
(Sundays 20:00 group-local). Neither needs the group to follow the plan, only a roster; a group without
one has its recap skipped when it is rendered, so scheduling needs no roster lookup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from bot.accountability.board import nudge_text, recap_text
from bot.accountability.ports import ACCOUNTABILITY
from bot.buddies.ports import BUDDIES
from bot.core.types import Reply
from bot.delivery.kinds import PushKind, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence
from bot.papers.ports import PAPERS

RECAP_AT = time(20, 0)
SUNDAY = 6


def nudge_when(who: Subscriber) -> Recurrence | None:
    chat = who.chat
    if chat is None or chat.nudge_time is None:
        return None
    return Recurrence(chat.nudge_time, chat.timezone)


def recap_when(who: Subscriber) -> Recurrence | None:
    return Recurrence(RECAP_AT, who.chat.timezone, SUNDAY) if who.chat is not None else None


async def render_nudge(request: PushRequest) -> Sequence[Reply] | Skip:
    chat = request.recipient.chat
    if chat is None:
        return Skip("nudges go to group chats")
    services = request.services
    body = await nudge_text(services.port(ACCOUNTABILITY), services.clock, chat, request._, services.port(BUDDIES))
    return body if isinstance(body, Skip) else [Reply(body)]


async def render_recap(request: PushRequest) -> Sequence[Reply] | Skip:
    chat = request.recipient.chat
    if chat is None:
        return Skip("recaps go to group chats")
    services = request.services
    body = await recap_text(
        services.port(ACCOUNTABILITY), services.clock, chat, request._, services.port(BUDDIES), services.port(PAPERS)
    )
    return body if isinstance(body, Skip) else [Reply(body)]


NUDGE = PushKind("nudge", "chat", nudge_when, render_nudge, follows_plan=False)
RECAP = PushKind("recap", "chat", recap_when, render_recap, follows_plan=False)
