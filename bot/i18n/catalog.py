"""Finds every translatable message in the code with Babel, so a test can demand a translation for each.

Run `python -m bot.i18n.catalog` to list the messages the Chinese catalogue still lacks.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.core.types import Lang
from bot.i18n import known_messages

KEYWORDS = {"_": None, "N_": None, "plural": (1, 2), "ArgError": None}
ROOT = Path(__file__).resolve().parents[1]


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            found.add((message[0], message[1]))
        elif message:
            found.add(message)
    return found


def missing(lang: Lang = "zh") -> list[str | tuple[str, str]]:
    have = known_messages(lang)
    return sorted(code_messages() - have, key=str)


if __name__ == "__main__":
    for message in missing():
        print(repr(message))
