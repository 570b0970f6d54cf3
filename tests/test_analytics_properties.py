"""Invariants of the analytics on generated deals, and hostile input."""

from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oppcore
from oppcore import Opportunity, StageChange, analytics
from oppcore.testing.strategies import opportunities

if TYPE_CHECKING:
    from conftest import AnalyticsTable

STAGES = ("identification", "needs_analysis", "solution", "quote_contract", "won", "lost")
# Fully random deals (arbitrary histories, times and fields) are expensive to generate:
# few and small; the cheaper, plausible deals below carry most of the examples.
any_deals = st.lists(opportunities(stage_ids=STAGES), max_size=4)
FEW = settings(max_examples=20)  # each example generates several full opportunities


@pytest.fixture(scope="session")
def table(analytics_table: "AnalyticsTable") -> "AnalyticsTable":
    return analytics_table


# The analytics table (conftest.py) starts every deal at the same instant.
_T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
_LETTERS = {"identification": "I", "needs_analysis": "N", "solution": "S",
            "quote_contract": "Q"}


@st.composite
def plausible_deals(draw: st.DrawFn) -> list[Opportunity]:
    """Deals with time-ordered histories along the standard stages (skips, loss, re-entry)."""
    out = []
    for i in range(draw(st.integers(0, 12))):
        path = draw(st.lists(st.sampled_from(STAGES[:4]), min_size=1, max_size=5))
        end = draw(st.sampled_from(["open", "won", "lost"]))
        stages = path + ({"won": ["won"], "lost": ["lost"]}.get(end, []))
        days = sorted(draw(st.lists(st.integers(0, 90), min_size=len(stages),
                                    max_size=len(stages))))
        amount = draw(st.none() | st.decimals(0, 10**6, places=2).map(str))
        currency = draw(st.sampled_from(["USD", "EUR", "JPY"]))
        owner = draw(st.sampled_from([None, "ann", "ben"]))
        lost_reason = draw(st.none() | st.just("price")) if end == "lost" else None
        history = tuple(
            StageChange(from_stage=stages[k - 1] if k else None, to_stage=stage,
                        at=_T0 + timedelta(days=day), by="tester",
                        reason=lost_reason if stage == "lost" else None)
            for k, (stage, day) in enumerate(zip(stages, days, strict=True)))
        out.append(Opportunity(
            id=f"g{i}", name=f"Deal g{i}", pipeline_id="standard", stage_id=stages[-1],
            created_at=_T0, stage_history=history, owner=owner,
            amount=None if amount is None else oppcore.Money.of(
                amount if currency != "JPY" else str(int(Decimal(amount))), currency),
            lost_reason=lost_reason,
        ))
    return out


def test_generated_deals_start_when_the_table_starts(table: "AnalyticsTable") -> None:
    assert table.t0 == _T0
    assert _LETTERS.keys() <= set(STAGES)


@FEW
@given(any_deals | plausible_deals())
def test_funnel_counts_never_increase_down_the_stages(table: "AnalyticsTable",
                                                      ds: list[Opportunity]) -> None:
    f = analytics.funnel(ds, table.stand_in)
    reached = [r.reached for r in f.stages]
    strict = [r.in_order for r in f.stages]
    assert reached == sorted(reached, reverse=True)
    assert strict == sorted(strict, reverse=True)
    for r in f.stages:
        assert r.in_order <= r.reached <= f.deals
        assert r.advanced <= r.entered <= f.deals
        for x in (r.conversion, r.strict_conversion):
            assert x is None or 0.0 <= x <= 1.0
    assert f.won + f.lost + f.open == f.deals == len(ds)
    assert sum(r.lost_here for r in f.stages) + f.unplaced_lost == f.lost
    # Still-open deals are neither converted nor lost: every open deal is undecided at
    # exactly one step, and conversion among deals that left is a share of those (#13).
    assert sum(r.open_here for r in f.stages) == f.open
    assert f.stages[-1].won_here == f.won and f.stages[-1].open_here == 0
    for here, nxt in zip(f.stages, f.stages[1:], strict=False):
        assert here.left + here.still_open == here.reached
        assert nxt.reached <= here.left
        for x in (here.left_conversion, here.still_open_share):
            assert x is None or 0.0 <= x <= 1.0
    assert set(f.unseen_stages) <= {r.stage for r in f.stages[1:-1]}


