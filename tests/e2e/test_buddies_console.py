"""Reviews and buddies in `studybuddy console` (a private chat): a real subprocess, scripted through stdin."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import run_cli


def test_a_private_review_and_buddy_without_a_group(tmp_path: Path) -> None:
    script = "/buddy\n/buddy on\n/start\n/review Set up Python & <venv>\n/review\n/review 21\n/reviews\n"
    result = run_cli(["console", "--user", "ann", "--lang", "en"], script, tmp_path / "c.db")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You have no study buddy yet. Buddies are per group: send /buddy on in a study group" in out
    assert "/buddy on works in a group chat" in out
    assert "Your review of week 1 is saved. It is private: only you can read it." in out
    assert "Your review of week 1 (" in out and "private):" in out and "Set up Python & <venv>" in out
    assert "There is no week 21: the plan has weeks 1 to 20." in out
    assert "/reviews works in a group chat" in out
    assert "Traceback" not in result.stderr
