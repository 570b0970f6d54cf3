"""Missing is not zero, and numbers say what they count (issue #13), on Maven-shaped data.

``fixtures/report/maven_shaped.csv`` reproduces the shapes of the Maven CRM export that
misled the report: open deals without amounts, no sources, no qualification data, histories
that only date creation and close, repeat orders of one product by one customer. It is read
with the ``maven`` import preset, as ``oppcore import --preset maven`` does. Every expected
figure is counted by hand from the file (24 deals: 12 open, 8 won, 4 lost).
"""

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    Money,
    Opportunity,
    Pipeline,
    Scorecard,
    StageChange,
    StageKind,
    ValidationError,
    analytics,
)
from oppcore import io as oio
from oppcore._report import (
    PipelineReport,
    build_report,
    render_csv,
    render_html,
    render_text,
    report_to_dict,
)
from oppcore._report._notes import NO_STALE_LIMITS
from oppcore.locale import use

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "maven_shaped.csv"
NOW = datetime(2018, 1, 1, tzinfo=timezone.utc)
SIMPLE = Pipeline.template("simple")
STANDARD = Pipeline.template("standard")


@pytest.fixture(scope="module")
def maven() -> list[Opportunity]:
    imported = oio.import_csv(FIXTURE, oio.preset("maven"),
                              as_of=datetime(2017, 12, 31, tzinfo=timezone.utc))
    assert not imported.errors
    return list(imported.records)


@pytest.fixture(scope="module")
def report(maven: list[Opportunity]) -> PipelineReport:
    return build_report(maven, SIMPLE, now=NOW, scorecard=Scorecard.default())


def _rows(report: PipelineReport) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render_csv(report))))


# ------------------------------------------------------------------------ stale limits


def test_a_pipeline_without_stale_limits_says_so_everywhere(report: PipelineReport) -> None:
    assert not SIMPLE.has_stale_limits and STANDARD.has_stale_limits
    assert report.stale_limits is False and report.stale == ()
    text = render_text(report)
    assert "stale n/a" in text and "Stale deals (n/a)" in text
    assert "No stale deals" not in text
    assert "--stale-after 90d" in text
    html = render_html(report)
    assert "Stale deals (n/a)" in html and "within its stage" not in html
    data = report_to_dict(report)
    assert data["counts"]["stale"] is None and data["stale_limits"] is False
    assert NO_STALE_LIMITS in data["notes"]
    summary = {r["key"]: r["value"] for r in _rows(report) if r["section"] == "summary"}
    assert summary["stale"] == "" and summary["stale_limits"] == "false"


def test_stale_after_pairs_the_data_with_a_limit(maven: list[Opportunity]) -> None:
    report = build_report(maven, SIMPLE, now=NOW, stale_after=90)
    # Open deals more than 90 days in their stage at NOW (entered = engage date; the
    # undated Prospecting rows were created at the export date, 1 day before NOW):
    # R11, R12 (2017-05-20), R13 (06-14), R18 (08-02), R14 (09-14), R15 (10-01).
    assert [s.opportunity_id for s in report.stale] == ["R11", "R12", "R13", "R18", "R14",
                                                         "R15"]
    assert report.counts.stale == 6 and report.stale_limits and report.stale_after == 90
    assert all(s.max_days == 90 for s in report.stale)
    text = render_text(report)
    assert "stale 6" in text and "Limit: 90 days" in text
    # Two deals of one name are told apart by their ids (#13).
    assert "R11" in text and "R12" in text
    html = render_html(report)
    assert ">R11<" in html and ">R12<" in html


def test_with_stale_after_keeps_a_stage_s_own_limit() -> None:
    limited = STANDARD.with_stale_after(90)
    for before, after in zip(STANDARD.stages, limited.stages, strict=True):
        if before.follow_up is not None and before.follow_up.max_days is not None:
            assert after.follow_up == before.follow_up
        elif before.is_open:
            assert after.follow_up is not None and after.follow_up.max_days == 90
        else:
            assert after.follow_up == before.follow_up
    with pytest.raises(ValidationError, match=r"1\.\.36500"):
        SIMPLE.with_stale_after(0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400))
def test_a_longer_limit_never_finds_more_stale_deals(maven: list[Opportunity], a: int,
                                                     b: int) -> None:
    short, long = sorted((a, b))
    few = build_report(maven, SIMPLE, now=NOW, stale_after=long).stale
    many = build_report(maven, SIMPLE, now=NOW, stale_after=short).stale
    assert {s.opportunity_id for s in few} <= {s.opportunity_id for s in many}
    assert all(s.days_in_stage > long for s in few)


