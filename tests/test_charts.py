"""The analytics results draw themselves with the report's drawing code (#13).

One drawing code: ``oppcore._charts`` draws the HTML report's charts and the analytics
results' ``chart()``. The report stays byte-identical to what main's code rendered before
the move (golden files made from main), and each ``chart()`` draws exactly the elements the
report draws for the same deals.
"""

import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oppcore import Opportunity, Pipeline, Scorecard, ValidationError, analytics
from oppcore._charts._draw import LEGEND_HEIGHT, PALETTE, conversion_legend, forecast_legend
from oppcore._report import build_report, render_html
from oppcore._report._html import _CSS
from oppcore.locale import use
from oppcore.testing.strategies import opportunities

if TYPE_CHECKING:
    from conftest import SampleDeals

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "report_golden"
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
STANDARD = Pipeline.template("standard")
SVG = "{http://www.w3.org/2000/svg}"
STAGES = ("identification", "needs_analysis", "solution", "quote_contract", "won", "lost")


def _svg(text: str) -> ET.Element:
    """Parse a chart as XML (well-formed, one ``<svg>`` root) and return its root."""
    root = ET.fromstring(text)  # noqa: S314 - our own output, parsed to check it
    assert root.tag == f"{SVG}svg"
    return root


def _normal(svg: str) -> str:
    """A chart without what makes it standalone (size, colours, style, the legend under
    it: the report's legend is HTML) and its uid."""
    svg = re.sub(r"<style>.*?</style>", "", svg)
    svg = re.sub(r"chart-[0-9a-f]+", "chart-X", svg)
    svg = re.sub(r' width="\d+" height="\d+" id="chart-X" style="[^"]*"', "", svg)
    if '<g class="legend">' in svg:
        svg = re.sub(r'<g class="legend">.*?</g>', "", svg)
        width, height = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups()  # type: ignore[union-attr]
        svg = svg.replace(f'viewBox="0 0 {width} {height}"',
                          f'viewBox="0 0 {width} {int(height) - LEGEND_HEIGHT}"', 1)
    return svg


# --------------------------------------------------------------- the report is unchanged


@pytest.fixture(scope="module")
def demo_deals(tmp_path_factory: pytest.TempPathFactory) -> list[Opportunity]:
    from oppcore._cli._common import open_store
    from oppcore._cli._demo import run_demo
    from oppcore.storage import query_all

    db = tmp_path_factory.mktemp("charts-demo") / "demo.db"
    assert run_demo(db=str(db), out=io.StringIO()) == 0
    store = open_store(str(db))
    try:
        return list(query_all(store, Opportunity))
    finally:
        store.close()


def test_the_demo_report_is_byte_identical_to_mains(demo_deals: list[Opportunity]) -> None:
    from oppcore._cli._demo import REPORT_AT

    report = build_report(demo_deals, STANDARD, now=REPORT_AT, scorecard=Scorecard.default())
    # demo.html was rendered by main's code before the charts moved to oppcore._charts.
    assert render_html(report) == (GOLDEN / "demo.html").read_text(encoding="utf-8")


def test_a_two_currency_report_is_byte_identical_to_mains(sample_deals: "SampleDeals"
                                                          ) -> None:
    report = build_report(sample_deals(120, seed=21, now=NOW), STANDARD, now=NOW,
                          scorecard=Scorecard.default(), top=10)
    assert report.currencies == ("EUR", "USD")  # both forecast charts are compared
    assert render_html(report) == (GOLDEN / "sample.html").read_text(encoding="utf-8")


def test_a_chinese_report_is_byte_identical_to_mains(sample_deals: "SampleDeals") -> None:
    # The charts' words and axis units (万, 亿) come from the active locale, as before.
    with use("zh-CN"):
        report = build_report(sample_deals(120, seed=21, now=NOW), STANDARD, now=NOW,
                              scorecard=Scorecard.default(), top=10)
        html = render_html(report)
    assert "按月销售预测（EUR）" in html
    # Regenerated (tests/fixtures/report_golden) when the cards, subtitles and notes
    # around the charts were translated, and again when the charts' own tooltips, legends
    # and labels were, and when the overdue and no-date periods on the forecast's axis
    # were (the drawing itself is unchanged), and when the header's moment was written as
    # a Chinese reader writes it.
    assert html == (GOLDEN / "sample.zh-CN.html").read_text(encoding="utf-8")


