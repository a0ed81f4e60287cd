"""Renders plan positions as rich text in the reader's language; shared by commands and pushes."""

from __future__ import annotations

from datetime import date

from bot.core.markup import Rich, bold, italic, join, plain
from bot.core.types import Button
from bot.i18n import Translator
from bot.plan import Block, Plan
from bot.plan.calendar import PlanDay, weekly_slots

WEEK_ACTION = "week"  # `week:<N>` shows week N
DONE_ACTION = "done"  # `done:<YYYY-MM-DD>` checks in that local date (handled by bot/accountability)


def week_button(label: str, week: int) -> Button:
    return Button(label, f"{WEEK_ACTION}:{week}")


def day_buttons(day: PlanDay, on: date, _: Translator) -> tuple[Button, ...]:
    """Under a plan day (in /today and in its push): the week's overview and Done for the date shown."""
    buttons: tuple[Button, ...] = ()
    if day.in_plan:
        buttons = (week_button(_("Week {week} overview", week=day.week), day.week),)
    if day.status in ("active", "complete"):  # the Done button carries the local date it checks in
        buttons += (Button(_("Done ✓"), f"{DONE_ACTION}:{on.isoformat()}"),)
    return buttons


def block_heading(plan: Plan, block: Block, week: int, _: Translator) -> Rich:
    phase = plan.phase_for_week(week)
    weeks = (
        _("week {week}", week=block.first_week)
        if block.first_week == block.last_week
        else _("weeks {label}, now week {week}", label=block.label, week=week)
    )
    return join(
        [
            bold(_("Phase {number}: {title}", number=phase.number, title=phase.title)),
            plain(f"{block.title} ({weeks})"),
        ]
    )


def topics(block: Block, _: Translator) -> Rich:
    return join([bold(_("Topics")), *(plain(f"• {topic}") for topic in block.topics)])


def task_lines(block: Block, _: Translator) -> Rich:
    return join(
        [
            plain(f"{i}. ") + plain(task.text) + italic(" " + _("({minutes} min)", minutes=task.minutes))
            for i, task in enumerate(block.tasks, start=1)
        ]
    )


def slot_lines(plan: Plan, day: PlanDay, on: date, reading_day: int, _: Translator) -> list[Rich]:
    """Today's weekly fixed tasks and, on a plan month's first day, the monthly ones."""
    out: list[Rich] = []
    kinds = weekly_slots(on, reading_day)
    weekly = [task for task in plan.weekly_tasks if task.kind in kinds]
    if weekly:
        out.append(bold(_("This week's fixed slot")))
        out += [plain(f"• {task.text}") + italic(" " + _("({minutes} min)", minutes=task.minutes)) for task in weekly]
    if day.plan_month_starts:
        out.append(bold(_("This month")))
        out += [plain(f"• {task}") for task in plan.monthly_tasks]
    return out


def day_view(plan: Plan, day: PlanDay, on: date, reading_day: int, _: Translator) -> Rich:
    """The body of /today and of the daily push."""
    if day.status == "upcoming":
        return join(
            [
                bold(_.plural("Your plan starts in {n} day.", "Your plan starts in {n} days.", day.days_until_start)),
                plain(_("Until then, /week 1 shows what comes first.")),
            ]
        )
    if day.status == "paused":
        return join(
            [
                bold(_("Paused at week {week}, day {day}.", week=day.week, day=day.day)),
                plain(_("Send /resume when you are ready to continue.")),
            ]
        )
    if day.status == "complete":
        parts: list[Rich] = [
            bold(_("You have completed the 20-week plan. Keep the long-term rhythm going:")),
            *slot_lines(plan, day, on, reading_day, _),
        ]
        if len(parts) == 1:
            parts.append(plain(_("No fixed slot today; review, build, or rest.")))
        return join(parts)
    block = plan.block_for_week(day.week)
    parts = [
        bold(_("Week {week} · Day {day}", week=day.week, day=day.day)) + plain(f" — {on.isoformat()}"),
        block_heading(plan, block, day.week, _),
        plain(""),
        topics(block, _),
        plain(""),
        bold(_("Today's tasks")),
        task_lines(block, _),
    ]
    slots = slot_lines(plan, day, on, reading_day, _)
    if slots:
        parts += [plain(""), *slots]
    return join(parts)


def week_view(plan: Plan, week: int, current: PlanDay | None, _: Translator) -> Rich:
    block = plan.block_for_week(week)
    parts = [
        bold(_("Week {week}", week=week)),
        block_heading(plan, block, week, _),
        plain(""),
        topics(block, _),
        plain(""),
        bold(_("Daily tasks")),
        task_lines(block, _),
    ]
    if current is not None and current.in_plan and current.week == week:
        parts += [plain(""), italic(_("You are here: day {day} of this week.", day=current.day))]
    return join(parts)


def plan_overview(plan: Plan, current: PlanDay | None, _: Translator) -> Rich:
    here = current.week if current is not None and current.in_plan else None
    parts: list[Rich] = [bold(plan.title)]
    for phase in plan.phases:
        parts.append(plain(""))
        parts.append(
            bold(_("Phase {number}: {title}", number=phase.number, title=phase.title))
            + plain(" " + _("(weeks {first}-{last})", first=phase.first_week, last=phase.last_week))
        )
        parts.append(italic(phase.goal))
        for block in phase.blocks:
            marker = "▶ " if here is not None and here in block.weeks else "  "
            label = _("W{label}", label=block.label)
            parts.append(plain(f"{marker}{label} {block.title}"))
    if here is None and current is not None and current.status == "complete":
        parts += [plain(""), bold(_("You have completed the 20-week plan."))]
    parts += [plain(""), bold(_("Key tips"))]
    for tip in plan.tips:
        line = plain(f"• {tip.text}")
        if tip.truncated:
            line = line + italic(" " + _("(the source text ends here)"))
        parts.append(line)
    return join(parts)
