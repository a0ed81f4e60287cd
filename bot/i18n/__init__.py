"""Translations: English message ids in the code, a gettext catalogue per other language.

Catalogues are read from `.po` files with Babel at first use, so there is no compile step to forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from bot.core.types import Lang

LOCALES = Path(__file__).parent / "locales"


@cache
def _catalogue(lang: Lang) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    out: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for message in catalog:
        if message.id and message.string and not message.fuzzy:
            key = message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
            out[key] = message.string if isinstance(message.string, str) else tuple(message.string)
    return out


@dataclass(frozen=True, slots=True)
class Translator:
    lang: Lang
    # The language's catalogue, looked up once: a reply translates several messages.
    messages: dict[str | tuple[str, str], str | tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", _catalogue(self.lang))

    def __call__(self, message: str, **values: Any) -> str:
        found = self.messages.get(message)
        text = found if isinstance(found, str) else message
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        found = self.messages.get((singular, plural))
        if isinstance(found, tuple) and found:
            text = found[0] if len(found) == 1 or n == 1 else found[1]
        else:
            text = singular if n == 1 else plural
        return text.format(n=n, **values)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is only translated later (a table of labels)."""
    return message


@cache  # one per language: every reply asks for one
def translator(lang: Lang) -> Translator:
    return Translator(lang)


def known_messages(lang: Lang) -> set[str | tuple[str, str]]:
    """Message ids the catalogue translates (used by the completeness test)."""
    return set(_catalogue(lang))
