"""Tests of the pipeline report value (``oppcore._report.build_report``).

The deals come from the ``sample_deals`` fixture (conftest.py: a realistic, seeded sample in
the ``standard`` pipeline, shared with the other ``test_report*`` modules).
"""

from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Opportunity,
    Pipeline,
    Scorecard,
    ValidationError,
    analytics,
)
from oppcore._report import NO_DATE, NO_KEY, PipelineReport, build_report

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
STANDARD = Pipeline.template("standard")
OPEN_PATH = ("identification", "needs_analysis", "solution", "quote_contract")


if TYPE_CHECKING:
    from conftest import SampleDeals


@pytest.fixture(scope="module")
def deals(sample_deals: "SampleDeals") -> list[Opportunity]:
    return sample_deals(now=NOW)


@pytest.fixture(scope="module")
def report(deals: list[Opportunity]) -> PipelineReport:
    return build_report(deals, STANDARD, now=NOW, scorecard=Scorecard.default(), top=10)


# ------------------------------------------------------------------ agrees with analytics


def test_counts_agree_with_the_analytics(report: PipelineReport,
                                         deals: list[Opportunity]) -> None:
    funnel = analytics.funnel(deals, STANDARD)
    c = report.counts
    assert (c.deals, c.open, c.won, c.lost) == (funnel.deals, funnel.open, funnel.won,
                                                funnel.lost)
    assert c.deals == len(deals) == c.open + c.won + c.lost
    assert [s.reached for s in report.funnel] == [s.reached for s in funnel.stages]
    assert [s.stage_id for s in report.funnel] == [*OPEN_PATH, "won"]
    assert report.funnel[0].label == "Lead identification"


def test_funnel_never_increases_and_conversions_match(report: PipelineReport) -> None:
    reached = [s.reached for s in report.funnel]
    assert reached == sorted(reached, reverse=True)
    assert len(report.conversions) == len(report.funnel) - 1
    for conv, a, b in zip(report.conversions, report.funnel[:-1], report.funnel[1:],
                          strict=True):
        assert (conv.from_stage, conv.to_stage) == (a.stage_id, b.stage_id)
        assert conv.rate == pytest.approx(b.reached / a.reached)
        assert 0.0 <= (conv.strict_rate or 0.0) <= 1.0


def test_win_rates_by_source_and_owner(report: PipelineReport, deals: list[Opportunity],
                                       sample_deals: "SampleDeals") -> None:
    for rows, by in ((report.by_owner, "owner"), (report.by_source, "source")):
        assert sum(r.deals for r in rows) == len(deals)
        assert sum(r.won for r in rows) == report.counts.won
        expected = analytics.win_rate(deals, STANDARD, by=by)
        assert [r.win_rate for r in rows] == [r.win_rate for r in expected.rows]
    owners = {r.key for r in report.by_owner}
    assert NO_KEY in owners
    assert sample_deals.hostile_owner in owners
    expected_rate = report.counts.won / (report.counts.won + report.counts.lost)
    assert report.counts.win_rate == pytest.approx(expected_rate)


def test_forecast_by_month_per_currency(report: PipelineReport,
                                        deals: list[Opportunity]) -> None:
    assert report.currencies == ("EUR", "USD")
    periods = [m.period for m in report.forecast]
    dated = [p for p in periods if p not in (NO_DATE, "overdue")]
    assert dated == sorted(dated)
    # Slipped open deals (expected close before today) are overdue, not past pipeline
    # (#13): no open value sits in a month before NOW's.
    assert periods[0] == "overdue"
    this_month = f"{NOW.year:04d}-{NOW.month:02d}"
    assert all(m.open_deals == 0 and not m.pipeline for m in report.forecast
               if m.period not in ("overdue", NO_DATE) and m.period < this_month)
    overdue = sum(1 for d in deals if d.stage_id in OPEN_PATH and d.amount
                  and d.expected_close and d.expected_close < NOW.date())
    assert sum(m.open_deals for m in report.forecast if m.period == "overdue") == overdue
    assert all(m.deals == m.open_deals + m.won_deals for m in report.forecast)
    assert NO_DATE in periods
    assert periods[-1] == NO_DATE
    for total in report.totals:
        months = [m for m in report.forecast if m.currency == total.currency]
        assert sum(m.closed for m in months) == total.closed
        assert sum(m.pipeline for m in months) == total.pipeline
        assert sum(m.weighted for m in months) == total.weighted
    won_eur = sum((d.amount.amount for d in deals if d.stage_id == "won" and d.amount
                   and d.amount.currency == "EUR"), Decimal(0))
    eur = next(t for t in report.totals if t.currency == "EUR")
    assert eur.closed == won_eur


def test_stale_deals_are_open_stale_and_sorted(report: PipelineReport,
                                               deals: list[Opportunity]) -> None:
    by_id = {d.id: d for d in deals}
    expected = {d.id for d in deals if d.stage_id in OPEN_PATH
                and STANDARD.is_stale(d, now=NOW)}
    assert {s.opportunity_id for s in report.stale} == expected
    assert report.counts.stale == len(expected) > 0
    days = [s.days_in_stage for s in report.stale]
    assert days == sorted(days, reverse=True)
    for s in report.stale:
        assert s.stage_id == by_id[s.opportunity_id].stage_id
        assert s.max_days is not None
        assert s.days_in_stage >= s.max_days  # business-day limits are looser, never tighter


