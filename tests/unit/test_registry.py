from datetime import date, time

import pytest

from bot.app import FEATURES, build_registry
from bot.core.registry import ArgError, parse_args
from bot.i18n import translator

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
    assert parse("timezone", "Berlin") == {"zone": "Berlin"}  # a place or a zone: /timezone resolves it


@pytest.mark.parametrize(
    ("command", "line", "message"),
    [
        ("goto", "0", "0 is out of range; expected the week number (1-20)."),
        ("goto", "21", "21 is out of range; expected the week number (1-20)."),
        ("goto", "abc", "abc is not a whole number; expected the week number (1-20)."),
        ("goto", "", "Missing the week number (1-20)."),
        ("goto", "3 4", "Too many arguments."),
        ("start", "2026-13-45", "2026-13-45 is not a valid date; expected a date (YYYY-MM-DD)."),
        ("start", "2026-2-3", "2026-2-3 is not a valid date; expected a date (YYYY-MM-DD)."),
        ("lang", "fr", "fr is not one of the choices; expected zh or en."),
        ("readingday", "someday", "someday is not a weekday; expected a weekday (mon ... sun)."),
        ("remind", "7pm", "7pm is not a time; expected a time (HH:MM) or off, in 24-hour HH:MM such as 07:30."),
    ],
)
def test_bad_arguments_raise_arg_error(command: str, line: str, message: str) -> None:
    with pytest.raises(ArgError) as error:
        parse(command, line)
    assert message in error.value.message.format(**error.value.values_in("en"))


def test_argument_errors_name_the_argument_in_words_in_both_languages() -> None:
    with pytest.raises(ArgError) as error:
        parse("goto", "")
    assert translator("en")(error.value.message, **error.value.values_in("en")) == "Missing the week number (1-20)."
    assert translator("zh")(error.value.message, **error.value.values_in("zh")) == "缺少周数（1 到 20）。"


def test_every_registered_argument_has_words_for_refusals() -> None:
    """No refusal falls back to a bare parameter name such as "N" or "switch"."""
    for spec in REGISTRY:
        args = [*spec.args, *(arg for sub in spec.subcommands for arg in sub.args)]
        for arg in args:
            words = arg.words()
            if arg.kind != "choice":  # a choice is named by its words ("zh or en")
                assert words["en"] != arg.name and words["zh"] != arg.name, (spec.name, arg.name)
            assert words["en"] and words["zh"], (spec.name, arg.name)


def test_the_registry_knows_which_feature_registered_each_command() -> None:
    assert REGISTRY.feature_of("goto") == "plan"
    assert REGISTRY.feature_of("remind") == "reminders"
    assert REGISTRY.feature_of("papers") == "papers"
    assert REGISTRY.feature_of("done") == "accountability"
    assert REGISTRY.feature_of("help") == "help"


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
