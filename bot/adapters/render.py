"""Renders the core's markup for each platform, escaping every user-supplied span."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.core.markup import Rich, Span

_MD_SPECIAL = re.compile(r"([\\*_`~|>\[\]()#<@:-])")


def _html_span(span: Span) -> str:
    text = html.escape(span.text, quote=False)
    if span.style == "bold":
        return f"<b>{text}</b>"
    if span.style == "italic":
        return f"<i>{text}</i>"
    if span.style == "code":
        return f"<code>{text}</code>"
    if span.style == "link" and span.url:
        return f'<a href="{html.escape(span.url, quote=True)}">{text}</a>'
    return text


def to_html(rich: Rich) -> str:
    """Telegram's HTML parse mode."""
    return "".join(_html_span(span) for span in rich.spans)


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_span(span: Span) -> str:
    if span.style == "code":
        return "`" + span.text.replace("`", "ˋ") + "`"
    text = escape_markdown(span.text)
    if span.style == "bold":
        return f"**{text}**"
    if span.style == "italic":
        return f"*{text}*"
    if span.style == "link" and span.url:
        return f"[{text}](<{span.url}>)"
    return text


def to_markdown(rich: Rich) -> str:
    """Discord's Markdown dialect."""
    return "".join(_md_span(span) for span in rich.spans)


def to_terminal(rich: Rich, color: bool) -> str:
    out = []
    for span in rich.spans:
        text = span.text
        if span.style == "link" and span.url:
            text = f"{text} <{span.url}>"
        if color and span.style == "bold":
            text = f"\x1b[1m{text}\x1b[0m"
        elif color and span.style == "italic":
            text = f"\x1b[3m{text}\x1b[0m"
        out.append(text)
    return "".join(out)


def utf16_len(text: str) -> int:
    """Telegram measures its limits in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _pieces(line: Rich, render: Callable[[Rich], str], limit: int, measure: Callable[[str], int]) -> list[str]:
    """Cut one overlong line between spans, or inside a span's text, never inside rendered markup:
    each piece is rendered whole, so tags stay balanced and escapes intact."""
    step = max(1, limit // 8)  # escaping can grow text several-fold (& -> &amp;) and tags add a little
    small = [
        Rich((Span(span.text[i : i + step], span.style, span.url),))
        for span in line.spans
        for i in range(0, len(span.text), step)
    ]
    out: list[str] = []
    current = ""
    for piece in small:
        rendered = render(piece)
        if current and measure(current) + measure(rendered) > limit:
            out.append(current)
            current = ""
        current += rendered
    if current:
        out.append(current)
    return out


def chunk_lines(
    rich: Rich, render: Callable[[Rich], str], limit: int, measure: Callable[[str], int] = len
) -> list[str]:
    """Split a long message at line boundaries so each rendered part fits the platform's limit, as the
    platform measures it (`measure`)."""
    parts: list[str] = []
    current = ""
    for line in rich.lines():
        rendered = render(line)
        if measure(rendered) > limit:  # a single overlong line (rare: a huge abstract)
            if current:
                parts.append(current)
            *whole, current = _pieces(line, render, limit, measure)
            parts += whole
            continue
        candidate = f"{current}\n{rendered}" if current else rendered
        if measure(candidate) > limit:
            parts.append(current)
            current = rendered
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
