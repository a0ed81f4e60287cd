"""The plan feature: enrolment and moving through the plan, plus the preferences that shape it."""

from __future__ import annotations

from bot.core.registry import Registry
from bot.delivery.kinds import Feature
from bot.plan import commands, preferences


def register(registry: Registry) -> None:
    commands.register(registry)
    preferences.register(registry)


FEATURE = Feature("plan", register)
