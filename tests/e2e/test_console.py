"""`studybuddy console` as a user runs it: a real subprocess, scripted through stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO


def run_cli(
    args: list[str], stdin: str, database: Path | None, *, unset: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with no tokens; `database=None` keeps the default (the user data dir)."""
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN") and k != "DATABASE_URL"}
    environment.update(LOG_LEVEL="WARNING", PYTHONIOENCODING="utf-8", **env)
    if database is not None:
        environment["DATABASE_URL"] = f"sqlite:///{database}"
    for name in unset:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=60,
        check=False,
    )


def test_scripted_console_in_english(tmp_path: Path) -> None:
    result = run_cli(
        ["console", "--user", "ann", "--lang", "en"], "/start\n/today\n/goto 21\n/week 6\n", tmp_path / "a.db"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Welcome, ann!" in out and "Week 1 · Day 1" in out
    assert "N must be between 1 and 20" in out and "Usage:" in out
    assert "Transformers" in out or "Transformer" in out
    assert "Traceback" not in result.stderr


def test_scripted_console_in_chinese_from_lang_env(tmp_path: Path) -> None:
    result = run_cli(
        ["console", "--user", "li"], "/start\n/today\n/timezone Mars/Olympus\n", tmp_path / "z.db", LANG="zh_CN.UTF-8"
    )
    assert result.returncode == 0, result.stderr
    assert "欢迎，li！" in result.stdout and "今日任务" in result.stdout and "未知时区" in result.stdout


def test_a_second_process_sees_the_first_ones_enrolment(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    first = run_cli(["console", "--user", "ann", "--lang", "en"], "/start 2026-01-05\n", database)
    assert first.returncode == 0, first.stderr
    second = run_cli(["console", "--user", "ann", "--lang", "en"], "/start\n/settings\n", database)
    assert "already on the plan (since 2026-01-05)" in second.stdout
    assert "Plan start: 2026-01-05" in second.stdout


def test_buttons_are_pressed_by_number(tmp_path: Path) -> None:
    result = run_cli(["console", "--user", "ann", "--lang", "en"], "/week 3\n@2\n@9\n", tmp_path / "b.db")
    assert "[@2] Week 4 ▶" in result.stdout
    assert "Week 4\n" in result.stdout
    assert "This button no longer works" in result.stdout


def test_plan_command_prints_the_plan(tmp_path: Path) -> None:
    result = run_cli(["plan", "--lang", "zh", "--week", "19"], "", tmp_path / "p.db")
    assert result.returncode == 0 and "从零训练一个小型大模型（1B参数）" in result.stdout
    assert run_cli(["plan", "--week", "0"], "", tmp_path / "p.db").returncode == 2
    overview = run_cli(["plan", "--lang", "en"], "", tmp_path / "p.db").stdout
    assert overview.count("Phase ") == 4


def test_db_upgrade_command(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], "", tmp_path / "u.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "u.db").exists()


def test_default_database_lives_in_the_user_data_dir(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = run_cli(["console", "--user", "x", "--lang", "en"], "/start\n", None, **home)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "studybuddy" / "studybuddy.db").exists()


@pytest.mark.parametrize("line", ["\x00\x01\x02", "/" + "x" * 10_000, "'; DROP TABLE users; --"])
def test_console_survives_garbage(tmp_path: Path, line: str) -> None:
    result = run_cli(["console", "--user", "ann", "--lang", "en"], f"{line}\n/help\n", tmp_path / "g.db")
    assert result.returncode == 0 and "/today" in result.stdout and "Traceback" not in result.stderr


def test_the_console_keeps_log_lines_out_of_the_chat(tmp_path: Path) -> None:
    result = run_cli(["console", "--user", "q", "--lang", "en"], "/today\n", tmp_path / "q.db", unset=("LOG_LEVEL",))
    assert result.returncode == 0 and "INFO" not in result.stderr and "Send /start" in result.stdout
