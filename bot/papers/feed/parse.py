"""Parse arXiv RSS / Atom feeds and arXiv API (export) responses into plain dataclasses.

feedparser drives the structure (it is tolerant of truncated or sloppy documents and tells us via
``bozo``), but its HTML sanitiser mangles abstracts such as ``NBI<T,I,F>`` even with
``sanitize_html=False``. So titles, abstracts and authors are re-read from the same bytes with the
stdlib pull parser and matched to feedparser's entries by guid; feedparser's text is only a fallback
for entries the strict parser never reached.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import feedparser

from bot.papers.feed.tex import detex
from bot.papers.ports import Paper

__all__ = [
    "ANNOUNCE_TYPES",
    "ArxivPaper",
    "FeedError",
    "ParsedFeed",
    "is_stale",
    "parse_feed",
    "split_arxiv_id",
    "split_authors",
]

ANNOUNCE_TYPES: tuple[str, ...] = ("new", "cross", "replace", "replace-cross")

# arXiv rebuilds feeds at midnight US Eastern, so dates are only meaningful in that zone.
_ARXIV_TZ = ZoneInfo("America/New_York")
_ABS_URL = "https://arxiv.org/abs/"

_ATOM = "{http://www.w3.org/2005/Atom}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_ARXIV = "{http://arxiv.org/schemas/atom}"

_ID_PREFIX_RE = re.compile(r"^(?:oai:arXiv\.org:|https?://(?:export\.)?arxiv\.org/abs/|arXiv:)", re.I)
_VERSION_RE = re.compile(r"^(?P<id>.+?)v(?P<version>\d+)$")
_DESCRIPTION_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*?\n?\s*Abstract:[ \t]*(?P<abstract>.*)$",
    re.S,
)
# feedparser flags these for documents that are fine apart from HTTP-level metadata.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


class FeedError(ValueError):
    """The bytes are not an arXiv feed at all; callers should log it and keep what they stored."""


@dataclass(frozen=True, slots=True)
class ArxivPaper(Paper):
    """One announcement of one paper version.

    ``authors`` holds names only: parenthesised affiliations from ``dc:creator`` are stripped so RSS and
    API results look alike (the API never puts affiliations in names).
    ``announced`` is the US-Eastern announcement date (item date, else channel date); it is ``None`` for
    API results, whose only date is the submission time in ``published``.
    """

    published: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed document; ``truncated`` means it was not well-formed and only partly read."""

    papers: tuple[ArxivPaper, ...]
    feed_date: date | None
    kind: Literal["rss", "atom", "api"]
    truncated: bool
    total_results: int | None = None

    @property
    def is_empty(self) -> bool:
        """Weekend / holiday feeds are complete channels with no items, not failures."""
        return not self.papers

    def counts_by_type(self) -> dict[str, int]:
        """Papers per announce type, every known type present (0 if absent) for stable reporting."""
        counts = dict.fromkeys(ANNOUNCE_TYPES, 0)
        counts.update(Counter(p.announce_type for p in self.papers))
        return counts


@dataclass(frozen=True, slots=True)
class _RawEntry:
    title: str | None
    text: str | None
    creator: str | None
    author_names: tuple[str, ...]
    primary_category: str | None


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """``oai:arXiv.org:nlin/0408039v2`` -> ``("nlin/0408039", 2)``; only a trailing ``v<digits>`` goes."""
    ident = _ID_PREFIX_RE.sub("", raw.strip())
    match = _VERSION_RE.match(ident)
    if match is None:
        return ident, None
    return match["id"], int(match["version"])


def split_authors(creator: str, *, keep_affiliations: bool = False) -> tuple[str, ...]:
    """Split a ``dc:creator`` string on commas outside parentheses (affiliations may contain commas)."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in creator:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    names: list[str] = []
    for part in parts:
        name = part if keep_affiliations else _strip_parenthesised(part)
        name = " ".join(name.split())
        if name:
            names.append(name)
    return tuple(names)


def _strip_parenthesised(text: str) -> str:
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def is_stale(parsed: ParsedFeed, known_ids: set[str]) -> bool:
    """A non-empty feed with nothing unseen is probably a stale cache, not a quiet day."""
    return not parsed.is_empty and all(p.arxiv_id in known_ids for p in parsed.papers)


def parse_feed(data: bytes) -> ParsedFeed:
    """Parse RSS, arXiv's Atom flavour or an API response; raise ``FeedError`` if it is not a feed."""
    if not data or not data.strip():
        raise FeedError("empty document")
    # A BytesIO, never raw bytes: feedparser treats a bytes/str argument that names a file or URL as one.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    version: str = parsed.get("version", "") or ""
    entries: list[Any] = list(parsed.get("entries", []))
    exc = parsed.get("bozo_exception")
    truncated = bool(parsed.get("bozo")) and not isinstance(exc, _BENIGN_BOZO)
    if not version:
        raise FeedError(f"not an RSS/Atom document ({type(exc).__name__ if exc else 'unknown format'})")
    if truncated and not entries:
        raise FeedError(f"malformed feed with no entries: {exc}")

    feed: Any = parsed.get("feed", {})
    total_raw = feed.get("opensearch_totalresults")
    feed_id = str(feed.get("id", ""))
    kind: Literal["rss", "atom", "api"]
    if total_raw is not None or re.match(r"^https?://(export\.)?arxiv\.org/api", feed_id):
        kind = "api"
    elif version.startswith("atom"):
        kind = "atom"
    else:
        kind = "rss"
    feed_dt = _parse_datetime(feed.get("published")) or _parse_datetime(feed.get("updated"))
    feed_date = feed_dt.astimezone(_ARXIV_TZ).date() if feed_dt else None

    raw = _raw_entries(data)
    papers: list[ArxivPaper] = []
    for entry in entries:
        paper = _paper(entry, raw, kind, feed_date)
        if paper is not None:
            papers.append(paper)
    if entries and not papers:
        raise FeedError(f"{len(entries)} entries but none is an arXiv paper")
    total = int(total_raw) if total_raw is not None and str(total_raw).strip().isdigit() else None
    return ParsedFeed(tuple(papers), feed_date, kind, truncated, total)


