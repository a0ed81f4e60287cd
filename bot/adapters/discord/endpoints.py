"""Point discord.py 2.7 at a Discord-compatible server (self-hosted gateway/REST, or our loopback test fake).

discord.py has no supported constructor option for the REST base URL or the gateway URL, so the only
way to redirect it is to replace two class attributes.  Both are read late (on every request / every
connection attempt), so swapping them is enough and touches nothing else:

* ``discord.http.Route.BASE`` – every REST call (``HTTPClient.request`` *and* the interaction/webhook
  adapter in ``discord.webhook.async_``) builds its URL as ``Route.BASE + path`` when the ``Route`` is
  created.  The library itself rewrites this attribute in ``discord.http._set_api_version``.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` – ``Client.connect`` never asks ``GET /gateway/bot``;
  ``DiscordWebSocket.from_client`` falls back to this URL for every fresh IDENTIFY (first connect and after
  an INVALIDATE_SESSION).  RESUMEs instead use ``resume_gateway_url`` from the READY payload, so a custom
  server must put its own URL there.  ``AutoShardedClient`` (without ``shard_count``) uses the ``url`` from
  ``GET /gateway/bot``, which is routed through ``Route.BASE`` as well.

Both attributes are process-global: every ``discord.Client`` in the process is affected.  All changes are
isolated in this module, are idempotent and can be undone with :func:`reset_discord_endpoints` or the
:func:`discord_endpoints` context manager.

Accepted forms
--------------
``api_url``: the server root, e.g. ``http://127.0.0.1:8080`` -> requests go to
``http://127.0.0.1:8080/api/v10/...``.  A URL that already ends in ``/api/v<N>`` is used verbatim.
``gateway_url``: a ``ws://`` / ``wss://`` URL without a query string, e.g. ``ws://127.0.0.1:8080/``;
discord.py appends ``?v=10&encoding=json&compress=zlib-stream`` itself.
Environment variables for :func:`configure_discord_endpoints_from_env`: ``DISCORD_API_URL`` and
``DISCORD_GATEWAY_URL`` (unset or empty means "real Discord").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import yarl
from discord import http as discord_http
from discord.gateway import DiscordWebSocket

__all__ = [
    "API_URL_ENV",
    "GATEWAY_URL_ENV",
    "DiscordEndpoints",
    "configure_discord_endpoints",
    "configure_discord_endpoints_from_env",
    "current_discord_endpoints",
    "discord_endpoints",
    "normalize_api_base",
    "normalize_gateway_url",
    "reset_discord_endpoints",
]

API_URL_ENV: Final = "DISCORD_API_URL"
GATEWAY_URL_ENV: Final = "DISCORD_GATEWAY_URL"

# Captured at import so that "None" / reset always means the library's own defaults.
_DEFAULT_API_BASE: Final[str] = discord_http.Route.BASE
_DEFAULT_GATEWAY: Final[yarl.URL] = DiscordWebSocket.DEFAULT_GATEWAY
_VERSIONED_SUFFIX: Final = re.compile(r"/api/v\d+$")


@dataclass(frozen=True, slots=True)
class DiscordEndpoints:
    """The effective REST base (``.../api/v10``) and gateway URL discord.py will use."""

    api_base: str
    gateway_url: str


def normalize_api_base(api_url: str) -> str:
    """Turn a server root (or an already versioned base) into the value for ``Route.BASE``."""
    url = yarl.URL(api_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"Discord API URL must be an absolute http(s) URL, got {api_url!r}")
    if url.query_string or url.fragment:
        raise ValueError(f"Discord API URL must not carry a query or fragment, got {api_url!r}")
    base = str(url).rstrip("/")
    if _VERSIONED_SUFFIX.search(base) is None:
        base = f"{base}/api/v{discord_http.INTERNAL_API_VERSION}"
    return base


def normalize_gateway_url(gateway_url: str) -> yarl.URL:
    """Validate a gateway URL; discord.py replaces the query, so one given here would be lost silently."""
    url = yarl.URL(gateway_url.strip())
    if url.scheme not in ("ws", "wss") or not url.host:
        raise ValueError(f"Discord gateway URL must be an absolute ws(s) URL, got {gateway_url!r}")
    if url.query_string or url.fragment:
        raise ValueError(f"Discord gateway URL must not carry a query or fragment, got {gateway_url!r}")
    if url.path == "/":
        url = url.with_path("/")  # yarl renders "wss://host" without the slash; keep the URL canonical
    return url


def configure_discord_endpoints(api_url: str | None, gateway_url: str | None) -> None:
    """Redirect discord.py's REST and gateway traffic; ``None`` restores discord.com for that part.

    Must be called before ``Client.start``/``login`` (later REST calls and reconnects pick it up too).
    Idempotent; see the module docstring for why class attributes are patched.
    """
    api_base = _DEFAULT_API_BASE if api_url is None else normalize_api_base(api_url)
    gateway = _DEFAULT_GATEWAY if gateway_url is None else normalize_gateway_url(gateway_url)
    discord_http.Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = gateway


def reset_discord_endpoints() -> None:
    """Restore the library defaults (``https://discord.com/api/v10`` and ``wss://gateway.discord.gg/``)."""
    configure_discord_endpoints(None, None)


def current_discord_endpoints() -> DiscordEndpoints:
    """Report what discord.py will currently use (for logs and tests)."""
    return DiscordEndpoints(api_base=discord_http.Route.BASE, gateway_url=str(DiscordWebSocket.DEFAULT_GATEWAY))


def configure_discord_endpoints_from_env(environ: Mapping[str, str] | None = None) -> DiscordEndpoints:
    """Apply ``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` (empty or unset -> real Discord)."""
    env = os.environ if environ is None else environ
    configure_discord_endpoints(env.get(API_URL_ENV) or None, env.get(GATEWAY_URL_ENV) or None)
    return current_discord_endpoints()


@contextmanager
def discord_endpoints(api_url: str | None, gateway_url: str | None) -> Iterator[DiscordEndpoints]:
    """Temporarily redirect discord.py, restoring whatever was configured before (tests)."""
    previous_base = discord_http.Route.BASE
    previous_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    configure_discord_endpoints(api_url, gateway_url)
    try:
        yield current_discord_endpoints()
    finally:
        discord_http.Route.BASE = previous_base
        DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway
