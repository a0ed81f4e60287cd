"""A learner's taste as a linear model over tf-idf features of title + abstract, as arxiv-sanity-lite does.

Features are fitted once per stored paper set (`PaperIndex`, cached beside the BM25 index: the set changes
at most once a day, when a feed is ingested). A model is trained per distinct set of liked / disliked ids
and its scores are cached, so it is retrained only when the learner's feedback changed. Everything here
is plain synchronous numpy / scikit-learn work: callers run it in a worker thread, off the event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.papers.ports import Paper

if TYPE_CHECKING:  # numpy, scikit-learn and scipy take a second to import: only the first ranking pays for them
    import numpy as np
    from numpy.typing import NDArray
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    FloatArray = NDArray[np.float64]

MANY_PAPERS = 20  # below this (tests, a holiday) every word counts
WEAK_NEGATIVES = 200  # unlabelled papers sampled as weak negatives when few papers are disliked
SVM_C = 0.1  # arxiv-sanity-lite uses a small C: a handful of labels should not overfit
MODEL_CACHE_SIZE = 64


def paper_text(paper: Paper) -> str:
    return f"{paper.title}\n{paper.title}\n{paper.abstract}"


def fit_features(papers: Sequence[Paper]) -> tuple[TfidfVectorizer, csr_matrix]:
    """Words seen in at least two papers, sublinear tf, English stop words; rows are L2-normalised (cosine =
    dot). Unigrams, not bigrams: bigram vocabularies make scikit-learn hold the GIL for hundreds of ms in C
    code (measured: 280-590 ms for 5,000 papers), stalling the event loop even from a worker thread.
    A handful of stop-word-only papers (tests, a quiet day) falls back to characters rather than failing."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [paper_text(p) for p in papers]
    many = len(texts) >= MANY_PAPERS
    vectorizer = TfidfVectorizer(
        stop_words="english",
        sublinear_tf=True,
        min_df=2 if many else 1,
        max_df=0.5 if many else 1.0,  # words in half the papers tell nothing about a taste
        dtype=np.float32,
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # empty vocabulary
        vectorizer = TfidfVectorizer(analyzer="char", dtype=np.float32)
        matrix = vectorizer.fit_transform(texts or [" "])
    return vectorizer, csr_matrix(matrix)


@dataclass(frozen=True, slots=True)
class Taste:
    """The feedback a list is ranked with: papers liked and disliked (any date), and ids never to show."""

    liked: tuple[Paper, ...] = ()
    disliked: tuple[Paper, ...] = ()
    hidden: frozenset[str] = frozenset()

    @property
    def trains(self) -> bool:
        return bool(self.liked)


@dataclass(frozen=True, slots=True)
class TasteScores:
    """Per stored paper: the model's score scaled to 0..1, and the index of the most similar liked paper."""

    scores: FloatArray
    nearest_liked: NDArray[np.int64]


_MODELS: OrderedDict[tuple[object, ...], TasteScores] = OrderedDict()
_MODELS_LOCK = threading.Lock()


def taste_scores(
    index_key: object, vectorizer: TfidfVectorizer, features: csr_matrix, taste: Taste
) -> TasteScores | None:
    """Train (or reuse) the learner's model and score every stored paper; None without a liked paper."""
    if not taste.trains or features.shape[0] == 0:
        return None
    key = (index_key, tuple(sorted(p.arxiv_id for p in taste.liked)), tuple(sorted(p.arxiv_id for p in taste.disliked)))
    with _MODELS_LOCK:
        cached = _MODELS.get(key)
        if cached is not None:
            _MODELS.move_to_end(key)
            return cached
    scored = _train_and_score(vectorizer, features, taste)
    with _MODELS_LOCK:
        _MODELS[key] = scored
        while len(_MODELS) > MODEL_CACHE_SIZE:
            _MODELS.popitem(last=False)
    return scored


def _train_and_score(vectorizer: TfidfVectorizer, features: csr_matrix, taste: Taste) -> TasteScores:
    import numpy as np
    from scipy.sparse import csr_matrix, vstack
    from sklearn.svm import LinearSVC

    liked = csr_matrix(vectorizer.transform([paper_text(p) for p in taste.liked]))
    disliked = csr_matrix(vectorizer.transform([paper_text(p) for p in taste.disliked])) if taste.disliked else None
    rng = np.random.default_rng(0)  # deterministic: the same feedback gives the same list
    pool = np.arange(features.shape[0])
    weak = rng.choice(pool, size=min(WEAK_NEGATIVES, len(pool)), replace=False)
    negatives = [features[weak]] + ([disliked] if disliked is not None else [])
    x = vstack([liked, *negatives]).tocsr()
    y = np.zeros(x.shape[0], dtype=np.int64)
    y[: liked.shape[0]] = 1
    model = LinearSVC(C=SVM_C, class_weight="balanced", dual="auto", max_iter=5000)
    model.fit(x, y)
    raw = np.asarray(model.decision_function(features), dtype=np.float64)
    low, high = float(raw.min()), float(raw.max())
    scaled = (raw - low) / (high - low) if high > low else np.zeros_like(raw)
    nearest = np.asarray((features @ liked.T).toarray().argmax(axis=1), dtype=np.int64)
    return TasteScores(scaled, nearest)
