"""The page contract: a feature serves a web page the way it answers a command.

A feature lists `Page`s in its `Feature`; the web server (bot/web/server.py, the only module here that
imports aiohttp) routes each `path` to its `handler`, which gets a neutral `PageRequest` and returns a
`PageResponse`. Handlers never see aiohttp, so they are tested by calling them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot.core.context import Services


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One GET: the route's parameters, the query, the headers (lower-case names) and the services."""

    params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    services: Services

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class PageResponse:
    """What to answer: status, body, content type and extra headers (ETag, Last-Modified, Cache-Control)."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


PageHandler = Callable[[PageRequest], Awaitable[PageResponse]]


@dataclass(frozen=True, slots=True)
class Page:
    """A GET route: `path` in aiohttp's pattern syntax (e.g. "/calendar/{token}.ics")."""

    name: str
    path: str
    handler: PageHandler


NOT_FOUND = PageResponse(404, b"Not found\n", "text/plain; charset=utf-8")
