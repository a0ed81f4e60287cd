"""What the papers feature needs from storage: stored arXiv papers, each learner's topics and feedback
(👍/👎 votes and papers read), fetch records."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.ports import KeyValueStore, Port

if TYPE_CHECKING:
    from bot.papers.feed.parse import ArxivPaper

TopicAdd = Literal["added", "duplicate", "full"]
Vote = Literal[-1, 0, 1]


@dataclass(frozen=True, slots=True)
class Paper:
    """One stored arXiv paper (latest version seen), as the core ranks and shows it."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    announce_type: str
    announced: date | None
    link: str


@dataclass(frozen=True, slots=True)
class Feedback:
    """One learner's marks on one paper: a vote (+1 more like this, -1 less, 0 none) and when it was read."""

    user_id: int
    arxiv_id: str
    vote: Vote = 0
    read_on: date | None = None


class PaperRepo(Protocol):
    """Stored arXiv papers, each learner's own topics and feedback; ingest writes papers outside the core."""

    async def get_papers(self, arxiv_ids: Collection[str]) -> dict[str, Paper]:
        """The stored papers among `arxiv_ids` (without version), by id."""
        ...

    async def feedback(self, user_ids: Collection[int]) -> list[Feedback]:
        """Every mark of these learners."""
        ...

    async def set_vote(self, user_id: int, arxiv_id: str, vote: Vote) -> None: ...

    async def set_read(self, user_id: int, arxiv_id: str, on: date | None) -> None:
        """Mark read on the learner's local date `on`, or unmark with None."""
        ...

    async def reads(self, user_ids: Collection[int], since: date, until: date) -> list[Feedback]:
        """Marks with a read date in the dates (inclusive), oldest first."""
        ...

    async def recent_papers(self, since: date, limit: int = 5000) -> Sequence[Paper]:
        """Papers announced on or after `since`, newest first."""
        ...

    async def paper_count(self) -> int: ...

    async def list_topics(self, user_id: int) -> list[str]: ...

    async def add_topic(self, user_id: int, topic: str, max_topics: int) -> TopicAdd:
        """Add unless a case-insensitive duplicate exists or the user already keeps `max_topics`."""
        ...

    async def remove_topic(self, user_id: int, topic: str) -> bool:
        """Remove case-insensitively; False when the user had no such topic."""
        ...


FetchStatus = Literal["ok", "empty", "stale", "not_modified", "error"]
FetchSource = Literal["feed", "api"]


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """What one fetch did; `ingest_feed` returns it and the `paper_fetches` table keeps it."""

    at: datetime
    source: FetchSource
    url: str
    status: FetchStatus
    http_status: int | None = None
    feed_date: date | None = None
    items: int = 0
    new_ids: tuple[str, ...] = ()
    updated_count: int = 0
    type_counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "error"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    new_ids: tuple[str, ...]
    updated_ids: tuple[str, ...]


class PaperIngestRepo(KeyValueStore, Protocol):
    """What the ingest job writes: papers (the version only moves up), fetch records, feed validators."""

    async def known_ids(self, ids: Iterable[str]) -> set[str]: ...

    async def upsert_papers(self, papers: Iterable[ArxivPaper], now: datetime) -> UpsertResult: ...

    async def record_fetch(self, record: FetchRecord) -> None: ...

    async def last_fetch_at(
        self, statuses: Sequence[FetchStatus] | None = None, source: FetchSource = "feed"
    ) -> datetime | None: ...


PAPERS: Port[PaperRepo] = Port("papers")
