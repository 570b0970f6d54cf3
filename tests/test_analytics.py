"""Each analytics metric against a hand computation on the table of ``analytics_table``.

Stage positions: I=identification 0, N=needs_analysis 1, S=solution 2, Q=quote_contract 3,
W=won 4. Every expected number below is derived by hand from the fixture table.
"""

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

import oppcore
from oppcore import Pipeline, analytics

if TYPE_CHECKING:
    from conftest import AnalyticsTable


@pytest.fixture(scope="session")
def table(analytics_table: "AnalyticsTable") -> "AnalyticsTable":
    return analytics_table


@pytest.fixture(scope="module")
def standard() -> Pipeline:
    return Pipeline.template("standard")


@pytest.fixture(params=["real", "stand-in"], scope="module")
def pipeline(table: "AnalyticsTable", request: pytest.FixtureRequest, standard: Pipeline) -> object:
    # The analytics read pipelines through a Protocol: the real pipeline and a minimal
    # stand-in with the same attributes must give the same figures.
    return standard if request.param == "real" else table.stand_in


def test_funnel_counts_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    f = analytics.funnel(table.deals(), pipeline)
    rows = {r.stage: r for r in f.stages}
    assert [r.stage for r in f.stages] == [
        "identification", "needs_analysis", "solution", "quote_contract", "won"]
    # entered: I all 8; N d1 d2 d4 d7 d8; S d1 d3 d4 d7 d8; Q d1 d3 d7; W d1 d3
    assert [r.entered for r in f.stages] == [8, 5, 5, 3, 2]
    # furthest position: d1 4, d2 1, d3 4, d4 2, d5 0, d6 0, d7 3, d8 2
    assert [r.reached for r in f.stages] == [8, 6, 5, 3, 2]
    # in-order depth: d1 5, d2 2, d3 1 (skipped N), d4 3, d5 1, d6 1, d7 4, d8 3
    assert [r.in_order for r in f.stages] == [8, 5, 4, 2, 1]
    assert [r.advanced for r in f.stages] == [6, 4, 3, 2, 0]
    # lost from: d5 I, d2 N, d8 S (its last open stage before the loss)
    assert [r.lost_here for r in f.stages] == [1, 1, 1, 0, 0]
    # open now: d6 at I, d4 at S, d7 at Q; the won step counts won deals apart (#13)
    assert [r.open_here for r in f.stages] == [1, 0, 1, 1, 0]
    assert [r.won_here for r in f.stages] == [0, 0, 0, 0, 2]
    # still open at their furthest stage: d6 (I), d4 (S), d7 (Q)
    assert [r.still_open for r in f.stages] == [1, 0, 1, 1, 0]
    assert [r.left for r in f.stages] == [7, 6, 4, 2, 2]
    assert [r.left_conversion for r in f.stages] == pytest.approx(
        [6 / 7, 5 / 6, 3 / 4, 2 / 2, None])
    assert [r.still_open_share for r in f.stages] == pytest.approx(
        [1 / 8, 0, 1 / 5, 1 / 3, None])
    # recorded moves in from an earlier open stage: N d1 d2 d4 d7 d8; S d1 d3 d4 d7 d8;
    # Q d1 d3 d7; W d1 d3
    assert [r.arrived for r in f.stages] == [0, 5, 5, 3, 2]
    assert (f.stage_moves, f.unseen_stages, f.history_synthesised) == (6, (), False)
    assert rows["identification"].conversion == pytest.approx(6 / 8)
    assert rows["needs_analysis"].conversion == pytest.approx(5 / 6)
    assert rows["solution"].drop_off == pytest.approx(1 - 3 / 5)
    assert rows["quote_contract"].conversion == pytest.approx(2 / 3)
    assert rows["won"].conversion is None
    assert [r.strict_conversion for r in f.stages[:4]] == pytest.approx(
        [5 / 8, 4 / 5, 2 / 4, 1 / 2])
    assert (f.deals, f.won, f.lost, f.open, f.unplaced_lost) == (8, 2, 3, 3, 0)


