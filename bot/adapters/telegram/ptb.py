"""python-telegram-bot plumbing for the Telegram adapter: building the Application, error mapping, concurrency.

Kept apart from `telegram.py` so the adapter reads as translation (update -> Incoming -> replies) and
this file holds the PTB-specific workarounds, each with the reason it exists.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import warnings
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, BaseUpdateProcessor, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.telegram.transport import AiohttpRequest
from bot.core.adapter import DeliveryResult

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
MAX_CONCURRENT_UPDATES = 64
SEND_TIMEOUT = 5.0  # PTB's own default for reading and writing a call


def retry_seconds(error: RetryAfter) -> float:
    """PTB 22 returns int or timedelta depending on an opt-in flag (and warns about it); accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(error: BaseException, token: str) -> DeliveryResult:
    """Map a platform error to the core's outcomes; the reason never carries the token."""
    reason = f"{type(error).__name__}: {error}".replace(token, "[redacted]") if token else str(error)
    if isinstance(error, RetryAfter):
        return DeliveryResult("retry", reason=reason, retry_after=retry_seconds(error))
    if isinstance(error, ChatMigrated):
        return DeliveryResult("migrated", reason=reason, new_external_id=str(error.new_chat_id))
    if isinstance(error, Forbidden):
        return DeliveryResult("gone", reason=reason)
    if isinstance(error, BadRequest) and "chat not found" in error.message.lower():
        return DeliveryResult("gone", reason=reason)
    return DeliveryResult("failed", reason=reason)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LenientBot(ExtBot[Any]):
    """An ExtBot that survives an update it can't parse.

    Stock PTB fails the whole getUpdates batch on one malformed update and fetches the same batch again
    (its offset never moves), so one bad update would wedge polling in a hot loop. Here an update that
    doesn't parse is replaced by a bare `{"update_id": n}`: the offset advances and our handler ignores it.
    """

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            parsed = (self._parseable(raw) for raw in result)
            return [raw for raw in parsed if raw is not None]
        return result

    def _parseable(self, raw: Any) -> Any:
        try:
            Update.de_json(raw, self)
            return raw
        except Exception:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            log.warning("ignoring a malformed Telegram update (id %s)", update_id)
            return {"update_id": update_id} if isinstance(update_id, int) else None


class ChatLanes(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat.

    PTB's plain `concurrent_updates` would let one user's `/start` and `/today` race each other; fully
    sequential processing would let one slow chat (a 429 back-off, a slow database) stall every other.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, users = self._locks.get(chat.id, (asyncio.Lock(), 0))
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def build_application(
    token: str,
    api_url: str,
    rate_limiter: BaseRateLimiter[Any] | None,
    *,
    poll_timeout: float,
    max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
    send_timeout: float | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """One Application on `{api_url}/bot{token}/{method}`, no job queue (our scheduler owns timing).

    `send_timeout` bounds reading and writing every call but getUpdates."""
    root = api_url.rstrip("/")
    # A loopback Bot API server (self-hosted, or our tests' fake) is never reached through an HTTP proxy
    # from the environment; for api.telegram.org, HTTPS_PROXY keeps working.
    trust_env = not is_loopback(root)
    timeout = SEND_TIMEOUT if send_timeout is None else send_timeout
    request = AiohttpRequest(
        connection_pool_size=MAX_CONCURRENT_UPDATES, read_timeout=timeout, write_timeout=timeout, trust_env=trust_env
    )
    updates_request = AiohttpRequest(
        connection_pool_size=2, read_timeout=poll_timeout + 10, write_timeout=timeout, trust_env=trust_env
    )
    bot = LenientBot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=request,
        get_updates_request=updates_request,
        rate_limiter=rate_limiter,
    )
    return ApplicationBuilder().bot(bot).job_queue(None).concurrent_updates(ChatLanes(max_concurrent_updates)).build()


__all__ = [
    "DEFAULT_API_URL",
    "ChatLanes",
    "LenientBot",
    "TelegramError",
    "build_application",
    "classify",
    "is_loopback",
    "retry_seconds",
]
