"""Every third-party module the project imports comes from a distribution it declares.

A package that arrives only as another's dependency (yarl through aiohttp) can vanish with that package's
next release; declaring it makes the import ours to keep.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.support import REPO

FIRST_PARTY = {"bot", "storage", "migrations", "tests", "bench"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalise(match.group(1))


def declared() -> dict[str, set[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {"runtime": {requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        out[extra] = {requirement_name(r) for r in requirements}
    return out


def third_party_imports(root: Path) -> dict[str, str]:
    """Top-level module -> first file importing it, for every non-stdlib, non-first-party import."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                module = name.split(".", 1)[0]
                if module not in sys.stdlib_module_names and module not in FIRST_PARTY:
                    found.setdefault(module, str(path.relative_to(REPO)))
    return found


def undeclared(roots: list[str], allowed: set[str]) -> list[str]:
    distributions = packages_distributions()
    missing = []
    for root in roots:
        for module, where in third_party_imports(REPO / root).items():
            names = {normalise(d) for d in distributions.get(module, [module])}
            if not names & allowed:
                missing.append(f"{module} ({where}) from {sorted(names)}")
    return missing


def test_the_bot_imports_only_declared_runtime_dependencies() -> None:
    deps = declared()
    assert undeclared(["bot", "storage", "migrations"], deps["runtime"] | deps["postgres"]) == []


def test_tests_and_benchmarks_import_only_declared_dependencies() -> None:
    deps = declared()
    assert undeclared(["tests", "bench"], deps["runtime"] | deps["postgres"] | deps["test"]) == []


def test_the_check_notices_an_undeclared_import() -> None:
    assert "apscheduler" in third_party_imports(REPO / "bot")  # imported directly by the scheduler
    assert any(m.startswith("apscheduler ") for m in undeclared(["bot"], {"nothing"}))