def test_win_rate_by_owner_source_and_tag(table: "AnalyticsTable",
                                          pipeline: analytics.PipelineLike) -> None:
    by_owner = analytics.win_rate(table.deals(), pipeline, by="owner")
    alice, bob, carol = (by_owner.get(o) for o in ("alice", "bob", "carol"))
    assert alice is not None and bob is not None and carol is not None
    assert (alice.deals, alice.won, alice.lost, alice.open, alice.win_rate) == (3, 1, 1, 1, 0.5)
    assert (bob.deals, bob.won, bob.lost, bob.win_rate) == (3, 1, 1, 0.5)
    assert (carol.deals, carol.won, carol.lost, carol.closed, carol.win_rate) == (2, 0, 1, 1, 0.0)
    assert (by_owner.overall.won, by_owner.overall.closed) == (2, 5)
    assert by_owner.overall.win_rate == pytest.approx(0.4)

    by_source = analytics.win_rate(table.deals(), pipeline, by="source")
    rates = {r.key: (r.won, r.closed) for r in by_source.rows}
    assert rates == {"referral": (1, 2), "online": (1, 2), "event": (0, 1), None: (0, 0)}
    assert by_source.get(None) is not None and by_source.get(None).win_rate is None  # type: ignore[union-attr]

    by_tag = analytics.win_rate(table.deals(), pipeline, by="tag")
    assert {r.key: (r.won, r.lost, r.open) for r in by_tag.rows} == {
        "crm": (1, 1, 1), "support": (0, 1, 1), "erp": (1, 0, 1), None: (0, 2, 0)}
    # Tags are multi-valued: d2 counts under crm and support; the overall row once.
    assert by_tag.overall.deals == 8


def test_win_rate_by_key_function_and_custom_field(table: "AnalyticsTable",
                                                   pipeline: analytics.PipelineLike) -> None:
    ds = [d.evolve(custom={"region": "north" if d.owner == "bob" else "south"})
          for d in table.deals()]
    custom = analytics.win_rate(ds, pipeline, by="custom:region")
    assert custom.dimension == "region"
    assert {r.key: (r.won, r.closed) for r in custom.rows} == {"north": (1, 2), "south": (1, 3)}
    big = analytics.win_rate(ds, pipeline, by=lambda o: o.amount is not None
                             and o.amount.amount >= 1000)
    assert {r.key: (r.won, r.closed) for r in big.rows} == {True: (2, 2), False: (0, 3)}


def test_sales_cycle_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    c = analytics.sales_cycle(table.deals(), pipeline)
    won, lost, closed = c.get("won"), c.get("lost"), c.get("closed")
    # won: 20, 30 days; lost: 6, 1, 15 days (all created at T0)
    assert (won.count, won.mean_days, won.median_days) == (2, 25.0, 25.0)
    assert won.p75_days == pytest.approx(27.5)
    assert won.p90_days == pytest.approx(29.0)
    assert (lost.count, lost.median_days) == (3, 6.0)
    assert lost.mean_days == pytest.approx(22 / 3)
    assert lost.p75_days == pytest.approx(10.5)  # h = 1.5 between 6 and 15
    assert lost.p90_days == pytest.approx(13.2)
    assert (closed.count, closed.median_days, closed.p75_days) == (5, 15.0, 20.0)
    assert closed.p90_days == pytest.approx(26.0)
    assert c.unmeasured == 0


