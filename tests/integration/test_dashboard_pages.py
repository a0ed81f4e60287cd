"""The dashboard and stats page handlers on a seeded group: the real core, real SQLite, real tokens."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.core.context import Services
from bot.dashboard.group_page import group_page
from bot.dashboard.secret_links import GROUP_DASHBOARD
from bot.dashboard.stats_page import stats_page
from bot.web.pages import PageRequest, PageResponse
from bot.web.tokens import WEB_TOKENS
from tests.dashboard_support import HOSTILE, SEED_START, Seeded, seed, web_services
from tests.support import Chatter

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SEED_START)


@pytest.fixture
def services(app: Runtime, clock: ManualClock) -> Services:
    return web_services(app, clock)


@pytest.fixture
async def seeded(app: Runtime, clock: ManualClock, services: Services) -> Seeded:
    return await seed(app, clock, services)


class Cells(HTMLParser):
    """Per table row (by its `data-member`): each heatmap cell's state and each numeric field's text."""

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, list[str]] = {}
        self.fields: dict[str, dict[str, str]] = {}
        self._member: str | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        got = dict(attrs)
        if tag == "tr":
            self._member = got.get("data-member")
        if tag == "td" and self._member is not None:
            if got.get("data-state"):
                self.states.setdefault(self._member, []).append(got["data-state"] or "")
            self._field = got.get("data-field")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("tr", "td"):
            self._field = None
        if tag == "tr":
            self._member = None

    def handle_data(self, data: str) -> None:
        if self._member is not None and self._field:
            self.fields.setdefault(self._member, {})[self._field] = data


def parsed(response: PageResponse) -> Cells:
    cells = Cells()
    cells.feed(response.body.decode("utf-8"))
    return cells


def request(services: Services, token: str, **headers: str) -> PageRequest:
    return PageRequest({"token": token}, {}, headers, services)


async def dashboard_token(seeded: Seeded, *line: str) -> str:
    text = await seeded.admin.text(" ".join(("/dashboard", *line)))
    match = re.search(r"/dashboard/([A-Za-z0-9_-]{32})", text)
    assert match, text
    return match.group(1)


async def test_dashboard_shows_this_groups_members_and_their_numbers(seeded: Seeded, services: Services) -> None:
    response = await group_page(request(services, await dashboard_token(seeded)))
    assert response.status == 200 and response.content_type.startswith("text/html")
    body = response.body.decode()
    cells = parsed(response)
    # The same numbers /top gives, and the ones the seed implies: Ann 3 days and 3+3+1 tasks, Bob 1 and 6.
    top = await seeded.admin.text("/top")
    assert "1. Ann — streak 3 days, 7 tasks this week" in top
    assert cells.fields["Ann"] == {"streak": "3", "best": "3", "tasks": "7"}
    assert cells.fields["Bob"] == {"streak": "1", "best": "1", "tasks": "6"}
    assert cells.fields[HOSTILE] == {"streak": "1", "best": "1", "tasks": "2"}
    assert "Zed" not in body  # group B's member, though he checked in every day
    assert "Group streak: 3 days" in body and "Group days counted this week: 3 of 7" in body
    assert "Where the group is in the plan" in body and "Plan position: week 1, day 3" in body
    assert "Ann ↔ Bob" in body or "Bob ↔ Ann" in body
    assert "Attention is all we read this week" in body and "&lt;b&gt;not bold&lt;/b&gt;" in body
    assert "https://arxiv.org/abs/2612.00001" in body and "javascript:" not in body


async def test_heatmap_tells_the_days_apart(seeded: Seeded, services: Services) -> None:
    cells = parsed(await group_page(request(services, await dashboard_token(seeded))))
    heat = cells.states
    week = ["done", "done", "partial", "future", "future", "future", "future"]
    assert heat["Ann"] == week
    assert heat["Bob"] == ["done", "missed", "done", *week[3:]]
    assert heat[HOSTILE] == ["before", "partial", "paused", *week[3:]]  # joined on Tuesday, paused today
    await seeded.bob.say("/undo")  # the group's today without Bob's check-in: still open, not missed
    cells = parsed(await group_page(request(services, await dashboard_token(seeded))))
    assert cells.states["Bob"][:3] == ["done", "missed", "open"]


async def test_hostile_names_are_text(seeded: Seeded, services: Services) -> None:
    body = (await group_page(request(services, await dashboard_token(seeded)))).body.decode()
    assert "<script>" not in body and "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in body


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "A" * 32,  # well formed, never issued
        "A" * 31 + "!",
        "../" * 11,
        "A" * 10_000,  # a 10 kB token
        "%00" * 11,
    ],
)
@pytest.mark.postgresql_too
async def test_bad_tokens_get_404(seeded: Seeded, services: Services, token: str) -> None:
    assert (await group_page(request(services, token))).status == 404
    assert (await stats_page(request(services, token))).status == 404


async def test_a_token_opens_only_its_own_page(seeded: Seeded, services: Services) -> None:
    token = await dashboard_token(seeded)
    assert (await stats_page(request(services, token))).status == 404  # a dashboard token isn't a stats one
    group_b = await services.port(WEB_TOKENS).issue(GROUP_DASHBOARD.scope, GROUP_DASHBOARD.owner(seeded.group_b))
    body = (await group_page(request(services, group_b))).body.decode()
    assert "Zed" in body and "Ann" not in body and "Bob" not in body and "alert(2)" not in body


@pytest.mark.postgresql_too
async def test_reset_revokes_earlier_links(seeded: Seeded, services: Services) -> None:
    first = await dashboard_token(seeded)
    second = await dashboard_token(seeded)  # a second link; both open the page
    assert (await group_page(request(services, first))).status == 200
    assert (await group_page(request(services, second))).status == 200
    third = await dashboard_token(seeded, "reset")
    assert (await group_page(request(services, first))).status == 404
    assert (await group_page(request(services, second))).status == 404
    assert (await group_page(request(services, third))).status == 200


async def test_pages_are_private_and_revalidate(seeded: Seeded, services: Services) -> None:
    token = await dashboard_token(seeded)
    response = await group_page(request(services, token))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    again = await group_page(request(services, token, **{"if-none-match": response.headers["ETag"]}))
    assert again.status == 304 and again.body == b""
    assert (await group_page(request(services, token, **{"if-none-match": '"other"'}))).status == 200


async def test_the_dashboard_speaks_the_groups_language(seeded: Seeded, services: Services) -> None:
    token = await dashboard_token(seeded)
    await seeded.admin.say("/lang zh")
    body = (await group_page(request(services, token))).body.decode()
    assert '<html lang="zh-Hans">' in body and "本周打卡" in body and "排行榜" in body


async def test_stats_page_shows_the_learners_own_numbers(seeded: Seeded, services: Services) -> None:
    private = Chatter(seeded.core, user_id="1", name="Ann")
    text = await private.text("/stats web")
    match = re.search(r"/stats/([A-Za-z0-9_-]{32})", text)
    assert match, text
    response = await stats_page(request(services, match.group(1)))
    assert response.status == 200
    body = response.body.decode()
    assert "Stats of Ann" in body and "Current streak: 3 days" in body and "Best streak: 3 days" in body
    assert "Freezes held: 0 of 2" in body and "3 days with a check-in in these weeks" in body
    assert "Plan position: week 1, day 3" in body and "3 of 140 plan days" in body
    assert "Bob" not in body and "Zed" not in body
    states = re.findall(r'data-state="(\w+)"', body)
    assert len(states) == 12 * 7 and states.count("done") == 2 and states.count("partial") == 1
    assert states.count("missed") == 0 and states.count("before") == 11 * 7  # before the plan's start
    await private.say("/lang zh")
    chinese = (await stats_page(request(services, match.group(1)))).body.decode()
    assert "Ann 的统计" in chinese and "当前连续：3 天" in chinese and "计划日 3 / 140" in chinese
    revoked = await private.text("/stats web reset")
    assert "之前的统计页链接已作废。" in revoked
    assert (await stats_page(request(services, match.group(1)))).status == 404
