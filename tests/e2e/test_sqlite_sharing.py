"""Two `studybuddy` processes on one SQLite file: `run` (fan-out and Telegram chat) and a scripted console,
both writing at once, while a third writer holds the write lock longer than SQLite's busy timeout.

Nobody sees "database is locked" or the generic error reply, and no write is lost: every reminder time
and check-in that was confirmed is in the file afterwards, and every due push went out exactly once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from storage.db import SQLITE_BUSY_TIMEOUT_MS
from tests.botproc import bot_env, start_bot, stop_bot
from tests.due_pushes import seed_database
from tests.fakes.telegram import FakeTelegramServer, updates

TOKEN = "5151:sqlite-sharing-token"
FANOUT = 120  # learners whose daily push is due when `run` starts: its outbox writes run beside the chat
FIRST_FANOUT_ID = 610_000
CHATTERS = [620_000 + n for n in range(10)]  # Telegram learners who /start, /remind and /done
ROUNDS = 12  # console rounds of /remind, /undo, /done
HOLD = SQLITE_BUSY_TIMEOUT_MS / 1000 + 3  # longer than one busy timeout: a plain wait would give up
ERRORS = ("database is locked", "went wrong", "OperationalError", "Traceback")


def hold_write_lock(database: Path, held: threading.Event) -> None:
    """Another writer (a long fan-out tick, a backup, a migration) keeps the write lock for `HOLD` seconds."""
    with closing(sqlite3.connect(database, isolation_level=None, timeout=60)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(HOLD)
        connection.execute("COMMIT")


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return list(connection.execute(query))


async def ready(server: FakeTelegramServer, console: asyncio.subprocess.Process) -> None:
    """Both processes up and answering, so that what follows reaches the database while the lock is held."""
    assert console.stdin is not None and console.stdout is not None
    console.stdin.write(b"/help\n")
    server.push_update(updates.private_message("/help", user_id=CHATTERS[0]))
    while b"/help COMMAND" not in await asyncio.wait_for(console.stdout.readline(), 60):
        pass
    answered = str(CHATTERS[0])
    await server.wait_for("sendMessage", predicate=lambda c: str(c.params.get("chat_id")) == answered, timeout=60)


def replied(server: FakeTelegramServer, chat_id: int, text: str) -> bool:
    return any(text in sent for sent in server.sent_texts(chat_id))


async def test_run_and_a_console_write_one_sqlite_file_at_once(tmp_path: Path) -> None:
    async with FakeTelegramServer(token=TOKEN) as server:
        env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.api_url, LOG_LEVEL="WARNING")
        database = tmp_path / "run.db"
        await seed_database(env["DATABASE_URL"], FANOUT, FIRST_FANOUT_ID)
        console_env = {k: v for k, v in env.items() if k not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL")}

        run = await start_bot(tmp_path, env)
        console = await start_bot(tmp_path, console_env, "console", stdin=asyncio.subprocess.PIPE)
        assert console.stdin is not None
        run_output = ""
        try:
            await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=1, timeout=60)  # fan-out begun
            await ready(server, console)

            held = threading.Event()
            holder = asyncio.create_task(asyncio.to_thread(hold_write_lock, database, held))
            await asyncio.to_thread(held.wait, 30)
            console.stdin.write(b"/start\n/done\n")  # both processes queue behind the long writer
            for chat_id in CHATTERS:
                server.push_update(updates.private_message("/start", user_id=chat_id))
            await holder

            for n in range(ROUNDS):  # then everyone writes at once, the fan-out still going
                console.stdin.write(f"/remind 07:{n:02d}\n/undo\n/done\n".encode())
                chat_id = CHATTERS[n % len(CHATTERS)]
                server.push_update(updates.private_message(f"/remind 06:{n:02d}", user_id=chat_id))
            for chat_id in CHATTERS:
                server.push_update(updates.private_message("/done", user_id=chat_id))
            console.stdin.write(b"/settings\n")
            console.stdin.close()
            out, err = await asyncio.wait_for(console.communicate(), 120)
            console_output = out.decode() + err.decode()

            for chat_id in CHATTERS:
                await server.wait_for(
                    "sendMessage",
                    predicate=lambda c, chat_id=chat_id: (
                        c.ok
                        and c.params.get("chat_id") in (chat_id, str(chat_id))
                        and "You checked in for" in str(c.params.get("text"))
                    ),
                    timeout=60,
                )
            fanout_ids = {str(FIRST_FANOUT_ID + n) for n in range(FANOUT)}
            while len(fanout_ids & {str(c.params["chat_id"]) for c in server.calls_of("sendMessage") if c.ok}) < FANOUT:
                ok_so_far = sum(1 for c in server.calls_of("sendMessage") if c.ok)
                await server.wait_for("sendMessage", predicate=lambda c: c.ok, count=ok_so_far + 1, timeout=60)
        finally:
            if console.returncode is None:
                console.kill()
                await console.wait()
            code, run_output = await stop_bot(run)

    assert console.returncode == 0, console_output[-3000:]
    assert code == 0, run_output[-3000:]
    for error in ERRORS:
        assert error not in console_output, console_output[-3000:]
        assert error not in run_output, run_output[-3000:]
    texts = [str(c.params.get("text")) for c in server.calls_of("sendMessage") if c.ok]
    assert not [text for text in texts if "went wrong" in text or "locked" in text]

    # The console: every /done after an /undo checked in again, the last /remind is what it keeps.
    assert console_output.count("You checked in for") == 1 + ROUNDS, console_output[-3000:]
    assert f"Daily reminder: 07:{ROUNDS - 1:02d}" in console_output
    # Telegram: each learner's last /remind and their /done are confirmed and stored.
    last_remind = {CHATTERS[n % len(CHATTERS)]: f"06:{n:02d}" for n in range(ROUNDS)}
    for chat_id, at in last_remind.items():
        assert replied(server, chat_id, f"every day at {at}"), server.sent_texts(chat_id)
    (console_reminder,) = rows(database, "SELECT reminder_time FROM users WHERE platform = 'console'")
    assert str(console_reminder[0]).startswith(f"07:{ROUNDS - 1:02d}")
    stored = dict(rows(database, "SELECT external_id, reminder_time FROM users WHERE platform = 'telegram'"))
    for chat_id, at in last_remind.items():
        assert str(stored[str(chat_id)]).startswith(at), (chat_id, stored[str(chat_id)])
    checked_in = Counter(
        external_id
        for (external_id,) in rows(database, "SELECT u.external_id FROM checkins c JOIN users u ON u.id = c.user_id")
    )
    assert all(checked_in[str(chat_id)] == 1 for chat_id in CHATTERS), checked_in
    assert sum(checked_in.values()) == len(CHATTERS) + 1  # and the console learner's one
    # The fan-out: each due push exactly once.
    pushes = Counter(str(c.params["chat_id"]) for c in server.calls_of("sendMessage") if c.ok)
    assert all(pushes[str(FIRST_FANOUT_ID + n)] == 1 for n in range(FANOUT)), pushes