def test_stage_durations_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    s = {r.stage: r for r in analytics.stage_durations(table.deals(), pipeline).stages}
    # I: 2 4 3 1 1 2 3 (d6 still there); N: 3 2 5 2 6 (d8 twice: 2 + 4); S: 5 5 3 6; Q: 10 22
    assert (s["identification"].count, s["identification"].median_days) == (7, 2.0)
    assert s["identification"].mean_days == pytest.approx(16 / 7)
    assert (s["needs_analysis"].count, s["needs_analysis"].median_days) == (5, 3.0)
    assert s["needs_analysis"].p90_days == pytest.approx(5.6)
    assert (s["solution"].count, s["solution"].median_days) == (4, 5.0)
    assert s["solution"].p75_days == pytest.approx(5.25)
    assert (s["quote_contract"].count, s["quote_contract"].median_days) == (2, 16.0)
    with_now = {r.stage: r for r in analytics.stage_durations(table.deals(), pipeline,
                                                              now=table.now).stages}
    assert with_now["identification"].count == 8  # d6: 40 days so far
    assert with_now["solution"].count == 5  # d4: 34 days so far
    assert with_now["quote_contract"].median_days == pytest.approx(22.0)  # 10, 22, 33


def test_pipeline_velocity_by_hand(table: "AnalyticsTable",
                                   pipeline: analytics.PipelineLike) -> None:
    v = analytics.pipeline_velocity(table.deals(), pipeline)
    rows = {r.currency: r for r in v.rows}
    # open with amount: d4 800 EUR, d7 1200 USD; win rate 2/5; mean won cycle 25 days
    assert (v.won, v.closed) == (2, 5)
    assert rows["USD"].per_day == Decimal("19.20")
    assert rows["EUR"].per_day == Decimal("12.80")
    assert rows["USD"].cycle_days == pytest.approx(25.0)
    assert rows["EUR"].average_amount == Decimal("800")


def test_forecast_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    f = analytics.forecast(table.deals(), pipeline, period="quarter", target=table.usd("5000"))
    cells = {(r.period, r.category, r.currency): (r.deals, r.amount, r.weighted) for r in f.rows}
    assert cells == {
        ("2026-Q1", "best_case", "EUR"): (1, Decimal("800"), Decimal("400.0")),
        ("2026-Q1", "closed", "USD"): (2, Decimal("3000"), Decimal("3000")),
        ("2026-Q1", "commit", "USD"): (1, Decimal("1200"), Decimal("1080.0")),
    }
    assert f.unpriced == 1  # d6
    usd_total = f.totals.get("USD")
    assert usd_total is not None
    assert (usd_total.closed, usd_total.commit, usd_total.best_case) == (3000, 4200, 4200)
    assert (usd_total.pipeline, usd_total.weighted) == (1200, Decimal("1080.0"))
    assert usd_total.attainment == pytest.approx(0.6)
    assert usd_total.coverage == pytest.approx(1200 / 2000)
    eur_total = f.totals.get("EUR")
    assert eur_total is not None
    assert (eur_total.closed, eur_total.best_case, eur_total.target) == (0, 800, None)
    monthly = analytics.forecast(table.deals(), pipeline, period="month")
    assert {r.period for r in monthly.rows} == {"2026-01", "2026-02", "2026-03"}
    window = analytics.forecast(table.deals(), pipeline, start=date(2026, 2, 1),
                                end=date(2026, 2, 28))
    assert [(r.category, r.amount) for r in window.rows] == [("commit", Decimal("1200"))]
    assert window.outside == 3  # d1, d3 closed in January; d4 expected in March


def test_health_with_the_standard_pipeline(table: "AnalyticsTable", standard: Pipeline) -> None:
    report = analytics.health(table.deals(), standard, now=table.now, max_pushes=1)
    found = {(f.opportunity_id, f.issue) for f in report.findings}
    # d4: 34 days in solution (max 30); d6: 40 calendar days in identification (max 14
    # business days). d7: ~24 business days in quote_contract (max 30): not stale.
    assert {oid for oid, issue in found if issue == "stale"} == {"d4", "d6"}
    # Cadence: d6 every 3 business days since T0, d7 every 5 business days since day 20;
    # d4 was called on day 38 with a weekly cadence.
    assert {oid for oid, issue in found if issue == "overdue_follow_up"} == {"d6", "d7"}
    assert ("d7", "past_close_date") in found
    assert ("d7", "pushed") in found
    assert report.deals == 3
    assert report.count("stale") == 2
    assert not any(oid in {"d1", "d2", "d3", "d5", "d8"} for oid, _ in found)


