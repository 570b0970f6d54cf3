"""Tests of the report renderers: text, HTML (static checks), JSON and CSV."""

import csv
import io
import json
import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import Opportunity, Pipeline, Scorecard
from oppcore._report import (
    CSV_COLUMNS,
    REPORT_SCHEMA_VERSION,
    PipelineReport,
    build_report,
    render_csv,
    render_html,
    render_json,
    render_text,
    report_to_dict,
)

if TYPE_CHECKING:
    from conftest import SampleDeals

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
STANDARD = Pipeline.template("standard")


@pytest.fixture(scope="module")
def deals(sample_deals: "SampleDeals") -> list[Opportunity]:
    return sample_deals(300, now=NOW)


@pytest.fixture(scope="module")
def report(deals: list[Opportunity]) -> PipelineReport:
    return build_report(deals, STANDARD, now=NOW, scorecard=Scorecard.default(), top=10)


@pytest.fixture(scope="module")
def empty() -> PipelineReport:
    return build_report([], STANDARD, now=NOW)


@pytest.fixture(scope="module")
def empty_scored() -> PipelineReport:
    return build_report([], STANDARD, now=NOW, scorecard=Scorecard.default())


# -------------------------------------------------------------------------------- text


def test_text_has_every_section_and_the_numbers(report: PipelineReport) -> None:
    text = render_text(report)
    for heading in ("Funnel", "Win rate by source", "Win rate by owner",
                    "Forecast by month", "Top-ranked open deals", "Stale deals"):
        assert heading in text
    c = report.counts
    assert f"{c.deals} deals: {c.open} open, {c.won} won, {c.lost} lost" in text
    first = report.top_deals[0]
    assert first.name in text
    assert first.reasons[0].message in text
    assert f"Stale deals ({c.stale})" in text
    assert "EUR" in text
    assert "USD" in text


def test_text_is_fixed_width_and_has_no_control_characters(
    report: PipelineReport, sample_deals: "SampleDeals"
) -> None:
    text = render_text(report)
    assert "\x1b" not in text
    assert "\x1b" in sample_deals.hostile_account
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.endswith("\n")


def test_text_ascii_mode_is_plain_ascii(report: PipelineReport) -> None:
    text = render_text(report, unicode=False)
    # The hostile names are the only non-ASCII-free risk; the report's own glyphs are ASCII.
    assert "\u2588" not in text
    assert "#" in text
    assert "\u2026" not in text


def test_text_caps_long_tables(report: PipelineReport) -> None:
    text = render_text(report, max_rows=3)
    assert f"... {report.counts.stale - 3} more" in text


def test_text_of_an_empty_report_says_so(
    empty_scored: PipelineReport, empty: PipelineReport
) -> None:
    text = render_text(empty)
    assert "0 deals" in text
    assert "No deals." in text
    assert "No scorecard given" in text
    assert "No stale deals." in text
    assert "No open deals to rank." in render_text(empty_scored)


# -------------------------------------------------------------------------------- HTML


