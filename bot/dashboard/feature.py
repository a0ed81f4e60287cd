"""The dashboard feature: `/dashboard` (and `/stats web`, registered with `/stats`), and the pages their
secret links open."""

from __future__ import annotations

from bot.dashboard.commands import register
from bot.dashboard.group_page import group_page
from bot.dashboard.secret_links import GROUP_DASHBOARD, LEARNER_STATS
from bot.dashboard.stats_page import stats_page
from bot.delivery.kinds import Feature
from bot.web.pages import Page

PAGES = (
    Page("dashboard", GROUP_DASHBOARD.route, group_page),
    Page("stats", LEARNER_STATS.route, stats_page),
)
FEATURE = Feature("dashboard", register, pages=PAGES)
