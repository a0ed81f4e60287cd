"""Reply latency during a fan-out at Telegram's limit: `studybuddy run` (a real process, default settings)
pushes N due reminders through the fake Bot API, which enforces 30 messages/s with 429s, while learners
send /today and press Done. Printed, one figure a line:
- p95 and max latency of /today answers and of Done presses (from the update reaching the fake's queue
  to the bot's answering call arriving at the fake; targets: p95 <= 1 s);
- 429s the fake had to answer (target 0);
- the fan-out's rate / the limit while learners chat (target >= 0.85);
- the bot process's CPU per push during the fan-out (replies' share included while learners chat; Linux).

`--repo DIR` runs the bot from another checkout (e.g. `git archive HEAD | tar -x -C /tmp/before`) to
measure a "before" figure on the same machine; the fake, the seeding and the learners are this tree's.

    python bench/fanout_latency.py [--pushes 3000] [--chatters 10] [--repo DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, insert  # noqa: E402

from storage.models import EnrolmentRow, UserRow  # noqa: E402
from storage.outbox import ScheduleRow  # noqa: E402
from tests.fakes.telegram import ApiCall, FakeTelegramServer, updates  # noqa: E402

TOKEN = "626262:fanout-latency-bench"
LIMIT = 30  # Telegram's messages per second, enforced by the fake
FIRST_PUSH = 1_000_000
FIRST_CHATTER = 50_000
ANSWERS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")


def zone_near_noon(now: datetime) -> str:
    offset = max(-12, min(14, 12 - now.hour))
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def seed(database_url: str, pushes: int, chatters: int, zone: str) -> None:
    """`pushes` learners whose daily reminder fell due an hour ago, and `chatters` with no reminder due."""
    now = datetime.now(UTC)
    due = now - timedelta(hours=1)
    local = due.astimezone(ZoneInfo(zone))
    at_time = local.time().replace(second=0, microsecond=0)
    people = [(FIRST_PUSH + n, True) for n in range(pushes)] + [(FIRST_CHATTER + n, False) for n in range(chatters)]
    engine = create_engine(database_url.replace("+aiosqlite", ""))
    with engine.begin() as connection:
        ids = connection.execute(
            insert(UserRow).returning(UserRow.id, UserRow.external_id),
            [
                {"platform": "telegram", "external_id": str(tg), "display_name": f"learner {tg}", "lang": "en",
                 "timezone": zone, "reminder_time": at_time, "reading_day": 5, "active": True,
                 "nudge_opt_out": False, "created_at": now}
                for tg, _due in people
            ],
        ).all()  # fmt: skip
        connection.execute(
            insert(EnrolmentRow),
            [{"user_id": i, "start_date": date.today() - timedelta(days=3), "created_at": now} for i, _ in ids],
        )
        connection.execute(
            insert(ScheduleRow),
            [
                {"platform": "telegram", "subject_kind": "user", "subject_id": i, "kind": "daily", "at_time": at_time,
                 "timezone": zone, "weekday": None, "next_local_date": local.date(), "next_due_at": due}
                for i, external in ids
                if int(external) >= FIRST_PUSH
            ],
        )  # fmt: skip
    engine.dispose()


def bot_env(repo: Path, database_url: str, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_", "DELIVERY_"))}
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        PYTHONPATH=str(repo),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        ARXIV_INGEST="false",
    )
    return env


class Answers:
    """Routes each answering call the fake records to the learner waiting on that chat: no polling."""

    def __init__(self, server: FakeTelegramServer, pushed: set[int]) -> None:
        self.waiting: dict[int, asyncio.Future[ApiCall]] = {}
        self.pushes: list[ApiCall] = []
        self.pushed = pushed
        self.all_done = asyncio.Event()
        server.listeners.append(self.record)

    def record(self, call: ApiCall) -> None:
        if not call.ok or call.method not in ANSWERS:
            return
        chat = call.params.get("chat_id")
        if chat in self.pushed and call.method == "sendMessage":
            self.pushes.append(call)
            if len(self.pushes) >= len(self.pushed):
                self.all_done.set()
            return
        future = self.waiting.pop(chat, None) if isinstance(chat, int) else None
        if future is not None and not future.done():
            future.set_result(call)

    def expect(self, chat: int) -> asyncio.Future[ApiCall]:
        future: asyncio.Future[ApiCall] = asyncio.get_running_loop().create_future()
        self.waiting[chat] = future
        return future


class Learner:
    """One person: /today, wait for the answer, press its Done button, wait again; repeat."""

    def __init__(self, server: FakeTelegramServer, answers: Answers, user_id: int) -> None:
        self.server = server
        self.answers = answers
        self.user_id = user_id
        self.today: list[float] = []
        self.done: list[float] = []

    async def _ask(self, update: dict[str, Any]) -> tuple[ApiCall, float] | None:
        answer = self.answers.expect(self.user_id)
        pushed = asyncio.get_running_loop().time()
        self.server.push_update(update)
        try:
            call = await asyncio.wait_for(answer, 60)
        except TimeoutError:
            return None
        return call, call.at - pushed

    async def run(self, until: asyncio.Event, pause: float) -> None:
        while not until.is_set():
            asked = await self._ask(updates.private_message("/today", user_id=self.user_id))
            if asked is None:
                continue
            answer, latency = asked
            self.today.append(latency)
            button = done_button(answer)
            if button is not None:
                pressed = await self._ask(updates.callback_query(button, user_id=self.user_id, message=answer.result))
                if pressed is not None:
                    self.done.append(pressed[1])
            await asyncio.sleep(pause)


def done_button(call: ApiCall) -> str | None:
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if str(button.get("callback_data", "")).startswith("done:"):
                return str(button["callback_data"])
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def prepare(directory: str, repo: Path, pushes: int, chatters: int) -> str:
    """A database migrated by the bot under test, then seeded."""
    database_url = f"sqlite+aiosqlite:///{directory}/latency.db"
    env = bot_env(repo, database_url, "http://127.0.0.1:9")
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=directory, env=env, check=True)
    seed(database_url, pushes, chatters, zone_near_noon(datetime.now(UTC)))
    return database_url


async def measure(
    directory: str, database_url: str, pushes: int, chatters: int, repo: Path, pause: float
) -> dict[str, float]:
    async with FakeTelegramServer(token=TOKEN) as server:
        server.rate_limit(per_second=LIMIT)
        env = bot_env(repo, database_url, server.api_url)
        pushed = {FIRST_PUSH + n for n in range(pushes)}
        answers = Answers(server, pushed)
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=directory, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await server.wait_for("sendMessage", lambda c: c.ok and c.params.get("chat_id") in pushed, timeout=120)
            cpu_from, pushes_from = cpu_seconds(bot.pid), len(answers.pushes)
            stop = asyncio.Event()
            learners = [Learner(server, answers, FIRST_CHATTER + n) for n in range(chatters)]
            chatting = [asyncio.create_task(learner.run(stop, pause)) for learner in learners]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answers.all_done.wait(), pushes / LIMIT * 4 + 60)
            cpu_per_push = (cpu_seconds(bot.pid) - cpu_from) / max(1, len(answers.pushes) - pushes_from)
            stop.set()
            await asyncio.gather(*chatting)
        finally:
            bot.terminate()
            await bot.communicate()
        sends = answers.pushes
        span = sends[-1].at - sends[0].at if len(sends) > 1 else float("nan")
        everything = [c for c in server.calls if c.ok and c.method in ANSWERS and sends[0].at < c.at <= sends[-1].at]
        today = [t for learner in learners for t in learner.today]
        done = [t for learner in learners for t in learner.done]
        return {
            "today_answers": len(today),
            "today_p95_s": p95(today),
            "today_max_s": max(today, default=float("nan")),
            "done_answers": len(done),
            "done_p95_s": p95(done),
            "done_max_s": max(done, default=float("nan")),
            "rejected_429": server.rejected_429,
            "pushes_delivered": len({c.params["chat_id"] for c in sends}),
            "fanout_rate_per_s": (len(sends) - 1) / span,
            "fanout_rate_over_limit": (len(sends) - 1) / span / LIMIT,
            "all_messages_rate_over_limit": len(everything) / span / LIMIT,
            "bot_cpu_ms_per_push": cpu_per_push * 1000,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=3000)
    parser.add_argument("--chatters", type=int, default=10)
    # ~2.5 answers/s from 10 learners: replies go first, so the fan-out gets the rest of the 30/s
    parser.add_argument("--pause", type=float, default=4.0, help="seconds each learner waits between rounds")
    parser.add_argument("--repo", type=Path, default=REPO, help="run the bot from this checkout")
    args = parser.parse_args()
    repo = args.repo.resolve()
    with tempfile.TemporaryDirectory() as directory:
        database_url = prepare(directory, repo, args.pushes, args.chatters)
        figures: dict[str, Any] = asyncio.run(
            measure(directory, database_url, args.pushes, args.chatters, repo, args.pause)
        )
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")


if __name__ == "__main__":
    main()
