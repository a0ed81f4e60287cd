"""The plan's week text is built once per (plan, week, language, check-in mask) and reused."""

from __future__ import annotations

from bot.i18n import translator
from bot.plan import load_plan
from bot.plan.views import week_part


def test_the_same_week_is_rendered_once_and_reused() -> None:
    plan, _ = load_plan("en"), translator("en")
    first = week_part(plan, 3, _)
    assert week_part(plan, 3, _) is first  # the cached object itself: nothing rebuilt
    assert week_part(plan, 4, _) != first


def test_check_in_marks_and_language_are_part_of_the_key() -> None:
    en, zh = load_plan("en"), load_plan("zh")
    plain_week = week_part(en, 2, translator("en")).to_plain()
    marked = week_part(en, 2, translator("en"), done=0b001).to_plain()
    assert "✓" not in plain_week and marked.count("✓") == 1
    chinese = week_part(zh, 2, translator("zh")).to_plain()
    assert chinese != plain_week


def test_another_plan_object_gets_its_own_text() -> None:
    plan = load_plan("en")
    week_part(plan, 1, translator("en"))  # cached for the shared plan
    renamed = plan.model_copy(
        update={"phases": tuple(p.model_copy(update={"title": "Renamed phase"}) for p in plan.phases)}
    )
    assert "Renamed phase" in week_part(renamed, 1, translator("en")).to_plain()
    assert "Renamed phase" not in week_part(plan, 1, translator("en")).to_plain()