def test_health_falls_back_to_the_next_step_due_without_cadences(table: "AnalyticsTable") -> None:
    report = analytics.health(table.deals(), table.stand_in, now=table.now, max_pushes=2)
    found = {(f.opportunity_id, f.issue) for f in report.findings}
    # The stand-in has no next_follow_up: d7's logged next step (2026-01-25) is overdue.
    assert {oid for oid, issue in found if issue == "overdue_follow_up"} == {"d7"}
    assert ("d7", "pushed") not in found  # 2 pushes, 2 tolerated
    assert {oid for oid, issue in found if issue == "stale"} == {"d4", "d6", "d7"}


def test_data_quality(table: "AnalyticsTable", standard: Pipeline) -> None:
    report = analytics.data_quality(table.deals(), standard, now=table.now, currency="USD")
    found = {(f.opportunity_id, f.issue) for f in report.findings}
    assert ("d1", "unreachable_contact") in found
    assert ("d7", "currency_mismatch") in found  # EUR quote on a USD deal
    assert {oid for oid, issue in found if issue == "currency_mismatch"} == {"d4", "d7", "d8"}
    # d4 (solution) lacks the needs-analysis activity; d7 (quote_contract) a sent quote.
    assert ("d4", "missing_requirement") in found
    assert ("d7", "missing_requirement") in found
    assert not any(oid == "d6" and issue == "missing_requirement" for oid, issue in found)
    assert report.deals == 8
    assert report.duplicates_checked == hasattr(oppcore, "find_duplicates")


def test_compliance_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    c = analytics.compliance(table.deals(), pipeline, now=table.now, cadence_days=7)
    rows = {r.owner: r for r in c.rows}
    alice, bob, carol = rows["alice"], rows["bob"], rows["carol"]
    assert (bob.skipped, bob.overrides) == (1, 1)  # d3: I -> S, override into Q
    assert bob.skipped_share == pytest.approx(1 / 3)
    assert (alice.skipped, alice.overrides, carol.skipped) == (0, 0, 0)
    # inactive for 7 days: d7 (last activity day 20), d6 (none since T0); d4 called day 38
    assert (alice.inactive, bob.inactive, carol.inactive) == (1, 0, 1)
    assert alice.inactive_share == 1.0
    assert (carol.no_lost_reason, carol.no_lost_reason_share) == (1, 1.0)  # d5
    assert (alice.no_lost_reason, bob.no_lost_reason) == (0, 0)
    assert (c.total.deals, c.total.skipped, c.total.inactive, c.total.no_lost_reason) == (
        8, 1, 2, 1)