class _Checker(HTMLParser):
    """Collects tags and checks that every opened element is closed in order."""

    VOID = frozenset({"meta", "br", "rect", "line", "polygon", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


def _parse(document: str) -> _Checker:
    checker = _Checker()
    checker.feed(document)
    checker.close()
    return checker


def test_html_is_well_formed_and_self_contained(report: PipelineReport) -> None:
    document = render_html(report)
    assert document.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert '<meta charset="utf-8">' in document
    checker = _parse(document)
    assert checker.errors == []
    assert checker.stack == []
    assert "script" not in checker.tags
    assert checker.tags.count("svg") >= 6  # funnel, conversion, 2 win rates, 2 currencies
    assert checker.tags.count("title") >= 1 + checker.tags.count("svg")
    # No network: no attribute points anywhere (the SVG namespace is an identifier) and
    # the style sheet loads nothing.
    for name, value in checker.attrs:
        assert name not in ("src", "href", "xlink:href", "action", "srcset")
        assert not name.startswith("on"), (name, value)
        assert name == "xmlns" or "//" not in (value or ""), (name, value)
    assert "url(" not in document
    assert "@import" not in document


def test_html_charts_are_labelled(report: PipelineReport) -> None:
    document = render_html(report)
    svgs = re.findall(r"<svg [^>]*>", document)
    assert svgs
    for tag in svgs:
        assert 'role="img"' in tag
        assert 'aria-label="' in tag
    assert "<title>Pipeline report \u2013 Standard B2B sales process</title>" in document


def test_html_escapes_user_data(report: PipelineReport, deals: list[Opportunity]) -> None:
    document = render_html(report)
    assert "<script>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document
    assert "&quot;O&#x27;Brien&quot; &amp; co" in document
    assert "<b>?[31mred" not in document
    assert "&lt;b&gt;?[31mred" in document  # ESC replaced, markup escaped
    assert "\x1b" not in document
    hostile = build_report(deals, STANDARD, now=NOW, title='"><svg onload=alert(1)>')
    page = render_html(hostile)
    assert "<svg onload" not in page
    assert "onload=alert(1)" in page  # as escaped text, not markup
    assert all(not n.startswith("on") for n, _ in _parse(page).attrs)


def test_html_has_no_nan_or_infinity(
    empty_scored: PipelineReport, empty: PipelineReport,
    report: PipelineReport
) -> None:
    for each in (report, empty, empty_scored):
        document = render_html(each)
        assert not re.search(r"\b(nan|NaN|inf|Infinity)\b", document)


def test_html_of_an_empty_report_renders_no_data_states(
    empty_scored: PipelineReport, empty: PipelineReport
) -> None:
    document = render_html(empty)
    checker = _parse(document)
    assert checker.errors == []
    assert "No deals yet" in document
    assert "nothing to forecast" in document
    assert "No stale deals" in document
    assert "Pass a scorecard" in document
    assert "No open deals to rank" in render_html(empty_scored)


def test_html_stale_table_is_capped_with_a_note(sample_deals: "SampleDeals") -> None:
    many = build_report(sample_deals(900, seed=3, now=NOW), STANDARD, now=NOW)
    assert many.counts.stale > 100
    document = render_html(many)
    assert f"{many.counts.stale - 100} more stale deals" in document


def test_html_single_deal_and_zero_amounts(deals: list[Opportunity]) -> None:
    one = deals[1].evolve(stage_id="won", amount=None)
    report = build_report([one], STANDARD, now=NOW + timedelta(days=1))
    document = render_html(report)
    assert _parse(document).errors == []
    assert "nan" not in document.lower().replace("financ", "")


# -------------------------------------------------------------------------------- JSON


def test_json_document_round_trips_and_keeps_decimals_exact(
    report: PipelineReport, deals: list[Opportunity],
    sample_deals: "SampleDeals"
) -> None:
    data = json.loads(render_json(report))
    assert data == report_to_dict(report)
    assert data["schema_version"] == REPORT_SCHEMA_VERSION
    assert data["kind"] == "oppcore.pipeline_report"
    assert data["counts"]["deals"] == len(deals)
    eur = next(t for t in data["forecast_totals"] if t["currency"] == "EUR")
    assert isinstance(eur["closed"], str)
    total = next(t for t in report.totals if t.currency == "EUR")
    assert Decimal(eur["closed"]) == total.closed
    assert data["generated_at"] == NOW.isoformat()
    assert len(data["stale_deals"]) == report.counts.stale
    assert data["top_deals"][0]["reasons"][0]["message"] == report.top_deals[0].reasons[0].message
    assert {r["key"] for r in data["win_rate_by_owner"]} >= {sample_deals.hostile_owner}


def test_json_of_an_empty_report_is_valid(empty: PipelineReport) -> None:
    data = json.loads(render_json(empty, indent=None))
    assert data["counts"]["win_rate"] is None
    assert data["top_deals"] == data["stale_deals"] == data["forecast_by_month"] == []


# --------------------------------------------------------------------------------- CSV


def _csv_rows(text: str) -> list[dict[str, str]]:
    # Python 3.10's csv module cannot read NUL: U+FFFD stands in for it (no check here is
    # about NUL; test_csv_keeps_a_nul_character looks at the raw text).
    return list(csv.DictReader(io.StringIO(text.replace("\0", "\ufffd"), newline="")))


def test_csv_keeps_a_nul_character(deals: list[Opportunity]) -> None:
    # Regression: Python 3.10's csv writer refused NUL ("need to escape, but no escapechar
    # set"), so a report on a deal whose owner held one failed there and only there.
    deal = deals[0].evolve(owner="Li\0Wei")
    text = render_csv(build_report([deal], STANDARD, now=NOW))
    assert "Li\0Wei" in text
    assert "Li\ufffdWei" in {row["key"] for row in _csv_rows(text)}


def test_csv_has_one_header_and_every_section(report: PipelineReport) -> None:
    text = render_csv(report)
    rows = _csv_rows(text)
    assert tuple(next(csv.reader(io.StringIO(text)))) == CSV_COLUMNS
    sections = {r["section"] for r in rows}
    expected = {"summary", "funnel", "conversion", "win_rate_by_source",
                "win_rate_by_owner", "forecast_month", "forecast_total", "top_deal",
                "stale_deal"}
    # Notes (what a figure leaves out) are rows of their own, the same sentences as JSON's.
    noted = [r["label"] for r in rows if r["section"] == "note"]
    assert noted == report_to_dict(report)["notes"]
    assert sections == expected | ({"note"} if noted else set())
    assert sum(r["section"] == "stale_deal" for r in rows) == report.counts.stale
    funnel = [r for r in rows if r["section"] == "funnel"]
    assert [int(r["reached"]) for r in funnel] == [s.reached for s in report.funnel]
    totals = {r["currency"]: Decimal(r["closed"]) for r in rows
              if r["section"] == "forecast_total"}
    assert totals == {t.currency: t.closed for t in report.totals}
    summary = {r["key"]: r["value"] for r in rows if r["section"] == "summary"}
    assert summary["schema_version"] == str(REPORT_SCHEMA_VERSION)
    assert float(summary["win_rate"]) == pytest.approx(report.counts.win_rate)


def test_csv_neutralises_formula_cells(report: PipelineReport, sample_deals: "SampleDeals") -> None:
    rows = _csv_rows(render_csv(report))
    accounts = {r["account"] for r in rows if r["account"]}
    assert "'" + sample_deals.hostile_account in accounts
    assert sample_deals.hostile_account not in accounts
    for row in rows:
        for name, cell in row.items():
            if name in ("section", "key", "label", "owner", "account", "reasons", "grade"):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    raw = _csv_rows(render_csv(report, spreadsheet_safe=False))
    assert sample_deals.hostile_account in {r["account"] for r in raw}


def test_csv_of_an_empty_report(empty: PipelineReport) -> None:
    rows = _csv_rows(render_csv(empty))
    assert {r["section"] for r in rows} == {"summary", "funnel", "conversion"}


@given(st.text(min_size=1, max_size=20).filter(str.strip))
def test_any_owner_name_is_safe_everywhere(deals: list[Opportunity], name: str) -> None:
    deal = deals[0].evolve(owner=name, name=name)
    report = build_report([deal], STANDARD, now=NOW, scorecard=Scorecard.default())
    checker = _parse(render_html(report))
    assert checker.errors == []
    assert checker.stack == []
    assert "script" not in checker.tags
    text = render_text(report)
    assert all(c.isprintable() or c == "\n" for c in text)
    for row in _csv_rows(render_csv(report)):
        for column in ("owner", "label"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    data = json.loads(render_json(report))
    assert data["win_rate_by_owner"][0]["key"] == name
    assert not math.isnan(data["counts"]["deals"])


def test_text_and_html_list_the_same_owners_and_points(deals: list[Opportunity]) -> None:
    # 15 owners: text and HTML show the same first 12 (most closed deals first), and each
    # reason's points read the same in both (#13).
    many = [d.evolve(owner=f"owner-{i % 15:02d}") for i, d in enumerate(deals)]
    report = build_report(many, STANDARD, now=NOW, scorecard=Scorecard.default(), top=5)
    assert len(report.by_owner) == 15
    text, html = render_text(report), render_html(report)
    shown = [r.key for r in report.by_owner[:12]]
    hidden = [r.key for r in report.by_owner[12:]]
    owner_part = text.split("Win rate by owner")[1].split("Forecast by month")[0]
    assert all(k in owner_part for k in shown) and not any(k in owner_part for k in hidden)
    assert "... 3 more" in owner_part and "3 more not drawn." in html
    html_owners = html.split('id="by-owner"')[1].split("</section>")[0]
    assert all(f">{k}<" in html_owners for k in shown)
    assert not any(f">{k}<" in html_owners for k in hidden)
    closed = [r.closed for r in report.by_owner]
    assert closed == sorted(closed, reverse=True)
    for deal in report.top_deals:
        for reason in deal.reasons:
            assert f"{reason.points:+g}" in text and f"{reason.points:+g}</span>" in html
