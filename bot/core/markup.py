"""A tiny markup subset shared by every adapter.

Handlers build text from typed spans instead of HTML or Markdown strings, so user-supplied text
(display names, paper titles) can never inject formatting: each adapter escapes plain spans itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Style = Literal["plain", "bold", "italic", "code", "link"]


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    style: Style = "plain"
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Rich:
    """An immutable run of spans; newlines live inside plain spans."""

    spans: tuple[Span, ...] = ()

    def __add__(self, other: Rich | str) -> Rich:
        if isinstance(other, str):
            other = plain(other)
        return Rich(self.spans + other.spans)

    def __radd__(self, other: str) -> Rich:
        return plain(other) + self

    def __bool__(self) -> bool:
        return any(span.text for span in self.spans)

    def to_plain(self) -> str:
        return "".join(span.text for span in self.spans)

    def lines(self) -> Iterator[Rich]:
        """Split at newlines, keeping each span's style; used to chunk long messages."""
        current: list[Span] = []
        for span in self.spans:
            parts = span.text.split("\n")
            for i, part in enumerate(parts):
                if i:
                    yield Rich(tuple(current))
                    current = []
                if part:
                    current.append(Span(part, span.style, span.url))
        yield Rich(tuple(current))


def plain(text: str) -> Rich:
    return Rich((Span(text),))


def bold(text: str) -> Rich:
    return Rich((Span(text, "bold"),))


def italic(text: str) -> Rich:
    return Rich((Span(text, "italic"),))


def code(text: str) -> Rich:
    return Rich((Span(text, "code"),))


def link(text: str, url: str) -> Rich:
    return Rich((Span(text, "link", url),))


def join(parts: Iterable[Rich | str], sep: str = "\n") -> Rich:
    """One Rich of all parts, `sep` between them (spans gathered once, not copied at every step)."""
    spans: list[Span] = []
    between = Span(sep)  # immutable: one span serves every gap
    for i, part in enumerate(parts):
        if i and sep:
            spans.append(between)
        if isinstance(part, str):
            spans.append(Span(part))
        else:
            spans.extend(part.spans)
    return Rich(tuple(spans))
