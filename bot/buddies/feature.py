"""The study-buddies feature: weekly pairs per group, the Monday post, and weekly reviews."""

from __future__ import annotations

from bot.buddies.commands import register
from bot.buddies.pushes import BUDDIES_POST
from bot.delivery.kinds import Feature

FEATURE = Feature("buddies", register, (BUDDIES_POST,))
