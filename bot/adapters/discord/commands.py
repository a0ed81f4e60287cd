"""Discord slash commands generated from the core registry, so Discord offers exactly the core's words.

Options are typed for Discord's UI (integer ranges, choices, timezone autocomplete), but the values are
turned back into the plain command line `/name arg ...` and validated by the core, so Discord, Telegram
and the console accept and refuse exactly the same input.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, Optional
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.core.registry import ArgSpec, Bilingual, CommandSpec, Registry

RunCommand = Callable[[discord.Interaction, str], Awaitable[None]]

DESCRIPTION_LIMIT = 100
MAX_CHOICES = 25
CLAIMED = "studybuddy_claimed"
# Discord option names must be lowercase; a bare "n" reads badly in the client (/week number:7).
OPTION_NAMES: Mapping[str, str] = {"N": "number"}
POPULAR_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def claim(interaction: discord.Interaction) -> None:
    """Mark an interaction as answered by our code, so the adapter's safety net leaves it alone."""
    interaction.extras[CLAIMED] = True


def is_claimed(interaction: discord.Interaction) -> bool:
    return bool(interaction.extras.get(CLAIMED))


def option_name(arg: ArgSpec) -> str:
    return OPTION_NAMES.get(arg.name, arg.name.lower())


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _described(help_text: Bilingual) -> app_commands.locale_str:
    """English is the default description; the Chinese one rides along for the translator."""
    return app_commands.locale_str(_short(help_text["en"]), zh=_short(help_text["zh"]))


class RegistryTranslator(app_commands.Translator):
    """Supplies the registry's Chinese descriptions for Discord's zh-CN and zh-TW locales; names stay English."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale in (discord.Locale.chinese, discord.Locale.taiwan_chinese):
            return string.extras.get("zh")
        return None


@cache
def _sorted_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Zones starting with what was typed (whole name or city part), then ones containing it; at most 25."""
    typed = current.strip().lower().replace(" ", "_")
    if not typed:
        names: Iterable[str] = POPULAR_TIMEZONES
    else:
        zones = _sorted_timezones()
        starts = [z for z in zones if z.lower().startswith(typed) or z.lower().rpartition("/")[2].startswith(typed)]
        contains = [z for z in zones if typed in z.lower() and z not in starts]
        names = [*starts, *contains]
    return [app_commands.Choice(name=z, value=z) for z in list(names)[:MAX_CHOICES]]


async def _timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    claim(interaction)
    return timezone_choices(current)


def _annotation(arg: ArgSpec) -> Any:
    if arg.kind == "int" and (arg.minimum is not None or arg.maximum is not None):
        return app_commands.Range[int, arg.minimum, arg.maximum]
    if arg.kind == "int":
        return int
    if arg.kind == "text":
        return app_commands.Range[str, None, min(arg.max_length, 6000)]
    return str  # date, time, timezone, weekday, ints, choice: the core parses the text


def discord_args(spec: CommandSpec) -> tuple[ArgSpec, ...]:
    """A command's options on Discord. A command with subcommands (`/topics add|remove|list`) is offered as
    a required `action` choice followed by its subcommands' arguments, so the line the core receives reads
    `/topics add graph nets` whichever platform it came from."""
    if not spec.subcommands:
        args = spec.args
        # a trailing one-word switch (`/start DATE confirm`) is for typing; on Discord its button does it
        while args and not args[-1].required and args[-1].kind == "choice" and len(args[-1].choices) == 1:
            args = args[:-1]
        return args
    action = ArgSpec(
        "action",
        "choice",
        {
            "en": ", ".join(f"{s.name}: {s.help['en']}" for s in spec.subcommands),
            "zh": "，".join(f"{s.name}：{s.help['zh']}" for s in spec.subcommands),
        },
        required=True,
        choices=spec.subcommand_names,
    )
    seen: dict[str, ArgSpec] = {}
    for sub in spec.subcommands:
        for arg in sub.args:
            # a subcommand's own `action` (`/stats web reset`) can't share the choice's option name
            name = f"{sub.name}_{arg.name}" if arg.name == action.name else arg.name
            seen.setdefault(name, replace(arg, name=name, required=False))
    return (action, *seen.values())


