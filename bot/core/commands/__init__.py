"""Every chat command, registered into one Registry that all adapters share."""

from __future__ import annotations

from bot.core.commands import accountability, preferences, reminders
from bot.core.commands import help as help_commands
from bot.core.commands import papers as paper_commands
from bot.core.commands import plan as plan_commands
from bot.core.registry import Registry

MODULES = [plan_commands, preferences, reminders, paper_commands, accountability, help_commands]


def build_registry(extra_modules: list | None = None) -> Registry:
    """Later features (reminders, papers, check-ins) add their modules here."""
    registry = Registry()
    for module in [*MODULES, *(extra_modules or [])]:
        module.register(registry)
    return registry
