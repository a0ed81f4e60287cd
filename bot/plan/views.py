"""Renders plan positions as rich text in the reader's language; shared by commands and pushes."""

from __future__ import annotations

from datetime import date

from bot.core.markup import Rich, bold, italic, join, plain
from bot.core.types import Button
from bot.i18n import Translator
from bot.plan import Block, Phase, Plan
from bot.plan.calendar import MAX_SHIFT, MIN_MISSED, PlanDay, weekly_slots

WEEK_ACTION = "week"  # `week:<N>` shows week N
DONE_ACTION = "done"  # `done:<YYYY-MM-DD>` checks in that local date (handled by bot/accountability)
UNDO_ACTION = "undo"  # `undo:<YYYY-MM-DD>` takes that date's check-in back
CATCHUP_ACTION = "catchup"  # `catchup:<YYYY-MM-DD>` shifts the plan over the days missed before that date


def week_button(label: str, week: int) -> Button:
    return Button(label, f"{WEEK_ACTION}:{week}")


def day_buttons(
    day: PlanDay, on: date, _: Translator, *, all_done: bool = False, shift_days: int = 0, tasks: bool = True
) -> tuple[Button, ...]:
    """Under a plan day (in /today and in its push): the week's overview, Done for the date shown (Undo once
    all its tasks are checked in) and, after missed days, the catch-up."""
    buttons: tuple[Button, ...] = ()
    if shift_days:
        label = _.plural("Shift my plan by {n} day", "Shift my plan by {n} days", shift_days)
        buttons += (Button(label, f"{CATCHUP_ACTION}:{on.isoformat()}"),)
    if day.in_plan:
        buttons += (week_button(_("Week {week} overview", week=day.week), day.week),)
    if day.status in ("active", "complete") and tasks:  # the buttons carry the local date they check in
        if all_done:
            buttons += (Button(_("Undo ↩"), f"{UNDO_ACTION}:{on.isoformat()}"),)
        else:
            buttons += (Button(_("Done ✓"), f"{DONE_ACTION}:{on.isoformat()}"),)
    return buttons


_RENDERED: dict[tuple[int, int, str, int], tuple[Plan, Rich]] = {}
_RENDERED_MAX = 512  # 20 weeks x 2 languages x 8 check-in masks: every case fits


def week_part(plan: Plan, week: int, _: Translator, done: int = 0) -> Rich:
    """A plan week's heading, topics and daily tasks (✓ on those in `done`): the same text for everyone in
    that week, language and check-in state, so it is built once per process and then reused.

    Keyed by the plan object's identity (plans are immutable and loaded once); the entry keeps the plan
    itself, so a recycled id can't serve another plan's text."""
    key = (id(plan), week, _.lang, done)
    cached = _RENDERED.get(key)
    if cached is not None and cached[0] is plan:
        return cached[1]
    block = plan.block_for_week(week)
    rendered = join(
        [
            block_heading(plan, block, week, _),
            plain(""),
            topics(block, _, plan.phase_for_week(week).column),
            plain(""),
            bold(_("Today's tasks")),
            task_lines(block, _, done),
        ]
    )
    if len(_RENDERED) >= _RENDERED_MAX:
        _RENDERED.clear()
    _RENDERED[key] = (plan, rendered)
    return rendered


def block_heading(plan: Plan, block: Block, week: int, _: Translator) -> Rich:
    phase = plan.phase_for_week(week)
    weeks = (
        _("week {week}", week=block.first_week)
        if block.first_week == block.last_week
        else _("weeks {label}, now week {week}", label=block.label, week=week)
    )
    return join(
        [
            bold(phase_title(phase, _)),
            plain(_("{title} ({weeks})", title=block.title, weeks=weeks)),
        ]
    )


def phase_title(phase: Phase, _: Translator) -> str:
    """ "第一阶段：基础夯实（4周）": the phase's own label, as the source writes it."""
    return _("{phase}: {title}", phase=phase.label, title=phase.title)


def duration(_: Translator, minutes: int) -> Rich:
    """ "(60 min)" after a space; a full-width bracket "（60分钟）" needs none."""
    text = _("({minutes} min)", minutes=minutes)
    return italic(text if text.startswith("（") else " " + text)


def topics(block: Block, _: Translator, heading: str | None = None) -> Rich:
    return join([bold(heading or _("Topics")), *(plain(f"• {topic}") for topic in block.topics)])


def task_lines(block: Block, _: Translator, done: int = 0) -> Rich:
    """The block's daily tasks; those in the `done` mask (bit n-1 is task n) are marked ✓."""
    return join(
        [
            plain(("✓ " if done & (1 << (i - 1)) else "") + f"{i}. ") + plain(task.text) + duration(_, task.minutes)
            for i, task in enumerate(block.tasks, start=1)
        ]
    )


