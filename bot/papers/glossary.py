"""Chinese topics to English query words, through a bilingual glossary shipped as data.

arXiv papers are written in English, so `/topics add 检索增强生成` must search for "retrieval-augmented
generation". A glossary of the field's terms (bot/papers/data/glossary.yaml, every plan keyword at least)
is exact, tiny and offline; a multilingual embedding model would need a few hundred MB of weights for
a few hundred terms. The topic is cut greedily into the longest known terms; Latin words inside it
(`LLM 量化`) are kept as they are.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from bot.plan.loader import safe_yaml

GLOSSARY_FILE = "glossary.yaml"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./+-]*")


@cache
def glossary() -> dict[str, tuple[str, ...]]:
    """English term -> its Chinese names, as shipped."""
    raw = safe_yaml(resources.files("bot.papers").joinpath("data", GLOSSARY_FILE).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{GLOSSARY_FILE}: top level must map English terms to lists of Chinese names")
    return {str(en): tuple(str(zh) for zh in names) for en, names in raw.items()}


@cache
def chinese_index() -> dict[str, tuple[str, ...]]:
    """Chinese name -> the English terms it stands for (casefolded, so `AB测试` meets `ab测试`)."""
    index: dict[str, list[str]] = {}
    for en, names in glossary().items():
        for zh in names:
            index.setdefault(zh.casefold(), []).append(en)
    return {zh: tuple(ens) for zh, ens in index.items()}


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def english_terms(topic: str) -> tuple[str, ...]:
    """The English words to search a topic by: itself when it has no Chinese, else its glossary terms."""
    if not has_chinese(topic):
        return (topic,)
    index = chinese_index()
    longest = max(map(len, index), default=0)
    text = topic.casefold()
    terms: list[str] = []
    start = 0
    while start < len(text):
        for end in range(min(len(text), start + longest), start, -1):
            found = index.get(text[start:end])
            if found is not None:
                terms += found
                start = end
                break
        else:
            latin = _LATIN_RUN.match(text, start)
            if latin:
                terms.append(latin.group().strip())
                start = latin.end()
            else:
                start += 1
    return tuple(dict.fromkeys(t for t in terms if t))
