"""What a scheduled push says, decided at send time from the recipient's current state.

Rendering late means a language or timezone change made after the row was recorded still applies, and a
recipient who paused, finished or blocked us in the meantime gets nothing (the row is marked skipped).
The checks every kind shares are made here; what a push says is its kind's own `render`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.core.adapter import Target
from bot.core.clock import local_today
from bot.core.context import Services
from bot.core.types import Chat, Enrolment, SubjectRef, User
from bot.delivery.kinds import Push, PushKinds, PushRequest, Recipient, Rendered, RenderFailed, Skip
from bot.delivery.outbox import OutboxItem
from bot.plan.calendar import plan_day

log = logging.getLogger(__name__)


def recipient_of(subject: SubjectRef, users: Mapping[int, User], chats: Mapping[int, Chat]) -> Recipient | None:
    if subject.kind == "user":
        user = users.get(subject.id)
        if user is None:
            return None
        target = Target(user.platform, "user", user.external_id)
        return Recipient(subject, target, user.lang, user.timezone, user.reading_day, user.active, user=user)
    chat = chats.get(subject.id)
    if chat is None:
        return None
    target = Target(chat.platform, "chat", chat.external_id)
    return Recipient(subject, target, chat.lang, chat.timezone, chat.reading_day, chat.active, chat=chat)


class PushRenderer:
    def __init__(self, services: Services, kinds: PushKinds) -> None:
        self.services = services
        self.kinds = kinds

    async def render_batch(self, items: Sequence[OutboxItem]) -> list[Rendered]:
        """Render a claimed batch with three queries in all, rather than several per push."""
        store = self.services.store
        users = await store.get_users({i.subject.id for i in items if i.subject.kind == "user"})
        chats = await store.get_chats({i.subject.id for i in items if i.subject.kind == "chat"})
        enrolments = await store.get_enrolments({i.subject for i in items})
        return [
            await self.render(item, recipient_of(item.subject, users, chats), enrolments.get(item.subject))
            for item in items
        ]

    async def render(self, item: OutboxItem, who: Recipient | None, enrolment: Enrolment | None) -> Rendered:
        """A push to send, the reason it is skipped, or why rendering failed."""
        kind = self.kinds.get(item.kind)
        if kind is None:
            return Skip(f"unknown push kind {item.kind}")
        if who is None:
            return Skip("recipient no longer exists")
        if not who.active:
            return Skip("recipient deactivated (blocked the bot or left the chat)")
        today = local_today(self.services.clock, who.timezone)
        if item.local_date != today:
            return Skip(f"missed: the local day {item.local_date} was over before it could be sent")
        day = None
        if kind.follows_plan:
            if enrolment is None:
                return Skip("not enrolled")
            day = plan_day(enrolment.start_date, today, enrolment.pauses, enrolment.jumps)
            if day.status in ("paused", "upcoming"):
                return Skip(f"plan {day.status}")
        request = PushRequest(item, who, enrolment, day, today, self.services)
        try:
            replies = await kind.render(request)
        except Exception as error:
            log.exception("rendering push %s (%s) failed", item.id, item.kind)
            return RenderFailed(f"internal error while rendering: {type(error).__name__}")
        if isinstance(replies, Skip):
            return replies
        return Push(who.target, tuple(replies))
