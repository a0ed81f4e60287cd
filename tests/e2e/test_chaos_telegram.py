"""A fan-out while the fake Bot API answers a fifth of the calls with a seeded fault (500, timeout,
dropped connection, 429 with retry_after), and learners keep sending /today. 400 pushes by default to
keep the suite quick; CHAOS_PUSHES=2000 runs the full 2,000 (about 2.5 minutes on a busy 2-core machine).

The real runtime (bootstrap, SQLite or PostgreSQL, delivery, the real python-telegram-bot adapter
polling the fake) runs in this process rather than as `studybuddy run`: a timeout needs the client to
give up quickly (a 0.25 s send timeout instead of 5 s, or 100 timeouts alone would take minutes), and
the outbox's retry backoff runs on a hand-moved clock. The flood limit and pacing run on real time.

What is claimed, and checked here: every push ends `sent` or `failed` (with the platform's reason), none
is lost; the fake received each sent push exactly once, except that a push whose call timed out after the
fake had applied it may arrive once more (at-least-once across a timeout: the client cannot know, and
Telegram offers no idempotency key); no flood-limit 429 is ever provoked; every /today is answered.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, func, select

from bot.adapters.telegram import TelegramAdapter
from bot.app import AdapterFactory, bootstrap
from bot.core.adapter import Adapter, RecipientEvents
from bot.core.clock import ManualClock
from bot.core.dispatcher import Core
from bot.delivery.pacing import platform_budgets, shared_limits
from storage.outbox import DeliveryRow
from tests.due_pushes import seed_due_pushes, zone_near_noon
from tests.fakes.telegram import ApiCall, Chaos, FakeTelegramServer, updates
from tests.support import settings_for, sync_url

TOKEN = "5151:chaos-test-token"
USERS = int(os.environ.get("CHAOS_PUSHES", "400"))
FIRST_ID = 800_000
CHATTERS = [9100 + n for n in range(5)]
RATE = 290  # DELIVERY_RATE_PER_SECOND, as for a self-hosted Bot API server
FAKE_LIMIT = 300  # the stand-in's flood limit, just above (like Telegram's 30 to our 29)
SEND_TIMEOUT = 0.25


def outbox_statuses(database_url: str) -> dict[str, int]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
            return {str(status): count for status, count in connection.execute(query)}
    finally:
        engine.dispose()


def failed_reasons(database_url: str) -> list[str | None]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(DeliveryRow.reason).where(DeliveryRow.status == "failed")))
    finally:
        engine.dispose()


def delivered(server: FakeTelegramServer, chats: set[int]) -> list[ApiCall]:
    """sendMessage calls the fake applied (answered ok, or applied and then stalled past the timeout)."""
    return [c for c in server.calls_of("sendMessage") if c.ok and c.params.get("chat_id") in chats]


def chaos_adapters(server: FakeTelegramServer) -> AdapterFactory:
    budget = platform_budgets(shared_limits(1, RATE))["telegram"]

    def build(core: Core, recipients: RecipientEvents) -> list[Adapter]:
        adapter = TelegramAdapter(
            core, TOKEN, api_url=server.api_url, recipients=recipients, budget=budget, poll_timeout=2,
            send_timeout=SEND_TIMEOUT,
        )  # fmt: skip
        return [adapter]

    return build


async def chat_during(server: FakeTelegramServer, fan_out: asyncio.Task[None], every: float = 0.3) -> int:
    """Learners send /today, one after another, until the fan-out is over; returns how many were sent."""
    sent = 0
    while not fan_out.done():
        server.push_update(updates.private_message("/today", user_id=CHATTERS[sent % len(CHATTERS)]))
        sent += 1
        await asyncio.sleep(every)
    return sent


async def test_fan_out_under_chaos_delivers_each_push_once_and_keeps_answering(database_url: str) -> None:
    clock = ManualClock(datetime.now(UTC))
    zone = zone_near_noon(clock.now())
    async with FakeTelegramServer(token=TOKEN) as server:
        server.rate_limit(per_second=FAKE_LIMIT)
        settings = settings_for(database_url, delivery_rate_per_second=RATE)
        app = bootstrap(settings, clock=clock, adapters=chaos_adapters(server), deliver=True, ingest=False)
        await app.open()
        await seed_due_pushes(app, clock, zone, USERS, FIRST_ID)
        server.set_chaos(Chaos(rate=0.2, seed=17, retry_after=0.05, stall=2 * SEND_TIMEOUT))
        try:
            fan_out = asyncio.create_task(app.start())  # the first delivery pass runs inside start()
            commands = await chat_during(server, fan_out)
            await fan_out
            for _ in range(12):  # later passes, each after the longest backoff has run out
                if not {"pending", "sending"} & set(outbox_statuses(database_url)):
                    break
                clock.advance(timedelta(minutes=10))
                await app.delivery.drain()
            answered = delivered(server, set(CHATTERS))
            while len(answered) < commands:  # the last /today may still be on its way
                await server.wait_for("sendMessage", lambda c: c.params.get("chat_id") in CHATTERS, len(answered) + 1)
                answered = delivered(server, set(CHATTERS))
        finally:
            await app.stop()

    statuses = outbox_statuses(database_url)
    assert set(statuses) <= {"sent", "failed"} and sum(statuses.values()) == USERS, statuses
    assert all(reason for reason in failed_reasons(database_url))
    assert server.rejected_429 == 0  # only the injected 429s: pacing never overran the flood limit

    pushes = set(range(FIRST_ID, FIRST_ID + USERS))
    per_chat = Counter(c.params["chat_id"] for c in delivered(server, pushes))
    timed_out = Counter(c.params["chat_id"] for c in server.chaos_calls("timeout") if c.params.get("chat_id") in pushes)
    assert len(per_chat) >= statuses.get("sent", 0)  # every push recorded as sent reached the fake
    extra = {chat: n - 1 for chat, n in per_chat.items() if n > 1}
    assert all(extra[chat] <= timed_out[chat] for chat in extra), extra  # duplicates only across a timeout
    assert statuses.get("sent", 0) >= 0.99 * USERS, statuses

    faults = Counter(c.chaos for c in server.chaos_calls())
    assert set(faults) == {"500", "timeout", "drop", "429"}, faults  # every kind of fault was met
    assert commands >= 10 and len(answered) >= commands  # each /today answered (a timeout may repeat one)
