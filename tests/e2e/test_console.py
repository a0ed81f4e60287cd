"""`studybuddy console` as a user runs it: a real subprocess, scripted through stdin."""

from __future__ import annotations

import os
import re
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
    assert "Welcome! Your 20-week plan starts on" in out and "Week 1 · Day 1" in out
    assert "21 is out of range; expected the week number (1-20)." in out and "Usage:" in out
    assert "Transformers" in out or "Transformer" in out
    assert "Traceback" not in result.stderr


def test_scripted_console_in_chinese_from_lang_env(tmp_path: Path) -> None:
    result = run_cli(
        ["console", "--user", "li"], "/start\n/today\n/timezone Mars/Olympus\n", tmp_path / "z.db", LANG="zh_CN.UTF-8"
    )
    assert result.returncode == 0, result.stderr
    assert "欢迎！你的20周学习计划从" in result.stdout and "今日任务" in result.stdout and "未知时区" in result.stdout


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
    outline = run_cli(["plan", "--lang", "en", "--outline"], "", tmp_path / "p.db").stdout
    assert outline.count("Phase ") == 4 and "W5-6 Transformers and NLP" in outline
    assert 'Read "Attention Is All You Need" closely' not in outline  # the short form: no tasks


def test_plan_command_prints_the_whole_plan(tmp_path: Path) -> None:
    whole = run_cli(["plan", "--lang", "en"], "", tmp_path / "p.db").stdout
    assert whole.count("Phase ") == 4 and "Weeks 5-6" in whole
    assert "• The self-attention mechanism" in whole  # topics
    assert 'Read "Attention Is All You Need" closely (60 min)' in whole  # daily tasks with durations
    assert "Daily tasks (3-4 hours)" in whole
    assert "Long-term learning" in whole and "Weekly fixed tasks" in whole and "Monthly tasks" in whole
    assert "Read the latest arXiv papers (follow cs.CL/cs.LG). (60 min)" in whole
    assert "Key tips" in whole and "(the source text ends here)" in whole
    zh = run_cli(["plan", "--lang", "zh"], "", tmp_path / "p.db").stdout
    for label in ("第一阶段", "第四阶段", "每日任务（3-4小时）", "项目类型", "长期持续学习", "关键提示"):
        assert label in zh
    assert "`" not in zh and " （60分钟）" not in zh


def test_version(tmp_path: Path) -> None:
    result = run_cli(["--version"], "", tmp_path / "v.db")
    assert result.returncode == 0 and re.fullmatch(r"studybuddy \d+\.\d+\.\d+\S*\n", result.stdout)


def test_db_upgrade_command(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], "", tmp_path / "u.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "u.db").exists()
    assert "revision none (empty) -> " in result.stdout
    assert "  0001: initial schema" in result.stdout and "  0002: papers" in result.stdout
    again = run_cli(["db", "upgrade"], "", tmp_path / "u.db")
    assert again.returncode == 0 and "already up to date" in again.stdout and "0001:" not in again.stdout


def test_an_unknown_default_timezone_is_refused_at_start(tmp_path: Path) -> None:
    result = run_cli(["console", "--user", "ann"], "/start\n", tmp_path / "t.db", DEFAULT_TIMEZONE="Mars/Base")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "studybuddy: DEFAULT_TIMEZONE='Mars/Base' is not a known timezone; "
        "use an IANA name such as Europe/Berlin or Asia/Shanghai."
    ]


def test_a_postgres_url_without_its_driver_names_the_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('psycopg is not installed')\n")
    result = run_cli(
        ["db", "upgrade"],
        "",
        None,
        DATABASE_URL="postgresql://bot@127.0.0.1:9/studybuddy",
        PYTHONPATH=str(tmp_path / "shadow"),
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'studybuddy[postgres]'" in lines[0] and "psycopg" in lines[0]


def test_default_database_lives_in_the_user_data_dir(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = run_cli(["console", "--user", "x", "--lang", "en"], "/start\n", None, **home)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "studybuddy" / "studybuddy.db").exists()


GARBAGE = ["\x00\x01\x02", "/" + "x" * 10_000, "'; DROP TABLE users; --"]


def test_console_survives_garbage(tmp_path: Path) -> None:
    """Each garbage line, then /help: the same console answers every /help (one process for all three)."""
    script = "".join(f"{line}\n/help\n" for line in GARBAGE)
    result = run_cli(["console", "--user", "ann", "--lang", "en"], script, tmp_path / "g.db")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.count("/help COMMAND") == len(GARBAGE), result.stdout[-2000:]


def test_the_console_keeps_log_lines_out_of_the_chat(tmp_path: Path) -> None:
    result = run_cli(["console", "--user", "q", "--lang", "en"], "/today\n", tmp_path / "q.db", unset=("LOG_LEVEL",))
    assert result.returncode == 0 and "INFO" not in result.stderr and "Send /start" in result.stdout


def test_reading_check_ins_by_button_number_and_by_command(tmp_path: Path) -> None:
    """`/paper ID` shows 👍 / 👎 / ✓ as [@1] [@2] [@3]; `@3` marks it read, `/read ID` another one."""
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
    database = tmp_path / "r.db"
    papers = parse_feed(feed.read_bytes()).papers

    async def store() -> None:
        engine = create_engine(f"sqlite:///{database}")
        await upgrade(engine)
        await SqlPaperStore(engine).upsert_papers(papers, datetime.now(UTC))
        await engine.dispose()

    asyncio.run(store())
    first, second = papers[0].arxiv_id, papers[1].arxiv_id
    script = f"/start\n/paper {first}v1\n@3\n/read {second}\n/streak\n/reading\n/read abc\n/read 9999.99999\n"
    result = run_cli(["console", "--user", "ann", "--lang", "en"], script, database)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[@1] 👍 More like this  [@2] 👎 Less like this  [@3] ✓ Read" in out
    assert out.count("This week's reading slot is checked in and today counts for your streak: 1 day.") == 2
    assert "Current streak: 1 day" in out
    assert "Reading slot: done ✓ (2 read)" in out
    assert "“abc” is not an arXiv id." in out and "I have no paper arXiv:9999.99999" in out
    assert "Traceback" not in result.stderr
