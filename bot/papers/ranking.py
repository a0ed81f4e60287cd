"""Which stored arXiv papers fit a learner's week: BM25 ranking blended with the learner's own model, a
one-line gist and why-line per paper, and the reply with its feedback buttons.

Ranking uses bm25s (BM25 over sparse matrices, numpy only: no network, no model download) rather than a
hand-written scorer. The query is the plan block's English keywords plus the learner's own topics
(topics count twice: the learner asked for them by name). The title is indexed twice so a keyword in the
title outweighs one in passing in the abstract. A small multiplicative boost then prefers papers
announced as `new` over cross-lists and replacements, which readers have often seen already.
Chinese topics are searched by their English glossary terms (bot/papers/glossary.py).
With feedback, a per-learner linear model over tf-idf features (bot/papers/learn.py) is blended in; papers the
learner read or disliked are left out. Indexing and training run in a worker thread (`rank_off_loop`), and a
cold index of many papers in a worker process: building both indexes for 5,000 papers takes seconds, which on
the event loop would stall every chat.
/papers and the weekly reading post (bot/papers/pushes.py) both build on `papers_listing`: the same list.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import multiprocessing
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.core.markup import Rich, bold, italic, join, link, plain
from bot.core.types import Button, Lang, Reply
from bot.i18n import Translator, translator
from bot.papers.glossary import english_terms
from bot.papers.learn import Taste, fit_features, taste_scores
from bot.papers.ports import Feedback, Paper, PaperRepo
from bot.plan import Plan
from bot.plan.calendar import PlanDay

if TYPE_CHECKING:  # a second of imports that only the first ranking should pay for (see bot/papers/learn.py)
    import bm25s
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

log = logging.getLogger(__name__)

RECENT_DAYS = 7
DEFAULT_COUNT = 5
MAX_COUNT = 20
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 60
GIST_CHARS = 200
SHOWN_AUTHORS = 3
TOPIC_WEIGHT = 2
# Multiplies the BM25 score: enough to order near-ties, never enough to lift an off-topic paper.
# The learner's model gets this share of the blended score per liked paper, up to MAX_TASTE_WEIGHT.
TASTE_WEIGHT_PER_LIKE = 0.15
MAX_TASTE_WEIGHT = 0.75
WHY_KEYWORDS = 3
WHY_TITLE_CHARS = 60
LIKE_ACTION, DISLIKE_ACTION, READ_ACTION = "pl", "pd", "pr"
TYPE_BOOST = {"new": 1.0, "cross": 0.9, "replace": 0.8, "replace-cross": 0.75}

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.")


@dataclass(frozen=True, slots=True)
class Why:
    """Why a paper is listed: the week's keywords and the topics it matches, the liked paper it resembles."""

    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    liked: str | None = None  # the title of the most similar liked paper, when the learner's model lifted it


@dataclass(frozen=True, slots=True)
class Ranked:
    paper: Paper
    score: float
    why: Why = Why()


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


@functools.cache
def _stopwords() -> frozenset[str]:
    """bm25s's English stop-list; importing bm25s pulls in scipy (~0.25 s), so not before it is needed."""
    import bm25s.stopwords

    return frozenset(bm25s.stopwords.STOPWORDS_EN)


def _words(text: str) -> set[str]:
    stop = _stopwords()
    return {t for t in tokens(text) if t not in stop}


def query_tokens(keywords: Iterable[str], topics: Iterable[str]) -> list[str]:
    """The keywords' words, then each topic's (in English: a Chinese topic by its glossary terms) twice."""
    stop = _stopwords()
    words = [t for k in keywords for t in tokens(k) if t not in stop]
    for topic in topics:
        words += [t for term in english_terms(topic) for t in tokens(term) if t not in stop] * TOPIC_WEIGHT
    return words


IndexKey = tuple[tuple[str, int, str], ...]


@dataclass(frozen=True, slots=True)
class PaperIndex:
    """Both indexes of one stored paper set: BM25 for keywords, tf-idf features for the learner's model."""

    key: IndexKey
    bm25: bm25s.BM25
    vectorizer: TfidfVectorizer
    features: csr_matrix