def test_a_chart_speaks_the_active_locale(sample_deals: "SampleDeals") -> None:
    deals = sample_deals(120, seed=21, now=NOW)
    monthly = analytics.forecast(deals, STANDARD, period="month", now=NOW)
    quarterly = analytics.forecast(deals, STANDARD, period="quarter", now=NOW)
    with use("zh-CN"):
        chart, by_quarter = monthly.chart("EUR"), quarterly.chart("EUR")
        funnel = analytics.funnel(deals, STANDARD).chart(pipeline=STANDARD)
    assert "按月销售预测（EUR）: " in chart.svg and "万" in chart.svg
    assert "按季度销售预测（EUR）: " in by_quarter.svg
    assert "销售漏斗: " in funnel.svg
    assert "Forecast by month in EUR: " in monthly.chart("EUR").svg  # back to English


# ------------------------------------------------- chart() draws what the report draws


@pytest.mark.parametrize("which", ["sample", "demo"])
def test_each_chart_draws_exactly_what_the_report_draws(
        which: str, sample_deals: "SampleDeals", demo_deals: list[Opportunity]) -> None:
    deals = sample_deals(120, seed=21, now=NOW) if which == "sample" else demo_deals
    report = build_report(deals, STANDARD, now=NOW)
    drawn = re.findall(r"<svg.*?</svg>", render_html(report))
    funnel = analytics.funnel(deals, STANDARD)
    forecast = analytics.forecast(deals, STANDARD, period="month", now=NOW)
    charts = [funnel.chart(pipeline=STANDARD), funnel.chart("conversion", pipeline=STANDARD),
              analytics.win_rate(deals, STANDARD, by="source").chart(),
              analytics.win_rate(deals, STANDARD, by="owner").chart(),
              *(forecast.chart(currency) for currency in report.currencies)]
    assert len(drawn) == len(charts) >= 5
    for chart, svg in zip(charts, drawn, strict=True):
        assert _normal(chart.svg) == _normal(svg), chart.kind
        assert chart.svg != svg  # standalone: it carries its own size and colours
    # The standalone conversion and forecast charts draw the report's legends in the SVG.
    for chart, legend in ((charts[1], conversion_legend()), (charts[4], forecast_legend())):
        items = [(t.text, r.get("fill")) for r, t in zip(
            *(_svg(chart.svg).findall(f"{SVG}g/{SVG}{tag}") for tag in ("rect", "text")),
            strict=True)]
        assert items == list(legend)


def test_a_chart_is_standalone_svg_for_a_notebook(sample_deals: "SampleDeals") -> None:
    deals = sample_deals(60, seed=3, now=NOW)
    chart = analytics.funnel(deals, STANDARD).chart(pipeline=STANDARD)
    assert isinstance(chart, analytics.Chart)
    assert chart._repr_svg_() == str(chart) == chart.svg
    assert repr(chart) == f"Chart(kind='funnel', svg=<{len(chart.svg)} characters>)"
    root = _svg(chart.svg)
    style = root.get("style") or ""
    for name, colour in PALETTE:  # var(--blue) etc. resolve without the report's CSS
        assert f"--{name}:{colour}" in style
    assert root.get("width") == "1000"
    assert ">Lead identification<" in chart.svg  # labels from the pipeline
    assert len(root.findall(f"{SVG}rect")) == len(STANDARD.open_stages) + 1
    # The same chart twice is the same text; two charts on one page have distinct ids.
    again = analytics.funnel(deals, STANDARD).chart(pipeline=STANDARD)
    other = analytics.funnel(deals, STANDARD).chart("conversion", pipeline=STANDARD)
    assert again == chart
    assert root.get("id") != _svg(other.svg).get("id")


def test_the_standalone_palette_is_the_reports() -> None:
    for name, colour in PALETTE:
        assert f"--{name}:{colour}" in _CSS


def test_without_a_pipeline_the_stage_ids_are_shown(sample_deals: "SampleDeals") -> None:
    chart = analytics.funnel(sample_deals(40, seed=5, now=NOW), STANDARD).chart()
    assert ">identification<" in chart.svg and "Lead identification" not in chart.svg


