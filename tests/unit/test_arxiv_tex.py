"""TeX islands: converting only the runs that need TeX reads exactly as converting the whole text."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.papers.feed.parse as parse
from bot.papers.feed.tex import detex, detex_whole, tex_islands
from tests.support import SHARED

FIXTURES = SHARED / "fixtures/arxiv"

# Each one an edge of where an island may end: bare and multi-argument macros, math of every kind across
# several words, environments, unbalanced braces and dollars, ligatures, accents before a space.
TRICKY = [
    "\\textbf word and more",
    "\\textit {spaced} argument",
    "\\frac 1 2 of it",
    "Ja\\' cimovi\\'c and Poincar\\' e",
    "\\c c\\'a \\v{s} \\u{a} \\H{o}",
    "$a + b = c$ then",
    "$$ display b $$ after",
    "\\( x y \\) and \\[ x = y \\] then",
    "\\begin{itemize} \\item a b \\end{itemize} after",
    "{\\bf a b} c and nested {a {b c} d} e",
    "a } b { c",
    "{ unclosed brace a b",
    "unclosed $ math a b",
    "costs $5 to $10 and $x$",
    "50% & #1 at $3 and 100\\% sure",
    "x^2 and y_1 $z_1$",
    "a -- b --- c, ``quoted'' text, !` and ?` marks",
    "tilde~space, line\\\\ next, a\\ b",
    "\\LaTeX is \\alpha\\beta words \\cite{a, b} shows",
    "\\url{http://x.y/a_b} c \\emph{x} y \\newline z \\end{x} stray",
]


@pytest.mark.parametrize("text", TRICKY)
def test_islands_read_as_the_whole_text(text: str) -> None:
    assert detex(text) == detex_whole(text)


def test_words_without_tex_are_left_out_of_the_islands() -> None:
    text = "We study $\\alpha$-divergences in large language models"
    assert [text[start:end] for start, end in tex_islands(text)] == ["$\\alpha$-divergences"]


def recorded_inputs(paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every title, author and abstract the parser hands to `detex` for these feeds."""
    seen: set[str] = set()

    def record(text: str) -> str:
        seen.add(text)
        return text

    monkeypatch.setattr(parse, "detex", record)
    for path in paths:
        try:
            parse.parse_feed(path.read_bytes())
        except parse.FeedError:
            pass  # the broken fixtures are broken on purpose
    return {text for text in seen if "\\" in text or "$" in text}


def test_every_tex_text_of_the_real_feeds_reads_as_the_whole_text(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = sorted(FIXTURES.rglob("*.xml"))
    if not paths:
        pytest.skip(f"shared arXiv fixtures missing: {FIXTURES}")
    texts = recorded_inputs(paths, monkeypatch)
    assert len(texts) > 500  # the week alone has over 900
    differ = [text for text in sorted(texts) if detex(text) != detex_whole(text)]
    assert differ == [], differ[:3]
