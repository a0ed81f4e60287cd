"""Which stored arXiv papers fit a learner's week: BM25 ranking, a one-line gist, and the reply.

Ranking uses bm25s (BM25 over sparse matrices, numpy only: no network, no model download) rather than a
hand-written scorer. The query is the plan block's English keywords plus the learner's own topics
(topics count twice: the learner asked for them by name). The title is indexed twice so a keyword in the
title outweighs one in passing in the abstract. A small multiplicative boost then prefers papers
announced as `new` over cross-lists and replacements, which readers have often seen already.
/papers and the weekly reading post (bot/papers/pushes.py) both build on `papers_text`: the same list.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import bm25s

from bot.core.markup import Rich, bold, italic, join, link, plain
from bot.core.types import Lang, Reply
from bot.i18n import Translator, translator
from bot.papers.ports import Paper, PaperRepo
from bot.plan import Plan
from bot.plan.calendar import PlanDay

RECENT_DAYS = 7
DEFAULT_COUNT = 5
MAX_COUNT = 20
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 60
GIST_CHARS = 200
SHOWN_AUTHORS = 3
TOPIC_WEIGHT = 2
# Multiplies the BM25 score: enough to order near-ties, never enough to lift an off-topic paper.
TYPE_BOOST = {"new": 1.0, "cross": 0.9, "replace": 0.8, "replace-cross": 0.75}

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.")


@dataclass(frozen=True, slots=True)
class Ranked:
    paper: Paper
    score: float


def fold(word: str) -> str:
    """A light plural fold so `transformers` meets `transformer` (bm25s takes any stemmer callable)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold_words(words: Sequence[str]) -> list[str]:
    """bm25s hands its stemmer the whole vocabulary at once (PyStemmer's `stemWords` shape)."""
    return [fold(word) for word in words]


def tokens(text: str) -> list[str]:
    return [fold(word) for word in _TOKEN.findall(text.lower())]


def query_tokens(keywords: Iterable[str], topics: Iterable[str]) -> list[str]:
    stop = bm25s.stopwords.STOPWORDS_EN
    words = [t for k in keywords for t in tokens(k) if t not in stop]
    for topic in topics:
        words += [t for t in tokens(topic) if t not in stop] * TOPIC_WEIGHT
    return words


_INDEX_CACHE: OrderedDict[tuple[tuple[str, int, str], ...], bm25s.BM25] = OrderedDict()
INDEX_CACHE_SIZE = 4


def _index(papers: Sequence[Paper]) -> bm25s.BM25:
    """BM25 index of the papers, cached: the week's papers change only when a feed is ingested, so
    every /papers between two ingests (and every weekly post) reuses one index and only scores."""
    key = tuple((p.arxiv_id, p.version, p.announce_type) for p in papers)
    retriever = _INDEX_CACHE.get(key)
    if retriever is not None:
        _INDEX_CACHE.move_to_end(key)
        return retriever
    corpus = bm25s.tokenize(
        [f"{p.title}\n{p.title}\n{p.abstract}" for p in papers],
        stopwords="en",
        stemmer=fold_words,
        show_progress=False,
    )
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    _INDEX_CACHE[key] = retriever
    while len(_INDEX_CACHE) > INDEX_CACHE_SIZE:
        _INDEX_CACHE.popitem(last=False)
    return retriever


def rank_papers(
    papers: Sequence[Paper], keywords: Iterable[str], topics: Iterable[str] = (), limit: int = DEFAULT_COUNT
) -> list[Ranked]:
    """The `limit` best papers for the query, best first; papers matching no query word are left out."""
    query = query_tokens(keywords, topics)
    if not papers or not query or limit <= 0:
        return []
    retriever = _index(papers)
    scores = retriever.get_scores(query)
    ranked = [
        Ranked(paper, float(score) * TYPE_BOOST.get(paper.announce_type, 0.75))
        for paper, score in zip(papers, scores, strict=True)
        if score > 0
    ]
    ranked.sort(key=lambda r: (-r.score, -(r.paper.announced or date.min).toordinal(), r.paper.arxiv_id))
    return ranked[:limit]


