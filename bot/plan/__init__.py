"""The 20-week AI / large-model study plan as validated, immutable data in Chinese and English.

Import from here rather than from the submodules; this is the API other features build on.
"""

from bot.plan.loader import PlanError, load_plan, load_plans, parse_plan, validate_plans
from bot.plan.model import TOTAL_WEEKS, Block, Phase, Plan, Task, Tip, WeeklyTask

__all__ = [
    "TOTAL_WEEKS",
    "Block",
    "Phase",
    "Plan",
    "PlanError",
    "Task",
    "Tip",
    "WeeklyTask",
    "load_plan",
    "load_plans",
    "parse_plan",
    "validate_plans",
]
