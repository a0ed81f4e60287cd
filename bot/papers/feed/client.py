"""Polite async HTTP access to arXiv feeds and the arXiv API.

arXiv asks for at most one request every 3 s, one connection at a time, and back-off on 429/503.
Each client therefore serialises requests per host behind an ``asyncio.Lock`` and keeps the gap from
the end of one response to the next request; share one client per process rather than making many.
Clock and sleep are injected so tests never wait.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Literal

import httpx

from bot.papers.feed.parse import ArxivPaper, parse_feed

__all__ = [
    "DEFAULT_API_URL",
    "USER_AGENT",
    "ArxivClient",
    "ArxivFetchError",
    "FetchResult",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "http://export.arxiv.org/api/query"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# 429/503 are arXiv's "slow down"; 502/504 are the same transient overload seen through a proxy.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_BODY_BYTES = 32 * 1024 * 1024  # a 2000-item feed is ~5 MB; anything far bigger is not a feed


def _version() -> str:
    try:
        return metadata.version("studybuddy")
    except metadata.PackageNotFoundError:
        return "dev"


USER_AGENT = f"StudyBuddy/{_version()} (+https://github.com/studybuddy-bot/studybuddy)"


_NO_ROUTE = {errno.ENETUNREACH: "network unreachable", errno.EHOSTUNREACH: "no route to host"}
if hasattr(errno, "ENETDOWN"):
    _NO_ROUTE[errno.ENETDOWN] = "network is down"


def no_route(exc: BaseException) -> str | None:
    """Why the host can't be reached at all (the name doesn't resolve, there is no network), or None for
    trouble a retry may fix (a refused or reset connection, a timeout)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "its name does not resolve"
        if isinstance(current, OSError) and current.errno in _NO_ROUTE:
            return _NO_ROUTE[current.errno]
        current = current.__cause__ or current.__context__
    return None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of one conditional GET (after retries); never raises for HTTP or network trouble.

    On ``not_modified`` / ``error`` the validators passed in are echoed back, so callers can store
    ``etag`` / ``last_modified`` unconditionally.
    """

    status: Literal["ok", "not_modified", "error"]
    http_status: int | None
    body: bytes | None
    etag: str | None
    last_modified: str | None
    error: str | None
    attempts: int


class ArxivFetchError(RuntimeError):
    """An API page could not be fetched; raised from ``fetch_api`` after what was yielded so far."""

    def __init__(self, message: str, result: FetchResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class _BodyTooLarge(Exception):
    pass


@dataclass
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_request_end: float | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class ArxivClient:
    """Fetch one arXiv feed (conditional GET) and page the arXiv API, politely and with retries."""

    def __init__(
        self,
        feed_url: str,
        api_url: str = DEFAULT_API_URL,
        client: httpx.AsyncClient | None = None,
        *,
        min_interval: float = 3.0,
        max_retries: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_backoff: float = 120.0,
        max_retry_after: float = 600.0,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.feed_url = feed_url
        self.api_url = api_url
        self._owns_client = client is None
        self._timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=True)
        self._min_interval = min_interval
        self._max_retries = max_retries
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._gates: dict[str, _HostGate] = {}

    async def __aenter__(self) -> ArxivClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client only if we created it; an injected one belongs to the caller."""
        if self._owns_client:
            await self._client.aclose()

    async def fetch_feed(
        self, etag: str | None = None, last_modified: str | None = None, *, url: str | None = None
    ) -> FetchResult:
        """Conditional GET of the feed (``url`` overrides ``feed_url`` so one client can serve many)."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return await self._get(url or self.feed_url, headers=headers, etag=etag, last_modified=last_modified)

    async def fetch_api(
        self,
        category: str,
        start: date,
        end: date,
        *,
        page_size: int = 100,
        max_results: int = 2000,
        on_page: Callable[[int, int], None] | None = None,
    ) -> AsyncIterator[ArxivPaper]:
        """Yield papers submitted in ``category`` between ``start`` and ``end`` (inclusive), oldest first.

        Stops at the API's ``totalResults`` or ``max_results``. ``on_page(done, total)`` runs after each
        page. Raises ``ArxivFetchError`` / ``FeedError`` after yielding what earlier pages gave.
        """
        query = f"cat:{category} AND submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"
        offset = 0
        seen: set[tuple[str, int]] = set()
        empty_pages = 0
        while offset < max_results:
            size = min(page_size, max_results - offset)
            params = {
                "search_query": query,
                "start": str(offset),
                "max_results": str(size),
                "sortBy": "submittedDate",
                "sortOrder": "ascending",
            }
            result = await self._get(self.api_url, params=params)
            if result.status != "ok" or result.body is None:
                raise ArxivFetchError(f"arXiv API page at start={offset} failed: {result.error}", result)
            page = parse_feed(result.body)
            total = min(page.total_results or 0, max_results)
            if not page.papers:
                # The API is known to return a spurious empty page now and then; retry a few times.
                empty_pages += 1
                if offset >= total or empty_pages > self._max_retries:
                    if on_page is not None:
                        on_page(offset, total)
                    return
                continue
            empty_pages = 0
            for paper in page.papers:
                key = (paper.arxiv_id, paper.version)
                if key not in seen:
                    seen.add(key)
                    yield paper
            offset += len(page.papers)
            if on_page is not None:
                on_page(min(offset, total), total)
            if offset >= total:
                return

    async def _get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        host = httpx.URL(url).host
        gate = self._gates.setdefault(host, _HostGate())
        request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        delay = 0.0
        attempts = 0
        async with gate.lock:
            while True:
                await self._wait_turn(gate, delay)
                attempts += 1
                try:
                    status, body, response_headers = await self._request(url, params, request_headers)
                except (httpx.TimeoutException, httpx.TransportError, _BodyTooLarge) as exc:
                    gate.last_request_end = self._monotonic()
                    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    unreachable = no_route(exc)
                    if unreachable is not None:  # no DNS, no network: retrying within seconds won't help
                        error = f"could not reach {host}: {unreachable} ({error})"
                        log.warning("arXiv fetch %s failed: %s", url, error)
                        return FetchResult("error", None, None, etag, last_modified, error, attempts)
                    if isinstance(exc, _BodyTooLarge) or attempts > self._max_retries:
                        log.warning("arXiv fetch %s failed after %d attempt(s): %s", url, attempts, error)
                        return FetchResult("error", None, None, etag, last_modified, error, attempts)
                    delay = self._backoff(attempts)
                    log.info("arXiv fetch %s: %s; retry in %.1fs", url, error, delay)
                    continue
                gate.last_request_end = self._monotonic()

                if status == 304:
                    return FetchResult(
                        "not_modified",
                        status,
                        None,
                        response_headers.get("etag") or etag,
                        response_headers.get("last-modified") or last_modified,
                        None,
                        attempts,
                    )
                if 200 <= status < 300:
                    return FetchResult(
                        "ok",
                        status,
                        body,
                        response_headers.get("etag"),
                        response_headers.get("last-modified"),
                        None,
                        attempts,
                    )
                if status in RETRY_STATUSES and attempts <= self._max_retries:
                    retry_after = parse_retry_after(response_headers.get("retry-after"))
                    if retry_after is not None and retry_after > self._max_retry_after:
                        error = f"HTTP {status}, Retry-After {retry_after:.0f}s is beyond our limit"
                        log.warning("arXiv fetch %s: %s", url, error)
                        return FetchResult("error", status, None, etag, last_modified, error, attempts)
                    delay = max(retry_after or 0.0, self._backoff(attempts))
                    log.info("arXiv fetch %s: HTTP %d; retry in %.1fs", url, status, delay)
                    continue
                # Other statuses (404, 500, ...) will not improve within seconds: fail fast, retry next run.
                error = f"HTTP {status}"
                log.warning("arXiv fetch %s failed after %d attempt(s): %s", url, attempts, error)
                return FetchResult("error", status, None, etag, last_modified, error, attempts)

    async def _request(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> tuple[int, bytes, httpx.Headers]:
        async with self._client.stream(
            "GET", url, params=params, headers=headers, timeout=self._timeout, follow_redirects=True
        ) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge(f"response larger than {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks), response.headers

    async def _wait_turn(self, gate: _HostGate, delay: float) -> None:
        """Sleep until both the politeness interval and any back-off ``delay`` have passed."""
        if gate.last_request_end is None:
            wait = delay
        else:
            elapsed = self._monotonic() - gate.last_request_end
            wait = max(self._min_interval, delay) - elapsed
        if wait > 0:
            await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(self._max_backoff, max(self._min_interval, 1.0) * 2.0 ** (attempt - 1))
