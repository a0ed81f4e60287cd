"""One registry defines every command: its words, typed arguments and help in both languages.

Adapters generate their command menus (Telegram's setMyCommands, Discord's slash commands) from it and
the dispatcher validates arguments with it, so the same words work the same way on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import available_timezones

from bot.core.types import Lang, Reply

if TYPE_CHECKING:
    from bot.core.context import Context

ArgKind = Literal["int", "ints", "date", "choice", "time", "timezone", "weekday", "text"]
Scope = Literal["any", "private", "group"]
Handler = Callable[["Context"], Awaitable[Reply | Sequence[Reply]]]
Bilingual = Mapping[Lang, str]

WEEKDAYS_EN = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_INT = re.compile(r"^[+-]?\d{1,9}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class ArgSpec:
    name: str
    kind: ArgKind
    help: Bilingual
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    allow_off: bool = False
    max_length: int = 200
    max_items: int = 10
    label: Bilingual | None = None  # the argument in words, for refusals: "the week number (1-20)"

    def words(self) -> Bilingual:
        """What a refusal calls this argument: its own label, or one built from its kind and limits."""
        if self.label is not None:
            return self.label
        low, high = self.minimum, self.maximum
        span = (
            {"en": f" ({low}-{high})", "zh": f"（{low} 到 {high}）"} if low is not None and high is not None else None
        )
        off = {"en": ", or off", "zh": "，或 off"} if self.allow_off else {"en": "", "zh": ""}
        choices: Bilingual = {"en": " or ".join(self.choices), "zh": " 或 ".join(self.choices)}
        by_kind: dict[str, Bilingual] = {
            "int": {"en": "a number" + (span or {}).get("en", ""), "zh": "数字" + (span or {}).get("zh", "")},
            "ints": {"en": "numbers" + (span or {}).get("en", ""), "zh": "数字" + (span or {}).get("zh", "")},
            "date": {"en": "a date (YYYY-MM-DD)", "zh": "日期（YYYY-MM-DD）"},
            "time": {"en": "a time (HH:MM)" + off["en"], "zh": "时间（HH:MM）" + off["zh"]},
            "timezone": {"en": "a timezone such as Asia/Shanghai", "zh": "时区，如 Asia/Shanghai"},
            "weekday": {"en": "a weekday (mon ... sun)", "zh": "星期几（周一……周日）"},
            "choice": choices,
        }
        return by_kind.get(self.kind, self.help)

    def placeholder(self) -> str:
        shown = {
            "date": "YYYY-MM-DD",
            "time": "HH:MM" + ("|off" if self.allow_off else ""),
            "timezone": "Area/City",
            "choice": "|".join(self.choices),
            "weekday": "mon..sun",
            "ints": f"{self.name} ...",
        }.get(self.kind, self.name)
        return f"<{shown}>" if self.required else f"[{shown}]"


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One action word of a command (`/topics add`), with its own arguments, handler and usage."""

    name: str
    help: Bilingual
    handler: Handler
    args: tuple[ArgSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    help: Bilingual
    handler: Handler | None
    args: tuple[ArgSpec, ...] = ()
    scope: Scope = "any"
    group_admin: bool = False
    menu: bool = True
    subcommands: tuple[Subcommand, ...] = ()
    default_subcommand: str | None = None  # what a bare `/topics` runs

    def usage(self, lang: Lang) -> str:
        if self.subcommands:
            return "\n".join(self.subcommand_usage(sub, lang) for sub in self.subcommands)
        head = " ".join([f"/{self.name}", *(a.placeholder() for a in self.args)])
        details = [f"  {a.placeholder()}: {a.help[lang]}" for a in self.args]
        return "\n".join([head, *details])

    def subcommand_usage(self, sub: Subcommand, lang: Lang) -> str:
        head = " ".join([f"/{self.name} {sub.name}", *(a.placeholder() for a in sub.args)])
        details = [f"  {a.placeholder()}: {a.help[lang]}" for a in sub.args]
        return "\n".join([f"{head} — {sub.help[lang]}", *details])

    def subcommand(self, name: str) -> Subcommand | None:
        return next((sub for sub in self.subcommands if sub.name == name), None)

    @property
    def subcommand_names(self) -> tuple[str, ...]:
        return tuple(sub.name for sub in self.subcommands)


@dataclass(frozen=True, slots=True)
class ArgError(Exception):
    """Why an argument was refused: a message id for i18n plus its values."""

    message: str
    values: tuple[tuple[str, Any], ...] = ()
    command: str | None = None  # the subcommand whose usage explains it, e.g. `topics add`

    def values_in(self, lang: Lang) -> dict[str, Any]:
        """The values to format the message with; an argument's words (a Bilingual) in the reader's language."""
        return {key: value[lang] if isinstance(value, Mapping) else value for key, value in self.values}


ActionHandler = Callable[["Context", str], Awaitable[Reply | Sequence[Reply]]]


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}
        self._actions: dict[str, ActionHandler] = {}
        self._features: dict[str, str] = {}
        self._registering: str | None = None

    @contextmanager
    def registering(self, feature: str) -> Iterator[None]:
        """Commands registered inside belong to `feature`, so /help can group them by what they are for."""
        previous, self._registering = self._registering, feature
        try:
            yield
        finally:
            self._registering = previous

    def feature_of(self, name: str) -> str | None:
        return self._features.get(name)

    def _add(self, spec: CommandSpec) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", spec.name):
            raise ValueError(f"command names must be lowercase words usable on every platform: {spec.name!r}")
        if spec.name in self._commands:
            raise ValueError(f"command /{spec.name} registered twice")
        self._commands[spec.name] = spec
        if self._registering is not None:
            self._features[spec.name] = self._registering

    def command(
        self,
        name: str,
        *,
        en: str,
        zh: str,
        args: Sequence[ArgSpec] = (),
        scope: Scope = "any",
        group_admin: bool = False,
        menu: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Register a top-level handler: `registry.command("today", en=..., zh=...)(today)`."""

        def decorate(handler: Handler) -> Handler:
            self._add(CommandSpec(name, {"en": en, "zh": zh}, handler, tuple(args), scope, group_admin, menu))
            return handler

        return decorate

    def group(
        self,
        name: str,
        *,
        en: str,
        zh: str,
        subcommands: Sequence[Subcommand],
        default: str | None = None,
        scope: Scope = "any",
        group_admin: bool = False,
        menu: bool = True,
    ) -> None:
        """A command made of action words (`/topics add|remove|list`), each with its own arguments."""
        if not subcommands:
            raise ValueError(f"/{name} needs at least one subcommand")
        if default is not None and default not in {s.name for s in subcommands}:
            raise ValueError(f"/{name}: default subcommand {default!r} is not one of its subcommands")
        self._add(
            CommandSpec(
                name,
                {"en": en, "zh": zh},
                None,
                (),
                scope,
                group_admin,
                menu,
                tuple(subcommands),
                default,
            )
        )

    def action(self, prefix: str) -> Callable[[ActionHandler], ActionHandler]:
        """Register a button handler for callback data `prefix:payload`."""

        def decorate(handler: ActionHandler) -> ActionHandler:
            if prefix in self._actions:
                raise ValueError(f"button action {prefix!r} registered twice")
            self._actions[prefix] = handler
            return handler

        return decorate

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def usage(self, command: str, lang: Lang) -> str | None:
        """The usage of `topics` or of one subcommand, `topics add`."""
        name, _sep, sub_name = command.partition(" ")
        spec = self._commands.get(name)
        if spec is None:
            return None
        sub = spec.subcommand(sub_name) if sub_name else None
        return spec.subcommand_usage(sub, lang) if sub is not None else spec.usage(lang)

    def action_for(self, data: str) -> tuple[ActionHandler, str] | None:
        prefix, _, payload = data.partition(":")
        handler = self._actions.get(prefix)
        return (handler, payload) if handler else None

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)


@cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_weekday(raw: str) -> int | None:
    token = raw.strip().lower()
    for table in (WEEKDAYS_EN, WEEKDAYS_ZH):
        for index, name in enumerate(table):
            if token == name or (table is WEEKDAYS_EN and len(token) >= 3 and name.startswith(token[:3])):
                return index
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return full.index(token) if token in full else None


def parse_arg(spec: ArgSpec, raw: str) -> Any:
    """Convert one raw token to its typed value or raise ArgError."""
    if spec.kind == "int":
        if not _INT.match(raw):
            raise ArgError("{value} is not a whole number; expected {arg}.", (("value", raw), ("arg", spec.words())))
        value = int(raw)
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise ArgError("{value} is out of range; expected {arg}.", (("value", raw), ("arg", spec.words())))
        return value
    if spec.kind == "date":
        try:
            if not _DATE.match(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise ArgError(
                "{value} is not a valid date; expected {arg}.", (("value", raw), ("arg", spec.words()))
            ) from None
    if spec.kind == "choice":
        if raw.lower() not in spec.choices:
            raise ArgError(
                "{value} is not one of the choices; expected {arg}.", (("value", raw), ("arg", spec.words()))
            )
        return raw.lower()
    if spec.kind == "time":
        if spec.allow_off and raw.lower() == "off":
            return None
        match = _TIME.match(raw)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ArgError(
                "{value} is not a time; expected {arg}, in 24-hour HH:MM such as 07:30.",
                (("value", raw), ("arg", spec.words())),
            )
        return time(int(match[1]), int(match[2]))
    if spec.kind == "timezone":
        name = _timezones().get(raw.lower())
        if name is None:
            raise ArgError("Unknown timezone {value}; use an IANA name such as Asia/Shanghai.", (("value", raw),))
        return name
    if spec.kind == "weekday":
        day = parse_weekday(raw)
        if day is None:
            raise ArgError("{value} is not a weekday; expected {arg}.", (("value", raw), ("arg", spec.words())))
        return day
    if len(raw) > spec.max_length:
        raise ArgError("That is too long: at most {limit} characters.", (("limit", spec.max_length),))
    return raw


_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A command line matched to its spec: which handler runs, with which values, under which name."""

    handler: Handler
    values: dict[str, Any]
    command: str  # `topics add`: what a usage line is about


def split_tokens(rest: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens with where each starts, so a text argument keeps the line's own spacing."""
    return [(m.group(), m.start()) for m in _WORD.finditer(rest)]


def parse_command(spec: CommandSpec, rest: str) -> Parsed:
    """Pick the subcommand (if the command has any), then match the remaining tokens to its arguments."""
    tokens = split_tokens(rest)
    if not spec.subcommands:
        assert spec.handler is not None
        return Parsed(spec.handler, match_args(spec.args, tokens, rest, f"/{spec.name}"), spec.name)
    names = spec.subcommand_names
    if tokens:
        word = tokens[0][0].lower()
        sub = spec.subcommand(word)
        if sub is None:
            raise ArgError("Choose one of: {choices}.", (("choices", ", ".join(names)),))
        tokens = tokens[1:]
    elif spec.default_subcommand is not None:
        sub = spec.subcommand(spec.default_subcommand)
    else:
        raise ArgError("Choose one of: {choices}.", (("choices", ", ".join(names)),))
    assert sub is not None
    label = f"{spec.name} {sub.name}"
    try:
        values = match_args(sub.args, tokens, rest, f"/{label}")
    except ArgError as error:
        raise ArgError(error.message, error.values, label) from None
    return Parsed(sub.handler, values, label)


def parse_args(spec: CommandSpec, tokens: Sequence[str], rest: str) -> dict[str, Any]:
    """Match a plain command's tokens to its arguments (kept for callers that already split the line)."""
    return match_args(spec.args, split_tokens(rest), rest, f"/{spec.name}")


def match_args(args: Sequence[ArgSpec], tokens: Sequence[tuple[str, int]], rest: str, label: str) -> dict[str, Any]:
    """Match tokens to arguments; a trailing `text` argument takes only the tokens nothing else used."""
    values: dict[str, Any] = {}
    position = 0
    for arg in args:
        if arg.kind == "text":
            text = rest[tokens[position][1] :].strip() if position < len(tokens) else ""
            if text:
                values[arg.name] = parse_arg(arg, text)
            elif arg.required:
                raise ArgError("Missing {arg}.", (("arg", arg.words()),))
            position = len(tokens)
            break
        if arg.kind == "ints":
            items = [token for token, _start in tokens[position:]]
            if len(items) > arg.max_items:
                raise ArgError(
                    "Too many values for {arg}: at most {limit}.", (("arg", arg.words()), ("limit", arg.max_items))
                )
            one = ArgSpec(arg.name, "int", arg.help, minimum=arg.minimum, maximum=arg.maximum, label=arg.words())
            values[arg.name] = sorted({parse_arg(one, t) for t in items})
            position = len(tokens)
            break
        if position < len(tokens):
            values[arg.name] = parse_arg(arg, tokens[position][0])
            position += 1
        elif arg.required:
            raise ArgError("Missing {arg}.", (("arg", arg.words()),))
    if position < len(tokens):
        if not args:
            raise ArgError("{command} takes nothing after it.", (("command", label),))
        raise ArgError("Too many arguments.")
    return values
