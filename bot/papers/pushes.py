"""The weekly reading post: on the reading day, at the reminder (or group post) time, this week's papers
ranked the same way /papers ranks them — a person's own topics and feedback, a group's cohort week and its
members' feedback — with the same feedback buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.accountability.ports import ACCOUNTABILITY
from bot.core.context import Services
from bot.core.markup import bold, join, plain
from bot.core.types import Lang, Reply, SubjectRef
from bot.delivery.kinds import PushKind, PushRequest, Skip, Subscriber
from bot.delivery.schedule import Recurrence
from bot.papers.learn import Taste
from bot.papers.ports import PAPERS, PaperRepo
from bot.papers.ranking import load_taste, papers_listing
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


async def taste_of(services: Services, repo: PaperRepo, subject: SubjectRef) -> Taste:
    """A learner's own feedback; a group's, its roster members' together."""
    if subject.kind == "user":
        return await load_taste(repo, [subject.id])
    members = await services.port(ACCOUNTABILITY).roster(subject.id)
    return await load_taste(repo, [m.user.id for m in members], group=True)


async def reading_list(
    services: Services, subject: SubjectRef, lang: Lang, day: PlanDay | None, today: date
) -> Reply | None:
    """The same list /papers shows that subject, or None when nothing ranks (no papers yet)."""
    repo = services.port(PAPERS)
    topics = await repo.list_topics(subject.id) if subject.kind == "user" else []
    taste = await taste_of(services, repo, subject)
    reply, shown = await papers_listing(repo, load_plan(lang), day, lang, today, topics, taste=taste)
    return reply if shown else None


async def render_reading(request: PushRequest) -> Sequence[Reply] | Skip:
    """The ranked list; when nothing ranks, the plan's own weekly arXiv task."""
    _, who = request._, request.recipient
    heading = bold(_("Weekly reading: fresh cs.CL / cs.LG papers for this week"))
    listing = await reading_list(request.services, who.subject, who.lang, request.day, request.today)
    if listing is None:
        task = next(task for task in load_plan(who.lang).weekly_tasks if task.kind == "arxiv")
        return [Reply(join([heading, plain(""), plain(task.text)]))]
    return [Reply(join([heading, plain(""), listing.text]), listing.buttons)]


READING = PushKind("reading", "user", reading_when, render_reading)
GROUP_READING = PushKind("group_reading", "chat", group_reading_when, render_reading)
