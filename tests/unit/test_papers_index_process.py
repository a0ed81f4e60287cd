"""A cold index of many papers is built in a worker process (bm25s and scikit-learn hold the GIL while
indexing, so a thread still stalls the event loop), and ranks exactly like one built in this process."""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor

import pytest

from bot.papers import ranking
from bot.papers.ports import Paper

WORDS = [f"term{i}" for i in range(3000)] + ["quantization", "retrieval", "augmented", "generation", "speech"]


def papers(n: int) -> list[Paper]:
    rng = random.Random(7)
    return [
        Paper(
            arxiv_id=f"2606.{i:05d}",
            version=1,
            title=" ".join(rng.choices(WORDS, k=8)),
            authors=("A. Author",),
            abstract=" ".join(rng.choices(WORDS, k=80)),
            categories=("cs.CL",),
            primary_category="cs.CL",
            announce_type="new",
            announced=None,
            link=f"https://arxiv.org/abs/2606.{i:05d}",
        )
        for i in range(n)
    ]


def ranked_ids(stored: list[Paper], monkeypatch: pytest.MonkeyPatch, process_from: int) -> list[str]:
    monkeypatch.setattr(ranking, "PROCESS_BUILD_MIN", process_from)
    ranking._INDEX_CACHE.clear()
    return [r.paper.arxiv_id for r in ranking.rank_papers(stored, ["quantization", "speech"], ["retrieval"], 10)]


def test_a_process_built_index_ranks_like_one_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = papers(ranking.PROCESS_BUILD_MIN)
    pools = []
    real = ranking._index_pool

    def recording_pool() -> ProcessPoolExecutor:
        pools.append(real())
        return pools[-1]

    monkeypatch.setattr(ranking, "_index_pool", recording_pool)
    here = ranked_ids(stored, monkeypatch, process_from=10**9)
    assert pools == []  # built in this process
    there = ranked_ids(stored, monkeypatch, process_from=len(stored))
    assert len(pools) == 1  # built by the worker process
    assert there == here and len(here) == 10
