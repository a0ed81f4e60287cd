"""A language chosen with /lang survives restarts of the console: LANG and --lang only pick a new user's."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import run_cli


def test_lang_choice_survives_a_restart_with_another_locale(tmp_path: Path) -> None:
    database = tmp_path / "l.db"
    first = run_cli(["console", "--user", "ann"], "/lang zh\n", database, LANG="en_US.UTF-8")
    assert first.returncode == 0, first.stderr
    again = run_cli(["console", "--user", "ann"], "/today\n", database, LANG="en_US.UTF-8")
    assert "你还没有开始学习计划" in again.stdout  # the stored choice, not LANG
    flagged = run_cli(["console", "--user", "ann", "--lang", "en"], "/today\n", database)
    assert "你还没有开始学习计划" in flagged.stdout  # --lang is a default too: only /lang changes a choice
    back = run_cli(["console", "--user", "ann"], "/lang en\n/today\n", database, LANG="zh_CN.UTF-8")
    assert "You haven't started the plan yet" in back.stdout


def test_lang_picks_a_new_users_language_until_they_choose(tmp_path: Path) -> None:
    database = tmp_path / "n.db"
    assert (
        "你还没有开始学习计划" in run_cli(["console", "--user", "li"], "/today\n", database, LANG="zh_CN.UTF-8").stdout
    )
    switched = run_cli(["console", "--user", "li", "--lang", "en"], "/today\n", database)
    assert "You haven't started the plan yet" in switched.stdout  # never chose: the flag still decides
