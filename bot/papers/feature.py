"""The papers feature: /papers and /topics, and the weekly reading post."""

from __future__ import annotations

from bot.delivery.kinds import Feature
from bot.papers.commands import register
from bot.papers.pushes import GROUP_READING, READING

FEATURE = Feature("papers", register, (READING, GROUP_READING))
