"""The remaining plan days as calendar events: one per active plan day, at the learner's reminder time.

Built from the plan calendar (bot/plan/calendar.py), so a pause, a catch-up or a `/goto` moves the events
exactly as it moves the plan. The future can't know when an open pause ends: the feed shows the plan as
if it resumed tomorrow (today stays free), and moves on by itself each day until `/resume`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.core.types import Enrolment, Lang, PauseSpan, User
from bot.i18n import Translator, translator
from bot.plan import Plan, load_plan
from bot.plan.calendar import PLAN_DAYS, PlanDay, plan_day, weekly_slots

DEFAULT_AT = time(8, 0)  # with reminders off: a new learner's reminder time (the storage default)
MAX_DAYS_AHEAD = 2 * 366 + PLAN_DAYS  # a start a year ahead plus a long paused stretch; never loops forever


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One event: its local date, stable UID, words, and length (the day's tasks added up)."""

    on: date
    uid: str
    summary: str
    description: str
    minutes: int


@dataclass(frozen=True, slots=True)
class PlanCalendar:
    """What a feed or an export shows; its repr is its content (the feed's ETag is a hash of it)."""

    name: str
    timezone: str
    at: time
    days: tuple[CalendarDay, ...]


def projected_pauses(pauses: Sequence[PauseSpan], today: date) -> tuple[PauseSpan, ...]:
    """Pauses with the open one ended tomorrow: the schedule as it goes on if the learner resumes then."""
    return tuple(PauseSpan(p.start, max(p.start, today) + timedelta(days=1)) if p.end is None else p for p in pauses)


def remaining_days(enrolment: Enrolment, today: date) -> Iterator[tuple[date, PlanDay]]:
    """Every date from today on that is an active plan day, with its place in the plan."""
    pauses = projected_pauses(enrolment.pauses, today)
    for offset in range(MAX_DAYS_AHEAD):
        on = today + timedelta(days=offset)
        day = plan_day(enrolment.start_date, on, pauses, enrolment.jumps)
        if day.status == "complete":
            return
        if day.status == "active":
            yield on, day


def minutes_text(_: Translator, minutes: int) -> str:
    text = _("({minutes} min)", minutes=minutes)
    return text if text.startswith("（") else " " + text  # a full-width bracket needs no space


def describe(plan: Plan, day: PlanDay, on: date, reading_day: int, _: Translator) -> tuple[str, int]:
    """The day's three tasks, its weekly and monthly slot tasks; and the minutes they add up to."""
    block = plan.block_for_week(day.week)
    lines = [f"{i}. {task.text}{minutes_text(_, task.minutes)}" for i, task in enumerate(block.tasks, start=1)]
    minutes = block.daily_minutes
    kinds = weekly_slots(on, reading_day)
    weekly = [task for task in plan.weekly_tasks if task.kind in kinds]
    if weekly:
        lines += ["", plan.labels.weekly, *(f"• {task.text}{minutes_text(_, task.minutes)}" for task in weekly)]
        minutes += sum(task.minutes for task in weekly)
    if day.plan_month_starts:
        lines += ["", plan.labels.monthly, *(f"• {task}" for task in plan.monthly_tasks)]
    return "\n".join(lines), minutes


def plan_calendar(
    lang: Lang,
    enrolment: Enrolment | None,
    today: date,
    *,
    timezone: str,
    at: time | None,
    reading_day: int,
    owner: str,
) -> PlanCalendar:
    """The events from `today` (the subject's local date) on; `owner` makes the UIDs stable per learner."""
    plan, _ = load_plan(lang), translator(lang)
    days: list[CalendarDay] = []
    for on, day in remaining_days(enrolment, today) if enrolment is not None else ():
        description, minutes = describe(plan, day, on, reading_day, _)
        days.append(
            CalendarDay(
                on=on,
                uid=f"studybuddy-{owner}-{on.isoformat()}@studybuddy",
                summary=_(
                    "{day}: {title}",
                    day=_("Week {week} · Day {day}", week=day.week, day=day.day),
                    title=plan.block_for_week(day.week).title,
                ),
                description=description,
                minutes=minutes,
            )
        )
    return PlanCalendar(_("StudyBuddy 20-week plan"), timezone, at or DEFAULT_AT, tuple(days))


def learner_calendar(user: User, enrolment: Enrolment | None, today: date) -> PlanCalendar:
    """A learner's own plan in their language, zone and reminder time: what their feed shows."""
    return plan_calendar(
        user.lang,
        enrolment,
        today,
        timezone=user.timezone,
        at=user.reminder_time,
        reading_day=user.reading_day,
        owner=f"{user.platform}-{user.external_id}",
    )