def test_top_deals_are_the_best_scored_open_deals(report: PipelineReport,
                                                  deals: list[Opportunity]) -> None:
    card = Scorecard.default()
    scores = sorted((card.score(d, now=NOW).total for d in deals if d.stage_id in OPEN_PATH),
                    reverse=True)
    assert [t.score for t in report.top_deals] == scores[:10]
    assert [t.rank for t in report.top_deals] == list(range(1, 11))
    assert all(t.stage_id in OPEN_PATH for t in report.top_deals)
    assert any(t.reasons for t in report.top_deals)
    for t in report.top_deals:
        assert len(t.reasons) <= 3
        effects = [abs(r.points) for r in t.reasons]
        assert effects == sorted(effects, reverse=True)
    assert report.scorecard == "default"


def test_without_scorecard_there_are_no_top_deals(deals: list[Opportunity]) -> None:
    report = build_report(iter(deals), STANDARD, now=NOW)
    assert report.top_deals == ()
    assert report.scorecard is None
    assert report.counts.deals == len(deals)  # a generator is read once, fully


def test_top_zero_and_ties_are_stable(deals: list[Opportunity]) -> None:
    card = Scorecard.default()
    assert build_report(deals, STANDARD, now=NOW, scorecard=card, top=0).top_deals == ()
    first = build_report(deals, STANDARD, now=NOW, scorecard=card, top=25)
    again = build_report(list(deals), STANDARD, now=NOW, scorecard=card, top=25)
    assert first == again


def test_empty_input_gives_an_empty_report() -> None:
    report = build_report([], STANDARD, now=NOW, scorecard=Scorecard.default())
    assert report.counts.deals == 0
    assert report.counts.win_rate is None
    assert report.by_owner == report.by_source == report.forecast == report.totals == ()
    assert report.stale == report.top_deals == ()
    assert all(c.rate is None for c in report.conversions)


def test_report_is_frozen(report: PipelineReport) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.title = "x"  # type: ignore[misc]
    assert isinstance(report.funnel, tuple)


# ---------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"now": datetime(2026, 1, 1)}, "now"),
    ({"now": "2026-01-01"}, "now"),
    ({"top": -1}, "top"),
    ({"top": 2.5}, "top"),
    ({"top": True}, "top"),
    ({"title": None}, "title"),
    ({"scorecard": "default"}, "scorecard"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"now": NOW, **kwargs}
    with pytest.raises(ValidationError) as info:
        build_report([], STANDARD, **args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_inputs_are_refused(deals: list[Opportunity]) -> None:
    with pytest.raises(ValidationError, match=r"expected an oppcore\.Pipeline"):
        build_report([], {"id": "standard"}, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="iterable"):
        build_report(deals[0], STANDARD, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="analytics take opportunities"):
        build_report([*deals[:3], "x"], STANDARD, now=NOW)  # type: ignore[list-item]
    other = deals[0].evolve(pipeline_id="other")
    with pytest.raises(ValidationError, match="other"):
        build_report([other], STANDARD, now=NOW)
    unknown = deals[0].evolve(stage_id="nowhere")
    with pytest.raises(ValidationError, match="nowhere"):
        build_report([unknown], STANDARD, now=NOW)


# -------------------------------------------------------------------------- properties


def _stream(sample: list[Opportunity], picks: list[int]) -> Iterator[Opportunity]:
    return (sample[i] for i in picks)


@pytest.fixture(scope="module")
def sample120(sample_deals: "SampleDeals") -> list[Opportunity]:
    return sample_deals(120, seed=11, now=NOW)


@given(st.lists(st.integers(0, 119), max_size=60),
       st.integers(0, 12))
def test_report_invariants(sample120: list[Opportunity], picks: list[int], top: int) -> None:
    chosen = [sample120[i] for i in dict.fromkeys(picks)]
    report = build_report(_stream(sample120, list(dict.fromkeys(picks))), STANDARD, now=NOW,
                          scorecard=Scorecard.default(), top=top)
    c = report.counts
    assert c.deals == len(chosen) == c.open + c.won + c.lost
    for name, rows in (("owner", report.by_owner), ("source", report.by_source)):
        # A dimension with no value on any deal is left out, never shown as one "(none)".
        left_out = name in report.left_out
        assert sum(r.deals for r in rows) == (0 if left_out else c.deals)
        assert left_out == (c.deals > 0 and all(
            (d.owner if name == "owner" else d.source) is None for d in chosen))
    assert len(report.top_deals) == min(top, c.open - c.unscored)
    assert all(0 < t.coverage <= 1 for t in report.top_deals)
    totals = [t.score for t in report.top_deals]
    assert totals == sorted(totals, reverse=True)
    assert c.stale == len(report.stale) <= c.open
    reached = [s.reached for s in report.funnel]
    assert reached == sorted(reached, reverse=True)
    assert sum(m.deals for m in report.forecast) <= c.open + c.won
    assert report.funnel[0].reached <= c.deals
    assert date.min < report.generated_at.date()