def catch_up_line(shift_days: int, missed: int, _: Translator) -> Rich:
    """The offer after missed days: no guilt, a way back. (Chinese sentences join without a space.)"""
    first = _.plural(
        "You missed {n} plan day since your last check-in.",
        "You missed {n} plan days since your last check-in.",
        missed,
    )
    return italic(
        first
        + ("" if first.endswith("。") else " ")
        + _.plural(
            "Shift my plan by {n} day (/catchup) makes today the first one you missed.",
            "Shift my plan by {n} days (/catchup) makes today the first one you missed.",
            shift_days,
        )
    )


def slot_lines(plan: Plan, day: PlanDay, on: date, reading_day: int, _: Translator) -> list[Rich]:
    """Today's weekly fixed tasks and, on a plan month's first day, the monthly ones."""
    out: list[Rich] = []
    kinds = weekly_slots(on, reading_day)
    weekly = [task for task in plan.weekly_tasks if task.kind in kinds]
    if weekly:
        out.append(bold(plan.labels.weekly))
        out += [plain(f"• {task.text}") + duration(_, task.minutes) for task in weekly]
    if day.plan_month_starts:
        out.append(bold(plan.labels.monthly))
        out += [plain(f"• {task}") for task in plan.monthly_tasks]
    return out


def day_view(
    plan: Plan, day: PlanDay, on: date, reading_day: int, _: Translator, *, done: int = 0, missed: int = 0
) -> Rich:
    """The body of /today and of the daily push; `done` marks the tasks checked in, `missed` (the active
    plan days skipped before `on`) adds the catch-up offer."""
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
    parts = [
        bold(_("Week {week} · Day {day}", week=day.week, day=day.day)) + plain(f" — {on.isoformat()}"),
        week_part(plan, day.week, _, done),
    ]
    slots = slot_lines(plan, day, on, reading_day, _)
    if slots:
        parts += [plain(""), *slots]
    if missed >= MIN_MISSED:
        parts += [plain(""), catch_up_line(min(missed, MAX_SHIFT), missed, _)]
    return join(parts)


def daily_heading(plan: Plan, phase: Phase, _: Translator) -> str:
    """每日任务, with the phase's own daily estimate where the source gives one ("每日任务（3-4小时）")."""
    if phase.daily_time is None:
        return plan.labels.daily_tasks
    return _("{label} ({time})", label=plan.labels.daily_tasks, time=phase.daily_time)


def week_view(plan: Plan, week: int, current: PlanDay | None, _: Translator) -> Rich:
    block = plan.block_for_week(week)
    parts = [
        bold(_("Week {week}", week=week)),
        block_heading(plan, block, week, _),
        plain(""),
        topics(block, _, plan.phase_for_week(week).column),
        plain(""),
        bold(daily_heading(plan, plan.phase_for_week(week), _)),
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
            bold(phase_title(phase, _))
            + plain(" · " + _("weeks {first}-{last}", first=phase.first_week, last=phase.last_week))
        )
        parts.append(italic(phase.goal))
        for block in phase.blocks:
            marker = "▶ " if here is not None and here in block.weeks else "  "
            label = _("W{label}", label=block.label)
            parts.append(plain(f"{marker}{label} {block.title}"))
    if here is None and current is not None and current.status == "complete":
        parts += [plain(""), bold(_("You have completed the 20-week plan."))]
    return join([*parts, plain(""), tips(plan, _)])


def tips(plan: Plan, _: Translator) -> Rich:
    lines = [bold(plan.labels.tips)]
    for tip in plan.tips:
        line = plain(f"• {tip.text}")
        if tip.truncated:
            line = line + italic(" " + _("(the source text ends here)"))
        lines.append(line)
    return join(lines)


def long_term(plan: Plan, _: Translator) -> Rich:
    """长期持续学习: the weekly and monthly rhythm that goes on after (and during) the 20 weeks."""
    return join(
        [
            bold(plan.labels.long_term),
            plain(plan.labels.weekly),
            *(plain(f"• {task.text}") + duration(_, task.minutes) for task in plan.weekly_tasks),
            plain(plan.labels.monthly),
            *(plain(f"• {task}") for task in plan.monthly_tasks),
        ]
    )


def full_plan(plan: Plan, _: Translator) -> Rich:
    """The whole plan for reading or printing: every phase and week, the long-term rhythm, the tips."""
    parts: list[Rich] = [bold(plan.title)]
    for phase in plan.phases:
        parts += [plain(""), bold(phase_title(phase, _)), italic(phase.goal)]
        for block in phase.blocks:
            weeks = (
                _("Week {week}", week=block.label) if len(block.weeks) == 1 else _("Weeks {label}", label=block.label)
            )
            parts += [
                plain(""),
                bold(_("{title} ({weeks})", title=block.title, weeks=weeks)),
                topics(block, _, phase.column),
                bold(daily_heading(plan, phase, _)),
                task_lines(block, _),
            ]
    return join([*parts, plain(""), long_term(plan, _), plain(""), tips(plan, _)])