def gist(abstract: str, limit: int = GIST_CHARS) -> str:
    """The abstract's first sentence, cut at a word boundary near `limit` characters."""
    text = " ".join(abstract.split())
    for start in (m.end() for m in _SENTENCE_END.finditer(text)):
        head = text[:start].rstrip()
        if not head.endswith(_ABBREVIATIONS):
            text = head
            break
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def authors_line(authors: Sequence[str], _: Translator) -> str:
    if not authors:
        return _("unknown authors")
    names = ", ".join(authors[:SHOWN_AUTHORS])
    return _("{names} et al.", names=names) if len(authors) > SHOWN_AUTHORS else names


def all_keywords(plan: Plan) -> list[str]:
    return list(dict.fromkeys(k for block in plan.blocks for k in block.keywords))


@dataclass(frozen=True, slots=True)
class Query:
    """What to rank for: the week shown in the heading, its keywords, and why (for a note)."""

    week: int | None
    keywords: tuple[str, ...]
    note: str | None


def query_for(plan: Plan, day: PlanDay | None, _: Translator) -> Query:
    """Not started -> week 1 with a note; after week 20 -> every block's keywords (plus topics)."""
    if day is None or day.status == "upcoming":
        note = _("You haven't started the plan, so these fit week 1. Send /start to begin.")
        return Query(1, plan.block_for_week(1).keywords, note)
    if not day.in_plan:
        note = _("You have finished the plan: ranked by your topics and every week's keywords.")
        return Query(None, tuple(all_keywords(plan)), note)
    return Query(day.week, plan.block_for_week(day.week).keywords, None)


def paper_lines(index: int, paper: Paper, _: Translator) -> Rich:
    head = plain(f"{index}. ") + link(paper.title or paper.arxiv_id, paper.link)
    if paper.announce_type in ("cross", "replace-cross"):
        head = head + italic(" " + _("(cross-list)"))
    if paper.announce_type in ("replace", "replace-cross"):
        head = head + italic(" " + _("(updated, v{version})", version=paper.version))
    meta = authors_line(paper.authors, _) + " · " + ", ".join(paper.categories or (paper.primary_category,))
    return join([head, plain("   " + meta), italic("   " + gist(paper.abstract))])


def render_papers(
    ranked: Sequence[Ranked], query: Query, plan: Plan, topics: Sequence[str], stored: int, _: Translator
) -> Rich:
    if query.week is not None:
        block = plan.block_for_week(query.week)
        heading = bold(_("arXiv papers for week {week}: {title}", week=query.week, title=block.title))
    else:
        heading = bold(_("arXiv papers for you"))
    parts: list[Rich] = [heading]
    if query.note:
        parts.append(italic(query.note))
    if topics:
        parts.append(plain(_("Your topics: {topics}", topics=", ".join(topics))))
    parts.append(plain(""))
    if stored == 0:
        parts.append(plain(_("No papers stored yet — they arrive with the next weekday feed.")))
    elif not ranked:
        parts.append(
            plain(
                _(
                    "No paper from the last {days} days matches these keywords. Add your own with /topics add.",
                    days=RECENT_DAYS,
                )
            )
        )
    else:
        parts.append(join([paper_lines(i, r.paper, _) for i, r in enumerate(ranked, start=1)], sep="\n\n"))
    return join(parts)


async def papers_text(
    repo: PaperRepo,
    plan: Plan,
    day: PlanDay | None,
    lang: Lang,
    today: date,
    topics: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
) -> tuple[Rich, int]:
    """The ranked list as rich text, and how many papers it shows."""
    _ = translator(lang)
    query = query_for(plan, day, _)
    papers = await repo.recent_papers(today - timedelta(days=RECENT_DAYS))
    stored = len(papers) or await repo.paper_count()
    ranked = rank_papers(papers, query.keywords, topics, count)
    return render_papers(ranked, query, plan, topics, stored, _), len(ranked)


async def papers_reply(
    repo: PaperRepo,
    plan: Plan,
    day: PlanDay | None,
    lang: Lang,
    today: date,
    topics: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
) -> Reply:
    """What /papers shows: the last week's papers ranked for the plan week (and the learner's topics)."""
    text, _shown = await papers_text(repo, plan, day, lang, today, topics, count)
    return Reply(text)
