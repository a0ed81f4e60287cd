"""The public address of the web pages, as commands put it in replies.

None when the server has no web pages (`WEB_PORT` unset): commands then say so instead of sending a link
that leads nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import Services
from bot.core.ports import Port


@dataclass(frozen=True, slots=True)
class WebLinks:
    """`PUBLIC_URL` (e.g. https://bot.example.org) or, by default, http://WEB_LISTEN:WEB_PORT."""

    base: str

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + "/" + path.lstrip("/")

    def webcal(self, path: str) -> str:
        """The same address as webcal:// (calendar apps subscribe to it instead of downloading once)."""
        scheme, _, rest = self.url(path).partition("://")
        return f"webcal://{rest}" if scheme in ("http", "https") else self.url(path)


WEB_LINKS: Port[WebLinks | None] = Port("web_links")


def public_links(services: Services) -> WebLinks | None:
    """The pages' public address, or None when this bot serves none (no `WEB_PORT`, or a runtime built
    without the web ports, as some tests are)."""
    return services.ports[WEB_LINKS] if WEB_LINKS in services.ports else None