def test_user_text_stays_text(sample_deals: "SampleDeals") -> None:
    deals = sample_deals(200, seed=21, now=NOW)
    rates = analytics.win_rate(deals, STANDARD, by="owner")
    assert any(r.key == sample_deals.hostile_owner for r in rates.rows)
    chart = rates.chart(top=len(rates.rows))
    _svg(chart.svg)
    assert "<script" not in chart.svg and "&lt;script&gt;" in chart.svg


def test_win_rate_draws_the_top_groups_and_a_forecast_its_period(
        sample_deals: "SampleDeals") -> None:
    deals = sample_deals(200, seed=21, now=NOW)
    rates = analytics.win_rate(deals, STANDARD, by="owner")
    assert len(rates.rows) > 3
    for top in (1, 3, 12):
        root = _svg(rates.chart(top=top).svg)
        assert len(root.findall(f"{SVG}rect")) == min(top, len(rates.rows))
    quarter = analytics.forecast(deals, STANDARD, period="quarter", now=NOW).chart("EUR")
    assert "Forecast by quarter in EUR: " in quarter.svg


def test_bad_arguments_raise_clear_errors(sample_deals: "SampleDeals") -> None:
    deals = sample_deals(60, seed=3, now=NOW)
    with pytest.raises(ValidationError, match="kind must be 'funnel' or 'conversion'"):
        analytics.funnel(deals, STANDARD).chart("pie")
    for top in (0, -1, "3", 2.0, True):
        with pytest.raises(ValidationError, match="top must be an integer >= 1"):
            analytics.win_rate(deals, STANDARD, by="owner").chart(top=top)  # type: ignore[arg-type]
    forecast = analytics.forecast(deals, STANDARD, period="month", now=NOW)
    with pytest.raises(ValidationError, match=r"2 currencies \(EUR, USD\): pass currency="):
        forecast.chart()
    with pytest.raises(ValidationError, match=r"no priced deal in 'JPY'.*EUR, USD") as err:
        forecast.chart("JPY")
    assert err.value.field == "currency"


def test_empty_results_say_there_is_nothing_to_draw() -> None:
    charts = [analytics.funnel([], STANDARD).chart(),
              analytics.funnel([], STANDARD).chart("conversion"),
              analytics.win_rate([], STANDARD, by="owner").chart(),
              analytics.forecast([], STANDARD, now=NOW).chart()]
    assert [c.kind for c in charts] == ["funnel", "conversion", "win_rate", "forecast"]
    for chart in charts:
        root = _svg(chart.svg)
        assert root.findall(f"{SVG}rect") == []
        assert "nothing to draw" in chart.svg


@settings(max_examples=20)  # each example generates several full opportunities
@given(st.lists(opportunities(stage_ids=STAGES), max_size=6))
def test_any_result_draws_well_formed_charts_with_one_mark_per_row(
        deals: list[Opportunity]) -> None:
    funnel = analytics.funnel(deals, STANDARD)
    try:
        forecast = analytics.forecast(deals, STANDARD, period="month")
    except ValidationError as exc:
        # A limit of forecast() itself, not of drawing: a subnormal probability (5e-324)
        # gives a weighted value whose exact sum needs more than 80 digits.
        assume("exactly" not in str(exc))
        raise
    rates = analytics.win_rate(deals, STANDARD, by="owner")
    if deals:
        assert len(_svg(funnel.chart().svg).findall(f"{SVG}rect")) == len(funnel.stages)
        conversion = _svg(funnel.chart("conversion").svg)
        assert len(conversion.findall(f"{SVG}rect")) == 2 * (len(funnel.stages) - 1)
        bars = _svg(rates.chart().svg).findall(f"{SVG}rect")
        assert len(bars) == min(12, len(rates.rows))
    for currency in {row.currency for row in forecast.rows if row.category != "omitted"}:
        root = _svg(forecast.chart(currency).svg)
        periods = {row.period for row in forecast.rows
                   if row.currency == currency and row.category != "omitted"}
        assert len(root.findall(f"{SVG}rect")) == 3 * len(periods)  # won, open, weighted
