"""The public web server inside `studybuddy run`: every feature's pages on WEB_LISTEN:WEB_PORT.

The only module that imports aiohttp for the pages. It stays small on purpose: GET and HEAD only, a path
limit, the same security headers on every answer, and an error page that never shows a traceback. Pages
are secret links, so nothing here is cached by shared caches and nothing is indexed by search engines.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.core.context import Services
from bot.web.pages import NOT_FOUND, Page, PageHandler, PageRequest, PageResponse

log = logging.getLogger(__name__)

MAX_PATH = 2048  # longer than any page's path by far: longer ones are 414, never routed
MAX_LINE = 16 * 1024  # aiohttp's own limit on the request line, above MAX_PATH so we answer with 414
METHODS = ("GET", "HEAD")
MIN_REDACTED = 8  # shorter path parts (a page name, say) are no secret and would blot out the text
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}
DEFAULT_CACHE = "private"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def plain_page(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain", charset="utf-8", headers=headers)


def to_aiohttp(page: PageResponse) -> web.Response:
    response = web.Response(status=page.status, body=page.body if page.status != 304 else None)
    response.headers.update(page.headers)
    if page.status != 304:
        response.headers["Content-Type"] = page.content_type
    return response


def route(handler: PageHandler, services: Services) -> Handler:
    """An aiohttp handler around a neutral page handler: the page never sees aiohttp."""

    async def serve(request: web.Request) -> web.StreamResponse:
        page = await handler(
            PageRequest(
                params=dict(request.match_info),
                query=dict(request.query),
                headers={name.lower(): value for name, value in request.headers.items()},
                services=services,
            )
        )
        return to_aiohttp(page)

    return serve


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what no page answers before routing; turn every failure into a short plain answer."""
    if request.method not in METHODS:
        return plain_page(405, "Method not allowed", {"Allow": ", ".join(METHODS)})
    if len(request.raw_path) > MAX_PATH:
        return plain_page(414, "URI too long")
    try:
        return await handler(request)
    except web.HTTPException as error:  # the router's 404 (and 405 for a known path), as plain text
        if error.status == 404:
            return to_aiohttp(NOT_FOUND)
        return plain_page(error.status, error.reason)
    except Exception:
        log.error("web page %s failed\n%s", request.match_info.route.name or "?", redacted_traceback(request))
        return plain_page(500, "Something went wrong on our side. Please try again later.")


def redacted_traceback(request: web.Request) -> str:
    """The traceback without the path's parts: a page's path holds the secret token of whoever asked,
    and an exception's text may repeat it."""
    text = traceback.format_exc().rstrip()
    for value in request.match_info.values():
        if len(value) >= MIN_REDACTED:
            text = text.replace(value, "[redacted]")
    return text


async def secure(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", DEFAULT_CACHE)
    response.headers["Server"] = "StudyBuddy"  # not the library's name and version


def build_app(pages: Sequence[Page], services: Services) -> web.Application:
    app = web.Application(middlewares=[guard])
    for page in pages:
        app.router.add_get(page.path, route(page.handler, services), name=page.name)
    app.on_response_prepare.append(secure)
    return app


class WebServer:
    """A `Component`: serves `pages` on host:port; port 0 picks a free one, readable as `port` after start."""

    def __init__(self, pages: Sequence[Page], services: Services, *, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.pages = tuple(pages)
        self.services = services
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = build_app(self.pages, self.services)
        self._runner = web.AppRunner(app, access_log=None, max_line_size=MAX_LINE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("web: %d page route(s) on %s:%d", len(self.pages), self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
