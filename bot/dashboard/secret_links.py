"""Who a page's secret link belongs to, and the link a command replies with.

A dashboard token opens one group's page ("chat:<id>"), a stats token one learner's ("user:<id>"). Every
check that can fail without the database (shape, length) is made before any read, so a malformed or
oversized token costs nothing but a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.context import Services
from bot.web.links import public_links
from bot.web.pages import PageRequest
from bot.web.tokens import WEB_TOKENS, WebTokens, well_formed

OwnerKind = Literal["chat", "user"]


@dataclass(frozen=True, slots=True)
class LinkKind:
    """One kind of secret page: the token scope, whose page it is, and its path under the web root."""

    scope: str
    owner_kind: OwnerKind
    prefix: str  # "/dashboard" -> pages at /dashboard/{token}

    @property
    def route(self) -> str:
        return f"{self.prefix}/{{token}}"

    def owner(self, owner_id: int) -> str:
        return f"{self.owner_kind}:{owner_id}"

    def owner_id(self, owner: str) -> int | None:
        kind, _sep, raw = owner.partition(":")
        return int(raw) if kind == self.owner_kind and raw.isdigit() else None


GROUP_DASHBOARD = LinkKind("dashboard", "chat", "/dashboard")
LEARNER_STATS = LinkKind("stats", "user", "/stats")


def web_tokens(services: Services) -> WebTokens | None:
    return services.ports[WEB_TOKENS] if WEB_TOKENS in services.ports else None


async def issue_link(services: Services, kind: LinkKind, owner_id: int, *, reset: bool) -> str | None:
    """A fresh link to the owner's page (after revoking the earlier ones on `reset`); None without a server."""
    links, tokens = public_links(services), web_tokens(services)
    if links is None or tokens is None:
        return None
    if reset:
        await tokens.revoke(kind.scope, kind.owner(owner_id))
    token = await tokens.issue(kind.scope, kind.owner(owner_id))
    return links.url(f"{kind.prefix}/{token}")


async def page_owner(request: PageRequest, kind: LinkKind) -> int | None:
    """The id whose page the request's token opens, or None (malformed, unknown, revoked, other scope)."""
    token = request.params.get("token", "")
    if not well_formed(token):
        return None
    tokens = web_tokens(request.services)
    if tokens is None:
        return None
    owner = await tokens.owner(kind.scope, token)
    return kind.owner_id(owner) if owner is not None else None
