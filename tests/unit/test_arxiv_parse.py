"""parse_feed against real arXiv output; expected numbers were counted with grep on the raw files."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

import feedparser
import pytest

from bot.papers.feed import (
    ArxivPaper,
    FeedError,
    ParsedFeed,
    is_stale,
    parse_feed,
    split_arxiv_id,
    split_authors,
)

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared/fixtures/arxiv"

CL_0817 = "rss_cs.CL_pub2026-08-17_weekday.xml"
LG_0817 = "rss_cs.LG_pub2026-08-17_weekday.xml"
CL_0820 = "rss_cs.CL_pub2026-08-20_weekday.xml"
SATURDAY = "rss_cs.CL_pub2026-08-15_saturday_empty.xml"
THANKSGIVING = "rss_cs.CL_pub2025-11-28_thanksgiving_empty.xml"
LG_2024 = "rss_cs.LG_pub2024-05-15_pre-Aug2024-format_oldstyle-id.xml"
ATOM_TRUNCATED = "atom_cs.AI_2025-08-20_truncated.xml"
COMBINED = "rss_combined_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed.xml"
API = "api_cat-cs.CL_max3_2026-09-24.xml"


def _raw(name: str) -> bytes:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"shared arXiv fixture missing: {path}")
    return path.read_bytes()


def _parse(name: str) -> ParsedFeed:
    return parse_feed(_raw(name))


# (file, kind, feed_date, papers, new, cross, replace, replace-cross)
COUNTS = [
    (CL_0817, "rss", date(2026, 8, 17), 101, 32, 30, 29, 10),
    (LG_0817, "rss", date(2026, 8, 17), 212, 70, 68, 42, 32),
    (CL_0820, "rss", date(2026, 8, 20), 141, 72, 27, 27, 15),
    (SATURDAY, "rss", date(2026, 8, 15), 0, 0, 0, 0, 0),
    (THANKSGIVING, "rss", date(2025, 11, 28), 0, 0, 0, 0, 0),
    (LG_2024, "rss", date(2024, 5, 15), 213, 61, 55, 48, 49),
    # 87 <entry> opened, 86 closed: the last is cut off before its summary and is dropped.
    (ATOM_TRUNCATED, "atom", date(2025, 8, 20), 86, 41, 45, 0, 0),
    (COMBINED, "rss", date(2026, 9, 24), 4, 2, 1, 1, 0),
    (API, "api", date(2026, 9, 24), 3, 3, 0, 0, 0),
]


@pytest.mark.parametrize(("name", "kind", "feed_date", "total", "new", "cross", "repl", "repl_cross"), COUNTS)
def test_fixture_counts(
    name: str, kind: str, feed_date: date, total: int, new: int, cross: int, repl: int, repl_cross: int
) -> None:
    parsed = _parse(name)
    assert parsed.kind == kind
    assert parsed.feed_date == feed_date
    assert len(parsed.papers) == total
    assert parsed.counts_by_type() == {
        "new": new,
        "cross": cross,
        "replace": repl,
        "replace-cross": repl_cross,
    }
    assert len({(p.arxiv_id, p.version) for p in parsed.papers}) == total
    assert parsed.truncated is (name == ATOM_TRUNCATED)


def test_cl_and_lg_same_day_share_27_ids() -> None:
    cl = {p.arxiv_id: p for p in _parse(CL_0817).papers}
    lg = {p.arxiv_id: p for p in _parse(LG_0817).papers}
    shared = cl.keys() & lg.keys()
    assert len(shared) == 27
    # The README's "new in one, cross in the other" holds for only 12 of them.
    pairs = sorted((cl[i].announce_type, lg[i].announce_type) for i in shared)
    assert pairs.count(("new", "cross")) + pairs.count(("cross", "new")) == 12


def test_rss_paper_fields() -> None:
    paper = _parse(CL_0820).papers[0]
    assert paper == ArxivPaper(
        arxiv_id="2608.18082",
        version=1,
        title="LongNovel: A Multi-Scale Benchmark for Hallucination Detection in Long-Context Novel Summarization",
        authors=("Ruizhi Zhang", "Jinwei Chen", "Xiangju Lu", "He Yan", "Mo Yu", "Junmin Zhu", "Wei Zhang"),
        abstract=paper.abstract,
        categories=("cs.CL",),
        primary_category="cs.CL",
        announce_type="new",
        announced=date(2026, 8, 20),
        link="https://arxiv.org/abs/2608.18082",
        published=datetime(2026, 8, 20, 4, 0, tzinfo=UTC),
    )
    assert paper.abstract.startswith("Although context windows have expanded significantly")
    assert paper.abstract.endswith("https://github.com/BDML-lab/LongNovel")


def test_replacement_has_version_above_one() -> None:
    papers = {p.arxiv_id: p for p in _parse(CL_0820).papers}
    assert papers["2307.12896"].announce_type == "replace"
    assert papers["2307.12896"].version == 5
    assert all(p.version >= 1 for p in papers.values())


def test_old_style_id_kept_whole() -> None:
    parsed = _parse(LG_2024)
    old = [p for p in parsed.papers if "/" in p.arxiv_id]
    assert [(p.arxiv_id, p.version, p.announce_type) for p in old] == [("nlin/0408039", 2, "cross")]
    assert old[0].link == "https://arxiv.org/abs/nlin/0408039"
    assert old[0].categories == ("nlin.AO", "cs.LG", "math.DS", "nlin.CD", "stat.ML")
    assert old[0].primary_category == "nlin.AO"
    # 2024 format: no per-item pubDate, so the channel date is the announcement date.
    assert old[0].published is None
    assert old[0].announced == date(2024, 5, 15)
    assert old[0].abstract.startswith("We derive a class")  # leading blanks after "Abstract:" trimmed


@pytest.mark.parametrize(("name", "day"), [(SATURDAY, date(2026, 8, 15)), (THANKSGIVING, date(2025, 11, 28))])
def test_empty_channels_are_not_errors(name: str, day: date) -> None:
    parsed = _parse(name)
    assert parsed.is_empty
    assert parsed.feed_date == day
    assert not parsed.truncated
    assert not is_stale(parsed, set())


def test_truncated_atom_keeps_complete_entries() -> None:
    raw = _raw(ATOM_TRUNCATED)
    parsed = parse_feed(raw)
    assert parsed.truncated
    ids = [p.arxiv_id for p in parsed.papers]
    assert ids[0] == "2508.13167"
    assert "2508.13435" not in ids  # the entry cut off mid-way
    assert all(p.abstract and p.authors and p.categories for p in parsed.papers)
    first = parsed.papers[0]
    assert first.published == datetime.fromisoformat("2025-08-20T00:00:00-04:00")
    assert first.announced == date(2025, 8, 20)
    # Entries after the last complete one are what the raw file has beyond the 86th </entry>.
    assert raw.count(b"</entry>") == 86 and raw.count(b"<entry>") == 87


def _raw_description(raw: bytes, arxiv_id: str) -> str:
    match = re.search(rb"<description>arXiv:" + re.escape(arxiv_id.encode()) + rb"v\d+ .*?</description>", raw, re.S)
    assert match is not None
    text = unescape(match.group(0).decode()[len("<description>") : -len("</description>")])
    return text.split("\nAbstract: ", 1)[1].strip()


def test_angle_brackets_in_abstract_preserved_verbatim() -> None:
    raw = _raw(CL_0820)
    assert b"NBI&lt;T,I,F&gt;" in raw
    papers = {p.arxiv_id: p for p in parse_feed(raw).papers}
    abstract = papers["2608.18107"].abstract
    assert "Neutrosophic Bias Index NBI<T,I,F>; the I component" in abstract
    assert abstract == _raw_description(raw, "2608.18107")


def test_feedparser_alone_damages_the_abstract() -> None:
    """Why we re-read the raw XML: even with sanitize_html=False feedparser rewrites <T,I,F>."""
    raw = _raw(CL_0820)
    for sanitize in (True, False):
        entries = feedparser.parse(io.BytesIO(raw), sanitize_html=sanitize).entries
        summary = next(e.summary for e in entries if e.id.endswith("2608.18107v1"))
        assert "NBI<T,I,F>" not in summary


def test_every_abstract_matches_the_raw_text() -> None:
    raw = _raw(CL_0817)
    papers = _parse(CL_0817).papers
    from bot.papers.feed.parse import detex

    for paper in papers:  # the raw text, with its TeX (if any) decoded for chat
        assert paper.abstract == detex(_raw_description(raw, paper.arxiv_id))
    assert sum(paper.abstract != _raw_description(raw, paper.arxiv_id) for paper in papers) > 10
    assert any("0.780 → 0.889" in paper.abstract for paper in papers)
    tokens = next(p for p in papers if "termination tokens" in p.abstract)
    assert "</think> and <|im_end|>" in tokens.abstract


def test_affiliations_with_commas_from_fixture() -> None:
    papers = {p.arxiv_id: p for p in _parse(CL_0820).papers}
    assert papers["2608.18578"].authors == ("Shayan Shahrabi-Farahani", "Dara Rahmati")
    lg = _parse(LG_2024).papers
    sun = next(p for p in lg if p.authors and p.authors[0] == "Yao Sun")
    assert sun.authors == ("Yao Sun", "Tengyu Jing", "Jiapeng Wang", "Wei Wang")


# arXiv puts a blank before the newline after the announce type; kept via the {SP} marker.
TINY_FEED = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
  <channel>
    <title>cs.CL updates on arXiv.org</title>
    <pubDate>Mon, 07 Dec 2026 00:00:00 -0500</pubDate>
    <item>
      <title>A   Title
        over lines</title>
      <link>https://arxiv.org/abs/2612.00001</link>
      <description>arXiv:2612.00001v3 Announce Type: replace-cross{SP}
Abstract: Uses x &lt; y &amp; z and &lt;b&gt;tags&lt;/b&gt;.</description>
      <guid isPermaLink="false">oai:arXiv.org:2612.00001v3</guid>
      <category>stat.ML</category>
      <category>cs.CL</category>
      <arxiv:announce_type>replace-cross</arxiv:announce_type>
      <dc:creator>Ada Lovelace (Univ. of London, UK), Alan Turing (Bletchley (Hut 8), UK),
        Grace Hopper</dc:creator>
    </item>
  </channel>
</rss>
""".replace(b"{SP}", b" ")


