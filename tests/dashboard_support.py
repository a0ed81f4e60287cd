"""A seeded study group for the dashboard tests: real commands through the real core on a migrated
database, with the web ports bound the way the bootstrap binds them when `WEB_PORT` is set."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from bot.accountability.ports import ACCOUNTABILITY
from bot.app import Runtime
from bot.buddies.ports import BUDDIES
from bot.core.clock import ManualClock
from bot.core.context import Services
from bot.core.dispatcher import Core
from bot.core.ports import Port, Ports
from bot.core.types import ChatRef, SubjectRef
from bot.papers.feed.parse import ArxivPaper
from bot.papers.ports import PAPERS
from bot.plan import load_plan
from bot.web.links import WEB_LINKS, WebLinks
from bot.web.tokens import WEB_TOKENS
from storage.web import SqlWebTokens
from tests.support import Chatter, at

GROUP_A = ChatRef("console", "-100", "group", "Group A")
GROUP_B = ChatRef("console", "-200", "group", "Group B")
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
MONDAY = date(2026, 11, 30)
SEED_START = at("2026-11-30 09:00")  # the group's week is Mon 11-30 .. Sun 12-06; the seed ends on Wednesday
PUBLIC = "http://127.0.0.1:9"


def web_services(app: Runtime, clock: ManualClock, base: str = PUBLIC, *, links: bool = True) -> Services:
    """The runtime's services with the secret-link tokens (real SQL) and, unless `links` is off, an address."""
    db = app.database
    bound: dict[Port[Any], object] = {PAPERS: db.papers, ACCOUNTABILITY: db.accountability, BUDDIES: db.buddies}
    ports = Ports(
        {**bound, WEB_TOKENS: SqlWebTokens(db.engine, clock.now), WEB_LINKS: WebLinks(base) if links else None}
    )
    return replace(app.services, ports=ports)


@dataclass
class Seeded:
    """Who is in the seeded groups and what they did, as the tests expect to see it."""

    core: Core
    admin: Chatter  # Ann, admin of group A
    bob: Chatter
    hostile: Chatter
    outsider: Chatter  # Zed, only in group B
    group_a: int
    group_b: int


def in_group(core: Core, user_id: str, name: str, chat: ChatRef, *, admin: bool = False, locale: str = "en") -> Chatter:
    return Chatter(core, user_id=user_id, name=name, chat=chat, admin=admin, locale=locale)


def paper(n: int, title: str, on: date) -> ArxivPaper:
    arxiv_id = f"2612.{n:05d}"
    return ArxivPaper(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        authors=("A. Author",),
        abstract=f"We study {title.lower()} and report results on standard benchmarks.",
        categories=("cs.CL",),
        primary_category="cs.CL",
        announce_type="new",
        announced=on,
        link=f"javascript:alert({n})",  # a stored link is never trusted: the page links arXiv by id
    )


async def seed(app: Runtime, clock: ManualClock, services: Services) -> Seeded:
    """Group A: Ann (admin) checks in Mon, Tue and task 1 today; Bob Mon and today; the hostile name tasks 2
    and 3 on Tuesday, then pauses their plan today. Group B: Zed every day. Ann and Bob are this week's
    buddies; Ann shares a review; six papers fit the cohort's week 1."""
    core = Core(services)
    ann = in_group(core, "1", "Ann", GROUP_A, admin=True)
    bob = in_group(core, "2", "Bob", GROUP_A)
    evil = in_group(core, "3", HOSTILE, GROUP_A)
    zed = in_group(core, "4", "Zed", GROUP_B, admin=True)
    store = app.database.store
    for who in (ann, bob, evil, zed):
        user, _created = await store.get_or_create_user("console", who.user_id, who.name, "en", "UTC")
        await store.enrol(SubjectRef("user", user.id), MONDAY)
    assert clock.now().date() == MONDAY, "the seed starts on the group week's Monday"
    # Monday
    await ann.say("/done")
    await bob.say("/done")
    await zed.say("/done")
    clock.advance(timedelta(days=1))  # Tuesday
    await ann.say("/done")
    await evil.say("/done 2 3")
    await zed.say("/done")
    clock.advance(timedelta(days=1))  # Wednesday
    await ann.say("/done 1")
    await bob.say("/done")
    await zed.say("/done")
    await Chatter(core, user_id=evil.user_id, name=evil.name).say("/pause")  # their own plan, privately
    await ann.say("/start 2026-11-30")  # the group's cohort starts on Monday (admin)
    await ann.say("/buddy on")
    await bob.say("/buddy on")
    await ann.say("/buddies")  # draws the week
    await ann.say("/review Attention is all we read this week; <b>not bold</b>")
    await zed.say("/start 2026-11-30")
    keyword = load_plan("en").block_for_week(1).keywords[0]
    await app.database.papers.upsert_papers(
        [paper(n, f"{keyword} study number {n}", MONDAY) for n in range(1, 7)], clock.now()
    )
    chat_a = await store.find_chat("console", GROUP_A.chat_id)
    chat_b = await store.find_chat("console", GROUP_B.chat_id)
    assert chat_a is not None and chat_b is not None
    return Seeded(core, ann, bob, evil, zed, chat_a.id, chat_b.id)
