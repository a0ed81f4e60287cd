"""What a scheduled push says, decided at send time from the recipient's current state.

Rendering late means a language or timezone change made after the row was recorded still applies, and a
recipient who paused, finished or blocked us in the meantime gets nothing (the row is marked skipped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.accountability import nudge_text, recap_text
from bot.core.clock import local_today
from bot.core.context import Services
from bot.core.delivery import Target
from bot.core.markup import Rich, bold, join, plain
from bot.core.outbox import OutboxItem
from bot.core.types import Button, Chat, Enrolment, Lang, Reply, SubjectRef, User
from bot.core.views import day_view
from bot.i18n import Translator, translator
from bot.plan.calendar import PlanDay, plan_day, weekly_slots


@dataclass(frozen=True, slots=True)
class Push:
    target: Target
    replies: list[Reply]


@dataclass(frozen=True, slots=True)
class Recipient:
    target: Target
    lang: Lang
    timezone: str
    reading_day: int
    active: bool


def _recipient(subject: SubjectRef, users: Mapping[int, User], chats: Mapping[int, Chat]) -> Recipient | None:
    if subject.kind == "user":
        user = users.get(subject.id)
        if user is None:
            return None
        return Recipient(
            Target(user.platform, "user", user.external_id), user.lang, user.timezone, user.reading_day, user.active
        )
    chat = chats.get(subject.id)
    if chat is None:
        return None
    return Recipient(
        Target(chat.platform, "chat", chat.external_id), chat.lang, chat.timezone, chat.reading_day, chat.active
    )


class PushRenderer:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def render_batch(self, items: Sequence[OutboxItem]) -> list[Push | str]:
        """Render a claimed batch with three queries in all, rather than several per push."""
        store = self.services.store
        users = await store.get_users({i.subject.id for i in items if i.subject.kind == "user"})
        chats = await store.get_chats({i.subject.id for i in items if i.subject.kind == "chat"})
        enrolments = await store.get_enrolments({i.subject for i in items})
        out: list[Push | str] = []
        for item in items:
            who = _recipient(item.subject, users, chats)
            out.append(await self.render(item, who, enrolments.get(item.subject)))
        return out

    async def render(self, item: OutboxItem, who: Recipient | None, enrolment: Enrolment | None) -> Push | str:
        """A push to send, or the reason it is skipped."""
        if who is None:
            return "recipient no longer exists"
        if not who.active:
            return "recipient deactivated (blocked the bot or left the chat)"
        today = local_today(self.services.clock, who.timezone)
        if item.local_date != today:
            return f"missed: the local day {item.local_date} was over before it could be sent"
        if item.kind in ("nudge", "recap"):  # group accountability needs a roster, not a plan
            return await self._accountability(item, who)
        if enrolment is None:
            return "not enrolled"
        day = plan_day(enrolment.start_date, today, enrolment.pauses, enrolment.jumps)
        if day.status in ("paused", "upcoming"):
            return f"plan {day.status}"
        _ = translator(who.lang)
        if item.kind in ("daily", "group_daily"):
            body = self._daily(who, day, today, _)
        elif item.kind in ("reading", "group_reading"):
            body = await self._reading(item.subject, who, day, _)
        else:
            return f"unknown push kind {item.kind}"
        if body is None:
            return "plan complete: nothing scheduled for today"
        buttons = (Button(_("Week {week} overview", week=day.week), f"week:{day.week}"),) if day.in_plan else ()
        if item.kind in ("daily", "group_daily"):  # the Done button carries the local date it checks in
            buttons += (Button(_("Done ✓"), f"done:{today.isoformat()}"),)
        return Push(who.target, [Reply(body, buttons=buttons)])

    def _daily(self, who: Recipient, day: PlanDay, today: date, _: Translator) -> Rich | None:
        plan = self.services.plan_loader(who.lang)
        if day.status == "complete" and not (weekly_slots(today, who.reading_day) or day.plan_month_starts):
            return None  # after week 20 only the long-term weekly and monthly rhythm is pushed
        return join(
            [
                bold(_("Good morning! Here is your study day.")),
                plain(""),
                day_view(plan, day, today, who.reading_day, _),
            ]
        )

    async def _reading(self, subject: SubjectRef, who: Recipient, day: PlanDay, _: Translator) -> Rich:
        heading = bold(_("Weekly reading: fresh cs.CL / cs.LG papers for this week"))
        if self.services.reading_post is not None:
            papers = await self.services.reading_post(subject, who.lang, day)
            if papers:
                return join([heading, plain(""), papers])
        plan = self.services.plan_loader(who.lang)
        task = next(task for task in plan.weekly_tasks if task.kind == "arxiv")
        return join([heading, plain(""), plain(task.text)])

    # group accountability ----------------------------------------------------------------------------
    async def _accountability(self, item: OutboxItem, who: Recipient) -> Push | str:
        """A nudge or weekly recap for a group chat (see bot/core/accountability.py), or why it is skipped."""
        repo = self.services.accountability
        chat = await self.services.store.get_chat(item.subject.id) if item.subject.kind == "chat" else None
        if repo is None or chat is None:
            return "accountability is not set up for this recipient"
        _ = translator(who.lang)
        if item.kind == "nudge":
            body = await nudge_text(repo, self.services.clock, chat, _)
        else:
            body = await recap_text(repo, self.services.clock, chat, _)
        return body if isinstance(body, str) else Push(who.target, [Reply(body)])
