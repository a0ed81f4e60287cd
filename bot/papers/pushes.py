"""The weekly reading post: on the reading day, at the reminder (or group post) time, this week's papers
ranked the same way /papers ranks them — a person's own topics, a group's cohort week without topics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.context import Services
from bot.core.markup import Rich, bold, join, plain
from bot.core.types import Lang, Reply, SubjectRef
from bot.delivery.kinds import PushKind, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence
from bot.papers.ports import PAPERS
from bot.papers.ranking import papers_text
from bot.plan import load_plan
from bot.plan.calendar import PlanDay


def reading_when(who: Subscriber) -> Recurrence | None:
    user = who.user
    if user is None or not who.enrolled or user.reminder_time is None:
        return None
    return Recurrence(user.reminder_time, user.timezone, user.reading_day)


def group_reading_when(who: Subscriber) -> Recurrence | None:
    chat = who.chat
    if chat is None or chat.post_time is None:
        return None
    return Recurrence(chat.post_time, chat.timezone, chat.reading_day)


async def reading_list(
    services: Services, subject: SubjectRef, lang: Lang, day: PlanDay | None, today: date
) -> Rich | None:
    """The same list /papers shows that subject, or None when nothing ranks (no papers yet)."""
    repo = services.port(PAPERS)
    topics = await repo.list_topics(subject.id) if subject.kind == "user" else []
    text, shown = await papers_text(repo, load_plan(lang), day, lang, today, topics)
    return text if shown else None


async def render_reading(request: PushRequest) -> Sequence[Reply] | Skip:
    """The ranked list; when nothing ranks, the plan's own weekly arXiv task."""
    _, who = request._, request.recipient
    heading = bold(_("Weekly reading: fresh cs.CL / cs.LG papers for this week"))
    text = await reading_list(request.services, who.subject, who.lang, request.day, request.today)
    if text is None:
        task = next(task for task in load_plan(who.lang).weekly_tasks if task.kind == "arxiv")
        text = plain(task.text)
    return [Reply(join([heading, plain(""), text]))]


READING = PushKind("reading", "user", reading_when, render_reading)
GROUP_READING = PushKind("group_reading", "chat", group_reading_when, render_reading)
