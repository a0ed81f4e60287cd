"""/help: the commands usable in this chat, grouped by what they are for, or one command's usage. Part of
the kernel: it only reads the registry every feature registers into."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import Rich, bold, join, plain
from bot.core.registry import ArgSpec, CommandSpec, Registry
from bot.core.types import Reply
from bot.i18n import Translator

COMMAND_ARG = ArgSpec(
    "command",
    "text",
    {"en": "a command name, e.g. goto", "zh": "命令名，例如 goto"},
    max_length=40,
    label={"en": "a command name", "zh": "命令名"},
)
GROUP_ADMIN = "group admin"


def group_titles(_: Translator) -> dict[str, str]:
    """Headings in the order they are shown; a feature not named here is listed under its own name."""
    return {
        "plan": _("Plan"),
        "reminders": _("Reminders"),
        "papers": _("Papers"),
        "accountability": _("Check-ins"),
        "buddies": _("Study buddies"),
        "calendar": _("Calendar"),
        GROUP_ADMIN: _("Group admin"),
        "help": _("Help"),
    }


def group_of(registry: Registry, spec: CommandSpec) -> str:
    if spec.scope == "group" and spec.group_admin:
        return GROUP_ADMIN
    return registry.feature_of(spec.name) or "help"


async def usable_here(ctx: Context) -> list[CommandSpec]:
    """Commands of the menu this chat can run: the right scope, and admin-only ones for admins."""
    specs = [spec for spec in ctx.services.registry if spec.menu]
    specs = [spec for spec in specs if spec.scope == "any" or (spec.scope == "group") == ctx.in_group]
    if ctx.in_group and any(spec.group_admin for spec in specs):
        check = ctx.incoming.admin_check
        if check is None or not await check():
            specs = [spec for spec in specs if not spec.group_admin]
    return specs


async def help_command(ctx: Context) -> Reply:
    _ = ctx._
    registry = ctx.services.registry
    wanted = ctx.args.get("command")
    if wanted:
        spec = registry.get(wanted.lstrip("/").lower())
        if spec is None:
            return Reply(
                plain(
                    _(
                        "Unknown command {command}. Send /help to see the commands.",
                        command="/" + wanted.lstrip("/")[:40],
                    )
                )
            )
        return Reply(join([bold(f"/{spec.name}"), plain(spec.help[ctx.lang]), plain(""), plain(spec.usage(ctx.lang))]))
    titles = group_titles(_)
    groups: dict[str, list[CommandSpec]] = {name: [] for name in titles}
    for spec in await usable_here(ctx):
        groups.setdefault(group_of(registry, spec), []).append(spec)
    lines: list[Rich] = [bold(_("StudyBuddy walks you through a 20-week AI / large-model study plan."))]
    for name, specs in groups.items():
        if specs:
            lines += [plain(""), bold(titles.get(name, name.capitalize()))]
            lines += [plain(f"/{spec.name} — {spec.help[ctx.lang]}") for spec in specs]
    lines += [plain(""), plain(_("/help COMMAND shows how to use one command."))]
    return Reply(join(lines))


def register(registry: Registry) -> None:
    registry.command("help", en="All commands, or how to use one", zh="全部命令，或某个命令的用法", args=[COMMAND_ARG])(
        help_command
    )
