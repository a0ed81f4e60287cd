"""Load and validate the bundled study-plan data (``data/plan.{zh,en}.yaml`` + ``data/keywords.yaml``).

Everything fails loudly with :class:`PlanError` naming the file and the block, because a broken plan would
otherwise surface much later as a wrong reminder for some user's week.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, TypeGuard, TypeVar, cast, get_args

import yaml
from pydantic import BaseModel, ValidationError

from bot.plan.model import (
    TOTAL_WEEKS,
    Block,
    Lang,
    Phase,
    Plan,
    Task,
    Tip,
    WeeklyKind,
    WeeklyTask,
    week_label,
)

__all__ = [
    "LANGS",
    "WEEKLY_KINDS",
    "PlanError",
    "load_keywords",
    "load_plan",
    "load_plans",
    "parse_plan",
    "read_plan_data",
    "validate_plans",
]

LANGS: tuple[Lang, ...] = cast(tuple[Lang, ...], get_args(Lang))
WEEKLY_KINDS: tuple[WeeklyKind, ...] = cast(tuple[WeeklyKind, ...], get_args(WeeklyKind))
TASKS_PER_BLOCK = 3
KEYWORDS_FILE = "keywords.yaml"

_M = TypeVar("_M", bound=BaseModel)


class PlanError(Exception):
    """The plan data is malformed; the message says which file/phase/block/task and what is wrong."""


# --------------------------------------------------------------------------------------------- reading


# libyaml's loader where PyYAML was built with it (its wheels are): the plan's three files load in ~6 ms
# instead of ~52 ms in pure Python, paid by every process start that answers a plan command.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """`yaml.safe_load`, through libyaml when it is there."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # a safe loader, C or Python


