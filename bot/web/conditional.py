"""Conditional GET (RFC 9110 section 13): answer 304 when the client already holds the current version."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from bot.web.pages import PageRequest


def http_date(instant: datetime) -> str:
    return format_datetime(instant.astimezone(UTC).replace(microsecond=0), usegmt=True)


def parse_http_date(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; `*` matches any current version."""
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def not_modified(request: PageRequest, etag: str, last_modified: datetime) -> bool:
    """If-None-Match decides when present; only without it does If-Modified-Since count."""
    tags = request.header("if-none-match")
    if tags is not None:
        return etag_matches(tags, etag)
    since = request.header("if-modified-since")
    if since is None:
        return False
    when = parse_http_date(since)
    return when is not None and last_modified.replace(microsecond=0) <= when
