"""Feedback and reading check-ins through the real core on a migrated database: buttons and commands,
what they hide, the reading slot's check-in and streak, /reading, the group recap line, bad ids."""

from __future__ import annotations

import re

import pytest

from bot.accountability.board import recap_text
from bot.accountability.streaks import task_count
from bot.app import Runtime
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.core.markup import Rich
from bot.core.types import ChatRef, Reply
from bot.i18n import translator
from bot.papers.feedback import READING_TASK
from storage.papers import SqlPaperStore
from tests.support import SHARED, Chatter, at, parsed_feed_file, snapshot
from tests.unit.test_papers_learn import GRAPH, SPEECH, WEEK, load_week

# Replies and views: SQLite only. The tests marked postgresql_too run storage lines that no other PostgreSQL
# test runs (measured with coverage.py per test), so PostgreSQL still runs every line of storage/ it ran.
pytestmark = pytest.mark.sqlite_only

FEED = SHARED / "fixtures/arxiv/rss_cs.CL_pub2026-08-20_weekday.xml"
ID_IN_LIST = re.compile(r"arXiv:(\S+)$", re.M)
GROUP = ChatRef("console", "-100", "group", "Group")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("2026-08-21 09:00"))  # the day after the fixture feed (a Friday)


@pytest.fixture
async def stored(app: Runtime, clock: ManualClock) -> SqlPaperStore:
    if not FEED.is_file():
        pytest.skip(f"shared arXiv fixture missing: {FEED}")
    repo: SqlPaperStore = app.database.papers
    await repo.upsert_papers(parsed_feed_file(FEED).papers, clock.now())
    return repo


async def listed(chatter: Chatter, line: str = "/papers 20") -> tuple[list[str], Reply]:
    [reply] = await chatter.say(line)
    return ID_IN_LIST.findall(reply.text.to_plain()), reply


async def test_every_listed_paper_has_its_three_buttons(ann: Chatter, stored: SqlPaperStore) -> None:
    await ann.say("/start 2026-07-20")
    ids, reply = await listed(ann, "/papers")
    assert len(ids) == 5
    assert [b.action for b in reply.buttons] == [f"{p}:{i}" for i in ids for p in ("pl", "pd", "pr")]
    assert [b.label for b in reply.buttons[:3]] == ["👍 1", "👎 1", "✓ 1"]
    assert all(len(b.action.encode()) <= 64 for b in reply.buttons)
    assert "Why: this week's" in reply.text.to_plain()


@pytest.mark.postgresql_too
async def test_disliked_and_read_papers_leave_the_list_and_pressing_again_undoes(
    ann: Chatter, stored: SqlPaperStore
) -> None:
    await ann.say("/start 2026-07-20")
    ids, _reply = await listed(ann)
    first, second = ids[0], ids[1]
    assert "won't be listed for you again" in "".join(r.text.to_plain() for r in await ann.press(f"pd:{first}"))
    assert first not in (await listed(ann))[0]
    assert "Took back your vote" in "".join(r.text.to_plain() for r in await ann.press(f"pd:{first}"))
    assert first in (await listed(ann))[0]
    await ann.press(f"pr:{second}")
    assert second not in (await listed(ann))[0]
    await ann.press(f"pr:{second}")  # again: no longer read
    assert second in (await listed(ann))[0]
    await ann.press(f"pl:{first}")
    assert "you liked it" in await ann.text(f"/paper {first}")
    await ann.press(f"pl:{first}")
    assert "you liked it" not in await ann.text(f"/paper {first}")


@pytest.mark.postgresql_too
async def test_read_checks_in_the_reading_slot_and_counts_the_day(
    ann: Chatter, stored: SqlPaperStore, app: Runtime
) -> None:
    await ann.say("/start 2026-07-20")
    ids, _reply = await listed(ann)
    text = await ann.text(f"/read {ids[0]}v1")
    assert "This week's reading slot is checked in and today counts for your streak: 1 day." in text
    user = await app.core.services.store.find_user("console", "1")  # type: ignore[attr-defined]
    [(_uid, day, mask)] = await app.database.accountability.checkins(
        [user.id], at("2026-08-01").date(), at("2026-08-30").date()
    )
    assert day.isoformat() == "2026-08-21" and mask == READING_TASK and task_count(mask) == 0  # /top stays right
    assert "Current streak: 1 day" in await ann.text("/streak")
    assert "already marked" in await ann.text(f"/read {ids[0]}")
    reading = await ann.text("/reading")
    assert "Reading slot: done ✓ (1 read)" in reading
    assert "/undo takes back" in await ann.text(f"/unread {ids[0]}")
    assert "Reading slot: open (your reading day: Saturday)" in await ann.text("/reading")
    await ann.say("/done")  # the daily tasks add to the same day
    [(_uid, _day, mask)] = await app.database.accountability.checkins([user.id], day, day)
    assert mask == 0b1111 and task_count(mask) == 3


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/read abc", "“abc” is not an arXiv id."),
        ("/read 9999.99999", "I have no paper arXiv:9999.99999"),
        ("/read " + "2" * 500, "is not an arXiv id."),
        ("/read", "Which paper? Give its arXiv id, e.g. /read 2406.01234"),
        ("/like cs/0601001", "I have no paper arXiv:cs/0601001"),
        ("/dislike 2406.1", "is not an arXiv id."),
        ("/paper junk", "is not an arXiv id."),
        ("/unread 9999.99999v3", "I have no paper arXiv:9999.99999"),
    ],
)
async def test_bad_ids_get_a_clear_reply_and_change_nothing(
    line: str, expected: str, ann: Chatter, stored: SqlPaperStore, database_url: str
) -> None:
    await ann.say("/start 2026-07-20")
    before = snapshot(database_url)
    assert expected in await ann.text(line)
    assert snapshot(database_url) == before


