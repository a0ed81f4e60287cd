"""/dashboard and /stats web: who may get a link, where, and what bad input and a bot without web pages
answer (in the group's or the learner's language); a refused command issues nothing."""

from __future__ import annotations

import re

import pytest

from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.core.context import Services
from bot.core.dispatcher import Core
from tests.dashboard_support import GROUP_A, PUBLIC, SEED_START, in_group, web_services
from tests.support import Chatter, snapshot

# Replies and views: every statement they make is also made on PostgreSQL by the storage-facing tests.
pytestmark = pytest.mark.sqlite_only

LINK = re.compile(r"http://127\.0\.0\.1:9/dashboard/[A-Za-z0-9_-]{32}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SEED_START)


@pytest.fixture
def services(app: Runtime, clock: ManualClock) -> Services:
    return web_services(app, clock)


@pytest.fixture
def web_core(services: Services) -> Core:
    return Core(services)


def tokens_in(database_url: str) -> int:
    return len(snapshot(database_url)["web_tokens"])


async def test_an_admin_gets_the_link_in_the_group(web_core: Core, database_url: str) -> None:
    admin = in_group(web_core, "1", "Ann", GROUP_A, admin=True)
    [reply] = await admin.say("/dashboard")
    text = reply.text.to_plain()
    assert LINK.search(text) and "This group's dashboard (read-only):" in text and not reply.ephemeral
    assert tokens_in(database_url) == 1
    assert "Earlier dashboard links are turned off." in await admin.text("/dashboard reset")
    assert tokens_in(database_url) == 2


async def test_a_member_who_is_not_admin_gets_no_link(web_core: Core, database_url: str) -> None:
    await in_group(web_core, "1", "Ann", GROUP_A, admin=True).say("/join")
    bob = in_group(web_core, "2", "Bob", GROUP_A)
    await bob.say("/join")
    before = snapshot(database_url)
    text = await bob.text("/dashboard")
    assert text == "Only group administrators can use /dashboard here." and not LINK.search(text)
    assert snapshot(database_url) == before


async def test_in_a_private_chat_it_says_it_is_a_group_command(web_core: Core, database_url: str) -> None:
    me = Chatter(web_core, user_id="1", name="Ann")
    await me.say("/help")
    before = snapshot(database_url)
    assert "/dashboard works in a group chat" in await me.text("/dashboard")
    assert snapshot(database_url) == before


@pytest.mark.parametrize(
    "line", ["/dashboard now", "/dashboard reset now", "/dashboard RESETS", "/dashboard " + "x" * 300]
)
async def test_other_arguments_get_the_usage(web_core: Core, database_url: str, line: str) -> None:
    admin = in_group(web_core, "1", "Ann", GROUP_A, admin=True)
    await admin.say("/join")
    before = snapshot(database_url)
    text = await admin.text(line)
    assert "/dashboard [reset]" in text and not LINK.search(text)
    assert snapshot(database_url) == before


async def test_without_a_web_server_it_says_so(app: Runtime, clock: ManualClock, database_url: str) -> None:
    core = Core(web_services(app, clock, links=False))
    admin = in_group(core, "1", "Ann", GROUP_A, admin=True)
    assert "hasn't set WEB_PORT" in await admin.text("/dashboard")
    me = Chatter(core, user_id="1", name="Ann")
    assert "hasn't set WEB_PORT" in await me.text("/stats web")
    assert tokens_in(database_url) == 0


async def test_the_bootstraps_own_services_say_so_too(ann: Chatter) -> None:
    """Wherever the web ports aren't bound at all (a console run), the commands answer the same way."""
    assert "hasn't set WEB_PORT" in await ann.text("/stats web")


async def test_replies_in_chinese_for_a_chinese_group(web_core: Core, database_url: str) -> None:
    admin = in_group(web_core, "1", "李雷", GROUP_A, admin=True, locale="zh-hans")
    await admin.say("/lang zh")
    text = await admin.text("/dashboard")
    assert "本群的看板（只读）：" in text and LINK.search(text)
    assert "reset" in await admin.text("/dashboard now") and "不是" in await admin.text("/dashboard now")
    assert "只有群管理员" in await in_group(web_core, "2", "韩梅梅", GROUP_A, locale="zh-hans").text("/dashboard")


async def test_stats_web_is_private(web_core: Core, database_url: str) -> None:
    member = in_group(web_core, "1", "Ann", GROUP_A)
    assert "private chat" in await member.text("/stats web")
    assert tokens_in(database_url) == 0
    me = Chatter(web_core, user_id="1", name="Ann")
    text = await me.text("/stats web")
    assert re.search(rf"{re.escape(PUBLIC)}/stats/[A-Za-z0-9_-]{{32}}", text) and "Your stats page:" in text
    assert "/stats web [reset]" in await me.text("/stats web now")
    assert "Choose one of: picture, web." in await me.text("/stats webb")
