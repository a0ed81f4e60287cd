"""Secret links: random tokens (>= 128 bits) that stand for a learner's feed or a group's page.

Only a token's SHA-256 is stored, so a copy of the database doesn't give anyone the links. A scope names
what a token opens ("calendar", "dashboard", "stats"); the owner is the feature's own key for whose page
it is (e.g. "user:42", "chat:7").
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Protocol

from bot.core.ports import Port

TOKEN_BYTES = 24  # 192 bits; urlsafe base64 gives 32 characters
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str) -> bool:
    """A cheap check before any database read: anything else is a 404 at once."""
    return TOKEN_PATTERN.fullmatch(token) is not None


class WebTokens(Protocol):
    """Issue, resolve and revoke secret links; implemented in storage/web.py."""

    async def issue(self, scope: str, owner: str) -> str:
        """A new token for (scope, owner); earlier ones stay valid until `revoke`. Returns the raw token."""
        ...

    async def owner(self, scope: str, token: str) -> str | None:
        """Whose page the token opens, or None (unknown, revoked, wrong scope, malformed)."""
        ...

    async def revoke(self, scope: str, owner: str) -> int:
        """Revoke every live token of (scope, owner); how many were revoked."""
        ...


WEB_TOKENS: Port[WebTokens] = Port("web_tokens")
