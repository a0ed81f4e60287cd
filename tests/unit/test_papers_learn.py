"""The personal ranker on a real arXiv week (../shared/fixtures/arxiv/week-2026-06: 2,008 distinct papers):
every plan block ranks on its subject, feedback moves the list, Chinese topics find English papers.

"On the subject" is judged by hand-written patterns per block (below), applied to title + abstract. They
were written from what each block teaches, not copied from bot/plan/data/keywords.yaml, and they do not
use the ranker's tokenizer, BM25 or glossary: a paper counts when a pattern matches its text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.papers.feedback import parse_arxiv_id
from bot.papers.glossary import english_terms, glossary
from bot.papers.learn import Taste
from bot.papers.ports import Feedback, Paper
from bot.papers.ranking import rank_papers, taste_from
from bot.plan import load_plan
from bot.plan.loader import load_keywords
from tests.support import SHARED, parsed_feed_file

WEEK = SHARED / "fixtures/arxiv/week-2026-06"

# The judge: what a paper on each block's subject says somewhere in its title or abstract.
ON_SUBJECT = {
    "5-6": r"attention|transformer|\bbert\b|\bgpt|pre-?train|fine-?tun|encoder|decoder",
    "7-8": r"parallel|distributed|shard|multi-gpu|\bgpus\b|cluster|communication",
    "9-10": r"generat|diffusion|text-to-image|multimodal|\bgans?\b|autoencoder",
    "11-12": r"quantiz|prun|distill|compress|low-bit|sparsi|kv[- ]cache|speculative|int8|fp8",
    "14": r"long[- ]context|long documents?|sparse attention|mixture[- ]of[- ]experts|\bmoe\b|state[- ]space|llama",
    "15": r"safety|safe\b|align|harm|toxic|\bbias|fair|red[- ]team|jailbreak|preference|refus",
    "17": r"translat|summari|question[- ]answering|retriev|multilingual|legal|knowledge graph",
    "18": r"vision|video|visual|image|multimodal",
    "19": r"on-device|edge|mobile|small (language )?models?|distill|latency|\bnpu\b|tiny",
}
SPEECH = re.compile(r"speech|audio|spoken|acoustic|speaker", re.I)
GRAPH = re.compile(r"\bgraph", re.I)
RAG = re.compile(r"retrieval[- ]augmented|\brag\b", re.I)
QUANT = re.compile(r"quantiz", re.I)


def load_week(folder: Path) -> list[Paper]:
    best: dict[str, Paper] = {}
    for path in sorted(folder.glob("*.xml")):
        for p in parsed_feed_file(path).papers:
            best[p.arxiv_id] = Paper(
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
    return list(best.values())


@pytest.fixture(scope="module")
def week() -> list[Paper]:
    if not WEEK.is_dir():
        pytest.skip(f"shared arXiv fixture missing: {WEEK}")
    return load_week(WEEK)


def text(paper: Paper) -> str:
    return f"{paper.title} {paper.abstract}"


@pytest.mark.parametrize("label", sorted(ON_SUBJECT))
def test_each_block_ranks_papers_on_its_subject(label: str, week: list[Paper]) -> None:
    block = next(b for b in load_plan("en").blocks if b.label == label)
    judge = re.compile(ON_SUBJECT[label], re.I)
    top = rank_papers(week, block.keywords, (), 5)
    on_subject = [r.paper.title for r in top if judge.search(text(r.paper))]
    assert len(top) == 5 and len(on_subject) >= 4, [r.paper.title for r in top]
    assert all(r.why.keywords for r in top)  # each says which of the week's keywords it matches


def test_feedback_moves_the_list_and_hides_what_was_read_or_disliked(week: list[Paper]) -> None:
    keywords = load_plan("en").block_for_week(5).keywords
    liked = [p for p in week if SPEECH.search(p.title) and not GRAPH.search(text(p))][:5]
    disliked = [p for p in week if GRAPH.search(p.title) and not SPEECH.search(text(p))][:5]
    before = rank_papers(week, keywords, (), 5)
    assert sum(bool(SPEECH.search(text(r.paper))) for r in before) < 3  # the week alone doesn't list speech
    marks = [Feedback(1, p.arxiv_id, 1) for p in liked] + [Feedback(1, p.arxiv_id, -1) for p in disliked]
    marks.append(Feedback(1, liked[0].arxiv_id, 1, read_on=week[0].announced))  # liked and read
    taste = taste_from(marks, {p.arxiv_id: p for p in liked + disliked})
    top = rank_papers(week, keywords, (), 5, taste)
    assert sum(bool(SPEECH.search(text(r.paper))) for r in top) >= 3, [r.paper.title for r in top]
    shown = {r.paper.arxiv_id for r in rank_papers(week, keywords, (), len(week), taste)}
    assert not shown & {p.arxiv_id for p in disliked}
    assert liked[0].arxiv_id not in shown
    assert any(r.why.liked for r in top)  # "like a paper you liked: …"
    # Hiding the liked papers too, the model still finds other speech papers (it learned, not recalled).
    hidden = Taste(taste.liked, taste.disliked, taste.hidden | {p.arxiv_id for p in liked})
    fresh = rank_papers(week, keywords, (), 5, hidden)
    assert sum(bool(SPEECH.search(text(r.paper))) for r in fresh) >= 3, [r.paper.title for r in fresh]


def test_a_group_hides_what_a_member_disliked_unless_another_liked_it() -> None:
    papers = {i: Paper(i, 1, i, (), "", (), "cs.CL", "new", None, "") for i in ("a", "b")}
    marks = [Feedback(1, "a", -1), Feedback(2, "a", 1), Feedback(1, "b", -1), Feedback(2, "b", 0, read_on=None)]
    group = taste_from(marks, papers, group=True)
    assert group.hidden == {"b"} and [p.arxiv_id for p in group.liked] == ["a"]


@pytest.mark.parametrize(("topic", "judge"), [("检索增强生成", RAG), ("量化", QUANT)])
def test_chinese_topics_find_english_papers(topic: str, judge: re.Pattern[str], week: list[Paper]) -> None:
    keywords = load_plan("zh").block_for_week(5).keywords
    without = rank_papers(week, keywords, (), 5)
    top = rank_papers(week, keywords, [topic], 5)
    assert sum(bool(judge.search(text(r.paper))) for r in without) < 2
    assert sum(bool(judge.search(text(r.paper))) for r in top) >= 2, [r.paper.title for r in top]
    assert any(topic in r.why.topics for r in top)


def test_the_glossary_names_every_plan_keyword_in_chinese() -> None:
    terms = glossary()
    missing = [k for words in load_keywords().values() for k in words if not terms.get(k)]
    assert missing == []
    assert all(any("\u4e00" <= ch <= "\u9fff" or ch.isascii() for ch in zh) for v in terms.values() for zh in v)


def test_chinese_topics_become_english_terms() -> None:
    assert english_terms("检索增强生成")[0] == "retrieval-augmented generation"
    assert "quantization" in english_terms("量化")
    assert english_terms("LLM 量化")[0] == "llm"
    assert english_terms("graph neural networks") == ("graph neural networks",)
    assert english_terms("完全未知") == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2406.01234", "2406.01234"),
        ("2406.01234v2", "2406.01234"),
        (" arXiv:2406.01234v12 ", "2406.01234"),
        ("https://arxiv.org/abs/2406.01234", "2406.01234"),
        ("cs/0601001", "cs/0601001"),
        ("math.GT/0309136v1", "math.GT/0309136"),
        ("nlin/0408039v2", "nlin/0408039"),
        ("abc", None),
        ("2406.1", None),
        ("", None),
        ("2406.01234" + "x" * 500, None),
        ("2406.01234; drop table", None),
    ],
)
def test_arxiv_ids_with_or_without_version(raw: str, expected: str | None) -> None:
    assert parse_arxiv_id(raw) == expected