@FEW
@given(any_deals | plausible_deals(), st.sampled_from(["owner", "source", "stage", "tag"]))
def test_group_counts_sum_to_the_total_and_rates_are_shares(
    table: "AnalyticsTable", ds: list[Opportunity], by: str,
) -> None:
    w = analytics.win_rate(ds, table.stand_in, by=by)
    for row in [*w.rows, w.overall]:
        assert row.win_rate is None or 0.0 <= row.win_rate <= 1.0
        assert row.deals == row.open + row.won + row.lost
    if by != "tag":  # tags are multi-valued: a deal may count in several groups
        assert sum(r.deals for r in w.rows) == w.overall.deals == len(ds)
        assert sum(r.won for r in w.rows) == w.overall.won
        assert sum(r.lost for r in w.rows) == w.overall.lost
    owners = Counter(d.owner for d in ds)
    reps = analytics.rep_performance(ds, table.stand_in)
    assert {r.owner: r.deals for r in reps.rows} == dict(owners)
    comp = analytics.compliance(ds, table.stand_in, now=table.now, cadence_days=7)
    assert sum(r.deals for r in comp.rows) == comp.total.deals == len(ds)
    for r in comp.rows:
        for share in (r.skipped_share, r.override_share, r.inactive_share,
                      r.no_lost_reason_share):
            assert share is None or 0.0 <= share <= 1.0


@FEW
@given(any_deals | plausible_deals(), st.sampled_from(["month", "quarter", "year"]))
def test_forecast_sums_per_currency_equal_the_per_deal_sums(
    table: "AnalyticsTable", ds: list[Opportunity], period: str,
) -> None:
    f = analytics.forecast(ds, table.stand_in, period=period)
    expected_amount: dict[str, Decimal] = {}
    expected_deals: Counter[str] = Counter()
    for d in ds:
        if d.amount is not None and d.stage_id not in ("lost",):
            cur = d.amount.currency
            expected_amount[cur] = expected_amount.get(cur, Decimal(0)) + d.amount.amount
            expected_deals[cur] += 1
    got_amount: dict[str, Decimal] = {}
    got_deals: Counter[str] = Counter()
    for r in f.rows:
        got_amount[r.currency] = got_amount.get(r.currency, Decimal(0)) + r.amount
        got_deals[r.currency] += r.deals
        assert Decimal(0) <= r.weighted <= r.amount
    assert got_amount == expected_amount
    assert got_deals == expected_deals
    for t in f.totals.rows:
        assert t.closed <= t.commit <= t.best_case
        assert t.weighted <= t.pipeline


@given(plausible_deals())
def test_cycle_and_duration_statistics_are_ordered(table: "AnalyticsTable",
                                                   ds: list[Opportunity]) -> None:
    cycle = analytics.sales_cycle(ds, table.stand_in)
    durations = analytics.stage_durations(ds, table.stand_in, now=table.now)
    for row in [*cycle.rows, *durations.stages]:
        if row.count:
            assert row.median_days is not None and row.p75_days is not None
            assert row.p90_days is not None
            assert 0 <= row.median_days <= row.p75_days <= row.p90_days
    assert cycle.get("closed").count == cycle.get("won").count + cycle.get("lost").count


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), st.floats(0, 1))
def test_percentile_matches_the_type_7_definition(values: list[float], p: float) -> None:
    ordered = sorted(values)
    got = analytics.percentile(ordered, p)
    assert got is not None
    assert ordered[0] <= got <= ordered[-1] or got == pytest.approx(ordered[0])
    pandas = pytest.importorskip("pandas")
    assert got == pytest.approx(float(pandas.Series(values).quantile(p)), abs=1e-6)


def test_percentile_of_nothing_is_none() -> None:
    assert analytics.percentile([], 0.5) is None


def test_generators_are_read_once(table: "AnalyticsTable") -> None:
    f = analytics.funnel((d for d in table.deals()), table.stand_in)
    assert f.deals == 8


# --- hostile input -----------------------------------------------------------------------


def test_unknown_stage_names_the_deal(table: "AnalyticsTable") -> None:
    bad = table.deals()[0].evolve(stage_id="nowhere")
    for fn in (analytics.funnel, analytics.win_rate, analytics.sales_cycle,
               analytics.stage_durations, analytics.pipeline_velocity, analytics.forecast,
               analytics.rep_performance, analytics.account_tiers):
        with pytest.raises(oppcore.ValidationError, match=r"'d1'.*'nowhere'"):
            fn([bad], table.stand_in)  # type: ignore[operator]


