"""PTB's rate-limiter hook in front of the platform's one `SendBudget`: every Bot API call the bot makes
passes here, so replies and pushes share Telegram's ~30 messages a second, replies first.

Pushes mark themselves with `rate_limit_args=Priority.PUSH` (ExtBot passes it through); everything
unmarked is someone waiting on an answer. What Telegram answers:
- 429 `retry_after`: the whole budget pauses that long (everyone's sends would be refused meanwhile),
  then the call is tried again, up to `max_retries` times;
- a 5xx, a dropped connection or a timeout: tried again at once (still through the budget), up to
  `max_transient_retries` times, then the error goes to the caller (delivery retries later with backoff).
  A timed-out call may have reached Telegram, so a push is delivered *at least* once across a timeout:
  a duplicate is possible only there. Everything else is exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.adapters.telegram.ptb import retry_seconds
from bot.core.ratelimit import Priority, SendBudget

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Result = bool | JSONDict | list[JSONDict]

# Calls that put a message in a chat: these are what Telegram's flood limits count.
_COUNTED_PREFIXES = ("send", "edit", "copy", "forward")
_UNCOUNTED = frozenset({"sendChatAction"})


def counts_against_limit(endpoint: str) -> bool:
    return endpoint.startswith(_COUNTED_PREFIXES) and endpoint not in _UNCOUNTED


def group_of(chat_id: object) -> int | str | None:
    """Groups and channels (negative ids, `@names`) have their own per-minute limit; private chats don't."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    if isinstance(chat_id, int) and chat_id < 0:
        return chat_id
    return None


class BudgetRateLimiter(BaseRateLimiter[Priority]):
    """A `BaseRateLimiter` whose only state is the shared budget (so pushes and replies see one limit)."""

    def __init__(self, budget: SendBudget, *, max_retries: int = 3, max_transient_retries: int = 2) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.max_transient_retries = max_transient_retries

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> Result:
        priority = rate_limit_args if rate_limit_args is not None else Priority.REPLY
        counted = counts_against_limit(endpoint)
        group = group_of(data.get("chat_id")) if counted else None
        limited = transient = 0
        while True:
            if counted:
                await self.budget.acquire(priority, group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.budget.pause(retry_seconds(error))
                limited += 1
                if limited > self.max_retries:
                    raise
                log.info("telegram: flood limit on %s, all sends wait %.2f s", endpoint, retry_seconds(error))
            except NetworkError as error:  # 5xx, dropped connection, timeout (TimedOut is a NetworkError)
                transient += 1
                # PTB's BadRequest is a NetworkError too, but a refusal: asking again gets the same answer
                if isinstance(error, BadRequest) or not counted or transient > self.max_transient_retries:
                    raise
                log.info("telegram: %s failed (%s), trying again", endpoint, type(error).__name__)
