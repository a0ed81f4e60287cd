"""The web server on its own: routing, methods, limits, headers and failures, with small test pages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app import Runtime
from bot.web.pages import Page, PageRequest, PageResponse
from bot.web.server import MAX_LINE, SECURITY_HEADERS, WebServer

pytestmark = pytest.mark.sqlite_only  # what is under test is HTTP (the adapter); the storage tests cover PostgreSQL

SECRET_PATH = "/secret/Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4.txt"


async def hello(request: PageRequest) -> PageResponse:
    name = request.params["name"]
    return PageResponse(200, f"<p>hello {name} {request.query.get('x', '')}</p>".encode(), headers={"X-Test": "1"})


async def broken(request: PageRequest) -> PageResponse:
    raise RuntimeError("a bug that says something private: " + request.params["token"])


async def cached(_request: PageRequest) -> PageResponse:
    return PageResponse(200, b"ok", "text/plain; charset=utf-8", {"Cache-Control": "private, no-cache"})


PAGES = (
    Page("hello", "/hello/{name}", hello),
    Page("broken", "/secret/{token}.txt", broken),
    Page("cached", "/cached", cached),
)


@pytest.fixture
async def server(app: Runtime) -> AsyncIterator[WebServer]:
    web = WebServer(PAGES, app.services, host="127.0.0.1", port=0)
    await web.start()
    yield web
    await web.stop()


@pytest.fixture
async def client(server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", trust_env=False) as http:
        yield http


def assert_secure(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp  # so no script runs at all
    assert "style-src 'unsafe-inline'" in csp and "img-src 'self' data:" in csp
    assert response.headers["cache-control"].startswith("private")
    assert "aiohttp" not in response.headers.get("server", "")


async def test_port_zero_binds_a_free_port_and_pages_answer(server: WebServer, client: httpx.AsyncClient) -> None:
    assert server.port > 0
    response = await client.get("/hello/ann?x=1")
    assert response.status_code == 200 and response.text == "<p>hello ann 1</p>"
    assert response.headers["x-test"] == "1" and response.headers["content-type"] == "text/html; charset=utf-8"
    assert_secure(response)
    assert (await client.get("/cached")).headers["cache-control"] == "private, no-cache"


async def test_head_has_the_headers_without_the_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/hello/ann")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len("<p>hello ann </p>"))
    assert_secure(response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_only_get_and_head(client: httpx.AsyncClient, method: str) -> None:
    for path in ("/hello/ann", "/nowhere"):
        response = await client.request(method, path, content=b"x")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
        assert_secure(response)


async def test_unknown_paths_are_a_plain_404(client: httpx.AsyncClient) -> None:
    for path in ("/", "/nowhere", "/hello/", "/hello/a/b"):
        response = await client.get(path)
        assert response.status_code == 404 and response.text == "Not found\n", path
        assert response.headers["content-type"].startswith("text/plain")
        assert_secure(response)


async def test_a_failing_page_is_a_generic_500_logged_once_without_its_path(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.get(SECRET_PATH)
    assert response.status_code == 500
    assert "Traceback" not in response.text and "private" not in response.text and "bug" not in response.text
    assert_secure(response)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1 and failures[0].name == "bot.web.server"
    logged = failures[0].getMessage()
    assert "Traceback" in logged and "RuntimeError: a bug that says something private: [redacted]" in logged
    assert "Zm9vYmFy" not in logged
    assert (await client.get("/hello/still")).status_code == 200


async def test_long_paths_are_refused_and_the_server_keeps_answering(client: httpx.AsyncClient) -> None:
    long = await client.get("/hello/" + "a" * 10_000)
    assert long.status_code == 414 and "Traceback" not in long.text
    assert_secure(long)
    huge = await client.get("/hello/" + "a" * (MAX_LINE + 100))  # beyond the request line limit itself
    assert huge.status_code in (400, 414) and "Traceback" not in huge.text
    assert (await client.get("/hello/ann")).status_code == 200


async def test_a_malformed_request_line_is_a_4xx_not_a_crash(server: WebServer, client: httpx.AsyncClient) -> None:
    for raw in (b"GARBAGE\r\n\r\n", b"GET /hello/x HTTP/9.9\r\n\r\n", b"GET \x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n"):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(raw)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        await writer.wait_closed()
        assert status_line.startswith(b"HTTP/1.") and status_line.split()[1][:1] == b"4", (raw, status_line)
    assert (await client.get("/hello/ann")).status_code == 200


async def test_stop_closes_the_port(app: Runtime) -> None:
    web = WebServer(PAGES, app.services, port=0)
    await web.start()
    port = web.port
    await web.stop()
    await web.stop()  # twice is fine
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(trust_env=False) as http:
            await http.get(f"http://127.0.0.1:{port}/hello/x")
