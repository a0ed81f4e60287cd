"""ArxivClient against a loopback fake arXiv: validators, retries, politeness, API paging. No real waits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from bot.papers.feed import (
    USER_AGENT,
    ArxivClient,
    ArxivFetchError,
    FeedError,
    parse_feed,
    parse_retry_after,
)
from tests.fakes.arxiv import API_PATH, FakeArxiv, FakeTime, Scripted, api_entries
from tests.fakes.arxiv import fixture as _fixture

FEED_PATH = "/rss/cs.CL"
ETAG = '"cs-cl-2026-08-20"'
LAST_MODIFIED = "Thu, 20 Aug 2026 04:00:01 GMT"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Oops</title></head><body><p>Down for maintenance<br></body></html>"


@pytest.fixture
async def fake() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv()
    await server.start()
    server.add_feed(FEED_PATH, _fixture("rss_cs.CL_pub2026-08-20_weekday.xml"), etag=ETAG, last_modified=LAST_MODIFIED)
    server.set_api_entries(api_entries(_fixture("api_cat-cs.CL_max3_2026-09-24.xml")))
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime(start=1000.0)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _client(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime, **kwargs: object) -> ArxivClient:
    return ArxivClient(
        fake.url(FEED_PATH),
        api_url=fake.url(API_PATH),
        client=http,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_fetch_ok_then_not_modified(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = _client(fake, http, clock)
    first = await client.fetch_feed(None, None)
    assert (first.status, first.http_status, first.attempts, first.error) == ("ok", 200, 1, None)
    assert first.etag == ETAG and first.last_modified == LAST_MODIFIED
    assert first.body is not None and len(parse_feed(first.body).papers) == 141

    second = await client.fetch_feed(first.etag, first.last_modified)
    assert (second.status, second.http_status, second.body) == ("not_modified", 304, None)
    assert second.etag == ETAG and second.last_modified == LAST_MODIFIED

    only_date = await client.fetch_feed(None, LAST_MODIFIED)
    assert only_date.status == "not_modified"

    stale_etag = await client.fetch_feed('"older"', None)
    assert stale_etag.status == "ok"

    sent = fake.requests_to(FEED_PATH)
    assert sent[0].headers["User-Agent"] == USER_AGENT
    assert "If-None-Match" not in sent[0].headers
    assert sent[1].headers["If-None-Match"] == ETAG
    assert sent[1].headers["If-Modified-Since"] == LAST_MODIFIED


async def test_429_honours_retry_after(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, Scripted(429, b"slow down", {"Retry-After": "7"}))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert (result.status, result.http_status, result.attempts) == ("ok", 200, 2)
    assert clock.sleeps and max(clock.sleeps) >= 7


async def test_503_twice_then_ok_backs_off(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, Scripted(503), Scripted(503))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert (result.status, result.attempts) == ("ok", 3)
    assert clock.sleeps == [3.0, 6.0]  # exponential, never below the 3 s politeness gap


async def test_retry_after_http_date(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"  # already passed: fall back to our own back-off
    fake.script(FEED_PATH, Scripted(503, headers={"Retry-After": past}))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert result.status == "ok" and clock.sleeps == [3.0]


async def test_503_exhausts_retries(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, *[Scripted(503)] * 3)
    result = await _client(fake, http, clock, max_retries=2).fetch_feed("e", "lm")
    assert (result.status, result.http_status, result.attempts) == ("error", 503, 3)
    assert result.error == "HTTP 503"
    assert (result.etag, result.last_modified) == ("e", "lm")  # echoed so callers can store blindly


async def test_absurd_retry_after_fails_fast(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, Scripted(429, headers={"Retry-After": "86400"}))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert (result.status, result.http_status, result.attempts) == ("error", 429, 1)
    assert clock.sleeps == []


async def test_500_is_an_immediate_error(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, Scripted(500, b"boom"))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert (result.status, result.http_status, result.attempts, result.body) == ("error", 500, 1, None)
    assert clock.sleeps == []


async def test_html_error_page_fetches_but_does_not_parse(
    fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime
) -> None:
    fake.script(FEED_PATH, Scripted(200, HTML_PAGE, {"Content-Type": "text/html"}))
    result = await _client(fake, http, clock).fetch_feed(None, None)
    assert result.status == "ok" and result.body == HTML_PAGE
    with pytest.raises(FeedError):
        parse_feed(result.body)


async def test_two_fetches_keep_three_seconds_apart(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = _client(fake, http, clock)
    await client.fetch_feed(None, None)
    assert clock.sleeps == []
    clock.now += 1.25
    await client.fetch_feed(None, None)
    assert clock.sleeps == [pytest.approx(1.75)]
    clock.now += 10
    await client.fetch_feed(None, None)
    assert clock.sleeps == [pytest.approx(1.75)]  # long enough ago: no wait


async def test_concurrent_fetches_are_serialised(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = _client(fake, http, clock)
    results = await asyncio.gather(*(client.fetch_feed(None, None) for _ in range(3)))
    assert [r.status for r in results] == ["ok"] * 3
    assert fake.max_in_flight == 1
    assert clock.sleeps == [3.0, 3.0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_errors_retry_then_error(http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = ArxivClient(
        f"http://127.0.0.1:{_closed_port()}/rss/cs.CL",
        client=http,
        max_retries=2,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    result = await client.fetch_feed(None, None)
    assert (result.status, result.http_status, result.attempts) == ("error", None, 3)
    assert result.error is not None and "ConnectError" in result.error
    assert clock.sleeps == [3.0, 6.0]


async def test_read_timeout_is_retried(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.script(FEED_PATH, Scripted(200, b"late", delay=0.2))
    client = _client(fake, http, clock, timeout=httpx.Timeout(0.05))
    result = await client.fetch_feed(None, None)
    assert (result.status, result.attempts) == ("ok", 2)
    assert clock.sleeps == [3.0]


async def test_api_paging_stops_at_total(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = _client(fake, http, clock)
    pages: list[tuple[int, int]] = []
    papers = [
        p
        async for p in client.fetch_api(
            "cs.CL",
            date(2026, 9, 21),
            date(2026, 9, 23),
            page_size=2,
            on_page=lambda d, t: pages.append((d, t)),
        )
    ]
    assert [p.arxiv_id for p in papers] == ["2609.28471", "2609.28449", "2609.28442"]
    assert pages == [(2, 3), (3, 3)]
    sent = fake.requests_to(API_PATH)
    assert len(sent) == 2
    assert sent[0].query == {
        "search_query": "cat:cs.CL AND submittedDate:[202609210000 TO 202609232359]",
        "start": "0",
        "max_results": "2",
        "sortBy": "submittedDate",
        "sortOrder": "ascending",
    }
    assert (sent[1].query["start"], sent[1].query["max_results"]) == ("2", "2")
    assert clock.sleeps == [3.0]


async def test_api_respects_max_results(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    client = _client(fake, http, clock)
    pages: list[tuple[int, int]] = []
    got = [
        p.arxiv_id
        async for p in client.fetch_api(
            "cs.CL",
            date(2026, 9, 21),
            date(2026, 9, 23),
            max_results=2,
            on_page=lambda d, t: pages.append((d, t)),
        )
    ]
    assert got == ["2609.28471", "2609.28449"]
    assert pages == [(2, 2)]
    assert len(fake.requests_to(API_PATH)) == 1


async def test_api_empty_result(fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime) -> None:
    fake.set_api_entries([])
    pages: list[tuple[int, int]] = []
    client = _client(fake, http, clock)
    got = [
        p
        async for p in client.fetch_api("cs.CL", date(2026, 1, 1), date(2026, 1, 2), on_page=lambda *a: pages.append(a))
    ]
    assert got == [] and pages == [(0, 0)]
    assert len(fake.requests_to(API_PATH)) == 1


async def test_api_failure_raises_after_partial_results(
    fake: FakeArxiv, http: httpx.AsyncClient, clock: FakeTime
) -> None:
    client = _client(fake, http, clock)
    got: list[str] = []
    with pytest.raises(ArxivFetchError) as info:
        async for paper in client.fetch_api("cs.CL", date(2026, 9, 21), date(2026, 9, 23), page_size=2):
            got.append(paper.arxiv_id)
            fake.script(API_PATH, Scripted(500))
    assert got == ["2609.28471", "2609.28449"]
    assert info.value.result is not None and info.value.result.http_status == 500


async def test_owned_client_is_closed() -> None:
    client = ArxivClient("http://127.0.0.1:9/rss/cs.CL")
    await client.aclose()
    assert client._client.is_closed


def test_parse_retry_after() -> None:
    now = datetime(2026, 8, 20, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 120 ", now) == 120.0
    assert parse_retry_after("Thu, 20 Aug 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 20 Aug 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None