def test_health_says_when_no_limit_is_set(maven: list[Opportunity]) -> None:
    bare = analytics.health(maven, SIMPLE, now=NOW)
    assert bare.stale_limits is False and bare.count("stale") == 0
    assert "sets no stale limits" in str(bare)
    limited = analytics.health(maven, SIMPLE.with_stale_after(90), now=NOW)
    assert limited.stale_limits is True and limited.count("stale") == 6


# ------------------------------------------------------------------ amounts: n/a, not 0


def test_open_deals_without_amounts_are_not_a_zero_pipeline(report: PipelineReport,
                                                             maven: list[Opportunity]) -> None:
    open_deals = [d for d in maven if d.stage_id in ("prospecting", "engaging")]
    assert all(d.amount is None for d in open_deals)
    f = analytics.forecast(maven, SIMPLE)
    assert (f.unpriced_open, f.unpriced_won, f.unpriced) == (12, 0, 12)
    usd = f.totals.get("USD")
    assert usd is not None and (usd.open_deals, usd.won_deals) == (0, 8)
    c = report.counts
    assert (c.unpriced_open, c.unpriced_won) == (12, 0)
    text = render_text(report)
    assert "open pipeline n/a" in text and "open pipeline 0.00" not in text
    assert "12 open deals have no amount" in text
    html = render_html(report)
    assert "<span>Open pipeline USD</span><b>n/a</b><small>12 open deals have no amount" in html
    totals = report_to_dict(report)["forecast_totals"]
    assert totals == [{"currency": "USD", "closed": "10425", "commit": "10425",
                       "best_case": "10425", "pipeline": None, "weighted": None,
                       "open_deals": 0, "won_deals": 8}]


def test_velocity_and_rep_tables_do_not_sum_unknowns(maven: list[Opportunity]) -> None:
    assert analytics.pipeline_velocity(maven, SIMPLE).unpriced_open == 12
    assert analytics.pipeline_velocity(maven, SIMPLE).rows == ()
    # One won deal of Ben Ortiz loses its amount: his value won becomes unknown, not less.
    edited = [d.evolve(amount=None) if d.id == "R08" else d for d in maven]
    reps = analytics.rep_performance(edited, SIMPLE, quota=Money.of("1000", "USD"))
    ben = reps.get("Ben Ortiz")
    assert ben is not None and ben.unpriced_won == 1 and ben.attainment is None
    records = {r["owner"]: r for r in reps.to_records()}
    assert records["Ben Ortiz"]["won_USD"] is None
    assert str(records["Ada Moss"]["won_USD"]) == "2210"
    assert "won deals only" in str(reps)


# ------------------------------------------------------------- ranking needs known data


def test_nothing_is_ranked_on_no_data(report: PipelineReport) -> None:
    assert report.top_deals == () and report.counts.unscored == 12
    text = render_text(report)
    assert "Nothing ranked" in text and "0.00 D" not in text
    assert "qualification" in render_html(report)


def test_only_deals_that_could_be_scored_are_ranked(maven: list[Opportunity]) -> None:
    # Two open deals gain an expected close date: only they have data to score.
    dated = {"R13": date(2018, 1, 20), "R16": date(2018, 2, 10)}
    deals = [d.evolve(expected_close=dated[d.id]) if d.id in dated else d for d in maven]
    report = build_report(deals, SIMPLE, now=NOW, scorecard=Scorecard.default(),
                          stale_after=90)
    assert {t.opportunity_id for t in report.top_deals} == set(dated)
    assert report.counts.unscored == 10
    assert all(0 < t.coverage < 1 for t in report.top_deals)
    by_id = {t.opportunity_id: t for t in report.top_deals}
    assert by_id["R13"].stale and by_id["R13"].days_in_stage == 201
    assert not by_id["R16"].stale
    text = render_text(report)
    assert "STALE: 201 days in its stage" in text
    assert "10 open deals could not be scored" in text
    top = report_to_dict(report)["top_deals"]
    assert {d["opportunity_id"]: d["stale"] for d in top} == {"R13": True, "R16": False}


# --------------------------------------------------------------- empty dimension, history