_INDEX_CACHE: OrderedDict[IndexKey, PaperIndex] = OrderedDict()
_INDEX_LOCK = threading.Lock()  # one build at a time; a second request for the same set waits and reuses it
INDEX_CACHE_SIZE = 4


def index_key(papers: Sequence[Paper]) -> IndexKey:
    return tuple((p.arxiv_id, p.version, p.announce_type) for p in papers)


IndexParts = tuple["bm25s.BM25", "TfidfVectorizer", "csr_matrix"]
# From this many papers on, a cold build runs in a worker process. bm25s and scikit-learn hold the GIL in
# their C code while indexing, so from a thread a build of 5,000 papers still stalled the event loop for
# ~75 ms; a process costs ~1 s of start-up once, which small sets (tests, a quiet week) are spared.
PROCESS_BUILD_MIN = 1000
_POOL: ProcessPoolExecutor | None = None


def index_parts(papers: Sequence[Paper]) -> IndexParts:
    """BM25 over the papers (title twice, then the abstract) and their tf-idf features."""
    import bm25s  # with scipy: imported by the first ranking, not by every start

    corpus = bm25s.tokenize(
        [f"{p.title}\n{p.title}\n{p.abstract}" for p in papers],
        stopwords="en",
        stemmer=fold_words,
        show_progress=False,
    )
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    vectorizer, features = fit_features(papers)
    # Only for introspection (every word cut by min_df/max_df) and the bulk of a pickled vectorizer.
    vectorizer.stop_words_ = None
    return retriever, vectorizer, features


