"""Ranking, gist and the ingest schedule, on the real 2026-08-20 cs.CL feed where data is needed."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.i18n import translator
from bot.papers.feed import parse_feed
from bot.papers.ingest import ingest_due
from bot.papers.ports import Paper
from bot.papers.ranking import TYPE_BOOST, all_keywords, authors_line, gist, query_for, rank_papers
from bot.plan import load_plan
from bot.plan.calendar import PlanDay
from tests.support import SHARED, at

FEED = SHARED / "fixtures/arxiv/rss_cs.CL_pub2026-08-20_weekday.xml"
ON_TOPIC = re.compile(r"attention|transformer|\bbert\b|\bgpt|pre-?train|fine-?tun", re.I)


def paper(arxiv_id: str, title: str, abstract: str, kind: str = "new") -> Paper:
    return Paper(arxiv_id, 1, title, ("A B",), abstract, ("cs.CL",), "cs.CL", kind, date(2026, 8, 20), "u")


@pytest.fixture(scope="module")
def feed_papers() -> list[Paper]:
    if not FEED.is_file():
        pytest.skip(f"shared arXiv fixture missing: {FEED}")
    return [
        Paper(
            p.arxiv_id,
            p.version,
            p.title,
            p.authors,
            p.abstract,
            p.categories,
            p.primary_category,
            p.announce_type,
            p.announced,
            p.link,
        )
        for p in parse_feed(FEED.read_bytes()).papers
    ]


def test_weeks_5_6_rank_attention_and_transformer_papers_first(feed_papers: list[Paper]) -> None:
    """What we check and why: weeks 5-6 are "self-attention, transformer, BERT, GPT, pre-training,
    fine-tuning". An independent regex (not the ranker's tokenizer) marks each of the 141 real papers as
    on-topic if its title or abstract mentions one of those (49 do). A reader sees the top of the list,
    so: (1) every paper in the top 10 is on-topic, (2) at least 16 of the top 20 are (today: 18; the
    misses match weaker words such as "tuning" or "self"), and (3) on-topic papers average a rank under
    half that of the rest, counting unranked papers (no query word at all) as last."""
    keywords = load_plan("en").block_for_week(5).keywords
    ranked = rank_papers(feed_papers, keywords, (), limit=len(feed_papers))
    on_topic = {p.arxiv_id for p in feed_papers if ON_TOPIC.search(f"{p.title} {p.abstract}")}
    assert 20 < len(on_topic) < len(feed_papers)  # the fixture has both kinds, so the test means something
    top10 = [r.paper for r in ranked[:10]]
    assert all(p.arxiv_id in on_topic for p in top10), [p.title for p in top10]
    assert sum(r.paper.arxiv_id in on_topic for r in ranked[:20]) >= 16
    position = {r.paper.arxiv_id: i for i, r in enumerate(ranked)}
    on = [position.get(i, len(ranked)) for i in on_topic]
    off = [position.get(p.arxiv_id, len(ranked)) for p in feed_papers if p.arxiv_id not in on_topic]
    assert sum(on) / len(on) < 0.5 * sum(off) / len(off)


def test_new_is_preferred_over_cross_and_replace_with_equal_text() -> None:
    text = "Self-attention in transformer models. We study attention heads."
    papers = [paper(str(i), "Attention heads", text, kind) for i, kind in enumerate(TYPE_BOOST)][::-1]
    ranked = rank_papers(papers, ["self-attention", "transformer"], (), 10)
    assert [r.paper.announce_type for r in ranked] == ["new", "cross", "replace", "replace-cross"]


def test_the_boost_never_lifts_an_off_topic_paper() -> None:
    papers = [
        paper("1", "A transformer for self-attention", "Transformer attention, again attention.", "replace"),
        paper("2", "Protein folding", "We fold proteins with a transformer.", "new"),
    ]
    ranked = rank_papers(papers, ["self-attention", "transformer"], (), 10)
    assert [r.paper.arxiv_id for r in ranked] == ["1", "2"]


def test_topics_pull_matching_papers_up(feed_papers: list[Paper]) -> None:
    keywords = load_plan("en").block_for_week(5).keywords
    plain = rank_papers(feed_papers, keywords, (), 5)
    with_topic = rank_papers(feed_papers, keywords, ["speech recognition"], 5)
    assert any("speech" in f"{r.paper.title} {r.paper.abstract}".lower() for r in with_topic)
    assert [r.paper.arxiv_id for r in plain] != [r.paper.arxiv_id for r in with_topic]


def test_nothing_to_rank_gives_nothing() -> None:
    assert rank_papers([], ["transformer"], (), 5) == []
    assert rank_papers([paper("1", "x", "y")], [], (), 5) == []
    assert rank_papers([paper("1", "Cats", "Dogs and cats.")], ["transformer"], (), 5) == []


def test_gist_is_the_first_sentence_capped() -> None:
    assert gist("We propose X, e.g. a model. It works well.") == "We propose X, e.g. a model."
    assert gist("Large models  need\n data. More text.") == "Large models need data."
    long = "word " * 100
    short = gist(long)
    assert len(short) <= 200 and short.endswith("…") and not short[:-1].endswith(" ")


def test_authors_line_shows_three_then_et_al() -> None:
    _ = translator("en")
    assert authors_line(("A", "B"), _) == "A, B"
    assert authors_line(("A", "B", "C", "D"), _) == "A, B, C et al."
    assert authors_line(("A", "B", "C", "D"), translator("zh")) == "A, B, C 等"


def test_query_for_each_plan_state() -> None:
    plan = load_plan("en")
    _ = translator("en")
    assert query_for(plan, None, _).keywords == plan.block_for_week(1).keywords
    assert query_for(plan, None, _).note
    assert query_for(plan, PlanDay("active", 30), _).keywords == plan.block_for_week(5).keywords
    done = query_for(plan, PlanDay("complete", 200), _)
    assert done.week is None and set(done.keywords) == set(all_keywords(plan))


@pytest.mark.parametrize(
    ("now", "last_ok", "last_attempt", "due"),
    [
        ("2026-08-20 00:20", None, None, False),  # Thursday, before the rebuild has settled
        ("2026-08-20 00:40", None, None, True),  # after it: today's feed is missing
        ("2026-08-20 09:00", "2026-08-19 01:00", None, True),  # only yesterday's -> start-up catch-up
        ("2026-08-20 09:00", "2026-08-20 00:40", "2026-08-20 00:40", False),  # done for today
        ("2026-08-20 09:00", None, "2026-08-20 08:30", False),  # stale/error 30 min ago: wait
        ("2026-08-20 09:00", None, "2026-08-20 07:59", True),  # an hour later: retry
        ("2026-08-22 09:00", None, None, False),  # Saturday: the feed is empty by design
        ("2026-08-23 23:59", None, None, False),  # Sunday night
        ("2026-08-24 00:31", "2026-08-21 01:00", None, True),  # Monday's feed
    ],
)
def test_ingest_policy(now: str, last_ok: str | None, last_attempt: str | None, due: bool) -> None:
    ny = "America/New_York"
    assert (
        ingest_due(
            at(now, ny),
            at(last_ok, ny) if last_ok else None,
            at(last_attempt, ny) if last_attempt else None,
        )
        is due
    )


def test_ingest_policy_follows_new_york_across_dst() -> None:
    # 04:45 UTC is 00:45 in New York in summer (EDT) but 23:45 the day before in winter (EST).
    tuesday_ok, wednesday_ok = at("2026-08-18 06:00"), at("2026-01-14 06:00")
    assert ingest_due(at("2026-08-19 04:45"), tuesday_ok)  # Wednesday 00:45 EDT: Wednesday's feed
    assert not ingest_due(at("2026-01-15 04:45"), wednesday_ok)  # still Wednesday 23:45 EST, done
    assert ingest_due(at("2026-01-15 05:45"), wednesday_ok)  # Thursday 00:45 EST


async def test_ranking_runs_off_the_event_loop(feed_papers: list[Paper], monkeypatch: pytest.MonkeyPatch) -> None:
    """Index building and training happen in a worker thread, never on the loop's own thread."""
    import threading

    from bot.papers import ranking

    seen: list[int] = []
    build = ranking.build_index

    def spy(papers: list[Paper]) -> ranking.PaperIndex:
        seen.append(threading.get_ident())
        return build(papers)

    monkeypatch.setattr(ranking, "build_index", spy)
    ranked = await ranking.rank_off_loop(feed_papers, ["transformer"], (), 5)
    assert len(ranked) == 5 and seen and threading.get_ident() not in seen
