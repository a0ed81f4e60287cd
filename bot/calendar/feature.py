"""The calendar feature: /calendar and /export, and the live feed page their events come from."""

from __future__ import annotations

from bot.calendar.commands import register
from bot.calendar.feed import FEED_PAGE
from bot.delivery.kinds import Feature

FEATURE = Feature("calendar", register, pages=(FEED_PAGE,))