async def test_bad_button_payloads_change_nothing(ann: Chatter, stored: SqlPaperStore, database_url: str) -> None:
    await ann.say("/start 2026-07-20")
    before = snapshot(database_url)
    for action in ("pr:abc", "pl:9999.99999", "pd:", "pr:" + "1" * 60):
        assert "no longer stored" in "".join(r.text.to_plain() for r in await ann.press(action))
    assert snapshot(database_url) == before


async def test_one_paper_with_its_abstract_and_buttons(ann: Chatter, stored: SqlPaperStore) -> None:
    await ann.say("/start 2026-07-20")
    ids, _reply = await listed(ann, "/papers 1")
    [reply] = await ann.say(f"/paper {ids[0]}v9")
    paper = (await stored.get_papers([ids[0]]))[ids[0]]
    assert paper.abstract in reply.text.to_plain()
    assert [b.label for b in reply.buttons] == ["👍 More like this", "👎 Less like this", "✓ Read"]
    [zh] = await Chatter(ann.core, user_id="2", name="Li", locale="zh").say(f"/paper {ids[0]}")
    assert [b.label for b in zh.buttons] == ["👍 多推荐类似的", "👎 少推荐类似的", "✓ 已读"]


async def test_a_chinese_topic_is_searched_in_english(li: Chatter) -> None:
    assert "将以英文检索：quantization, quantized" in await li.text("/topics add 量化")
    assert "我还不认识这个中文术语" in await li.text("/topics add 完全未知")


@pytest.mark.postgresql_too
async def test_the_group_recap_counts_the_papers_read(core: Core, stored: SqlPaperStore, app: Runtime) -> None:
    ann = Chatter(core, user_id="1", name="Ann", chat=GROUP)
    bob = Chatter(core, user_id="3", name="Bob", chat=GROUP)
    await ann.say("/start 2026-07-20")
    ids, _reply = await listed(ann)
    await ann.press(f"pr:{ids[1]}")
    await bob.say(f"/read {ids[1]}")
    await bob.say(f"/read {ids[2]}")
    chat = await core.services.store.find_chat("console", "-100")  # type: ignore[attr-defined]
    title = (await stored.get_papers([ids[1]]))[ids[1]].title
    recap = await recap_text(app.database.accountability, core.services.clock, chat, translator("en"), papers=stored)
    assert isinstance(recap, Rich)
    assert f"Papers read this week: 3; most read: “{title}” (2)" in recap.to_plain()


async def test_a_group_list_hides_what_a_member_disliked(core: Core, stored: SqlPaperStore) -> None:
    ann = Chatter(core, user_id="1", name="Ann", chat=GROUP)
    await ann.say("/start 2026-07-20")
    assert "Papers read" not in await ann.text("/join")  # on the roster
    ids, _reply = await listed(ann)
    await ann.press(f"pd:{ids[0]}")
    assert ids[0] not in (await listed(ann))[0]


async def test_feedback_commands_teach_the_list(app: Runtime, ann: Chatter) -> None:
    """The acceptance loop through commands on the real week: 5 👍 on speech papers (not the week's theme),
    5 👎 on graph papers; speech then fills the top 5 and no graph paper appears."""
    if not WEEK.is_dir():
        pytest.skip(f"shared arXiv fixture missing: {WEEK}")
    app.clock.set(at("2026-06-13 09:00"))  # type: ignore[attr-defined]
    week = load_week(WEEK)
    for path in sorted(WEEK.glob("*.xml")):
        await app.database.papers.upsert_papers(parsed_feed_file(path).papers, app.clock.now())
    await ann.say("/start 2026-05-13")  # week 5: transformers
    ids, _reply = await listed(ann, "/papers")
    text = {p.arxiv_id: f"{p.title} {p.abstract}" for p in week}
    assert sum(bool(SPEECH.search(text[i])) for i in ids) < 3
    liked = [p.arxiv_id for p in week if SPEECH.search(p.title) and not GRAPH.search(text[p.arxiv_id])][:5]
    disliked = [p.arxiv_id for p in week if GRAPH.search(p.title) and not SPEECH.search(text[p.arxiv_id])][:5]
    for arxiv_id in liked:
        await ann.say(f"/like {arxiv_id}")
    for arxiv_id in disliked:
        await ann.say(f"/dislike {arxiv_id}")
    ids, reply = await listed(ann, "/papers")
    assert sum(bool(SPEECH.search(text[i])) for i in ids) >= 3, reply.text.to_plain()
    assert not set(ids) & set(disliked)
    assert "Why: like a paper you liked:" in reply.text.to_plain()