def _paper(entry: Any, raw: dict[str, _RawEntry], kind: str, feed_date: date | None) -> ArxivPaper | None:
    """Build one paper, or ``None`` for an entry too incomplete to store (e.g. cut off mid-entry)."""
    guid = str(entry.get("id") or "")
    raw_entry = raw.get(guid)
    text = raw_entry.text if raw_entry and raw_entry.text is not None else entry.get("summary")
    if not guid or text is None:
        return None
    arxiv_id, version = split_arxiv_id(guid)
    match = _DESCRIPTION_RE.match(text)
    if match:
        abstract = match["abstract"].strip()
        if version is None:
            arxiv_id, version = split_arxiv_id(match["id"])
    else:
        abstract = text.strip()
    if not arxiv_id or version is None or any(c.isspace() for c in arxiv_id):
        return None

    announce_type = str(entry.get("arxiv_announce_type") or "").strip().lower()
    if not announce_type:
        announce_type = match["type"].lower() if match else "new"

    title_src = raw_entry.title if raw_entry and raw_entry.title is not None else entry.get("title", "")
    categories = tuple(dict.fromkeys(str(t["term"]).strip() for t in entry.get("tags", []) if t.get("term")))
    primary = (raw_entry.primary_category if raw_entry else None) or (categories[0] if categories else "")

    published = _parse_datetime(entry.get("published"))
    if kind == "api":
        announced = None
    else:
        announced = published.astimezone(_ARXIV_TZ).date() if published else feed_date

    return ArxivPaper(
        arxiv_id=arxiv_id,
        version=version,
        title=detex(" ".join(str(title_src).split())),
        authors=tuple(detex(name) for name in _authors(entry, raw_entry)),
        abstract=detex(abstract),
        categories=categories,
        primary_category=primary,
        announce_type=announce_type,
        announced=announced,
        link=_ABS_URL + arxiv_id,
        published=published,
    )


def _authors(entry: Any, raw_entry: _RawEntry | None) -> tuple[str, ...]:
    if raw_entry and raw_entry.creator is not None:
        return split_authors(raw_entry.creator)
    if raw_entry and raw_entry.author_names:
        return tuple(n for n in (" ".join(a.split()) for a in raw_entry.author_names) if n)
    names = [str(a.get("name", "")) for a in entry.get("authors", [])]
    if len(names) == 1:  # feedparser folds dc:creator into one "author"
        return split_authors(names[0])
    return tuple(n for n in (" ".join(a.split()) for a in names) if n)


def _parse_datetime(value: Any) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom); kept timezone-aware, ``None`` if absent or unparsable."""
    if not value:
        return None
    text = str(value).strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=_ARXIV_TZ)
    return dt


def _raw_entries(data: bytes) -> dict[str, _RawEntry]:
    """Exact text of every item the strict XML parser completes, keyed by guid; stops at the first error."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    found: dict[str, _RawEntry] = {}
    chunk = 1 << 16
    try:
        for offset in range(0, len(data), chunk):
            parser.feed(data[offset : offset + chunk])
            _collect(parser, found)
        parser.close()
        _collect(parser, found)
    except ET.ParseError:
        pass  # everything completed before the error has already been collected
    return found


def _collect(parser: ET.XMLPullParser[ET.Element], found: dict[str, _RawEntry]) -> None:
    for event in parser.read_events():
        elem = event[-1]  # "end" events are (event, element) pairs
        if not isinstance(elem, ET.Element):
            continue
        if elem.tag == "item":
            guid = elem.findtext("guid")
            text = elem.findtext("description")
            title = elem.findtext("title")
        elif elem.tag == f"{_ATOM}entry":
            guid = elem.findtext(f"{_ATOM}id")
            text = elem.findtext(f"{_ATOM}summary")
            title = elem.findtext(f"{_ATOM}title")
        else:
            continue
        if guid:
            primary = elem.find(f"{_ARXIV}primary_category")
            found[guid.strip()] = _RawEntry(
                title=title,
                text=text,
                creator=elem.findtext(f"{_DC}creator"),
                author_names=tuple(n.text or "" for n in elem.iterfind(f"{_ATOM}author/{_ATOM}name")),
                primary_category=primary.get("term") if primary is not None else None,
            )
        elem.clear()  # feeds can hold 2000 items; keep memory flat