def _contexts(spec: CommandSpec) -> app_commands.AppCommandContext:
    if spec.scope == "group":
        return app_commands.AppCommandContext(guild=True)
    if spec.scope == "private":
        return app_commands.AppCommandContext(dm_channel=True)
    return app_commands.AppCommandContext(guild=True, dm_channel=True)


def build_command(spec: CommandSpec, run: RunCommand) -> app_commands.Command[Any, ..., None]:
    """One slash command whose callback ignores discord.py's parsed values and hands the name to `run`."""

    async def callback(interaction: discord.Interaction, **_options: Any) -> None:
        await run(interaction, spec.name)

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    descriptions: dict[str, app_commands.locale_str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    autocomplete: dict[str, Any] = {}
    keyword = inspect.Parameter.KEYWORD_ONLY
    args = discord_args(spec)
    for index, arg in enumerate(args):
        name = option_name(arg)
        annotation = _annotation(arg)
        # The core reads arguments by position, and a slash command can leave out any optional one: an
        # optional argument with others after it is required here, so a value never slides into its slot
        # (`/topics` asks for its action, `list` included, before the topic).
        if arg.required or index < len(args) - 1:
            parameters.append(inspect.Parameter(name, keyword, annotation=annotation))
        else:
            optional = Optional.__getitem__(annotation)  # built at run time for discord.py, not a static hint
            parameters.append(inspect.Parameter(name, keyword, annotation=optional, default=None))
        descriptions[name] = _described(arg.help)
        if arg.kind == "choice":
            choices[name] = [app_commands.Choice(name=c, value=c) for c in arg.choices[:MAX_CHOICES]]
        if arg.kind == "timezone" or (arg.kind == "text" and arg.name == "zone"):  # /timezone takes places too
            autocomplete[name] = _timezone_autocomplete
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = descriptions  # type: ignore[attr-defined]
    if choices:
        callback.__discord_app_commands_param_choices__ = choices  # type: ignore[attr-defined]
    if autocomplete:
        callback.__discord_app_commands_param_autocomplete__ = autocomplete  # type: ignore[attr-defined]
    if spec.group_admin:  # hidden from non-admins by default; the core still checks at run time
        callback.__discord_app_commands_default_permissions__ = discord.Permissions(manage_guild=True)  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name}"
    return app_commands.Command(
        name=spec.name,
        description=_described(spec.help),
        callback=callback,
        allowed_contexts=_contexts(spec),
        extras={"studybuddy": spec.name},
    )


def build_commands(registry: Registry, run: RunCommand) -> list[app_commands.Command[Any, ..., None]]:
    return [build_command(spec, run) for spec in registry]


def raw_options(interaction: discord.Interaction) -> dict[str, Any]:
    """The option values exactly as Discord sent them (also when they don't fit the declared types)."""
    data: Mapping[str, Any] = interaction.data or {}
    options = data.get("options") or []
    return {
        str(o.get("name")): o.get("value")
        for o in options
        if isinstance(o, dict) and o.get("type") not in (1, 2)  # no subcommands in our tree
    }


def command_line(name: str, spec: CommandSpec | None, values: Mapping[str, Any]) -> str:
    """`/name arg1 arg2` in the registry's argument order: the core parses and validates it.

    Options that aren't declared are dropped; `build_command` makes every argument but the last required,
    so no given value can follow a missing one.
    """
    parts = [f"/{name}"]
    for arg in discord_args(spec) if spec is not None else ():
        value = values.get(option_name(arg))
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        parts.append(str(value).strip())
    return " ".join(parts)


async def commands_payload(
    tree: app_commands.CommandTree[Any], translator: app_commands.Translator, guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """What `tree.sync` would send for this scope, translated; hashed to skip needless syncs."""
    return [await command.get_translated_payload(tree, translator) for command in tree.get_commands(guild=guild)]


def payload_hash(application_id: int | None, payload: Sequence[Mapping[str, Any]]) -> str:
    text = json.dumps({"application_id": application_id, "commands": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