def test_rep_performance_by_hand(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    r = analytics.rep_performance(table.deals(), pipeline,
                                  quota={"alice": table.usd("2000"), "bob": table.usd("2000")})
    alice, bob, carol = r.get("alice"), r.get("bob"), r.get("carol")
    assert alice is not None and bob is not None and carol is not None
    assert (alice.won, alice.lost, alice.win_rate, alice.median_cycle_days) == (1, 1, 0.5, 20.0)
    assert (alice.activities, alice.won_value) == (1, (table.usd("1000"),))
    assert alice.attainment == pytest.approx(0.5)
    assert (bob.median_cycle_days, bob.attainment) == (30.0, 1.0)
    assert (carol.win_rate, carol.median_cycle_days, carol.quota, carol.attainment) == (
        0.0, None, None, None)
    records = {rec["owner"]: rec for rec in r.to_records()}
    assert records["bob"]["won_USD"] == Decimal("2000")
    assert records["carol"]["won_USD"] == Decimal("0")
    assert records["alice"]["quota"] == Decimal("2000")


def test_account_tiers_by_value_and_score(table: "AnalyticsTable",
                                          pipeline: analytics.PipelineLike) -> None:
    tiers = analytics.account_tiers(table.deals(), pipeline, currency="USD", cutoffs=(0.5, 0.9))
    # won USD: Globex 2000, Acme 1000; Initech and Umbrella nothing
    assert [(r.account_id, r.tier) for r in tiers.rows] == [
        ("acc-globex", "A"), ("acc-acme", "B"), ("acc-initech", "C"), ("acc-umbrella", "C")]
    assert tiers.rows[0].share == pytest.approx(2 / 3)
    assert tiers.tier_of("acc-acme") == "B"
    default = analytics.account_tiers(table.deals(), pipeline, currency="USD")
    assert default.tier_of("acc-acme") == "A"  # Globex holds 67 % < 80 % before Acme
    by_score = analytics.account_tiers(table.deals(), pipeline, scores={
        "acc-initech": 90, "acc-acme": 5, "acc-umbrella": 5})
    assert by_score.measure == "score"
    # initech 90 (nothing before: A), acme 5 (90 % before: B), umbrella 5 (95 % before,
    # not < 95 %: C), globex 0 (C)
    assert [r.tier for r in by_score.rows] == ["A", "B", "C", "C"]


def test_account_tiers_refuse_mixed_currencies(table: "AnalyticsTable",
                                               pipeline: analytics.PipelineLike) -> None:
    ds = [*table.deals(), table.deal("d9", "I0 W3", amount=table.eur("5"),
                                     account=table.deals()[0].account)]
    with pytest.raises(oppcore.CurrencyMismatchError, match="EUR and USD"):
        analytics.account_tiers(ds, pipeline)


def test_results_render_and_convert(table: "AnalyticsTable",
                                    pipeline: analytics.PipelineLike) -> None:
    f = analytics.funnel(table.deals(), pipeline)
    text = str(f)
    assert text.splitlines()[0] == "Funnel"
    assert "identification" in text and "8 deal(s)" in text
    html = f._repr_html_()
    assert html.count("<tr>") == 6 and "<caption>Funnel</caption>" in html
    frame = f.to_pandas()
    assert list(frame["entered"]) == [8, 5, 5, 3, 2]
    assert list(frame.columns)[:3] == ["stage", "entered", "reached"]
    records = f.to_records()
    records[0]["entered"] = -1  # a new list each time: the result is untouched
    assert f.to_records()[0]["entered"] == 8


def test_html_is_escaped(table: "AnalyticsTable", pipeline: analytics.PipelineLike) -> None:
    ds = [d.evolve(owner="<script>x</script>") for d in table.deals()]
    html = analytics.win_rate(ds, pipeline)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html



def test_data_quality_finds_probable_duplicate_deals_with_the_real_matcher() -> None:
    from datetime import datetime, timezone

    from oppcore import Account, Contact, Opportunity, Pipeline

    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    deal = Opportunity(id="o1", name="Robots", pipeline_id="standard",
                       stage_id="identification", created_at=t,
                       account=Account(id="a1", name="Acme Co., Ltd."),
                       contacts=(Contact(id="c1", name="Li Lei", email="li@acme.cn"),))
    other = deal.evolve(id="o9", name="Unrelated",
                        account=Account(id="a2", name="Other GmbH"),
                        contacts=(Contact(id="c2", name="Anna Berg", email="a@other.de"),))
    report = analytics.data_quality([deal, deal.evolve(id="o2"), other],
                                    Pipeline.template("standard"), now=t)
    assert report.duplicates_checked
    found = [f for f in report.findings if f.issue == "probable_duplicate"]
    assert len(found) == 1
    assert "'o2'" in found[0].detail and "email" in found[0].detail
    skipped = analytics.data_quality([deal, deal.evolve(id="o2")],
                                     Pipeline.template("standard"), now=t, duplicates=False)
    assert not skipped.duplicates_checked
    assert not [f for f in skipped.findings if f.issue == "probable_duplicate"]
