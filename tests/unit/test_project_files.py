"""The README's promises: its second command is what CI runs, and the documented files exist."""

import re

from tests.support import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README.md must open with a sh block of the set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_console_and_test_commands() -> None:
    console, tests = readme_commands()[:2]
    assert "studybuddy console" in console
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert readme_commands()[1].strip() in ci_lines


def test_ci_runs_linters_and_the_type_checker_before_the_tests() -> None:
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    tests = lines.index(readme_commands()[1].strip())
    for check in ("python3 -m ruff check .", "python3 -m ruff format --check .", "python3 -m mypy"):
        assert check in lines[:tests], check


def test_every_documented_env_var_is_a_setting() -> None:
    from bot.config import Settings

    text = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)`", text, re.M))
    documented |= {v for pair in re.findall(r"^\| `([A-Z_]+)` / `([A-Z_]+)`", text, re.M) for v in pair}
    fields = {name.upper() for name in Settings.model_fields}
    assert documented and documented <= fields