def _index_pool() -> ProcessPoolExecutor:
    """One worker process, started on first need with `spawn` (never `fork` from a process full of
    threads) and shut down at exit."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        atexit.register(_POOL.shutdown, wait=False, cancel_futures=True)
    return _POOL


def _build_parts(papers: Sequence[Paper]) -> IndexParts:
    if len(papers) < PROCESS_BUILD_MIN:
        return index_parts(papers)
    try:
        return _index_pool().submit(index_parts, list(papers)).result()
    except (BrokenProcessPool, OSError):  # no processes to be had here: build in this thread instead
        log.warning("building the paper index in a worker process failed; building it in a thread")
        return index_parts(papers)


def build_index(papers: Sequence[Paper]) -> PaperIndex:
    """The indexes of the papers, cached: the stored papers change only when a feed is ingested (at most
    once a day), so every /papers between two ingests (and every weekly post) reuses them and only scores.
    Slow on a cache miss (seconds for 5,000 papers): call it from a worker thread (large sets are then
    built in a worker process)."""
    key = index_key(papers)
    with _INDEX_LOCK:
        index = _INDEX_CACHE.get(key)
        if index is not None:
            _INDEX_CACHE.move_to_end(key)
            return index
        retriever, vectorizer, features = _build_parts(papers)
        index = PaperIndex(key, retriever, vectorizer, features)
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > INDEX_CACHE_SIZE:
            _INDEX_CACHE.popitem(last=False)
        return index


def _why(paper: Paper, keywords: Sequence[str], topics: Sequence[str], liked: str | None) -> Why:
    words = _words(f"{paper.title} {paper.abstract}")
    matched = [k for k in keywords if (need := _words(k)) and need <= words][:WHY_KEYWORDS]
    mine = [t for t in topics if any((need := _words(term)) and need <= words for term in english_terms(t))]
    return Why(tuple(matched), tuple(mine), liked)


def rank_papers(
    papers: Sequence[Paper],
    keywords: Iterable[str],
    topics: Iterable[str] = (),
    limit: int = DEFAULT_COUNT,
    taste: Taste | None = None,
) -> list[Ranked]:
    """The `limit` best papers, best first. Without a liked paper: BM25 on the query, papers matching no
    query word left out. With one: the BM25 score (scaled to 0..1) blended with the learner's model.
    Papers in `taste.hidden` never appear. Synchronous and slow on a cache miss: see `rank_off_loop`."""
    keywords, topics = list(keywords), list(topics)
    taste = taste or Taste()
    query = query_tokens(keywords, topics)
    if not papers or limit <= 0 or not (query or taste.trains):
        return []
    import numpy as np  # with scipy: imported by the first ranking, not by every process start

    index = build_index(papers)
    keyword = np.asarray(index.bm25.get_scores(query), dtype=np.float64) if query else np.zeros(len(papers))
    learned = taste_scores(index.key, index.vectorizer, index.features, taste)
    lifted = np.zeros(len(papers), dtype=bool)  # papers the learner's model lifted more than the keywords
    if learned is None:
        blended, keep = keyword, keyword > 0
    else:
        weight = min(MAX_TASTE_WEIGHT, TASTE_WEIGHT_PER_LIKE * len(taste.liked))
        top = float(keyword.max()) if len(keyword) else 0.0
        scaled = keyword / top if top > 0 else keyword
        blended = (1 - weight) * scaled + weight * learned.scores
        lifted = weight * learned.scores > (1 - weight) * scaled
        keep = blended > 0
    candidates = [
        (float(blended[i]) * TYPE_BOOST.get(paper.announce_type, 0.75), i)
        for i, paper in enumerate(papers)
        if keep[i] and paper.arxiv_id not in taste.hidden
    ]
    candidates.sort(key=lambda c: (-c[0], -(papers[c[1]].announced or date.min).toordinal(), papers[c[1]].arxiv_id))
    ranked = []
    for score, i in candidates[:limit]:
        liked = None
        if learned is not None and lifted[i]:
            title = taste.liked[int(learned.nearest_liked[i])].title
            liked = title if len(title) <= WHY_TITLE_CHARS else title[: WHY_TITLE_CHARS - 1].rstrip() + "…"
        ranked.append(Ranked(papers[i], score, _why(papers[i], keywords, topics, liked)))
    return ranked


async def rank_off_loop(
    papers: Sequence[Paper],
    keywords: Iterable[str],
    topics: Iterable[str] = (),
    limit: int = DEFAULT_COUNT,
    taste: Taste | None = None,
) -> list[Ranked]:
    """`rank_papers` in a worker thread: the event loop keeps serving chats while indexes are built."""
    return await asyncio.to_thread(rank_papers, list(papers), list(keywords), list(topics), limit, taste)


def taste_from(feedback: Iterable[Feedback], papers: dict[str, Paper], *, group: bool = False) -> Taste:
    """A learner's (or a group's members') feedback as a Taste. A learner never sees a paper again once
    read or disliked; a group hides what a member disliked and nobody liked (one member's reading
    doesn't mean the others have read it)."""
    liked: dict[str, Paper] = {}
    disliked: dict[str, Paper] = {}
    read: set[str] = set()
    for mark in feedback:
        paper = papers.get(mark.arxiv_id)
        if mark.read_on is not None:
            read.add(mark.arxiv_id)
        if paper is None:
            continue
        if mark.vote > 0:
            liked[paper.arxiv_id] = paper
        elif mark.vote < 0:
            disliked[paper.arxiv_id] = paper
    if group:
        for arxiv_id in set(liked) & set(disliked):
            disliked.pop(arxiv_id)
        hidden = frozenset(disliked)
    else:
        hidden = frozenset(disliked) | frozenset(read)
    return Taste(tuple(liked.values()), tuple(disliked.values()), hidden)


async def load_taste(repo: PaperRepo, user_ids: Sequence[int], *, group: bool = False) -> Taste:
    marks = await repo.feedback(user_ids)
    voted = {m.arxiv_id for m in marks if m.vote}
    return taste_from(marks, await repo.get_papers(voted) if voted else {}, group=group)


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


def why_line(why: Why, _: Translator) -> str | None:
    """One short line in the learner's language, or None when nothing specific can be said."""
    reasons = []
    if why.liked:
        reasons.append(_("like a paper you liked: “{title}”", title=why.liked))
    if why.topics:
        reasons.append(_("your topic {topics}", topics=", ".join(f"“{t}”" for t in why.topics)))
    if why.keywords:
        reasons.append(_("this week's {keywords}", keywords=", ".join(why.keywords)))
    return _("Why: {reasons}", reasons="; ".join(reasons)) if reasons else None


def paper_head(paper: Paper, _: Translator, number: int | None = None) -> Rich:
    head = (plain(f"{number}. ") if number is not None else plain("")) + link(paper.title or paper.arxiv_id, paper.link)
    if paper.announce_type in ("cross", "replace-cross"):
        head = head + italic(" " + _("(cross-list)"))
    if paper.announce_type in ("replace", "replace-cross"):
        head = head + italic(" " + _("(updated, v{version})", version=paper.version))
    return head


def paper_meta(paper: Paper, _: Translator) -> str:
    categories = ", ".join(paper.categories or (paper.primary_category,))
    return f"{authors_line(paper.authors, _)} · {categories} · arXiv:{paper.arxiv_id}"


def paper_lines(index: int, paper: Paper, _: Translator, why: Why | None = None) -> Rich:
    lines = [paper_head(paper, _, index), plain("   " + paper_meta(paper, _)), italic("   " + gist(paper.abstract))]
    reason = why_line(why, _) if why is not None else None
    if reason:
        lines.append(plain("   " + reason))
    return join(lines)


def feedback_buttons(arxiv_id: str, _: Translator, number: int | None = None) -> tuple[Button, ...]:
    """👍 / 👎 / ✓ for one paper; in a list they carry the paper's number, alone their full labels.
    Actions are `prefix:arxiv id`, far below Telegram's 64-byte callback_data limit."""
    if number is None:
        labels = ("👍 " + _("More like this"), "👎 " + _("Less like this"), "✓ " + _("Read"))
    else:
        labels = (f"👍 {number}", f"👎 {number}", f"✓ {number}")
    actions = (LIKE_ACTION, DISLIKE_ACTION, READ_ACTION)
    return tuple(Button(label, f"{action}:{arxiv_id}") for label, action in zip(labels, actions, strict=True))


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
        parts.append(
            plain(
                _(
                    "No recent papers stored yet. They arrive with the next weekday arXiv feed; to fetch them now, "
                    "run “studybuddy arxiv fetch” where the bot runs (in the console: in another terminal)."
                )
            )
        )
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
        parts.append(join([paper_lines(i, r.paper, _, r.why) for i, r in enumerate(ranked, start=1)], sep="\n\n"))
        parts.append(plain(""))
        legend = _("Buttons by number: 👍 more like this, 👎 less like this, ✓ read (press again to undo).")
        parts.append(italic(legend))
    return join(parts)


async def papers_listing(
    repo: PaperRepo,
    plan: Plan,
    day: PlanDay | None,
    lang: Lang,
    today: date,
    topics: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
    taste: Taste | None = None,
) -> tuple[Reply, int]:
    """The ranked list with a row of feedback buttons per paper, and how many papers it shows."""
    _ = translator(lang)
    query = query_for(plan, day, _)
    papers = await repo.recent_papers(today - timedelta(days=RECENT_DAYS))
    stored = len(papers) or await repo.paper_count()
    ranked = await rank_off_loop(papers, query.keywords, topics, count, taste)
    buttons = tuple(b for i, r in enumerate(ranked, start=1) for b in feedback_buttons(r.paper.arxiv_id, _, i))
    return Reply(render_papers(ranked, query, plan, topics, stored, _), buttons), len(ranked)


async def papers_reply(
    repo: PaperRepo,
    plan: Plan,
    day: PlanDay | None,
    lang: Lang,
    today: date,
    topics: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
    taste: Taste | None = None,
) -> Reply:
    """What /papers shows: the last week's papers ranked for the plan week, topics and feedback."""
    reply, _shown = await papers_listing(repo, plan, day, lang, today, topics, count, taste)
    return reply
