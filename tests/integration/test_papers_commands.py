"""/papers and /topics through the real core on a migrated SQLite file, like an adapter would drive them."""

from __future__ import annotations

import re

import pytest

from bot.app import Runtime
from bot.core.clock import ManualClock, local_today
from bot.core.dispatcher import Core
from bot.core.types import ChatRef, SubjectRef
from bot.papers.pushes import reading_list
from bot.papers.ranking import MAX_TOPICS
from bot.plan.calendar import PlanDay
from storage.papers import SqlPaperStore
from tests.support import SHARED, Chatter, at, parsed_feed_file, snapshot

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only

FEED = SHARED / "fixtures/arxiv/rss_cs.CL_pub2026-08-20_weekday.xml"
ITEM = re.compile(r"^\d+\. ", re.M)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-08-21 09:00"))  # the day after the fixture feed


@pytest.fixture
def repo(app: Runtime) -> SqlPaperStore:
    store: SqlPaperStore = app.database.papers
    return store


@pytest.fixture
async def stored(repo: SqlPaperStore, clock: ManualClock) -> SqlPaperStore:
    if not FEED.is_file():
        pytest.skip(f"shared arXiv fixture missing: {FEED}")
    await repo.upsert_papers(parsed_feed_file(FEED).papers, clock.now())
    return repo


async def test_no_papers_yet(ann: Chatter) -> None:
    text = await ann.text("/papers")
    assert "No recent papers stored yet." in text and "studybuddy arxiv fetch" in text


async def test_papers_for_my_plan_week(ann: Chatter, stored: SqlPaperStore) -> None:
    await ann.say("/start 2026-07-20")  # 32 days before 2026-08-21: week 5, self-attention and transformers
    [reply] = await ann.say("/papers")
    text = reply.text.to_plain()
    assert text.startswith("arXiv papers for week 5: ")
    assert len(ITEM.findall(text)) == 5
    links = [span for span in reply.text.spans if span.style == "link"]
    assert len(links) == 5 and all(re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{5}", s.url or "") for s in links)
    assert "et al." in text and "cs.CL" in text
    assert len(ITEM.findall(await ann.text("/papers 3"))) == 3
    assert len(ITEM.findall(await ann.text("/papers 20"))) == 20


async def test_not_enrolled_gets_week_one_with_a_note(ann: Chatter, stored: SqlPaperStore) -> None:
    text = await ann.text("/papers 2")
    assert "week 1" in text and "Send /start to begin." in text


async def test_after_the_plan_all_keywords_and_my_topics(ann: Chatter, stored: SqlPaperStore) -> None:
    await ann.say("/start 2026-01-01")
    await ann.say("/topics add speech recognition")
    text = await ann.text("/papers")
    assert text.startswith("arXiv papers for you") and "finished the plan" in text
    assert "Your topics: speech recognition" in text


async def test_nothing_recent(ann: Chatter, stored: SqlPaperStore, clock: ManualClock) -> None:
    clock.set(at("2026-09-15 09:00"))
    assert "No paper from the last 7 days" in await ann.text("/papers")


async def test_papers_in_chinese(li: Chatter, stored: SqlPaperStore) -> None:
    text = await li.text("/papers 4")
    assert "第 1 周的 arXiv 论文" in text and "等" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/papers abc", "abc is not a whole number; expected how many papers (1-20)."),
        ("/papers 0", "0 is out of range; expected how many papers (1-20)."),
        ("/papers 1000", "1000 is out of range; expected how many papers (1-20)."),
        ("/papers 3 4", "Too many arguments."),
        ("/topics add", "Which topic? For example: /topics add graph neural networks"),
        ("/topics add    ", "Which topic?"),
        ("/topics add " + "x" * 500, "A topic can be at most 60 characters."),
        ("/topics remove", "Which topic?"),
        ("/topics remove never added", "You have no topic “never added”."),
        ("/topics frobnicate", "Choose one of: add, remove, list."),
        ("/topics list extra", "/topics list takes nothing after it."),
        ("/topics add Transformers", "You already have the topic “Transformers”."),
        ("/topics add  transformers ", "You already have the topic “transformers”."),
    ],
)
@pytest.mark.postgresql_too
async def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    line: str, expected: str, ann: Chatter, database_url: str
) -> None:
    await ann.say("/topics add transformers")
    before = snapshot(database_url)
    assert expected in await ann.text(line)
    assert snapshot(database_url) == before


@pytest.mark.postgresql_too
async def test_topic_cap(ann: Chatter, database_url: str) -> None:
    for i in range(MAX_TOPICS):
        assert "Added the topic" in await ann.text(f"/topics add topic {i}")
    before = snapshot(database_url)
    assert f"You already keep {MAX_TOPICS} topics" in await ann.text("/topics add one more")
    assert snapshot(database_url) == before
    assert f"Your topics ({MAX_TOPICS} of {MAX_TOPICS}):" in await ann.text("/topics")


async def test_topics_add_list_remove(ann: Chatter) -> None:
    assert "You have no topics yet." in await ann.text("/topics list")
    assert "Added the topic “Graph neural nets”" in await ann.text("/topics add Graph  neural nets")
    assert "• Graph neural nets" in await ann.text("/topics")
    assert "Removed the topic “graph NEURAL nets”." in await ann.text("/topics remove graph NEURAL nets")
    assert "You have no topics yet." in await ann.text("/topics list")
    long = "y" * 60
    assert f"Added the topic “{long}”" in await ann.text(f"/topics add {long}")


async def test_groups_rank_for_the_cohort_week_and_topics_stay_personal(core: Core, stored: SqlPaperStore) -> None:
    group = ChatRef("console", "g1", "group", "Study group")
    admin = Chatter(core, user_id="10", name="Ada", chat=group, admin=True)
    bob = Chatter(core, user_id="11", name="Bob", chat=group)
    await admin.say("/start 2026-07-20")  # the group's cohort is in week 5
    await bob.say("/start 2026-08-21")  # not an admin: refused, and nothing enrolled for the group
    replies = await bob.say("/topics add speech recognition")
    assert "Added the topic" in replies[0].text.to_plain() and replies[0].ephemeral
    text = await bob.text("/papers")
    assert text.startswith("arXiv papers for week 5: ") and "Your topics" not in text
    bob_private = Chatter(core, user_id="11", name="Bob")
    assert "speech recognition" in await bob_private.text("/topics list")


async def test_the_reading_post_hook_matches_papers(core: Core, ann: Chatter, stored: SqlPaperStore) -> None:
    """The reading post (bot/papers/pushes.py) on the reading day: the same list as /papers."""
    await ann.say("/start 2026-07-20")
    await ann.say("/topics add machine translation")
    shown = await ann.text("/papers")
    user = await core.services.store.find_user("console", "1")  # type: ignore[attr-defined]
    today = local_today(core.services.clock, user.timezone)
    post = await reading_list(core.services, SubjectRef("user", user.id), "en", PlanDay("active", 32), today)
    assert post is not None and post.text.to_plain() == shown
    assert [b.label for b in post.buttons[:3]] == ["👍 1", "👎 1", "✓ 1"]  # feedback under the post too


async def test_the_reading_post_hook_steps_aside_without_papers(core: Core, ann: Chatter) -> None:
    await ann.say("/start 2026-07-20")
    user = await core.services.store.find_user("console", "1")  # type: ignore[attr-defined]
    today = local_today(core.services.clock, user.timezone)
    assert await reading_list(core.services, SubjectRef("user", user.id), "en", PlanDay("active", 32), today) is None
