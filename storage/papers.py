"""arXiv papers, the record of every fetch, learners' own topics and feedback; plus SqlPaperStore.

One row per arXiv id whatever feeds or categories it arrived through; the version only moves up.
Topics are unique per user on a `topic_key` column (Python casefold) rather than an index on `lower()`,
because SQLite's lower() folds ASCII only and would disagree with PostgreSQL on 'Ä' or 'Σ'.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.papers.ports import Feedback, FetchRecord, FetchSource, FetchStatus, Paper, TopicAdd, UpsertResult, Vote
from storage.base import SqlRepository
from storage.models import Base, UserRow, UTCDateTime, utcnow

if TYPE_CHECKING:
    from bot.papers.feed.parse import ArxivPaper

# Same version seen twice (e.g. `new` in cs.CL, `cross` in cs.LG): keep the most original announcement.
TYPE_PRIORITY = {"new": 0, "cross": 1, "replace": 2, "replace-cross": 3}
_ARXIV_TZ = ZoneInfo("America/New_York")
_CHUNK = 500  # bound IN (...) lists well below every backend's parameter limit


class PaperRow(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text())
    authors: Mapped[list[str]] = mapped_column(JSON())
    abstract: Mapped[str] = mapped_column(Text())
    categories: Mapped[list[str]] = mapped_column(JSON())
    primary_category: Mapped[str] = mapped_column(String(32))
    announce_type: Mapped[str] = mapped_column(String(16))
    announced: Mapped[date | None] = mapped_column(Date(), index=True)
    link: Mapped[str] = mapped_column(String(256))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaperFetchRow(Base):
    """Every feed or API fetch, successful or not, so a quiet day can be told from a broken one."""

    __tablename__ = "paper_fetches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[FetchSource] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(512))
    status: Mapped[FetchStatus] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    feed_date: Mapped[date | None] = mapped_column(Date())
    items: Mapped[int] = mapped_column(Integer, default=0)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    type_counts: Mapped[dict[str, int]] = mapped_column(JSON(), default=dict)
    new_ids: Mapped[list[str]] = mapped_column(JSON(), default=list)
    error: Mapped[str | None] = mapped_column(Text())


class UserTopicRow(Base):
    __tablename__ = "user_topics"
    __table_args__ = (UniqueConstraint("user_id", "topic_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(UserRow.id, ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    topic_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaperFeedbackRow(Base):
    __tablename__ = "paper_feedback"
    __table_args__ = (UniqueConstraint("user_id", "arxiv_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(UserRow.id, ondelete="CASCADE"), index=True)
    arxiv_id: Mapped[str] = mapped_column(String(64))
    vote: Mapped[int] = mapped_column(Integer, default=0)
    read_on: Mapped[date | None] = mapped_column(Date(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def to_feedback(row: PaperFeedbackRow) -> Feedback:
    vote: Vote = 1 if row.vote > 0 else -1 if row.vote < 0 else 0
    return Feedback(row.user_id, row.arxiv_id, vote, row.read_on)


def topic_key(topic: str) -> str:
    """Case- and space-insensitive identity of a topic."""
    return " ".join(topic.split()).casefold()


def announced_on(paper: ArxivPaper) -> date | None:
    """API results carry only a submission time; file them under its US-Eastern date."""
    if paper.announced is not None:
        return paper.announced
    return paper.published.astimezone(_ARXIV_TZ).date() if paper.published else None


def _better(new: ArxivPaper, old_version: int, old_type: str) -> bool:
    if new.version != old_version:
        return new.version > old_version
    return TYPE_PRIORITY.get(new.announce_type, 9) < TYPE_PRIORITY.get(old_type, 9)


def _merge_batch(papers: Iterable[ArxivPaper]) -> dict[str, ArxivPaper]:
    best: dict[str, ArxivPaper] = {}
    for paper in papers:
        seen = best.get(paper.arxiv_id)
        if seen is None or _better(paper, seen.version, seen.announce_type):
            best[paper.arxiv_id] = paper
    return best


def _values(paper: ArxivPaper) -> dict[str, Any]:
    return {
        "version": paper.version,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category[:32],
        "announce_type": paper.announce_type[:16],
        "announced": announced_on(paper),
        "link": paper.link[:256],
    }


def to_paper(row: Any) -> Paper:
    """From a PaperRow or a Core row of the papers table (same attribute names)."""
    return Paper(
        arxiv_id=row.arxiv_id,
        version=row.version,
        title=row.title,
        authors=tuple(row.authors or ()),
        abstract=row.abstract,
        categories=tuple(row.categories or ()),
        primary_category=row.primary_category,
        announce_type=row.announce_type,
        announced=row.announced,
        link=row.link,
    )


def to_record(row: PaperFetchRow) -> FetchRecord:
    return FetchRecord(
        at=row.at,
        source=row.source,
        url=row.url,
        status=row.status,
        http_status=row.http_status,
        feed_date=row.feed_date,
        items=row.items,
        new_ids=tuple(row.new_ids or ()),
        updated_count=row.updated_count,
        type_counts=dict(row.type_counts or {}),
        error=row.error,
    )


class SqlPaperStore(SqlRepository):
    """Implements bot.core.ports.PaperRepo, plus the write side the ingest uses."""

    # papers ------------------------------------------------------------------------------------------
    async def known_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        async with self.sessions() as session:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = await session.execute(select(PaperRow.arxiv_id).where(PaperRow.arxiv_id.in_(chunk)))
                found.update(rows.scalars())
        return found

    async def upsert_papers(self, papers: Iterable[ArxivPaper], now: datetime) -> UpsertResult:
        """Insert unseen ids, update rows when a higher version (or a more original type) arrives."""
        batch = _merge_batch(papers)
        if not batch:
            return UpsertResult((), ())
        new_ids: list[str] = []
        updated: list[str] = []
        ids = list(batch)
        try:
            async with self.sessions.begin() as session:
                existing: dict[str, PaperRow] = {}
                for start in range(0, len(ids), _CHUNK):
                    chunk = ids[start : start + _CHUNK]
                    rows = await session.execute(select(PaperRow).where(PaperRow.arxiv_id.in_(chunk)))
                    existing.update((row.arxiv_id, row) for row in rows.scalars())
                inserts: list[dict[str, Any]] = []
                for arxiv_id, paper in batch.items():
                    row = existing.get(arxiv_id)
                    if row is None:
                        inserts.append({"arxiv_id": arxiv_id, **_values(paper), "first_seen": now, "updated": now})
                        new_ids.append(arxiv_id)
                    elif _better(paper, row.version, row.announce_type):
                        for key, value in _values(paper).items():
                            setattr(row, key, value)
                        row.updated = now
                        updated.append(arxiv_id)
                if inserts:
                    await session.execute(insert(PaperRow), inserts)
        except IntegrityError:
            # Another worker inserted some of these ids meanwhile: one retry sees them as existing.
            return await self.upsert_papers(batch.values(), now)
        return UpsertResult(tuple(new_ids), tuple(updated))

    async def get_paper(self, arxiv_id: str) -> Paper | None:
        async with self.sessions() as session:
            row = (await session.execute(select(PaperRow).where(PaperRow.arxiv_id == arxiv_id))).scalar_one_or_none()
            return to_paper(row) if row else None

    async def recent_papers(self, since: date, limit: int = 5000) -> Sequence[Paper]:
        """Core rows, not ORM objects: /papers reads up to a few thousand and never writes them back."""
        table = PaperRow.__table__
        query = (
            select(table)
            .where(table.c.announced >= since)
            .order_by(table.c.announced.desc(), table.c.arxiv_id)
            .limit(limit)
        )
        async with self.sessions() as session:
            return [to_paper(row) for row in await session.execute(query)]

    async def paper_count(self) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count(PaperRow.id)))).scalar_one())

    # fetches -----------------------------------------------------------------------------------------
    async def record_fetch(self, record: FetchRecord) -> None:
        async with self.sessions.begin() as session:
            session.add(
                PaperFetchRow(
                    at=record.at,
                    source=record.source,
                    url=record.url[:512],
                    status=record.status,
                    http_status=record.http_status,
                    feed_date=record.feed_date,
                    items=record.items,
                    new_count=len(record.new_ids),
                    updated_count=record.updated_count,
                    type_counts=dict(record.type_counts),
                    new_ids=list(record.new_ids),
                    error=record.error,
                )
            )

    async def fetches(self, limit: int = 20, source: FetchSource | None = None) -> list[FetchRecord]:
        """Newest first."""
        query = select(PaperFetchRow).order_by(PaperFetchRow.at.desc(), PaperFetchRow.id.desc()).limit(limit)
        if source is not None:
            query = query.where(PaperFetchRow.source == source)
        async with self.sessions() as session:
            return [to_record(row) for row in (await session.execute(query)).scalars()]

    async def last_fetch_at(
        self, statuses: Sequence[FetchStatus] | None = None, source: FetchSource = "feed"
    ) -> datetime | None:
        query = select(func.max(PaperFetchRow.at)).where(PaperFetchRow.source == source)
        if statuses is not None:
            query = query.where(PaperFetchRow.status.in_(list(statuses)))
        async with self.sessions() as session:
            value = (await session.execute(query)).scalar_one_or_none()
        return UTCDateTime().process_result_value(value, None)

    # topics ------------------------------------------------------------------------------------------
    async def list_topics(self, user_id: int) -> list[str]:
        query = select(UserTopicRow.topic).where(UserTopicRow.user_id == user_id).order_by(UserTopicRow.id)
        async with self.sessions() as session:
            return list((await session.execute(query)).scalars())

    async def add_topic(self, user_id: int, topic: str, max_topics: int) -> TopicAdd:
        key = topic_key(topic)
        try:
            async with self.sessions.begin() as session:
                keys = set(
                    (
                        await session.execute(select(UserTopicRow.topic_key).where(UserTopicRow.user_id == user_id))
                    ).scalars()
                )
                if key in keys:
                    return "duplicate"
                if len(keys) >= max_topics:
                    return "full"
                session.add(UserTopicRow(user_id=user_id, topic=" ".join(topic.split()), topic_key=key))
        except IntegrityError:
            return "duplicate"
        return "added"

    async def remove_topic(self, user_id: int, topic: str) -> bool:
        async with self.sessions.begin() as session:
            removed = await session.execute(
                delete(UserTopicRow)
                .where(UserTopicRow.user_id == user_id, UserTopicRow.topic_key == topic_key(topic))
                .returning(UserTopicRow.id)  # tells on every driver (an ORM-path rowcount may be -1)
                .execution_options(synchronize_session=False)
            )
            return removed.first() is not None

    # feedback ----------------------------------------------------------------------------------------
    async def get_papers(self, arxiv_ids: Collection[str]) -> dict[str, Paper]:
        wanted = list(dict.fromkeys(arxiv_ids))
        table = PaperRow.__table__
        found: dict[str, Paper] = {}
        async with self.sessions() as session:
            for start in range(0, len(wanted), _CHUNK):
                rows = await session.execute(select(table).where(table.c.arxiv_id.in_(wanted[start : start + _CHUNK])))
                found.update((row.arxiv_id, to_paper(row)) for row in rows)
        return found

    async def feedback(self, user_ids: Collection[int]) -> list[Feedback]:
        if not user_ids:
            return []
        query = (
            select(PaperFeedbackRow)
            .where(PaperFeedbackRow.user_id.in_(list(user_ids)))
            .order_by(PaperFeedbackRow.user_id, PaperFeedbackRow.id)
        )
        async with self.sessions() as session:
            return [to_feedback(row) for row in (await session.execute(query)).scalars()]

    async def reads(self, user_ids: Collection[int], since: date, until: date) -> list[Feedback]:
        if not user_ids:
            return []
        query = (
            select(PaperFeedbackRow)
            .where(
                PaperFeedbackRow.user_id.in_(list(user_ids)),
                PaperFeedbackRow.read_on >= since,
                PaperFeedbackRow.read_on <= until,
            )
            .order_by(PaperFeedbackRow.read_on, PaperFeedbackRow.id)
        )
        async with self.sessions() as session:
            return [to_feedback(row) for row in (await session.execute(query)).scalars()]

    async def set_vote(self, user_id: int, arxiv_id: str, vote: Vote) -> None:
        await self._mark(user_id, arxiv_id, {"vote": vote})

    async def set_read(self, user_id: int, arxiv_id: str, on: date | None) -> None:
        await self._mark(user_id, arxiv_id, {"read_on": on})

    async def _mark(self, user_id: int, arxiv_id: str, values: dict[str, Any], retry: bool = True) -> None:
        """Write one side of a mark; a row left with no vote and no read date is removed."""
        try:
            async with self.sessions.begin() as session:
                row = (
                    await session.execute(
                        select(PaperFeedbackRow).where(
                            PaperFeedbackRow.user_id == user_id, PaperFeedbackRow.arxiv_id == arxiv_id
                        )
                    )
                ).scalar_one_or_none()
                if row is None:
                    row = PaperFeedbackRow(user_id=user_id, arxiv_id=arxiv_id, vote=0, read_on=None)
                    session.add(row)
                for key, value in values.items():
                    setattr(row, key, value)
                if not row.vote and row.read_on is None:
                    if row.id is not None:
                        await session.delete(row)
                    else:
                        session.expunge(row)
        except IntegrityError:
            if not retry:
                raise
            await self._mark(user_id, arxiv_id, values, retry=False)  # a concurrent first mark: now it exists