def test_unknown_stage_in_the_history_names_the_history(table: "AnalyticsTable") -> None:
    # The current stage is fine; an old history entry is not: the error must point at the
    # history, not at stage_id.
    first = table.deals()[0]
    entry = first.stage_history[0]
    bad = first.evolve(stage_history=(attrs.evolve(entry, to_stage="nowhere"),
                                      *first.stage_history[1:]))
    for fn in (analytics.funnel, analytics.stage_durations):
        with pytest.raises(oppcore.ValidationError,
                           match=r"'d1'.*history.*'nowhere'") as info:
            fn([bad], table.stand_in)  # type: ignore[operator]
        assert info.value.field == "stage_history"


def test_other_pipeline_is_refused(table: "AnalyticsTable") -> None:
    other = table.deals()[0].evolve(pipeline_id="simple")
    with pytest.raises(oppcore.ValidationError, match="follows pipeline 'simple'"):
        analytics.funnel([other], table.stand_in)


@pytest.mark.parametrize("items", [[object()], ["deal"], [None]])
def test_items_that_are_not_opportunities(table: "AnalyticsTable", items: list[object]) -> None:
    with pytest.raises(oppcore.ValidationError, match="opportunities"):
        analytics.win_rate(items, table.stand_in)  # type: ignore[arg-type]
    with pytest.raises(oppcore.ValidationError, match="opportunities"):
        analytics.funnel(items, table.stand_in)  # type: ignore[arg-type]


def test_bad_arguments_raise_clear_errors(table: "AnalyticsTable") -> None:
    ds = table.deals()
    with pytest.raises(oppcore.ValidationError, match="iterable of opportunities"):
        analytics.funnel(ds[0], table.stand_in)  # type: ignore[arg-type]
    with pytest.raises(oppcore.ValidationError, match="unknown dimension 'colour'"):
        analytics.win_rate(ds, table.stand_in, by="colour")
    with pytest.raises(oppcore.ValidationError, match="by"):
        analytics.win_rate(ds, table.stand_in, by=lambda o: [o.owner])
    with pytest.raises(oppcore.ValidationError, match="period"):
        analytics.forecast(ds, table.stand_in, period="week")
    with pytest.raises(oppcore.ValidationError, match="target"):
        analytics.forecast(ds, table.stand_in, target=Decimal(5))  # type: ignore[arg-type]
    with pytest.raises(oppcore.ValidationError, match="start"):
        analytics.forecast(ds, table.stand_in, start=table.now)  # type: ignore[arg-type]
    with pytest.raises(oppcore.ValidationError, match="now"):
        analytics.health(ds, table.stand_in, now=datetime(2026, 1, 1))
    with pytest.raises(oppcore.ValidationError, match="max_pushes"):
        analytics.health(ds, table.stand_in, now=table.now, max_pushes=-1)
    with pytest.raises(oppcore.ValidationError, match="cadence_days"):
        analytics.compliance(ds, table.stand_in, now=table.now, cadence_days=0)
    with pytest.raises(oppcore.ValidationError, match="cutoffs"):
        analytics.account_tiers(ds, table.stand_in, cutoffs=(0.9, 0.5))
    with pytest.raises(oppcore.ValidationError, match="score of account 'x'"):
        analytics.account_tiers(ds, table.stand_in, scores={"x": float("nan")})
    with pytest.raises(oppcore.ValidationError, match="quota"):
        analytics.rep_performance(ds, table.stand_in, quota=5)  # type: ignore[arg-type]
    with pytest.raises(oppcore.ValidationError, match="pipeline"):
        analytics.funnel(ds, object())  # type: ignore[arg-type]


def test_empty_input_gives_empty_but_well_formed_results(table: "AnalyticsTable") -> None:
    assert analytics.funnel([], table.stand_in).deals == 0
    w = analytics.win_rate([], table.stand_in)
    assert (w.rows, w.overall.win_rate) == ((), None)
    assert "(no rows)" in str(w)
    assert list(w.to_pandas().columns) == list(analytics.WinRates.columns)
    assert analytics.sales_cycle([], table.stand_in).get("won").median_days is None
    assert analytics.forecast([], table.stand_in,
                              target=table.usd("10")).totals.get("USD") is not None
    assert analytics.account_tiers([], table.stand_in).rows == ()


