"""/help: every command with its help line, or one command's usage. Part of the kernel: it only reads
the registry every feature registers into."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.markup import bold, join, plain
from bot.core.registry import ArgSpec, Registry
from bot.core.types import Reply

COMMAND_ARG = ArgSpec("command", "text", {"en": "a command name, e.g. goto", "zh": "命令名，例如 goto"}, max_length=40)


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
    lines = [bold(_("StudyBuddy walks you through a 20-week AI / large-model study plan."))]
    lines += [plain(f"/{spec.name} — {spec.help[ctx.lang]}") for spec in registry if spec.menu]
    lines += [plain(""), plain(_("/help COMMAND shows how to use one command."))]
    return Reply(join(lines))


def register(registry: Registry) -> None:
    registry.command("help", en="All commands, or how to use one", zh="全部命令，或某个命令的用法", args=[COMMAND_ARG])(
        help_command
    )