def test_tiny_feed_authors_dates_and_text() -> None:
    parsed = parse_feed(TINY_FEED)
    (paper,) = parsed.papers
    assert paper.authors == ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    assert paper.title == "A Title over lines"
    assert paper.abstract == "Uses x < y & z and <b>tags</b>."
    assert (paper.arxiv_id, paper.version, paper.announce_type) == ("2612.00001", 3, "replace-cross")
    assert paper.primary_category == "stat.ML"
    assert paper.published is None
    assert paper.announced == parsed.feed_date == date(2026, 12, 7)


def test_split_authors_options() -> None:
    creator = "Ada Lovelace (Univ. of London, UK), Alan Turing (Bletchley (Hut 8), UK),  Grace Hopper"
    assert split_authors(creator, keep_affiliations=True) == (
        "Ada Lovelace (Univ. of London, UK)",
        "Alan Turing (Bletchley (Hut 8), UK)",
        "Grace Hopper",
    )
    assert split_authors("") == ()
    assert split_authors("Solo Author") == ("Solo Author",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("oai:arXiv.org:2608.18082v1", ("2608.18082", 1)),
        ("oai:arXiv.org:nlin/0408039v2", ("nlin/0408039", 2)),
        ("http://arxiv.org/abs/2609.28471v12", ("2609.28471", 12)),
        ("arXiv:hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("2608.18082", ("2608.18082", None)),
    ],
)
def test_split_arxiv_id(raw: str, expected: tuple[str, int | None]) -> None:
    assert split_arxiv_id(raw) == expected