def test_history_going_back_in_time_is_skipped_not_negative(table: "AnalyticsTable") -> None:
    broken = table.deal("x", "I10 N2 S30")
    s = analytics.stage_durations([broken], table.stand_in)
    assert s.skipped == 1
    assert {r.stage: r.count for r in s.stages}["needs_analysis"] == 1


def test_to_polars_without_polars_names_the_extra(table: "AnalyticsTable") -> None:
    try:
        import polars  # noqa: F401
    except ImportError:
        with pytest.raises(ModuleNotFoundError, match=r"oppcore\[polars\]"):
            analytics.funnel(table.deals(), table.stand_in).to_polars()
    else:
        frame = analytics.funnel(table.deals(), table.stand_in).to_polars()
        assert frame["entered"].to_list() == [8, 5, 5, 3, 2]


def test_huge_amounts_stay_exact(table: "AnalyticsTable") -> None:
    big = table.deal("big", "I0 Q1", amount=oppcore.Money.of("100000000000000000.01", "USD"))
    twin = big.evolve(id="big2")
    f = analytics.forecast([big, twin], table.stand_in)
    assert f.rows[0].amount == Decimal("200000000000000000.02")


def test_timezones_are_respected(table: "AnalyticsTable") -> None:
    shanghai = timezone(timedelta(hours=8))
    d = table.deal("tz", "I0 W1").evolve(created_at=table.t0.astimezone(shanghai))
    assert analytics.sales_cycle([d], table.stand_in).get("won").median_days == 1.0


def test_velocity_of_a_huge_pipeline_with_a_short_cycle(table: "AnalyticsTable") -> None:
    # per_day can exceed what a Money holds (and 28 digits): it is a figure, not a Money,
    # so it must be rounded to the minor unit without going through one.
    from oppcore import Pipeline, StageChange

    big = oppcore.Money(amount=Decimal("999999999999999999"), currency="USD")
    std = Pipeline.template("standard")
    deals = [
        Opportunity(id=f"o{i}", name="n", pipeline_id="standard", stage_id="solution",
                    created_at=table.t0, amount=big,
                    stage_history=(StageChange(from_stage=None, to_stage="solution", at=table.t0,
                                               by="x"),))
        for i in range(1000)
    ]
    deals.append(Opportunity(
        id="w", name="n", pipeline_id="standard", stage_id="won", created_at=table.t0,
        stage_history=(StageChange(from_stage=None, to_stage="identification", at=table.t0, by="x"),
                       StageChange(from_stage="identification", to_stage="won",
                                   at=table.t0 + timedelta(seconds=1), by="x"))))
    row = analytics.pipeline_velocity(deals, std).rows[0]
    assert row.cycle_days == pytest.approx(1 / 86400)
    assert row.per_day is not None
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (row.pipeline_value / Decimal(repr(row.cycle_days))).quantize(
            Decimal("0.01"))
    # The division keeps 28 significant digits; the rounding must not lose integer digits.
    assert row.per_day == pytest.approx(expected, rel=Decimal("1e-26"))
    assert row.per_day.as_tuple().exponent == -2


_STANDARD = oppcore.Pipeline.template("standard")
_AT = datetime(2026, 1, 5, tzinfo=timezone.utc)


@given(st.floats(0, 1), st.decimals(min_value=0, max_value=10**9, places=2))
def test_forecast_reads_any_probability_and_exactly_from_one_in_ten_thousand(
        p: float, amount: Decimal) -> None:
    # A subnormal probability (5e-324 is a valid float in [0, 1]) once made the weighted
    # sum need hundreds of digits and the whole forecast fail.
    first = _STANDARD.stages[0].id
    deals = [
        Opportunity(id=f"d{i}", name="d", pipeline_id="standard", stage_id=first,
                    amount=oppcore.Money(amount=value, currency="EUR"),
                    probability=oppcore.Probability(
                        value=prob, source=oppcore.ProbabilitySource.MANUAL),
                    expected_close=_AT.date(), created_at=_AT)
        for i, (value, prob) in enumerate([(amount, p), (Decimal("0.01"), 5e-324),
                                           (Decimal("1000.10"), 0.3)])]
    f = analytics.forecast(deals, _STANDARD)
    (total,) = f.totals.rows
    assert Decimal(0) <= total.weighted <= total.pipeline
    if p >= 1e-4:  # read exactly: the tiny probability adds nothing at 20 places
        expected = amount * Decimal(repr(p)) + Decimal("1000.10") * Decimal("0.3")
        assert total.weighted == expected