def test_a_dimension_no_deal_has_is_left_out(report: PipelineReport) -> None:
    assert report.left_out == ("source",) and report.by_source == ()
    assert [r.key for r in report.by_owner] == ["Ada Moss", "Ben Ortiz", "Cleo Park"]
    note = "Win rate by source left out: no deal has a source."
    assert note in render_text(report) and note in render_html(report)
    assert report_to_dict(report)["left_out"] == ["source"]
    assert not [r for r in _rows(report) if r["section"] == "win_rate_by_source"]


def test_a_synthesised_history_is_said_not_drawn_as_zero(report: PipelineReport,
                                                         maven: list[Opportunity]) -> None:
    f = analytics.funnel(maven, SIMPLE)
    assert f.history_synthesised and f.unseen_stages == ("engaging",)
    assert f.stage_moves == 0
    assert "history synthesised" in str(f)
    assert report.history_synthesised and report.unseen_stages == ("Engaging",)
    assert [s.in_order for s in report.funnel] == [None, None, None]
    assert [c.strict_rate for c in report.conversions] == [None, None]
    text = render_text(report)
    assert "History synthesised from creation and close dates" in text
    assert "cannot be seen" in render_html(report)
    assert [s["in_order"] for s in report_to_dict(report)["funnel"]] == [None, None, None]


def test_conversion_counts_still_open_deals_apart(report: PipelineReport) -> None:
    # Engaging: 20 reached it (8 open there, 8 won, 4 lost); Won: 8.
    engaging = report.conversions[1]
    assert (engaging.reached, engaging.converted, engaging.left, engaging.still_open) == (
        20, 8, 12, 8)
    assert engaging.rate == pytest.approx(8 / 20)
    assert engaging.left_rate == pytest.approx(8 / 12)
    assert engaging.still_open_share == pytest.approx(8 / 20)
    won = report.funnel[-1]
    assert (won.open_here, won.won_here) == (0, 8)
    text = render_text(report)
    assert "40.0% 8/20" in text and "66.7% 8/12" in text and "8 (40%)" in text
    data = report_to_dict(report)
    assert data["conversions"][1]["left_rate"] == pytest.approx(8 / 12)
    assert data["funnel"][-1]["won_here"] == 8 and data["funnel"][-1]["open_here"] == 0


def _at(day: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=day)


def _quote_deal(n: int, outcome: str) -> Opportunity:
    path = ["identification", "needs_analysis", "solution", "quote_contract"]
    if outcome != "open":
        path.append(outcome)
    history = tuple(StageChange(from_stage=path[i - 1] if i else None, to_stage=s,
                                at=_at(i * 5), by="rep")
                    for i, s in enumerate(path))
    return Opportunity(id=f"q{n:02d}", name=f"Deal {n}", pipeline_id="standard",
                       stage_id=path[-1], created_at=_at(0), stage_history=history,
                       lost_reason="price" if outcome == "lost" else None)


def test_the_demo_s_quote_to_won_row_reads_right() -> None:
    # The shape the issue saw: 64 deals reached "Quote & contract", 18 won, 16 lost,
    # 30 still open: 28.1% of all of them, 52.9% of those that left, 46.9% still open.
    deals = ([_quote_deal(i, "won") for i in range(18)]
             + [_quote_deal(18 + i, "lost") for i in range(16)]
             + [_quote_deal(34 + i, "open") for i in range(30)])
    row = analytics.funnel(deals, STANDARD).stages[3]
    assert (row.reached, row.still_open, row.left) == (64, 30, 34)
    assert row.conversion == pytest.approx(18 / 64)
    assert row.left_conversion == pytest.approx(18 / 34)
    assert row.still_open_share == pytest.approx(30 / 64)
    text = render_text(build_report(deals, STANDARD, now=_at(60)))
    assert "28.1% 18/64" in text and "52.9% 18/34" in text and "30 (47%)" in text


