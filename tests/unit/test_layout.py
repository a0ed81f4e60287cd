"""The house by feature, checked: who may import what.

Only the adapters and the bootstrap touch platform libraries, SQLAlchemy or `storage`; the kernel
(`bot/core`) imports no feature; every feature package has its commands, and the bootstrap lists it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bot.app import FEATURES
from tests.support import REPO

BOT = REPO / "bot"
RESTRICTED = ("telegram", "discord", "sqlalchemy", "storage")
FEATURE_PACKAGES = ("plan", "delivery", "papers", "accountability", "buddies", "calendar", "dashboard")


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in a file, including ones inside functions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def top(module: str) -> str:
    return module.split(".", 1)[0]


def modules(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def test_only_adapters_and_the_bootstrap_import_platforms_or_the_database() -> None:
    allowed = (BOT / "adapters", BOT / "app.py")
    violations = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in modules(BOT)
        if not any(path == a or a in path.parents for a in allowed)
        for line, module in imports(path)
        if top(module) in RESTRICTED
    ]
    assert violations == []


def test_the_kernel_imports_no_feature() -> None:
    features = tuple(f"bot.{name}" for name in (*FEATURE_PACKAGES, "adapters", "app", "cli", "ops"))
    violations = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in modules(BOT / "core")
        for line, module in imports(path)
        if module in features or module.startswith(tuple(f + "." for f in features))
    ]
    assert violations == []


def test_the_walk_finds_a_violation(tmp_path: Path) -> None:
    """The checks above can fail: a planted import is found."""
    planted = tmp_path / "leak.py"
    planted.write_text("def f():\n    from sqlalchemy import select\n    import storage.db\n", encoding="utf-8")
    assert [module for _line, module in imports(planted) if top(module) in RESTRICTED] == ["sqlalchemy", "storage.db"]


def test_every_feature_package_is_in_the_bootstrap_with_its_commands() -> None:
    for name in FEATURE_PACKAGES:
        assert (BOT / name / "__init__.py").exists(), name
    names = [feature.name for feature in FEATURES]
    assert len(names) == len(set(names))
    assert {"plan", "reminders", "papers", "accountability"} <= set(names)
    kinds = [kind.name for feature in FEATURES for kind in feature.push_kinds]
    assert sorted(kinds) == sorted(["daily", "group_daily", "reading", "group_reading", "nudge", "recap", "buddies"])


def test_no_issue_numbers_in_code() -> None:
    import re

    pattern = re.compile(r"[Ii]ssue #?\d+")
    hits = [
        f"{path.relative_to(REPO)}:{n}"
        for root in (BOT, REPO / "storage")
        for path in modules(root)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert hits == []
