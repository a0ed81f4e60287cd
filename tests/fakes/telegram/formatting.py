"""Approximate Telegram ``parse_mode`` handling for the fake Bot API.

Telegram strips markup and returns plain ``text`` plus ``entities``; it rejects bad markup with
``400 Bad Request: can't parse entities: ...``. Reproducing that catches escaping bugs in our
adapter early. This is deliberately a subset of Telegram's parser, not a byte-exact clone.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["EntityParseError", "parse_text", "utf16_len"]


class EntityParseError(ValueError):
    """Markup Telegram would refuse; ``str(exc)`` is the part after ``can't parse entities: ``."""


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for ``text`` under ``parse_mode`` (case-insensitive)."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown(text, v2=True)
    if mode == "markdown":
        return _parse_markdown(text, v2=False)
    raise EntityParseError(f'Unsupported parse_mode "{parse_mode}"')


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)\s*>|<|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    out_len = 0
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    for match in _HTML_TOKEN.finditer(text):
        chunk = text[pos : match.start()]
        out.append(chunk)
        out_len += utf16_len(chunk)
        pos = match.end()
        token = match.group(0)
        if match.group(4) is not None:  # entity
            ref = match.group(4)
            if ref.startswith("#") or ref in {"lt", "gt", "amp", "quot"}:
                decoded = html.unescape(token)
            else:
                decoded = token  # Telegram keeps unsupported named entities verbatim
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if token == "<":
            raise EntityParseError(f"Unsupported start tag at byte offset {_byte_offset(text, match.start())}")
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise EntityParseError(f'Unsupported {kind} tag "{tag}" at byte offset {_byte_offset(text, match.start())}')
        if not closing:
            attrs = {
                m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
                for m in _ATTR.finditer(match.group(3) or "")
            }
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                where = _byte_offset(text, match.start())
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
            stack.append((tag, out_len, attrs))
            continue
        if not stack or stack[-1][0] != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {_byte_offset(text, match.start())}, expected "</'
                f'{stack[-1][0] if stack else ""}>", found "</{tag}>"'
            )
        _, start, attrs = stack.pop()
        if out_len == start:
            continue
        entity: dict[str, Any] = {"type": _HTML_TAGS[tag], "offset": start, "length": out_len - start}
        if tag == "a":
            entity["url"] = attrs.get("href", "")
        elif tag == "blockquote" and "expandable" in (match.group(3) or "") + str(attrs):
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif tag == "code" and stack and stack[-1][0] == "pre" and "class" in attrs:
            entity = {"type": "pre", "offset": start, "length": out_len - start}
            entity["language"] = attrs["class"].removeprefix("language-")
        if tag == "pre" and entities and entities[-1]["type"] == "pre" and entities[-1]["offset"] == start:
            continue  # <pre><code class="language-x"> already produced the pre entity
        entities.append(entity)
    out.append(text[pos:])
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_MD_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_V2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_MD_TYPES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    """Handle MarkdownV2 (strict escaping) and legacy Markdown (bold/italic/code/pre/links)."""
    out: list[str] = []
    out_len = 0
    stack: list[tuple[str, int, int]] = []  # (marker, output offset, source index)
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)

    def emit(chunk: str) -> None:
        nonlocal out_len
        out.append(chunk)
        out_len += utf16_len(chunk)

    while i < n:
        c = text[i]
        if c == "\\" and v2 and i + 1 < n:
            emit(text[i + 1])
            i += 2
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            while v2 and end > 0 and text[end - 1] == "\\":
                end = text.find(fence, end + 1)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte offset "
                    f"{_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            language = None
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            if v2:
                body = re.sub(r"\\([\\`])", r"\1", body)
            start = out_len
            emit(body)
            if body:
                entity: dict[str, Any] = {
                    "type": "pre" if fence == "```" else "code",
                    "offset": start,
                    "length": out_len - start,
                }
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = end + len(fence)
            continue
        marker = None
        if v2 and text.startswith("__", i):
            marker = "__"
        elif v2 and text.startswith("||", i):
            marker = "||"
        elif c in ("*", "_") or (v2 and c == "~"):
            marker = c
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, start, _src = stack.pop()
                if out_len > start:
                    entities.append({"type": _MD_TYPES[marker], "offset": start, "length": out_len - start})
            elif not v2 and stack:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, stack[-1][2])}"
                )
            else:
                stack.append((marker, out_len, i))
            i += len(marker)
            continue
        if c == "[":
            stack.append(("[", out_len, i))
            i += 1
            continue
        if c == "]" and stack and stack[-1][0] == "[":
            _, start, src = stack.pop()
            if not text.startswith("(", i + 1):
                if v2:
                    raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {_byte_offset(text, src)}")
                i += 1
                continue
            close = text.find(")", i + 2)
            if close < 0:
                raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}")
            url = text[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
            if out_len > start:
                entities.append({"type": "text_link", "offset": start, "length": out_len - start, "url": url})
            i = close + 1
            continue
        if v2 and c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote marker: accepted, entity omitted for simplicity
            continue
        if v2 and c in _MD_V2_RESERVED:
            raise EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        emit(c)
        i += 1
    if stack:
        marker, _start, src = stack[-1]
        if v2:
            name = _MD_V2_NAMES.get(marker, "the")
            raise EntityParseError(f"Can't find end of {name} entity at byte offset {_byte_offset(text, src)}")
        raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(text, src)}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
