"""`studybuddy console` at a real pseudo-terminal (line editing, history, Ctrl-C, Ctrl-D) and on pipes that
misbehave (a reader that leaves early, bytes that aren't UTF-8)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.e2e.test_console import run_cli
from tests.support import REPO

PROMPT = "studybuddy>"


def console_env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN") and k != "DATABASE_URL"}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'tty.db'}",
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",  # the pty answers no cursor-position requests; don't wait for them
        PYTHONIOENCODING="utf-8",
    )
    environment.pop("LOG_LEVEL", None)
    return environment


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[pexpect.spawn]:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console", "--user", "ann", "--lang", "zh"],
        cwd=str(REPO),
        env=console_env(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 140),
    )
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_line_editing_history_and_ctrl_c_at_a_real_terminal(terminal: pexpect.spawn) -> None:
    terminal.expect("Ctrl-C 清空当前行，Ctrl-D 退出。")  # the banner speaks the user's language
    terminal.expect(PROMPT)
    terminal.send("/weex")
    terminal.send("\x7fk 3\r")  # backspace fixes the typo: /week 3
    terminal.expect("第3周")
    terminal.expect("深度学习框架入门")
    terminal.expect(PROMPT)
    terminal.send("\x1b[A")  # arrow up brings the last line back
    terminal.expect("/week 3")
    terminal.send("\x03")  # Ctrl-C clears it ...
    terminal.send("/help\r")  # ... so this runs alone, not "/week 3/help"
    terminal.expect("/help 命令名 可查看某个命令的用法。")
    terminal.expect(PROMPT)
    terminal.send("\x03")  # at an empty prompt: a hint first
    terminal.expect("再按一次 Ctrl-C（或按 Ctrl-D）退出。")
    terminal.send("\x03")  # the second one quits, cleanly
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0 and "Traceback" not in (terminal.before or "")


def test_ctrl_d_quits_and_history_survives_a_restart(terminal: pexpect.spawn, tmp_path: Path) -> None:
    terminal.expect(PROMPT)
    terminal.send("/week 7\r")
    terminal.expect("大模型训练技术")
    terminal.expect(PROMPT)
    terminal.send("\x04")
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0
    again = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "console", "--user", "ann", "--lang", "en"],
        cwd=str(REPO),
        env=console_env(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 140),
    )
    try:
        again.expect("Ctrl-C clears the line, Ctrl-D quits.")
        again.expect(PROMPT)
        again.send("\x1b[A\r")
        again.expect("Large-Model Training Techniques")
        again.send("\x04")
        again.expect(pexpect.EOF)
    finally:
        again.close(force=True)


def test_a_reader_that_leaves_early_ends_the_console_quietly(tmp_path: Path) -> None:
    environment = console_env(tmp_path)
    script = "/start\n" + "/today\n/help\n" * 40
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--user", "ann", "--lang", "en"],
        cwd=REPO,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        process.stdin.write(script.encode())
        process.stdin.close()
        for _ in range(3):  # `| head -3`
            process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0
    assert errors == ""


INVALID_UTF8 = [b"/topics add \xc3\x28", b"/topics add \xed\xa0\x80", b"/goto \xff", b"\xc3/help"]


def test_invalid_utf8_gets_the_normal_refusal(tmp_path: Path) -> None:
    """Each undecodable line, then /topics list, in one console: one refusal per bad line, and the console
    still answers the next command every time."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "ann", "--lang", "en"],
        input=b"".join(line + b"\n/topics list\n" for line in INVALID_UTF8),
        capture_output=True,
        cwd=REPO,
        env=console_env(tmp_path),
        timeout=60,
        check=False,
    )
    out, errors = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0 and errors == ""
    assert "something went wrong" not in out
    refusals = ("didn't come through as text", "Unknown command", "I understand commands. Send /help")
    assert sum(out.count(refusal) for refusal in refusals) == len(INVALID_UTF8), out
    assert out.lower().count("no topics") == len(INVALID_UTF8), out


def test_files_for_stats_and_export_get_per_user_names(tmp_path: Path) -> None:
    database = tmp_path / "files.db"
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    for user in ("ann", "bob"):
        result = run_cli(["console", "--user", user, "--lang", "en"], "/start\n/export\n/stats\n", database, **home)
        assert result.returncode == 0, result.stderr
    files = sorted(path.name for path in (tmp_path / "data" / "studybuddy" / "files").iterdir())
    assert any(name.startswith("ann-") and name.endswith(".ics") for name in files)
    assert any(name.startswith("bob-") and name.endswith(".ics") for name in files)
    assert any(name.startswith("ann-") and name.endswith(".png") for name in files)
    assert len(files) == len(set(files)) == 4


def test_no_library_log_line_below_warning_reaches_the_chat(tmp_path: Path) -> None:
    """Even with LOG_LEVEL=DEBUG, and with papers to rank (bm25s sets its own logger to DEBUG)."""
    import asyncio
    from datetime import UTC, datetime

    from bot.papers.feed import parse_feed
    from storage.db import create_engine
    from storage.migrate import upgrade
    from storage.papers import SqlPaperStore
    from tests.support import SHARED

    feed = SHARED / "fixtures/arxiv/rss_cs.CL_pub2026-08-20_weekday.xml"
    if not feed.is_file():
        pytest.skip(f"shared arXiv fixture missing: {feed}")
    database = tmp_path / "tty.db"

    async def store() -> None:
        engine = create_engine(f"sqlite:///{database}")
        await upgrade(engine)
        await SqlPaperStore(engine).upsert_papers(parse_feed(feed.read_bytes()).papers, datetime.now(UTC))
        await engine.dispose()

    asyncio.run(store())
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "q", "--lang", "en"],
        input="/start\n/papers\n/papers 3\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**console_env(tmp_path), "LOG_LEVEL": "DEBUG"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "arXiv" in result.stdout
    for level in ("DEBUG", "INFO"):
        assert level not in result.stderr and level not in result.stdout
