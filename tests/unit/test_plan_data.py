"""The bundled study plan: coverage, zh/en parity, validation messages and fidelity to the Chinese source."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.plan import (
    TOTAL_WEEKS,
    Plan,
    PlanError,
    load_plan,
    load_plans,
    parse_plan,
    validate_plans,
)
from bot.plan.loader import load_keywords, read_plan_data

SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "plan" / "source-plan.zh.md"


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return load_plans()


@pytest.fixture
def zh_data() -> dict[str, Any]:
    return copy.deepcopy(read_plan_data("zh"))


@pytest.fixture
def en_data() -> dict[str, Any]:
    return copy.deepcopy(read_plan_data("en"))


@pytest.fixture(scope="module")
def source_text() -> str:
    if not SOURCE.is_file():
        pytest.skip(f"source plan not available at {SOURCE}")
    return SOURCE.read_text(encoding="utf-8")


def _block(data: dict[str, Any], phase: int, first_week: int) -> dict[str, Any]:
    """The raw block dict starting at ``first_week`` in phase ``phase`` (1-based), for targeted breakage."""
    for block in data["phases"][phase - 1]["blocks"]:
        if block["first_week"] == first_week:
            return block
    raise AssertionError(f"no block starting at week {first_week} in phase {phase}")


# ------------------------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_week_is_covered_exactly_once(plans: dict[str, Plan], lang: str) -> None:
    plan = plans[lang]
    weeks = [week for block in plan.blocks for week in block.weeks]
    assert weeks == list(range(1, TOTAL_WEEKS + 1))
    assert Plan.TOTAL_WEEKS == TOTAL_WEEKS == 20
    for week in range(1, TOTAL_WEEKS + 1):
        assert week in plan.block_for_week(week).weeks
        assert week in plan.phase_for_week(week).weeks


def test_block_and_phase_lookup(plans: dict[str, Plan]) -> None:
    zh, en = plans["zh"], plans["en"]
    assert zh.block_for_week(6).label == "5-6"
    assert zh.block_for_week(6) is zh.block_for_week(5)
    assert en.block_for_week(6).title == "Transformers and NLP"
    assert zh.block_for_week(13).label == "13"
    assert zh.phase_for_week(6).number == 2
    assert (zh.phases[1].first_week, zh.phases[1].last_week) == (5, 12)
    assert [len(p.blocks) for p in zh.phases] == [4, 4, 4, 4]


@pytest.mark.parametrize("week", [0, 21, -1])
def test_weeks_outside_plan_raise(plans: dict[str, Plan], week: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 20"):
        plans["en"].block_for_week(week)
    with pytest.raises(ValueError, match="between 1 and 20"):
        plans["zh"].phase_for_week(week)


def test_load_plan_is_cached_and_accepts_locales() -> None:
    assert load_plan("zh") is load_plan("zh")
    assert load_plan("en-US") is load_plan("en")
    assert load_plan("zh_CN").lang == "zh"
    with pytest.raises(PlanError, match="unknown plan language 'fr'"):
        load_plan("fr")


def test_models_are_frozen(plans: dict[str, Plan]) -> None:
    block = plans["en"].block_for_week(1)
    with pytest.raises(ValidationError):
        block.title = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------- parity


def test_zh_en_parity(plans: dict[str, Plan]) -> None:
    zh, en = plans["zh"], plans["en"]
    validate_plans(zh, en)
    for zb, eb in zip(zh.blocks, en.blocks, strict=True):
        assert zb.weeks == eb.weeks
        assert len(zb.topics) == len(eb.topics)
        assert [t.minutes for t in zb.tasks] == [t.minutes for t in eb.tasks]
        assert zb.keywords == eb.keywords
    assert [t.kind for t in zh.weekly_tasks] == [t.kind for t in en.weekly_tasks] == ["arxiv", "kaggle", "review"]
    assert len(zh.monthly_tasks) == len(en.monthly_tasks) == 2
    assert [t.truncated for t in zh.tips] == [t.truncated for t in en.tips] == [True]
    assert zh.phases[0].daily_time == "3-4小时"
    assert en.phases[0].daily_time == "3-4 hours"


def test_english_keeps_names_and_book_titles(plans: dict[str, Plan]) -> None:
    en = plans["en"]
    assert "Linear Algebra Done Right" in en.block_for_week(1).tasks[0].text
    assert "3Blue1Brown" in en.block_for_week(1).tasks[0].text
    assert "Dive into Deep Learning" in en.block_for_week(3).tasks[2].text
    assert "Attention Is All You Need" in en.block_for_week(5).tasks[0].text
    assert "Ray Tune" in en.block_for_week(13).tasks[2].text
    assert any("DeepSpeed" in topic for topic in en.block_for_week(7).topics)


def test_text_is_in_the_right_language(plans: dict[str, Plan]) -> None:
    def has_cjk(text: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    for block in plans["en"].blocks:
        for text in (block.title, *block.topics, *(t.text for t in block.tasks)):
            assert not has_cjk(text), text
    for block in plans["zh"].blocks:
        assert has_cjk(block.title), block.title


# ------------------------------------------------------------------------------------------- keywords


def test_keywords_for_every_block(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        for block in plan.blocks:
            assert 6 <= len(block.keywords) <= 12, block.label
            assert all(word.isascii() for word in block.keywords), block.label
    words = {w.lower() for w in plans["zh"].block_for_week(5).keywords}
    assert {"transformer", "self-attention"} <= words
    assert {"distributed training", "mixed precision", "deepspeed"} <= {
        w.lower() for w in plans["en"].block_for_week(8).keywords
    }


def test_keywords_are_defined_once() -> None:
    assert "keywords" not in str(read_plan_data("zh")["phases"])
    assert "keywords" not in str(read_plan_data("en")["phases"])
    assert set(load_keywords()) == {block.label for block in load_plan("en").blocks}


# ---------------------------------------------------------------------------------------- validation


def _drop_week_7(d: dict[str, Any]) -> None:
    _block(d, 2, 7)["first_week"] = 8


def _overlap(d: dict[str, Any]) -> None:
    _block(d, 2, 7)["first_week"] = 6


def _out_of_order(d: dict[str, Any]) -> None:
    blocks = d["phases"][1]["blocks"]
    blocks[0], blocks[1] = blocks[1], blocks[0]


def _no_minutes(d: dict[str, Any]) -> None:
    del _block(d, 2, 5)["tasks"][1]["minutes"]


def _zero_minutes(d: dict[str, Any]) -> None:
    _block(d, 2, 5)["tasks"][2]["minutes"] = 0


def _two_tasks(d: dict[str, Any]) -> None:
    _block(d, 3, 14)["tasks"].pop()


def _four_tasks(d: dict[str, Any]) -> None:
    tasks = _block(d, 1, 1)["tasks"]
    tasks.append(dict(tasks[0]))


def _no_task_text(d: dict[str, Any]) -> None:
    _block(d, 4, 19)["tasks"][0]["text"] = ""


def _beyond_20(d: dict[str, Any]) -> None:
    _block(d, 4, 20)["last_week"] = 21


def _backwards(d: dict[str, Any]) -> None:
    _block(d, 2, 9)["last_week"] = 8


def _weekly_kind_missing(d: dict[str, Any]) -> None:
    d["weekly_tasks"][1]["kind"] = "arxiv"


def _weekly_kind_unknown(d: dict[str, Any]) -> None:
    d["weekly_tasks"][2]["kind"] = "gym"


def _inline_keywords(d: dict[str, Any]) -> None:
    _block(d, 1, 2)["keywords"] = ["python"]


def _phase_numbers(d: dict[str, Any]) -> None:
    d["phases"][2]["number"] = 4


def _no_topics(d: dict[str, Any]) -> None:
    _block(d, 1, 3)["topics"] = []


def _typo_field(d: dict[str, Any]) -> None:
    _block(d, 1, 4)["titel"] = "oops"


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_drop_week_7, "plan.en.yaml: week 7 is missing"),
        (_overlap, "plan.en.yaml: blocks 5-6 and 6-8 overlap"),
        (_out_of_order, "plan.en.yaml: blocks are out of order: 5-6 comes after 7-8"),
        (_no_minutes, "plan.en.yaml: phase 2, block 5-6, task 2 has no duration (minutes)"),
        (_zero_minutes, "phase 2, block 5-6, task 3 has an invalid duration 0"),
        (_two_tasks, "phase 3, block 14 has 2 tasks; expected exactly 3"),
        (_four_tasks, "phase 1, block 1 has 4 tasks; expected exactly 3"),
        (_no_task_text, "phase 4, block 19, task 1 has no text"),
        (_beyond_20, "phase 4, block 20-21 lies outside weeks 1-20"),
        (_backwards, "phase 2, block 9-8 ends (week 8) before it starts (week 9)"),
        (
            _weekly_kind_missing,
            "weekly tasks must be exactly one each of arxiv, kaggle, review; got arxiv, arxiv",
        ),
        (_weekly_kind_unknown, "weekly task 3 has kind 'gym'"),
        (_inline_keywords, "block 2 has its own keywords; keywords are defined once, in keywords.yaml"),
        (_phase_numbers, "phases must be numbered 1, 2, ... in order; got 1, 2, 4, 4"),
        (_no_topics, "phase 1, block 3 has no topics"),
        (_typo_field, "phase 1, block 4: titel: Extra inputs are not permitted"),
    ],
)
def test_broken_data_raises_helpful_plan_error(
    en_data: dict[str, Any], breakage: Callable[[dict[str, Any]], None], message: str
) -> None:
    breakage(en_data)
    with pytest.raises(PlanError) as exc_info:
        parse_plan(en_data, "en")
    assert message in str(exc_info.value)


def test_missing_keywords_for_a_block(zh_data: dict[str, Any]) -> None:
    keywords = dict(load_keywords())
    del keywords["9-10"]
    with pytest.raises(PlanError, match=r"keywords\.yaml: no keywords for block 9-10"):
        parse_plan(zh_data, "zh", keywords=keywords)


def test_keywords_for_unknown_block(zh_data: dict[str, Any]) -> None:
    keywords = {**load_keywords(), "21": ["extra"]}
    with pytest.raises(PlanError, match=r"keywords\.yaml: keywords for unknown block\(s\) 21"):
        parse_plan(zh_data, "zh", keywords=keywords)


def test_lang_mismatch(zh_data: dict[str, Any]) -> None:
    with pytest.raises(PlanError, match=r"plan\.en\.yaml: declares lang 'zh' but was loaded as 'en'"):
        parse_plan(zh_data, "en")


def _parse_pair(zh_data: dict[str, Any], en_data: dict[str, Any]) -> tuple[Plan, Plan]:
    return parse_plan(zh_data, "zh"), parse_plan(en_data, "en")


def test_parity_block_count(zh_data: dict[str, Any], en_data: dict[str, Any]) -> None:
    # en merges weeks 15 and 16 into one block: valid on its own, but not the same shape as zh.
    phase3 = en_data["phases"][2]["blocks"]
    phase3[2]["last_week"] = 16
    del phase3[3]
    keywords = {k: v for k, v in load_keywords().items() if k not in {"15", "16"}}
    en = parse_plan(en_data, "en", keywords={**keywords, "15-16": ["alignment"]})
    with pytest.raises(PlanError, match="zh and en differ in structure: phase 3 has 4 blocks in zh but 3 in en"):
        validate_plans(parse_plan(zh_data, "zh"), en)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda d: _block(d, 4, 17)["tasks"][0].update(minutes=60),
            "phase 4, block 17, task 1 takes 120 minutes in zh but 60 in en",
        ),
        (lambda d: _block(d, 2, 7)["topics"].pop(), "phase 2, block 7-8 has 3 topics in zh but 2 in en"),
        (lambda d: d["monthly_tasks"].pop(), "2 monthly tasks in zh but 1 in en"),
        (lambda d: d["tips"].append({"text": "extra"}), "1 tips in zh but 2 in en"),
        (lambda d: d["tips"][0].update(truncated=False), "tip 1 is marked truncated in zh only"),
        (lambda d: d["phases"][0].pop("daily_time"), "phase 1 has a daily_time in zh only"),
        (lambda d: d["weekly_tasks"].reverse(), "weekly tasks (kind, minutes)"),
    ],
)
def test_parity_failures(
    zh_data: dict[str, Any], en_data: dict[str, Any], breakage: Callable[[dict[str, Any]], Any], message: str
) -> None:
    breakage(en_data)
    zh, en = _parse_pair(zh_data, en_data)
    with pytest.raises(PlanError) as exc_info:
        validate_plans(zh, en)
    assert str(exc_info.value).startswith("zh and en differ in structure: ")
    assert message in str(exc_info.value)


def test_validate_plans_wants_zh_then_en(plans: dict[str, Plan]) -> None:
    with pytest.raises(PlanError, match=r"expects \(zh, en\)"):
        validate_plans(plans["en"], plans["zh"])


# ------------------------------------------------------------------------------ fidelity to the source


def _source_row(source: str, label: str) -> str:
    marker = f"| **第{label}周**"
    rows = [line for line in source.splitlines() if line.startswith(marker)]
    assert len(rows) == 1, f"expected one table row for week {label} in the source"
    return rows[0]


@pytest.mark.parametrize("week", [1, 7, 19])
def test_chinese_text_matches_source(plans: dict[str, Plan], source_text: str, week: int) -> None:
    block = plans["zh"].block_for_week(week)
    row = _source_row(source_text, block.label)
    assert f"**{block.title}**" in row
    for topic in block.topics:
        assert f"<br>- {topic}" in row, topic
    for task in block.tasks:
        assert task.text in source_text, task.text
        hours, rest = divmod(task.minutes, 60)
        assert rest == 0
        assert f"- {hours}小时：{task.text}" in row, task.text
    assert row.count("小时：") == len(block.tasks)
    assert row.count("<br>- ") == len(block.topics) + len(block.tasks) - 1


def test_truncated_tip_is_verbatim_end_of_source(plans: dict[str, Plan], source_text: str) -> None:
    last_line = source_text.rstrip("\n").splitlines()[-1]
    assert last_line == "1. **时间分配**：理论:实践 ≈ 3"
    (zh_tip,) = plans["zh"].tips
    assert zh_tip.truncated
    assert last_line.replace("**", "").endswith(zh_tip.text)
    (en_tip,) = plans["en"].tips
    assert en_tip.truncated
    assert en_tip.text.endswith("≈ 3")


def test_weekly_and_monthly_text_matches_source(plans: dict[str, Plan], source_text: str) -> None:
    zh = plans["zh"]
    shown = source_text.replace("`", "")  # inline code (`cs.CL`) is shown as its words
    for task in zh.weekly_tasks:
        assert f"- {task.minutes // 60}小时：{task.text}" in shown
    for text in zh.monthly_tasks:
        assert f"- {text}" in shown
    for phase in zh.phases:
        assert f"阶段：{phase.title}**\n" in source_text
        assert f"**目标**：{phase.goal}" in source_text


def test_inline_code_is_shown_without_backticks(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        texts = [t.text for t in plan.weekly_tasks] + [t.text for b in plan.blocks for t in b.tasks]
        assert not any("`" in text for text in texts)
    assert "cs.CL/cs.LG" in plans["zh"].weekly_tasks[0].text
    assert "cs.CL/cs.LG" in plans["en"].weekly_tasks[0].text


def test_labels_are_the_sources_own(plans: dict[str, Plan], source_text: str) -> None:
    zh = plans["zh"]
    assert [p.label for p in zh.phases] == ["第一阶段", "第二阶段", "第三阶段", "第四阶段"]
    for phase in zh.phases:
        assert f"### **{phase.label}：{phase.title}**" in source_text
    assert [p.column for p in zh.phases] == ["学习内容", "学习内容", "学习内容", "项目类型"]
    for phase in zh.phases:
        assert f"| **{phase.column}**" in source_text
    labels = zh.labels
    assert f"**{labels.daily_tasks}（{zh.phases[0].daily_time}）**" in source_text
    assert f"### **{labels.long_term}**" in source_text
    assert f"**{labels.weekly}**" in source_text and f"**{labels.monthly}**" in source_text
    assert f"### **{labels.tips}**" in source_text
    en = plans["en"]
    assert [p.label for p in en.phases] == ["Phase 1", "Phase 2", "Phase 3", "Phase 4"]
    assert en.phases[3].column == "Project types" and en.labels.long_term


def test_english_translation_fixes(plans: dict[str, Plan]) -> None:
    en = plans["en"]
    assert en.block_for_week(19).topics[0].startswith("Training a small LLM from scratch")
    assert "video captioning" in en.block_for_week(18).topics[1]
    assert "subtitle" not in en.block_for_week(18).topics[1]
    assert en.block_for_week(2).topics[0] == "Advanced Python programming"  # 进阶
    assert en.phases[1].title.startswith("Advanced")
