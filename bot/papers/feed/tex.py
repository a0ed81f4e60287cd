"""TeX in arXiv titles, authors and abstracts, as plain Unicode for chat (`Benjam\\'in` -> Benjamín).

pylatexenc does the conversion, but it reads every character of what it is given: a TeX-bearing abstract
took ~4 ms, most of it spent on the plain words around a formula. So only the islands that need TeX go
through it, each grown until it stands alone (its `$`, braces, environments and `\\(`/`\\[` math closed,
the bare arguments of a trailing control word taken along); the words between are TeX-free and read the
same either way. On the feeds in ../shared/fixtures (933 distinct TeX-bearing texts) the output is
identical to converting each text whole, 7x faster (tests/unit/test_arxiv_tex.py keeps it so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

_TEX_SPECIAL = re.compile(r"(?<!\\)([%&#])")  # literal in abstracts ("50%"), not TeX comments or tabs
_DOLLARS = re.compile(r"(?<!\\)\$(?=\d)([^$]*)(?<!\\)\$(?=\d)")  # "$90 to $190": money, not math
_WORD = re.compile(r"\S+")
# What pylatexenc would change in a word: TeX syntax, and its ligatures (dashes, quotes, inverted marks).
_NEEDS_TEX = re.compile(r"[\\${}~^_&#%`]|--|''")
_ENDS_IN_CONTROL = re.compile(r"\\(?:[A-Za-z]+\*?|[^A-Za-z\s])$")  # `\frac`, `\'`: arguments may follow a space
_DOLLAR = re.compile(r"(?<!\\)\$")
_BEGIN = re.compile(r"\\begin\s*\{")
_END = re.compile(r"\\end\s*\{")
_MATH_OPEN = re.compile(r"\\[(\[]")
_MATH_CLOSE = re.compile(r"\\[)\]]")


def _latex_converter() -> LatexNodes2Text:
    """Math as Unicode; an unknown macro (`\\poshbench`, a paper's own) keeps its name instead of vanishing."""
    context = get_default_latex_context_db()  # a fresh database per call
    context.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=lambda node, l2tobj=None: node.macroname))
    return LatexNodes2Text(latex_context=context, math_mode="text", keep_comments=False)


_LATEX = _latex_converter()
# The parser's own macro database, built once: `LatexNodes2Text.latex_to_text` makes a walker without
# one, and such a walker builds the default database anew for every island.
_WALKER_CONTEXT = latexwalker.get_default_latex_context_db()


def _to_text(latex: str) -> str:
    """`_LATEX.latex_to_text(latex)`, on the shared parser database."""
    nodes = latexwalker.LatexWalker(latex, latex_context=_WALKER_CONTEXT).get_latex_nodes()[0]
    return str(_LATEX.nodelist_to_text(nodes))


def escape_specials(text: str) -> str:
    """`%`, `&`, `#` and money dollars are literal in abstracts: escape them before TeX reads the text."""
    return _DOLLARS.sub(lambda m: f"\\${m[1]}\\$", _TEX_SPECIAL.sub(r"\\\1", text))


def tex_islands(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of words that needs TeX, grown until it stands alone."""
    start: int | None = None
    dollars = braces = environments = maths = 0
    arguments = False  # after a control word: the next words may be its bare arguments (`\frac 1 2`)
    for word in _WORD.finditer(text):
        token = word.group()
        if start is None:
            if not _NEEDS_TEX.search(token):
                continue
            start = word.start()
        elif arguments:
            arguments = len(token) == 1  # one character: another bare argument may follow
        dollars += len(_DOLLAR.findall(token))
        braces += token.count("{") - token.count("\\{") - token.count("}") + token.count("\\}")
        environments += len(_BEGIN.findall(token)) - len(_END.findall(token))
        maths += len(_MATH_OPEN.findall(token)) - len(_MATH_CLOSE.findall(token))
        if _ENDS_IN_CONTROL.search(token):
            arguments = True
        if dollars % 2 == 0 and braces <= 0 and environments <= 0 and maths <= 0 and not arguments:
            yield start, word.end()
            start, dollars, braces, environments, maths = None, 0, 0, 0, 0
    if start is not None:
        yield start, len(text)


def detex(text: str) -> str:
    """TeX accents and math as plain Unicode for chat (`Benjam\\'in` -> Benjamín, `$\\alpha$` -> α).
    Text with neither a backslash nor a `$` is returned as is; pylatexenc trouble leaves it unchanged."""
    if "\\" not in text and "$" not in text:
        return text
    escaped = escape_specials(text)
    parts: list[str] = []
    done = 0
    try:
        for start, end in tex_islands(escaped):
            parts += (escaped[done:start], _to_text(escaped[start:end]))
            done = end
    except Exception:  # a parser edge case must never lose a paper
        return text
    return _tidy(" ".join((*parts, escaped[done:])), text)


def detex_whole(text: str) -> str:
    """The same conversion of the whole text at once: the reference `detex` must match (tests)."""
    if "\\" not in text and "$" not in text:
        return text
    try:
        return _tidy(_to_text(escape_specials(text)), text)
    except Exception:
        return text


def _tidy(decoded: str, text: str) -> str:
    """One line of single spaces; the original text when TeX left nothing of it."""
    return " ".join(decoded.split()) if decoded.strip() else text
