from bot.adapters.render import chunk_lines, to_html, to_markdown, to_terminal, utf16_len
from bot.core.markup import bold, join, link, plain


def test_html_escapes_user_text_and_keeps_our_markup() -> None:
    rich = bold("Hi ") + plain("<b>&Bob</b>") + link("a < b & c", "https://arxiv.org/abs/1?x=1&y=2")
    assert to_html(rich) == (
        '<b>Hi </b>&lt;b&gt;&amp;Bob&lt;/b&gt;<a href="https://arxiv.org/abs/1?x=1&amp;y=2">a &lt; b &amp; c</a>'
    )


def test_markdown_escapes_user_text() -> None:
    assert to_markdown(plain("*not bold* @everyone")) == r"\*not bold\* \@everyone"
    assert to_markdown(bold("x")) == "**x**"


def test_terminal_plain_when_not_a_tty() -> None:
    assert to_terminal(bold("x ") + link("paper", "https://e.x"), color=False) == "x paper <https://e.x>"


def test_long_messages_split_at_line_boundaries() -> None:
    lines = [f"line {i} " + "x" * 50 for i in range(200)]
    parts = chunk_lines(join([plain(line) for line in lines]), to_html, 4096)
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts).split("\n") == lines


def test_bold_spans_survive_splitting() -> None:
    rich = join([bold("title " * 10) for _ in range(300)])
    for part in chunk_lines(rich, to_html, 4096):
        assert part.count("<b>") == part.count("</b>")


def test_an_overlong_single_line_is_cut_between_whole_escaped_pieces() -> None:
    rich = bold("T" * 3000) + plain(" & <x> " * 1500) + link("paper", "https://arxiv.org/abs/1")
    parts = chunk_lines(rich, to_html, 4096)
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    joined = "".join(parts)
    assert joined.count("<b>") == joined.count("</b>")
    assert "&amp;" in joined and "&am\n" not in joined
    for part in parts:
        assert part.count("<b>") == part.count("</b>")  # no tag is split across parts
        assert not part.endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))


def test_telegram_limits_count_utf16_units_so_emoji_lines_still_fit() -> None:
    lines = ["🔥" * 100 for _ in range(40)]  # 4,039 characters, but 8,039 UTF-16 units
    assert len("\n".join(lines)) <= 4096
    parts = chunk_lines(join([plain(line) for line in lines]), to_html, 4096, utf16_len)
    assert len(parts) == 2 and all(utf16_len(part) <= 4096 for part in parts)
    assert "\n".join(parts).split("\n") == lines
    single = chunk_lines(plain("🔥" * 3000), to_html, 4096, utf16_len)  # one overlong line, cut inside
    assert len(single) == 2 and all(utf16_len(part) <= 4096 for part in single)
    assert "".join(single) == "🔥" * 3000


def test_console_input_that_is_not_text_becomes_replacement_characters() -> None:
    from bot.adapters.console import as_text

    assert as_text(b"/topics add \xc3\x28") == "/topics add \ufffd("
    assert as_text("/x \udcc3 y") == "/x \ufffd y"  # a lone surrogate can't reach the database
    assert as_text("emoji \U0001f600 stays") == "emoji \U0001f600 stays"


def test_console_files_are_named_per_user() -> None:
    from bot.adapters.console import file_stem

    assert file_stem("ann") == "ann"
    assert file_stem("../../etc/passwd") == "etc_passwd"
    assert file_stem("李 雷") == "李_雷"
    assert file_stem("") == "user"
