"""The zh-CN demo and report read as Chinese: no line of prose is left in English.

Data stays as it was written (deal and company names, ids, owners, currency codes), so the
check takes the store's identifying values as data and looks for what remains: a run of
three or more English words between two Chinese characters is a sentence or a header that
was never wrapped for translation.
"""

import contextlib
import html
import io
import itertools
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _prose import english_lines
from oppcore import Lead, Opportunity, serde
from oppcore._cli import main
from oppcore._report._format import width, wrap
from oppcore.storage import SQLiteStore, query_all

REPORT_AT = "2026-10-29T09:00+08:00"  # the demo's own report moment

# Record fields whose values are data a report shows as written (names, ids, codes).
_DATA_KEYS = frozenset({
    "id", "name", "owner", "company", "currency", "pipeline_id", "stage_id", "from_stage",
    "to_stage", "lead_id", "opportunity_id", "referrer", "renewed_by", "renewal_of",
})


def _data_words(db: Path) -> frozenset[str]:
    converter = serde.make_converter()
    words: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in _DATA_KEYS:
            words.update(re.findall(r"[A-Za-z]+", value))

    store = SQLiteStore(db)
    try:
        for kind in (Opportunity, Lead):
            for record in query_all(store, kind):
                walk(converter.unstructure(record))
    finally:
        store.close()
    return frozenset(words)


def html_text(document: str) -> str:
    """The text of an HTML report a person reads, one line per element: what it shows,
    the charts' texts, tooltips (``<title>``) and legends, and their accessible labels."""
    body = re.sub(r"<style\b.*?</style>", "\n", document, flags=re.S)
    labels = re.findall(r'aria-label="([^"]*)"', body)
    return html.unescape("\n".join((re.sub(r"<[^>]+>", "\n", body), *labels)))


@contextlib.contextmanager
def _stdout() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
        yield buffer


@pytest.fixture(scope="module")
def zh_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, frozenset[str]]:
    db = tmp_path_factory.mktemp("zh-demo") / "demo.db"
    with _stdout() as out:
        assert main(["--locale", "zh-CN", "demo", "--db", str(db)]) == 0
    return db, out.getvalue(), _data_words(db)


# --- the check itself ---------------------------------------------------------------------

def test_the_check_finds_english_prose_and_lets_data_through() -> None:
    data = frozenset({"Acme", "Logistics", "LLC", "Harbor", "Shipping", "lead", "opp"})
    assert english_lines("CNY: open pipeline 61,706.00 (weighted 28,744.00, 77 deals)",
                         data)
    assert english_lines("赢单  reached: got this far or further", data)
    assert english_lines("  1  91.11 A  id lead-1-opp, owner rep-li, account Acme", data)
    assert not english_lines("  124  客户需求分析  rep-zhang  Acme Logistics LLC  ¥999.00", data)
    assert not english_lines("  127  客户需求分析  Blue Harbor Shipp…  lead-0048-opp", data)
    assert not english_lines("净推荐值 NPS 75（8 份答复）   客户满意度 CSAT -", data)
    assert not english_lines("  oppcore report --db demo.db --now 2026-10-29 --html r.html",
                             data)
    # Two words are a name or a term, not yet a sentence.
    assert not english_lines("与 Incumbent Tech 相比我方：领先", data)


# --- wrapping Chinese notes ----------------------------------------------------------------

# Chinese prose with some ASCII words; no space before closing punctuation, as in real text.
_PROSE = st.text(alphabet=st.sampled_from(list("商机赢单阶段停滞，。“”（）：") + list("ab cd")),
                 max_size=300).map(lambda text: re.sub(r" +(?=[，。）：”])", "", text))


@given(_PROSE, st.integers(min_value=4, max_value=100))
def test_wrap_keeps_every_character_and_fits_the_width(text: str, columns: int) -> None:
    lines = wrap(text, columns)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    # Closing punctuation may overhang by one wide character rather than start a line.
    assert all(width(line) <= columns + 2 for line in lines)
    # It starts a line only after a line that already overhangs.
    assert all(width(before) > columns for before, line in itertools.pairwise(lines)
               if line[:1] in "，。）：”")


@given(st.text(alphabet=st.sampled_from(list("abc de-fg")), max_size=200),
       st.integers(min_value=4, max_value=100))
def test_wrap_leaves_ascii_to_textwrap(text: str, columns: int) -> None:
    assert wrap(text, columns) == textwrap.wrap(text, columns, break_on_hyphens=False)


def test_a_chinese_note_wraps_to_the_report_width() -> None:
    note = "到达数：推进到该阶段或更后阶段的商机数；按顺序：依次经过之前每个阶段到达的商机数"
    lines = wrap(note + "，" + note, 40)
    assert len(lines) > 2 and all(width(line) <= 42 for line in lines)


# --- the zh-CN output ---------------------------------------------------------------------

def test_the_zh_cn_demo_has_no_english_prose(zh_demo: tuple[Path, str, frozenset[str]]
                                             ) -> None:
    _db, out, data = zh_demo
    assert "商机分析报告" in out and "售后服务" in out  # the report and after-sales ran
    assert english_lines(out, data) == []


def test_the_zh_cn_text_report_has_no_english_prose(
        zh_demo: tuple[Path, str, frozenset[str]]) -> None:
    db, _out, data = zh_demo
    with _stdout() as out:
        assert main(["--locale", "zh-CN", "report", "--db", str(db), "--now", REPORT_AT]) == 0
    text = out.getvalue()
    assert "商机分析报告" in text and "销售漏斗" in text
    assert english_lines(text, data) == []


def test_the_zh_cn_html_report_has_no_english_prose(
        zh_demo: tuple[Path, str, frozenset[str]], tmp_path: Path) -> None:
    db, _out, data = zh_demo
    page = tmp_path / "report.html"
    with _stdout():
        assert main(["--locale", "zh-CN", "report", "--db", str(db), "--now", REPORT_AT,
                     "--html", str(page)]) == 0
    text = html_text(page.read_text("utf-8"))
    assert "商机分析报告" in text
    assert english_lines(text, data) == []


def test_the_english_output_is_still_english(zh_demo: tuple[Path, str, frozenset[str]]
                                             ) -> None:
    db, _out, data = zh_demo
    with _stdout() as out:
        assert main(["report", "--db", str(db), "--now", REPORT_AT]) == 0
    # The same check finds English in every section of the default output.
    assert len(english_lines(out.getvalue(), data)) > 20
