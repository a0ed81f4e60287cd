"""Three `studybuddy run` workers share one PostgreSQL and 2,000 due pushes; one is SIGKILLed mid-way.

Every recipient gets its push exactly once, except at most the one message the killed worker had in flight:
the workers claim rows with FOR UPDATE SKIP LOCKED, and the dead worker's claims come back when their
(short, for the test) lease runs out. Runs only where a PostgreSQL server is reachable (TEST_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, func, select

from storage.outbox import DeliveryRow
from tests.botproc import bot_env, free_port, start_bot, stop_bot
from tests.due_pushes import seed_database
from tests.fakes.telegram import FakeTelegramServer
from tests.support import PgDatabase, sync_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
pytestmark = pytest.mark.skipif(TEST_DATABASE_URL is None, reason="needs PostgreSQL: set TEST_DATABASE_URL")

TOKEN = "4343:multiworker-test-token"
USERS = 2000
FIRST_ID = 700_000
WORKERS = 3
# messages/s across the workers (DELIVERY_RATE_PER_SECOND; the fake allows more): slow enough that the fan-out
# outlasts a worker's wait for its next drain (one worker's start-up tick may record every push). At 300/s each
# worker sends 100/s and the 2,000 take ~8 s: every worker still takes a share (150/s took the test 24 s)
TOTAL_RATE = 300
LEASE_SECONDS = 4


def ok_chats(server: FakeTelegramServer) -> set[int]:
    return {c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok}


async def wait_until_all_sent(server: FakeTelegramServer, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len(ok_chats(server)) < USERS:
        ok_so_far = sum(1 for c in server.calls_of("sendMessage") if c.ok)
        remaining = deadline - loop.time()
        assert remaining > 0, f"only {len(ok_chats(server))}/{USERS} chats reached"
        await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=ok_so_far + 1, timeout=remaining)


def sent_by(database_url: str) -> dict[str, int]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            query = (
                select(DeliveryRow.claimed_by, func.count())
                .where(DeliveryRow.status == "sent")
                .group_by(DeliveryRow.claimed_by)
            )
            return {str(worker): count for worker, count in connection.execute(query)}
    finally:
        engine.dispose()


async def wait_for_worker_to_send(database_url: str, pid: int, at_least: int, within: float) -> None:
    """Polls the database (briefly) until the given worker has settled some rows of its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        counts = await asyncio.to_thread(sent_by, database_url)
        if sum(n for worker, n in counts.items() if worker.endswith(f":{pid}")) >= at_least:
            return
        assert loop.time() < deadline, f"worker {pid} sent nothing: {counts}"
        await asyncio.sleep(0.05)


async def test_three_workers_one_killed_deliver_each_push_once(tmp_path: Path) -> None:
    assert TEST_DATABASE_URL is not None
    with PgDatabase(TEST_DATABASE_URL) as database_url:
        await seed_database(database_url, USERS, FIRST_ID)
        async with FakeTelegramServer(token=TOKEN) as server:
            server.rate_limit(per_second=TOTAL_RATE * 2)
            health_ports = [free_port() for _ in range(WORKERS)]
            workers = []
            for n in range(WORKERS):
                env = bot_env(
                    tmp_path,
                    DATABASE_URL=database_url,
                    TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_API_URL=server.api_url,
                    TELEGRAM_UPDATES="on" if n == 0 else "off",  # one update consumer; the others only send
                    DELIVERY_WORKERS=str(WORKERS),
                    DELIVERY_RATE_PER_SECOND=str(TOTAL_RATE),
                    DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
                    HEALTH_PORT=str(health_ports[n]),
                    ARXIV_INGEST="false",
                    LOG_LEVEL="WARNING",
                )
                workers.append(await start_bot(tmp_path, env))
            victim = workers[1]
            try:
                await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=USERS // 4, timeout=90)
                await wait_for_worker_to_send(database_url, victim.pid, at_least=20, within=60)
                victim.kill()  # SIGKILL: its claims stay 'sending' until their lease runs out
                await victim.wait()
                assert len(ok_chats(server)) < USERS, "the kill came too late to be mid fan-out"
                await wait_until_all_sent(server, within=90)

                async with aiohttp.ClientSession() as session:
                    for port in (health_ports[0], health_ports[2]):
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                            assert response.status == 200, await response.text()
                            assert await response.json() == {"database": "ok", "adapters": {"telegram": "connected"}}
                        async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                            assert 'studybuddy_deliveries_total{platform="telegram",status="sent"}' in (
                                await response.text()
                            )
            finally:
                outputs = [await stop_bot(worker) for worker in workers if worker is not victim]
            for code, output in outputs:
                assert code == 0, output

        assert [c.description for c in server.calls_of("sendMessage") if not c.ok] == []
        per_chat = Counter(c.params["chat_id"] for c in server.calls_of("sendMessage") if c.ok)
        assert set(per_chat) == {FIRST_ID + n for n in range(USERS)}
        assert sum(count - 1 for count in per_chat.values()) <= 1, per_chat.most_common(3)
        shares = sent_by(database_url)
        assert sum(shares.values()) == USERS and len(shares) == WORKERS, shares  # every worker took a share
