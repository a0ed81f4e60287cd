"""Immutable models of the 20-week study plan.

The models only guard per-object invariants (positive minutes, three tasks, sane week ranges); checks that
need the whole plan (coverage, order, zh/en parity) live in :mod:`bot.plan.loader` so they can report which
file and which block is wrong.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "TOTAL_WEEKS",
    "Block",
    "Labels",
    "Lang",
    "Phase",
    "Plan",
    "Task",
    "Tip",
    "WeeklyKind",
    "WeeklyTask",
    "week_label",
]

TOTAL_WEEKS = 20
"""The plan always spans weeks 1..TOTAL_WEEKS; schedules and progress tracking rely on that."""

Lang = Literal["zh", "en"]
WeeklyKind = Literal["arxiv", "kaggle", "review"]

NonEmptyStr = Annotated[str, Field(min_length=1)]
Week = Annotated[int, Field(ge=1, le=TOTAL_WEEKS)]


class _Frozen(BaseModel):
    """Plans are shared process-wide via a cache, so nobody may mutate them; unknown keys are typos."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Task(_Frozen):
    """One daily task; ``minutes`` comes from the source's "N小时" prefix so schedules can add them up."""

    text: NonEmptyStr
    minutes: Annotated[int, Field(gt=0)]


class WeeklyTask(_Frozen):
    """A standing weekly task; ``kind`` lets features (e.g. the arXiv digest) find "their" task by role."""

    kind: WeeklyKind
    text: NonEmptyStr
    minutes: Annotated[int, Field(gt=0)]


class Block(_Frozen):
    """A unit of study spanning one or more consecutive weeks (e.g. weeks 5-6 share one block)."""

    first_week: Week
    last_week: Week
    title: NonEmptyStr
    topics: Annotated[tuple[NonEmptyStr, ...], Field(min_length=1)]
    tasks: tuple[Task, Task, Task]
    keywords: Annotated[tuple[NonEmptyStr, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _weeks_ascend(self) -> Block:
        if self.last_week < self.first_week:
            raise ValueError(f"last_week {self.last_week} is before first_week {self.first_week}")
        return self

    @property
    def weeks(self) -> range:
        """The weeks this block covers, so callers can write ``week in block.weeks``."""
        return range(self.first_week, self.last_week + 1)

    @property
    def label(self) -> str:
        """Human/key form of the week range: ``"5-6"`` or ``"13"`` (also the key in keywords.yaml)."""
        return week_label(self.first_week, self.last_week)

    @property
    def daily_minutes(self) -> int:
        """Total minutes of the three daily tasks, for reminders like "about 3 hours today"."""
        return sum(task.minutes for task in self.tasks)


class Phase(_Frozen):
    """One of the four phases; ``daily_time`` keeps the source's free-text daily estimate (phase 1 only).

    ``label`` ("第一阶段") and ``column`` (its topics heading: 学习内容, or 项目类型 in phase 4) are the
    source's own words, so the bot shows the plan as its author wrote it."""

    number: Annotated[int, Field(ge=1, le=4)]
    label: NonEmptyStr
    column: NonEmptyStr
    title: NonEmptyStr
    goal: NonEmptyStr
    daily_time: NonEmptyStr | None = None
    blocks: Annotated[tuple[Block, ...], Field(min_length=1)]

    @property
    def first_week(self) -> int:
        return self.blocks[0].first_week

    @property
    def last_week(self) -> int:
        return self.blocks[-1].last_week

    @property
    def weeks(self) -> range:
        return range(self.first_week, self.last_week + 1)


class Tip(_Frozen):
    """A key tip; ``truncated`` marks text the source cuts off, so renderers say so instead of guessing."""

    text: NonEmptyStr
    truncated: bool = False


class Labels(_Frozen):
    """The source's headings for the parts every phase shares and for the long-term section."""

    weeks: NonEmptyStr
    daily_tasks: NonEmptyStr
    long_term: NonEmptyStr
    weekly: NonEmptyStr
    monthly: NonEmptyStr
    tips: NonEmptyStr


class Plan(_Frozen):
    """The whole plan in one language. Build it with :func:`bot.plan.load_plan`, which validates coverage."""

    TOTAL_WEEKS: ClassVar[int] = TOTAL_WEEKS

    lang: Lang
    title: NonEmptyStr
    labels: Labels
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    weekly_tasks: tuple[WeeklyTask, ...]
    monthly_tasks: tuple[NonEmptyStr, ...]
    tips: tuple[Tip, ...]

    @property
    def blocks(self) -> tuple[Block, ...]:
        """All blocks in week order, for callers that do not care about phases."""
        return tuple(block for phase in self.phases for block in phase.blocks)

    def block_for_week(self, week: int) -> Block:
        """The block a user is in during ``week`` (1-based); ValueError outside 1..TOTAL_WEEKS."""
        return self._locate(week)[1]

    def phase_for_week(self, week: int) -> Phase:
        """The phase containing ``week`` (1-based); ValueError outside 1..TOTAL_WEEKS."""
        return self._locate(week)[0]

    def _locate(self, week: int) -> tuple[Phase, Block]:
        if isinstance(week, bool) or not isinstance(week, int):
            raise TypeError(f"week must be an int, got {type(week).__name__}")
        if not 1 <= week <= TOTAL_WEEKS:
            raise ValueError(f"week must be between 1 and {TOTAL_WEEKS}, got {week}")
        for phase in self.phases:
            for block in phase.blocks:
                if week in block.weeks:
                    return phase, block
        # Only reachable for plans built by hand without the loader's coverage check.
        raise ValueError(f"week {week} is not covered by this plan")


def week_label(first_week: int, last_week: int) -> str:
    """``"5-6"`` for a range, ``"13"`` for a single week; shared by Block.label and error messages."""
    return str(first_week) if first_week == last_week else f"{first_week}-{last_week}"
