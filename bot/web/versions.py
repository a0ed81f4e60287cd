"""When a page last changed, for honest `Last-Modified` headers and a stable iCalendar DTSTAMP.

A page computed from live data has no natural modification time. The page hashes what it shows; the
store remembers, per (scope, owner), the latest hash and the instant it was first served. Same hash,
same instant: a client's `If-Modified-Since` then gets 304 until the content really changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.ports import Port


class PageVersions(Protocol):
    """Implemented in storage/web.py."""

    async def since(self, scope: str, owner: str, digest: str, now: datetime) -> datetime:
        """When `digest` became the page's content: the stored instant if unchanged, else `now` (stored)."""
        ...


WEB_VERSIONS: Port[PageVersions] = Port("web_versions")
