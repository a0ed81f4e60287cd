"""Daily arXiv ingest and API back-fill: fetch politely, parse, store, and record every fetch.

Policy (`ingest_due`): arXiv rebuilds the feed at midnight US Eastern, Monday to Friday. A weekday's feed
counts as ingested once a fetch after READY_AT (00:30 US Eastern, a margin for the rebuild) ended `ok` or
`empty` (a holiday). Until then the job fetches on its first tick of the day (which is also "once on start
if today's is missing") and retries every RETRY_EVERY after a stale, not-modified or failed fetch.
Weekends are skipped: their feed is empty by design (back-fill covers a missed Friday).
Nothing here raises on a feed failure: the failure is recorded and the stored papers stay as they were.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.metrics import NO_METRICS, Metrics
from bot.papers.feed import ArxivClient, ArxivFetchError, ArxivPaper, FeedError, is_stale, parse_feed
from bot.papers.ports import FetchRecord, FetchStatus, PaperIngestRepo

log = logging.getLogger(__name__)

ARXIV_TZ = ZoneInfo("America/New_York")
READY_AT = time(0, 30)
RETRY_EVERY = timedelta(hours=1)
INGEST_LEASE = "arxiv.ingest"
INGEST_LEASE_TTL = timedelta(minutes=10)  # far longer than a fetch; a worker that died mid-fetch frees it
BACKFILL_CATEGORIES = ("cs.CL", "cs.LG")
BACKFILL_MAX_DAYS = 60
BACKFILL_BATCH = 200
Progress = Callable[[str, int, int], None]

__all__ = [
    "BACKFILL_CATEGORIES",
    "FetchRecord",
    "TextProgress",
    "backfill",
    "ingest_due",
    "ingest_feed",
    "ingest_if_due",
]


def _validator_keys(url: str) -> tuple[str, str]:
    return f"arxiv.etag:{url}", f"arxiv.last_modified:{url}"


def ingest_due(
    now_utc: datetime,
    last_ok_fetch: datetime | None,
    last_attempt: datetime | None = None,
    *,
    retry_every: timedelta = RETRY_EVERY,
) -> bool:
    """Whether the daily feed should be fetched now (see the module docstring for the rule)."""
    local = now_utc.astimezone(ARXIV_TZ)
    if local.weekday() >= 5:
        return False
    ready = datetime.combine(local.date(), READY_AT, ARXIV_TZ)
    if local < ready:
        return False
    if last_ok_fetch is not None and last_ok_fetch >= ready:
        return False
    return not (last_attempt is not None and last_attempt >= ready and now_utc - last_attempt < retry_every)


async def ingest_feed(
    client: ArxivClient, repo: PaperIngestRepo, clock: Clock, *, url: str | None = None
) -> FetchRecord:
    """Fetch (conditional GET), parse, store and record one feed; never raises for feed trouble."""
    url = url or client.feed_url
    etag_key, modified_key = _validator_keys(url)
    etag = await repo.get_setting(etag_key)
    modified = await repo.get_setting(modified_key)
    result = await client.fetch_feed(etag or None, modified or None, url=url)
    at = clock.now()

    async def done(record: FetchRecord, keep_validators: bool = False) -> FetchRecord:
        await repo.record_fetch(record)
        if keep_validators:
            await repo.set_setting(etag_key, result.etag or "")
            await repo.set_setting(modified_key, result.last_modified or "")
        return record

    if result.status == "error" or (result.status == "ok" and result.body is None):
        return await done(FetchRecord(at, "feed", url, "error", result.http_status, error=result.error))
    if result.status == "not_modified":
        return await done(FetchRecord(at, "feed", url, "not_modified", result.http_status))
    assert result.body is not None
    try:
        parsed = parse_feed(result.body)
    except FeedError as exc:
        # An HTML error page or broken XML: keep what we have; no validators, so the retry refetches.
        return await done(FetchRecord(at, "feed", url, "error", result.http_status, error=f"FeedError: {exc}"))
    counts = parsed.counts_by_type()
    if parsed.is_empty:
        record = FetchRecord(at, "feed", url, "empty", result.http_status, parsed.feed_date, type_counts=counts)
        return await done(record, keep_validators=True)
    known = await repo.known_ids(p.arxiv_id for p in parsed.papers)
    stale = is_stale(parsed, known)
    stored = await repo.upsert_papers(parsed.papers, at)
    status: FetchStatus = "error" if parsed.truncated else "stale" if stale else "ok"
    error = f"truncated document: stored the {len(parsed.papers)} complete items" if parsed.truncated else None
    record = FetchRecord(
        at,
        "feed",
        url,
        status,
        result.http_status,
        parsed.feed_date,
        items=len(parsed.papers),
        new_ids=stored.new_ids,
        updated_count=len(stored.updated_ids),
        type_counts=counts,
        error=error,
    )
    return await done(record, keep_validators=status != "error")


async def ingest_if_due(
    client: ArxivClient, repo: PaperIngestRepo, clock: Clock, worker: str = "main"
) -> FetchRecord | None:
    """For the scheduler: call every few minutes (and once on start) with the process's one shared
    ArxivClient (its lock is what keeps us to one request every 3 s); fetches only when `ingest_due`.

    Workers sharing a database take turns through a lease, so one of them fetches and the others see its
    recorded fetch on their next run (arXiv asks for one request every 3 s from all of us together)."""
    now = clock.now()
    last_ok = await repo.last_fetch_at(("ok", "empty"))
    last_attempt = await repo.last_fetch_at()
    if not ingest_due(now, last_ok, last_attempt):
        return None
    if not await repo.take_lease(INGEST_LEASE, worker, now, INGEST_LEASE_TTL):
        log.debug("arXiv ingest: another worker is fetching")
        return None
    return await ingest_feed(client, repo, clock)


def _as_api_paper(paper: ArxivPaper, categories: Sequence[str]) -> ArxivPaper:
    """API results say nothing of announce type: derive it so ranking can prefer originals."""
    cross = paper.primary_category not in categories
    kind = ("replace-cross" if cross else "replace") if paper.version > 1 else ("cross" if cross else "new")
    return replace(paper, announce_type=kind)


async def backfill(
    client: ArxivClient,
    repo: PaperIngestRepo,
    days: int,
    progress: Progress | None = None,
    clock: Clock | None = None,
    *,
    categories: Sequence[str] = BACKFILL_CATEGORIES,
    page_size: int = 200,
) -> FetchRecord:
    """Page the arXiv API for the last `days` days of each category; one recorded fetch for the run."""
    if not 1 <= days <= BACKFILL_MAX_DAYS:
        raise ValueError(f"back-fill between 1 and {BACKFILL_MAX_DAYS} days")
    now = clock.now() if clock is not None else datetime.now(ARXIV_TZ)
    end = now.astimezone(ARXIV_TZ).date()
    start = end - timedelta(days=days)
    new_ids: list[str] = []
    updated = 0
    items = 0
    error: str | None = None
    http_status: int | None = None
    counts: dict[str, int] = {}

    async def flush(batch: list[ArxivPaper]) -> None:
        nonlocal updated
        stored = await repo.upsert_papers(batch, now)
        new_ids.extend(stored.new_ids)
        updated += len(stored.updated_ids)
        batch.clear()

    for category in categories:
        batch: list[ArxivPaper] = []

        def on_page(done: int, total: int, category: str = category) -> None:
            if progress is not None:
                progress(category, done, total)

        try:
            async for paper in client.fetch_api(
                category, start, end, page_size=page_size, max_results=min(10_000, days * 800), on_page=on_page
            ):
                paper = _as_api_paper(paper, categories)
                counts[paper.announce_type] = counts.get(paper.announce_type, 0) + 1
                items += 1
                batch.append(paper)
                if len(batch) >= BACKFILL_BATCH:
                    await flush(batch)
        except (ArxivFetchError, FeedError) as exc:
            error = f"{category}: {type(exc).__name__}: {exc}"
            if isinstance(exc, ArxivFetchError) and exc.result is not None:
                http_status = exc.result.http_status
        await flush(batch)  # keep whatever earlier pages gave, even after a failure
        if error:
            break
    record = FetchRecord(
        clock.now() if clock is not None else now,
        "api",
        client.api_url,
        "error" if error else "ok" if items else "empty",
        http_status,
        items=items,
        new_ids=tuple(new_ids),
        updated_count=updated,
        type_counts=counts,
        error=error,
    )
    await repo.record_fetch(record)
    return record


class TextProgress:
    """A tiny `\\r` progress bar for the CLI back-fill (on stderr, so stdout keeps the summary)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self._open = False

    def __call__(self, label: str, done: int, total: int) -> None:
        filled = self.width if total <= 0 else min(self.width, self.width * done // total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{label:<6} [{bar}] {done}/{total}")
        self.stream.flush()
        self._open = True
        if total <= 0 or done >= total:
            self.close()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class ArxivIngestJob:
    """The daily arXiv ingest as a scheduler job: one shared client for the process (its per-host lock is
    what keeps every fetch three seconds apart), run on start and then every few minutes; `ingest_due`
    decides whether a fetch is actually needed."""

    def __init__(
        self,
        feed_url: str,
        api_url: str,
        repo: PaperIngestRepo,
        clock: Clock,
        worker: str = "main",
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.client = ArxivClient(feed_url, api_url)
        self.repo = repo
        self.clock = clock
        self.worker = worker
        self.metrics = metrics

    async def __call__(self) -> FetchRecord | None:
        try:
            record = await ingest_if_due(self.client, self.repo, self.clock, self.worker)
        except Exception:
            log.exception("arXiv ingest failed; the next run retries")
            self.metrics.feed_fetch("error")
            return None
        if record is not None:
            self.metrics.feed_fetch(record.status)
        return record

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()
