from datetime import date, time

import pytest

from bot.app import FEATURES, build_registry
from bot.core.registry import ArgError, parse_args

REGISTRY = build_registry(FEATURES)


def parse(command: str, line: str) -> dict:
    spec = REGISTRY.get(command)
    assert spec is not None
    return parse_args(spec, line.split(), line)


def test_every_command_has_help_in_both_languages() -> None:
    names = {spec.name for spec in REGISTRY}
    assert {
        "start",
        "today",
        "week",
        "plan",
        "goto",
        "pause",
        "resume",
        "lang",
        "timezone",
        "settings",
        "help",
    } <= names
    for spec in REGISTRY:
        assert spec.help["en"] and spec.help["zh"], spec.name
        for arg in spec.args:
            assert arg.help["en"] and arg.help["zh"], (spec.name, arg.name)


def test_typed_arguments() -> None:
    assert parse("goto", "7") == {"N": 7}
    assert parse("start", "2026-01-05") == {"date": date(2026, 1, 5)}
    assert parse("start", "") == {}
    assert parse("lang", "ZH") == {"language": "zh"}
    assert parse("timezone", "europe/berlin") == {"zone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("command", "line", "message"),
    [
        ("goto", "0", "between"),
        ("goto", "21", "between"),
        ("goto", "abc", "whole number"),
        ("goto", "", "Missing"),
        ("goto", "3 4", "Too many"),
        ("start", "2026-13-45", "valid date"),
        ("start", "2026-2-3", "valid date"),
        ("timezone", "Mars/Olympus", "Unknown timezone"),
        ("timezone", "'; DROP TABLE users;--", "Unknown timezone"),
        ("lang", "fr", "Choose one of"),
    ],
)
def test_bad_arguments_raise_arg_error(command: str, line: str, message: str) -> None:
    with pytest.raises(ArgError) as error:
        parse(command, line)
    assert message in error.value.message


def test_usage_line_in_both_languages() -> None:
    spec = REGISTRY.get("goto")
    assert spec is not None
    assert spec.usage("en").startswith("/goto <N>")
    assert "1 到 20" in spec.usage("zh")


def test_time_argument() -> None:
    from bot.core.registry import ArgSpec, parse_arg

    spec = ArgSpec("time", "time", {"en": "", "zh": ""}, allow_off=True)
    assert parse_arg(spec, "07:30") == time(7, 30)
    assert parse_arg(spec, "off") is None
    for bad in ("25:00", "7pm", "12:60", "1230"):
        with pytest.raises(ArgError):
            parse_arg(spec, bad)