def test_api_response() -> None:
    parsed = _parse(API)
    assert parsed.kind == "api"
    assert parsed.total_results == 119894
    assert [p.arxiv_id for p in parsed.papers] == ["2609.28471", "2609.28449", "2609.28442"]
    second = parsed.papers[1]
    assert second.primary_category == "cs.SE"
    assert second.categories == ("cs.SE", "cs.AI", "cs.CL")
    assert second.authors[:2] == ("Hamed Taherkhani", "Mohammad Abdollahi") and len(second.authors) == 6
    assert second.link == "https://arxiv.org/abs/2609.28449"
    assert second.published == datetime(2026, 9, 23, 17, 46, 50, tzinfo=UTC)
    assert second.announced is None
    assert all(p.announce_type == "new" and p.version == 1 for p in parsed.papers)


def test_is_stale() -> None:
    parsed = _parse(COMBINED)
    ids = {p.arxiv_id for p in parsed.papers}
    assert is_stale(parsed, ids)
    assert not is_stale(parsed, ids - {next(iter(ids))})


HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>503 Service Unavailable</title></head>
<body><h1>Service Unavailable</h1><p>Please retry later.<br></body></html>
"""


@pytest.mark.parametrize(
    "data",
    [
        HTML_PAGE,
        b"",
        b"   \n",
        b"\x00\x01\x02garbage\xff\xfe",
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>cut",
        b"<?xml version='1.0'?><note><to>x</to></note>",
        b"/etc/passwd",  # feedparser would open this as a file if handed raw bytes
        # A well-formed feed with entries but none of them arXiv papers.
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>y</title>"
        b"</item></channel></rss>",
    ],
)
def test_not_a_feed_raises(data: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(data)


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("Benjam\\'in Mart\\'inez", "Benjamín Martínez"),
        ('J\\"urgen M\\"uller', "Jürgen Müller"),
        (
            "Scaling $O(n^2)$ attention to $\\alpha \\to \\infty$ with 50% less",
            "Scaling O(n^2) attention to α→∞ with 50% less",
        ),
        ("\\textit{Fast} \\textbf{LLMs} & more", "Fast LLMs & more"),
        ("No TeX at all: 50% & <T,I,F>", "No TeX at all: 50% & <T,I,F>"),
    ],
)
def test_tex_in_authors_titles_and_abstracts_reads_as_unicode(tex: str, text: str) -> None:
    from bot.papers.feed.parse import detex

    assert detex(tex) == text


def test_parsed_papers_carry_decoded_names() -> None:
    from bot.papers.feed.parse import detex

    feed = (
        b'<?xml version="1.0"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        b' version="2.0"><channel><title>cs.CL</title><item><title>On $\\beta$-VAEs</title>'
        b"<link>https://arxiv.org/abs/2608.00001</link><description>arXiv:2608.00001v1 Announce Type: new \n"
        b"Abstract: We bound $\\epsilon$.</description><guid>oai:arXiv.org:2608.00001v1</guid>"
        b"<arxiv:announce_type>new</arxiv:announce_type>"
        b"<dc:creator>Benjam\\'in Rivera, Ana Lopez</dc:creator></item></channel></rss>"
    )
    [paper] = parse_feed(feed).papers
    assert paper.authors == ("Benjamín Rivera", "Ana Lopez")
    assert paper.title == "On β-VAEs" and paper.abstract == "We bound ϵ."
    assert detex(paper.title) == paper.title
