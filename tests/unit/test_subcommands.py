"""Subcommands and trailing text: `/topics add graph nets` reaches the `add` handler with only the words
it didn't use, and each subcommand has its own usage."""

from __future__ import annotations

import pytest

from bot.core.registry import ArgError, ArgSpec, Registry, Subcommand, parse_command
from bot.core.types import Reply

TEXT = ArgSpec("topic", "text", {"en": "a topic", "zh": "主题"})
COUNT = ArgSpec("n", "int", {"en": "how many", "zh": "几个"}, minimum=1, maximum=9)


async def add(ctx: object) -> Reply:
    return Reply()


async def remove(ctx: object) -> Reply:
    return Reply()


async def show(ctx: object) -> Reply:
    return Reply()


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.group(
        "topics",
        en="Topics",
        zh="主题",
        subcommands=[
            Subcommand("add", {"en": "add one", "zh": "添加"}, add, (TEXT,)),
            Subcommand("remove", {"en": "remove one", "zh": "删除"}, remove, (COUNT, TEXT)),
            Subcommand("list", {"en": "list them", "zh": "列出"}, show),
        ],
        default="list",
    )
    return registry


def parse(registry: Registry, rest: str):
    spec = registry.get("topics")
    assert spec is not None
    return parse_command(spec, rest)


def test_a_subcommand_gets_only_the_unused_words(registry: Registry) -> None:
    parsed = parse(registry, "add graph   neural nets")
    assert (parsed.handler, parsed.values, parsed.command) == (add, {"topic": "graph   neural nets"}, "topics add")
    parsed = parse(registry, "REMOVE 3 graph nets")
    assert (parsed.handler, parsed.values) == (remove, {"n": 3, "topic": "graph nets"})


def test_no_words_runs_the_default_subcommand(registry: Registry) -> None:
    parsed = parse(registry, "   ")
    assert (parsed.handler, parsed.values, parsed.command) == (show, {}, "topics list")


def test_an_unknown_subcommand_names_the_choices(registry: Registry) -> None:
    with pytest.raises(ArgError) as refused:
        parse(registry, "frobnicate x")
    assert refused.value.message == "Choose one of: {choices}." and refused.value.command is None
    assert dict(refused.value.values) == {"choices": "add, remove, list"}


def test_a_refused_argument_points_at_its_subcommand(registry: Registry) -> None:
    with pytest.raises(ArgError) as refused:
        parse(registry, "remove many")
    assert refused.value.command == "topics remove"
    with pytest.raises(ArgError) as extra:
        parse(registry, "list extra")
    assert extra.value.command == "topics list"
    assert dict(extra.value.values) == {"command": "/topics list"}


def test_usage_per_subcommand_and_for_the_whole_command(registry: Registry) -> None:
    assert registry.usage("topics add", "en") == "/topics add [topic] — add one\n  [topic]: a topic"
    whole = registry.usage("topics", "zh")
    assert whole is not None and whole.splitlines()[0] == "/topics add [topic] — 添加"
    assert "/topics list — 列出" in whole
    assert registry.usage("nosuch", "en") is None


def test_a_group_needs_known_subcommands() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match="default subcommand"):
        registry.group("x", en="x", zh="x", subcommands=[Subcommand("a", {"en": "a", "zh": "a"}, add)], default="b")
    with pytest.raises(ValueError, match="at least one"):
        registry.group("y", en="y", zh="y", subcommands=[])