def _read_yaml(name: str) -> Any:
    try:
        text = resources.files("bot.plan").joinpath("data", name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlanError(f"{name}: file not found in bot/plan/data") from exc
    try:
        return safe_yaml(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{name}: invalid YAML: {exc}") from exc


def read_plan_data(lang: str) -> dict[str, Any]:
    """The raw dict of ``plan.<lang>.yaml``; tests copy and break it to exercise :func:`parse_plan`."""
    code = _normalize_lang(lang)
    data = _read_yaml(f"plan.{code}.yaml")
    if not isinstance(data, dict):
        raise PlanError(f"plan.{code}.yaml: top level must be a mapping, got {type(data).__name__}")
    return data


@functools.cache
def load_keywords() -> Mapping[str, tuple[str, ...]]:
    """Block label -> English keywords; defined once and attached to both languages by :func:`parse_plan`."""
    return _check_keywords(_read_yaml(KEYWORDS_FILE), KEYWORDS_FILE)


def _check_keywords(raw: Any, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{source}: top level must be a mapping of block label -> list of keywords")
    result: dict[str, tuple[str, ...]] = {}
    for key, words in raw.items():
        label = str(key)
        if isinstance(words, str) or not isinstance(words, Sequence) or not words:
            raise PlanError(f"{source}: block {label} needs a non-empty list of keywords")
        if not all(isinstance(word, str) and word.strip() for word in words):
            raise PlanError(f"{source}: block {label} has an empty or non-text keyword")
        lowered = [word.casefold() for word in words]
        duplicates = sorted({word for word in lowered if lowered.count(word) > 1})
        if duplicates:
            raise PlanError(f"{source}: block {label} repeats keyword(s) {', '.join(duplicates)}")
        result[label] = tuple(words)
    return result


# --------------------------------------------------------------------------------------------- parsing


def _normalize_lang(lang: str) -> Lang:
    """Accept locale-ish codes ("zh-CN", "en_US") because callers usually hold a user's locale."""
    code = str(lang).replace("_", "-").split("-", 1)[0].lower()
    if code not in LANGS:
        raise PlanError(f"unknown plan language {lang!r}; expected one of {', '.join(LANGS)}")
    return code


def _build(model: type[_M], values: Mapping[str, Any], where: str) -> _M:
    """Construct a model, turning pydantic's error dump into one PlanError line with our location prefix."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{loc}: {msg}" if loc else msg)
        raise PlanError(f"{where}: {'; '.join(problems)}") from exc


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where} must be a mapping, got {type(raw).__name__}")
    return raw


def _list(raw: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key)
    if value is None:
        raise PlanError(f"{where} has no {key}")
    if not isinstance(value, list):
        raise PlanError(f"{where}: {key} must be a list, got {type(value).__name__}")
    return value


def _minutes(raw: Mapping[str, Any], where: str) -> int:
    value = raw.get("minutes")
    if value is None:
        raise PlanError(f"{where} has no duration (minutes)")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PlanError(f"{where} has an invalid duration {value!r} (minutes must be a positive integer)")
    return value


def _text(raw: Mapping[str, Any], where: str) -> str:
    value = raw.get("text")
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{where} has no text")
    return plain_text(value)


def plain_text(value: str) -> str:
    """The source marks inline code with backticks (`cs.CL`); chat shows the words, not the markdown."""
    return value.replace("`", "")


def _parse_task(raw: Any, where: str) -> Task:
    task = _mapping(raw, where)
    return _build(Task, {**task, "minutes": _minutes(task, where), "text": _text(task, where)}, where)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _block_weeks(block: Mapping[str, Any], phase_where: str, index: int) -> tuple[int, int, str]:
    """(first_week, last_week, location) of a raw block, after checking the range is sane on its own."""
    first, last = block.get("first_week"), block.get("last_week")
    if not _is_int(first) or not _is_int(last):
        raise PlanError(
            f"{phase_where}, block #{index} needs integer first_week and last_week, got {first!r} and {last!r}"
        )
    where = f"{phase_where}, block {week_label(first, last)}"
    if last < first:
        raise PlanError(f"{where} ends (week {last}) before it starts (week {first})")
    if first < 1 or last > TOTAL_WEEKS:
        raise PlanError(f"{where} lies outside weeks 1-{TOTAL_WEEKS}")
    return first, last, where


def _parse_block(raw: Any, phase_where: str, index: int, keywords: Mapping[str, tuple[str, ...]]) -> Block:
    block = _mapping(raw, f"{phase_where}, block #{index}")
    first, last, where = _block_weeks(block, phase_where, index)
    label = week_label(first, last)
    if "keywords" in block:
        raise PlanError(f"{where} has its own keywords; keywords are defined once, in {KEYWORDS_FILE}")
    tasks_raw = _list(block, "tasks", where)
    if len(tasks_raw) != TASKS_PER_BLOCK:
        raise PlanError(f"{where} has {len(tasks_raw)} tasks; expected exactly {TASKS_PER_BLOCK}")
    tasks = tuple(_parse_task(task, f"{where}, task {i}") for i, task in enumerate(tasks_raw, 1))
    topics = _list(block, "topics", where)
    if not topics:
        raise PlanError(f"{where} has no topics")
    values = {**block, "tasks": tasks, "topics": topics, "keywords": keywords[label]}
    return _build(Block, values, where)


def _phase_blocks(raw: Any, index: int, source: str) -> tuple[str, list[Any]]:
    """(location, raw blocks) of a raw phase; the location names the phase number for error messages."""
    phase = _mapping(raw, f"{source}: phase #{index}")
    number = phase.get("number")
    where = f"{source}: phase {number if number is not None else f'#{index}'}"
    blocks = _list(phase, "blocks", where)
    if not blocks:
        raise PlanError(f"{where} has no blocks")
    return where, blocks


def _parse_phase(raw: Any, index: int, keywords: Mapping[str, tuple[str, ...]], source: str) -> Phase:
    where, blocks_raw = _phase_blocks(raw, index, source)
    blocks = tuple(_parse_block(b, where, i, keywords) for i, b in enumerate(blocks_raw, 1))
    return _build(Phase, {**raw, "blocks": blocks}, where)


def parse_plan(
    data: Mapping[str, Any],
    lang: str,
    *,
    keywords: Mapping[str, Sequence[str]] | None = None,
    source: str | None = None,
) -> Plan:
    """Build and validate one language's plan from a plain dict (the parsed YAML).

    ``keywords`` defaults to the bundled keywords.yaml; ``source`` (default ``plan.<lang>.yaml``) prefixes
    every error message. Parity with the other language is checked separately by :func:`validate_plans`.
    """
    code = _normalize_lang(lang)
    src = source or f"plan.{code}.yaml"
    if not isinstance(data, Mapping):
        raise PlanError(f"{src}: top level must be a mapping, got {type(data).__name__}")
    declared = data.get("lang", code)
    if declared != code:
        raise PlanError(f"{src}: declares lang {declared!r} but was loaded as {code!r}")
    kw = load_keywords() if keywords is None else _check_keywords(dict(keywords), KEYWORDS_FILE)

    # Week layout first: a shifted week range should be reported as such, not as "no keywords for 6-8".
    phases_raw = _list(data, "phases", src)
    ranges: list[tuple[int, int]] = []
    for i, phase_raw in enumerate(phases_raw, 1):
        where, blocks_raw = _phase_blocks(phase_raw, i, src)
        for j, block_raw in enumerate(blocks_raw, 1):
            ranges.append(_block_weeks(_mapping(block_raw, f"{where}, block #{j}"), where, j)[:2])
    _check_weeks(ranges, src)
    labels = {week_label(first, last) for first, last in ranges}
    missing_kw = [week_label(first, last) for first, last in ranges if week_label(first, last) not in kw]
    if missing_kw:
        raise PlanError(f"{KEYWORDS_FILE}: no keywords for block {missing_kw[0]}")
    unused = sorted(set(kw) - labels)
    if unused:
        raise PlanError(f"{KEYWORDS_FILE}: keywords for unknown block(s) {', '.join(unused)}")

    phases = tuple(_parse_phase(p, i, kw, src) for i, p in enumerate(phases_raw, 1))
    weekly = tuple(
        _parse_weekly(task, f"{src}: weekly task {i}") for i, task in enumerate(_list(data, "weekly_tasks", src), 1)
    )
    tips = tuple(
        _build(Tip, _mapping(tip, f"{src}: tip {i}"), f"{src}: tip {i}")
        for i, tip in enumerate(_list(data, "tips", src), 1)
    )
    values = {**data, "lang": code, "phases": phases, "weekly_tasks": weekly, "tips": tips}
    plan = _build(Plan, values, src)
    _check_plan(plan, src)
    return plan


def _parse_weekly(raw: Any, where: str) -> WeeklyTask:
    task = _mapping(raw, where)
    if task.get("kind") not in WEEKLY_KINDS:
        raise PlanError(f"{where} has kind {task.get('kind')!r}; expected one of {', '.join(WEEKLY_KINDS)}")
    return _build(WeeklyTask, {**task, "minutes": _minutes(task, where), "text": _text(task, where)}, where)


# ------------------------------------------------------------------------------------------ validation


def _check_weeks(ranges: Sequence[tuple[int, int]], src: str) -> None:
    """Blocks (in file order) must not overlap, must ascend and must cover every week exactly once."""
    for i, (a_first, a_last) in enumerate(ranges):
        for b_first, b_last in ranges[i + 1 :]:
            if a_first <= b_last and b_first <= a_last:
                a, b = week_label(a_first, a_last), week_label(b_first, b_last)
                raise PlanError(f"{src}: blocks {a} and {b} overlap")
    for (a_first, a_last), (b_first, b_last) in itertools.pairwise(ranges):
        if b_first < a_first:
            a, b = week_label(a_first, a_last), week_label(b_first, b_last)
            raise PlanError(f"{src}: blocks are out of order: {b} comes after {a}")
    covered = {week for first, last in ranges for week in range(first, last + 1)}
    missing = [week for week in range(1, TOTAL_WEEKS + 1) if week not in covered]
    if len(missing) == 1:
        raise PlanError(f"{src}: week {missing[0]} is missing")
    if missing:
        raise PlanError(f"{src}: weeks {', '.join(map(str, missing))} are missing")


def _check_plan(plan: Plan, src: str) -> None:
    """Checks that need the built models: phase numbering and the set of weekly kinds."""
    numbers = [phase.number for phase in plan.phases]
    if numbers != list(range(1, len(numbers) + 1)):
        raise PlanError(f"{src}: phases must be numbered 1, 2, ... in order; got {', '.join(map(str, numbers))}")
    kinds = [task.kind for task in plan.weekly_tasks]
    if sorted(kinds) != sorted(WEEKLY_KINDS):
        raise PlanError(
            f"{src}: weekly tasks must be exactly one each of {', '.join(WEEKLY_KINDS)}; "
            f"got {', '.join(kinds) or 'none'}"
        )


def validate_plans(zh: Plan, en: Plan) -> None:
    """Fail unless zh and en have the same shape, so a user switching language stays on the same task."""

    def differ(what: str) -> PlanError:
        return PlanError(f"zh and en differ in structure: {what}")

    if zh.lang != "zh" or en.lang != "en":
        raise PlanError(f"validate_plans expects (zh, en) plans, got ({zh.lang}, {en.lang})")
    if len(zh.phases) != len(en.phases):
        raise differ(f"{len(zh.phases)} phases in zh but {len(en.phases)} in en")
    for zp, ep in zip(zh.phases, en.phases, strict=True):
        where = f"phase {zp.number}"
        if zp.number != ep.number:
            raise differ(f"{where} in zh is numbered {ep.number} in en")
        if (zp.daily_time is None) != (ep.daily_time is None):
            raise differ(f"{where} has a daily_time in {'zh' if zp.daily_time else 'en'} only")
        if len(zp.blocks) != len(ep.blocks):
            raise differ(f"{where} has {len(zp.blocks)} blocks in zh but {len(ep.blocks)} in en")
        for zb, eb in zip(zp.blocks, ep.blocks, strict=True):
            if zb.weeks != eb.weeks:
                raise differ(f"{where} has block {zb.label} in zh but {eb.label} in en")
            block_where = f"{where}, block {zb.label}"
            if len(zb.topics) != len(eb.topics):
                raise differ(f"{block_where} has {len(zb.topics)} topics in zh but {len(eb.topics)} in en")
            for i, (zt, et) in enumerate(zip(zb.tasks, eb.tasks, strict=True), 1):
                if zt.minutes != et.minutes:
                    raise differ(f"{block_where}, task {i} takes {zt.minutes} minutes in zh but {et.minutes} in en")
    zk = [(t.kind, t.minutes) for t in zh.weekly_tasks]
    ek = [(t.kind, t.minutes) for t in en.weekly_tasks]
    if zk != ek:
        raise differ(f"weekly tasks (kind, minutes) are {zk} in zh but {ek} in en")
    if len(zh.monthly_tasks) != len(en.monthly_tasks):
        raise differ(f"{len(zh.monthly_tasks)} monthly tasks in zh but {len(en.monthly_tasks)} in en")
    if len(zh.tips) != len(en.tips):
        raise differ(f"{len(zh.tips)} tips in zh but {len(en.tips)} in en")
    for i, (ztip, etip) in enumerate(zip(zh.tips, en.tips, strict=True), 1):
        if ztip.truncated != etip.truncated:
            raise differ(f"tip {i} is marked truncated in {'zh' if ztip.truncated else 'en'} only")


# ---------------------------------------------------------------------------------------------- public


@functools.cache
def _load_all() -> dict[Lang, Plan]:
    plans = {code: parse_plan(read_plan_data(code), code) for code in LANGS}
    validate_plans(plans["zh"], plans["en"])
    return plans


def load_plans() -> dict[Lang, Plan]:
    """Both languages, validated together; a fresh dict each call so callers cannot alter the cache."""
    return dict(_load_all())


@functools.cache
def load_plan(lang: str) -> Plan:
    """The plan in ``lang`` ("zh"/"en"; locale codes like "zh-CN" work). Both languages load on first use."""
    return _load_all()[_normalize_lang(lang)]