def test_overdue_open_deals_are_not_pipeline_of_past_months() -> None:
    late = _quote_deal(1, "open").evolve(amount=Money.of("1000", "USD"),
                                         expected_close=date(2026, 1, 20))
    ahead = _quote_deal(2, "open").evolve(amount=Money.of("500", "USD"),
                                          expected_close=date(2026, 4, 2))
    f = analytics.forecast([late, ahead], STANDARD, period="month", now=_at(60))
    assert [(r.period, r.amount) for r in f.rows] == [("overdue", 1000), ("2026-04", 500)]
    plain = analytics.forecast([late, ahead], STANDARD, period="month")
    assert [r.period for r in plain.rows] == ["2026-01", "2026-04"]
    report = build_report([late, ahead], STANDARD, now=_at(60))
    assert [m.period for m in report.forecast] == ["overdue", "2026-04"]
    assert "overdue" in render_text(report)
    # Weighted money is shown in the currency's minor unit (0.75 x 1000 is exact anyway).
    weighted = json.loads(json.dumps(report_to_dict(report)))["forecast_by_month"][0]
    assert weighted["weighted"] == "750.00"


# ------------------------------------------------------------- sales cycle with open deals


def test_kaplan_meier_by_hand() -> None:
    from oppcore.analytics._cycle import kaplan_meier_quantiles

    # t=10: 5 followed, S=4/5; t=20: 4, S=0.6; 25 censored; t=30: 2 followed, S=0.3.
    assert kaplan_meier_quantiles([10, 20, 30], [25, 40], (0.5, 0.75, 0.9)) == (
        30, None, None)
    assert kaplan_meier_quantiles([], [5, 6], (0.5,)) == (None,)


@given(st.lists(st.integers(0, 300), max_size=40), st.lists(st.integers(0, 300), max_size=40),
       st.sampled_from([0.25, 0.5, 0.75, 0.9]))
def test_kaplan_meier_properties(events: list[int], censored: list[int], p: float) -> None:
    from fractions import Fraction
    from math import ceil

    from oppcore.analytics._cycle import kaplan_meier_quantiles

    (plain,) = kaplan_meier_quantiles(events, [], (p,))
    if events:  # nothing censored: the smallest time by which a share p has closed
        k = ceil(Fraction(str(p)) * len(events))
        assert plain == sorted(events)[k - 1]
    else:
        assert plain is None
    # Censored deals only leave the risk set: the estimate is never shorter than treating
    # them as closed when last seen.
    (estimate,) = kaplan_meier_quantiles(events, censored, (p,))
    (naive,) = kaplan_meier_quantiles(events + censored, [], (p,))
    if estimate is not None:
        assert naive is not None and estimate >= naive


def test_sales_cycle_counts_open_deals_as_at_least_their_age(
        maven: list[Opportunity]) -> None:
    closed_only = analytics.sales_cycle(maven, SIMPLE)
    assert [r.outcome for r in closed_only.rows] == ["won", "lost", "closed"]
    both = analytics.sales_cycle(maven, SIMPLE, include_open=True, now=NOW)
    assert both.rows[:3] == closed_only.rows
    est = both.get("all, with open (Kaplan-Meier)")
    assert both.censored == 12 and est.count == 24 and est.mean_days is None
    closed = both.get("closed")
    assert closed.median_days is not None and est.median_days is not None
    assert est.median_days > closed.median_days
    assert "12 open deal(s) counted as lasting at least until now" in str(both)
    with pytest.raises(ValidationError, match="needs now="):
        analytics.sales_cycle(maven, SIMPLE, include_open=True)


def test_no_amount_anywhere_is_still_n_a(maven: list[Opportunity]) -> None:
    bare = [d.evolve(amount=None) for d in maven]
    report = build_report(bare, SIMPLE, now=NOW)
    assert report.totals == () and report.counts.unpriced_won == 8
    assert "open pipeline n/a" in render_text(report)
    assert "<span>Open pipeline</span><b>n/a</b>" in render_html(report)
    assert "8 won deals have no amount" in render_text(report)


def test_counts_of_one_read_in_the_singular(maven: list[Opportunity]) -> None:
    open_ = next(d for d in maven if d.amount is None and SIMPLE.stage(d.stage_id).is_open)
    won = next(d for d in maven if d.amount is not None
               and SIMPLE.stage(d.stage_id).kind is StageKind.WON)
    report = build_report([open_, won.evolve(amount=None)], SIMPLE, now=NOW)
    text, page = render_text(report), render_html(report)
    assert "2 deals: 1 open, 1 won" in text
    assert "1 open deal has no amount: the open pipeline leaves it out" in text
    assert "1 won deal has no amount: the value won leaves it out." in text
    assert "1 open deal has no amount" in page and "deal(s)" not in text + page
    with use("zh-CN"):  # one form for every count
        assert "有 1 个赢单商机未填写金额" in render_text(report)
