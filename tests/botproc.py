"""Running `studybuddy run` as a real subprocess from tests: environment, start, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.support import REPO


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no tokens but ours, no proxies for loopback, a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        LOG_LEVEL="DEBUG",  # the noisiest setting: the token must still never appear
        PYTHONPATH=str(REPO),
        ARXIV_INGEST="false",  # tests never reach arxiv.org; the ingest job has its own loopback tests
    )
    env.update(extra)
    return env


async def start_bot(
    tmp_path: Path, env: dict[str, str], *command: str, stdin: int | None = None
) -> asyncio.subprocess.Process:
    """`python -m bot run` (or another subcommand) in `tmp_path`, with pipes for its output (and for its
    input with `stdin=asyncio.subprocess.PIPE`, e.g. a scripted console)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *(command or ("run",)),
        cwd=tmp_path,  # no stray .env from the repo
        env=env,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    code = proc.returncode
    assert code is not None
    return code, out.decode() + err.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
