"""The Monday buddies post: at 00:00 group-local each Monday the week's pairs are drawn (or read, when a
restart or another worker drew them already) and posted in the group. It needs no plan, only opt-ins; a
group where nobody opted in has the post skipped when it is rendered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from bot.buddies.ports import BUDDIES
from bot.buddies.weeks import current_week, names, split_line
from bot.core.markup import join, plain
from bot.core.types import Reply
from bot.delivery.kinds import PushKind, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence

MONDAY = 0
POST_AT = time(0, 0)


def buddies_when(who: Subscriber) -> Recurrence | None:
    return Recurrence(POST_AT, who.chat.timezone, MONDAY) if who.chat is not None else None


async def render_buddies(request: PushRequest) -> Sequence[Reply] | Skip:
    chat, _ = request.recipient.chat, request._
    if chat is None:
        return Skip("buddies are posted in group chats")
    repo = request.services.port(BUDDIES)
    week = await current_week(repo, chat.id, request.today)
    if week is None or not week.groups:
        members = await repo.opted_in(chat.id)
        if not members:
            return Skip("nobody opted in to study buddies")
        text = _(
            "Only {name} has opted in so far, so nobody is paired yet. Send /buddy on to join.", name=names(members)
        )
        return [Reply(plain(text))]
    hint = plain(_("/buddy shows your buddy and this week's check-ins; /buddy off stops the pairing for you."))
    return [Reply(join([split_line(_, week), hint]))]


BUDDIES_POST = PushKind("buddies", "chat", buddies_when, render_buddies, follows_plan=False)
