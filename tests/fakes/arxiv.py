"""A tiny arXiv look-alike on 127.0.0.1 for fetch tests: feeds with validators, scripts, API paging."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

API_PATH = "/api/query"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "arxiv"
_API_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/api/fake</id>\n"
    "  <title>arXiv Query: fake</title>\n"
    "  <updated>2026-09-24T08:09:20Z</updated>\n"
)


@dataclass(frozen=True)
class Scripted:
    """One canned response; ``delay`` holds it back (for timeout tests)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Feed:
    body: bytes
    etag: str | None
    last_modified: str | None


def api_entries(xml: bytes) -> list[str]:
    """The raw ``<entry>`` elements of an API response, to re-page them."""
    return re.findall(r"<entry>.*?</entry>", xml.decode("utf-8"), flags=re.S)


class FakeArxiv:
    """Serves registered feeds and scripted responses; records every request it sees."""

    def __init__(self) -> None:
        self.feeds: dict[str, _Feed] = {}
        self.scripts: dict[str, deque[Scripted]] = {}
        self.requests: list[Recorded] = []
        self.entries: list[str] = []
        self.total: int | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def add_feed(self, path: str, body: bytes, *, etag: str | None = None, last_modified: str | None = None) -> str:
        self.feeds[path] = _Feed(body, etag, last_modified)
        return self.url(path)

    def script(self, path: str, *responses: Scripted) -> None:
        """Queue responses for ``path``; once used up the registered feed / API answers again."""
        self.scripts.setdefault(path, deque()).extend(responses)

    def set_api_entries(self, entries: Sequence[str], total: int | None = None) -> str:
        self.entries = list(entries)
        self.total = total
        return self.url(API_PATH)

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Recorded(request.path, dict(request.query), dict(request.headers)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let a concurrent request overlap if the client allowed it
            queue = self.scripts.get(request.path)
            if queue:
                scripted = queue.popleft()
                if scripted.delay:
                    await asyncio.sleep(scripted.delay)
                return web.Response(status=scripted.status, body=scripted.body, headers=scripted.headers)
            if request.path == API_PATH:
                return self._api_page(request)
            feed = self.feeds.get(request.path)
            if feed is None:
                return web.Response(status=404, text="not found")
            return self._feed_response(request, feed)
        finally:
            self.in_flight -= 1

    @staticmethod
    def _feed_response(request: web.Request, feed: _Feed) -> web.Response:
        headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
        if feed.etag:
            headers["ETag"] = feed.etag
        if feed.last_modified:
            headers["Last-Modified"] = feed.last_modified
        etag_match = feed.etag is not None and request.headers.get("If-None-Match") == feed.etag
        date_match = (
            feed.last_modified is not None
            and "If-None-Match" not in request.headers
            and request.headers.get("If-Modified-Since") == feed.last_modified
        )
        if etag_match or date_match:
            return web.Response(status=304, headers=headers)
        return web.Response(status=200, body=feed.body, headers=headers)

    def _api_page(self, request: web.Request) -> web.Response:
        start = int(request.query.get("start", "0"))
        size = int(request.query.get("max_results", "10"))
        page = self.entries[start : start + size]
        total = len(self.entries) if self.total is None else self.total
        body = (
            _API_HEAD
            + f"  <opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>\n"
            + f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
            + f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
            + "".join(f"  {entry}\n" for entry in page)
            + "</feed>\n"
        )
        return web.Response(body=body.encode(), content_type="application/atom+xml")


def fixture(name: str) -> bytes:
    """A shared arXiv fixture's bytes; the test is skipped where ../shared is not beside the checkout."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"shared arXiv fixture missing: {path}")
    return path.read_bytes()


class FakeTime:
    """Injected into ArxivClient so politeness gaps and back-off never sleep for real."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
