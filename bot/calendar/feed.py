"""The live feed page, `/calendar/{token}.ics`: the learner's remaining plan days, fresh on every fetch.

Calendar apps poll it; most polls find nothing new, so the answer is conditional: the ETag is a hash of
the content and Last-Modified the instant that content was first served, and a client holding it gets a
304 without the file being built at all.
"""

from __future__ import annotations

import asyncio
from datetime import date

from bot.calendar.days import PlanCalendar, learner_calendar
from bot.calendar.ics import calendar_digest, to_ics
from bot.core.clock import local_today
from bot.core.types import Enrolment, SubjectRef, User
from bot.web.conditional import http_date, not_modified
from bot.web.pages import NOT_FOUND, Page, PageRequest, PageResponse
from bot.web.tokens import WEB_TOKENS, well_formed
from bot.web.versions import WEB_VERSIONS

SCOPE = "calendar"
FEED_PATH = "/calendar/{token}.ics"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def owner_of(user_id: int) -> str:
    return f"user:{user_id}"


def feed_path(token: str) -> str:
    return FEED_PATH.replace("{token}", token)


def user_id_of(owner: str) -> int | None:
    kind, _sep, number = owner.partition(":")
    return int(number) if kind == "user" and number.isdigit() else None


def content(user: User, enrolment: Enrolment | None, today: date) -> tuple[PlanCalendar, str]:
    """The feed's events and their hash: CPU work of a few milliseconds, done off the event loop."""
    calendar = learner_calendar(user, enrolment, today)
    return calendar, calendar_digest(calendar)


async def feed_page(request: PageRequest) -> PageResponse:
    token = request.params.get("token", "")
    if not well_formed(token):
        return NOT_FOUND
    services = request.services
    owner = await services.port(WEB_TOKENS).owner(SCOPE, token)
    user_id = user_id_of(owner) if owner is not None else None
    user = await services.store.get_user(user_id) if user_id is not None else None
    if owner is None or user is None:
        return NOT_FOUND
    enrolment = await services.store.get_enrolment(SubjectRef("user", user.id))
    calendar, digest = await asyncio.to_thread(content, user, enrolment, local_today(services.clock, user.timezone))
    changed = await services.port(WEB_VERSIONS).since(SCOPE, owner, digest, services.clock.now())
    etag = f'"{digest[:32]}"'
    headers = {"ETag": etag, "Last-Modified": http_date(changed), "Cache-Control": "private, no-cache"}
    if not_modified(request, etag, changed):
        return PageResponse(304, headers=headers)
    body = await asyncio.to_thread(to_ics, calendar, changed)
    headers["Content-Disposition"] = 'inline; filename="studybuddy-plan.ics"'
    return PageResponse(200, body, CONTENT_TYPE, headers)


FEED_PAGE = Page("calendar.feed", FEED_PATH, feed_page)
