"""Pages as HTML: Jinja2 templates (autoescaped: a display name is always text), and the headers every
secret page carries.

The headers matter as much as the escaping: the token is in the address, so no page may be cached by a
shared proxy, indexed, or leak its address to arXiv in a Referer; the Content-Security-Policy allows no
script at all and only this page's own inline styles and data: images.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.core.types import Lang
from bot.web.conditional import etag_matches
from bot.web.pages import PageRequest, PageResponse

SECRET_PAGE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
}
if TYPE_CHECKING:  # Jinja2 is imported when the first page is drawn, not by every start
    from jinja2 import Environment

HTML_LANG: dict[Lang, str] = {"en": "en", "zh": "zh-Hans"}


@cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("bot.dashboard", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,  # a missing value is a bug to see in the tests, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(template: str, lang: Lang, **values: Any) -> bytes:
    page = environment().get_template(template)
    return page.render(html_lang=HTML_LANG[lang], **values).encode("utf-8")


def respond(request: PageRequest, body: bytes, status: int = 200) -> PageResponse:
    """The page with its ETag; a matching If-None-Match gets a 304 without the body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**SECRET_PAGE_HEADERS, "ETag": etag}
    tags = request.header("if-none-match")
    if status == 200 and tags is not None and etag_matches(tags, etag):
        return PageResponse(304, b"", headers=headers)
    return PageResponse(status, body, headers=headers)


@cache
def not_found() -> PageResponse:
    """One 404 for every bad link (malformed, unknown, revoked): it tells nothing about which it was."""
    return PageResponse(404, html("not_found.html", "en"), headers=SECRET_PAGE_HEADERS)
