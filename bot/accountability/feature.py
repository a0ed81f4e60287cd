"""The accountability feature: check-ins, streaks, rosters and leaderboards, and the group's nudge and recap."""

from __future__ import annotations

from bot.accountability.commands import register
from bot.accountability.pushes import NUDGE, RECAP
from bot.delivery.kinds import Feature

FEATURE = Feature("accountability", register, (NUDGE, RECAP))
