"""Results as data frames for notebooks (issue #13): numeric money by default, exact on
request, typed columns even when empty; a generator is never silently read twice."""

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from oppcore import ValidationError, analytics

if TYPE_CHECKING:
    from conftest import AnalyticsTable

pd = pytest.importorskip("pandas")  # the pandas extra (in the test extra)


def test_money_columns_are_numeric_by_default(analytics_table: "AnalyticsTable") -> None:
    f = analytics.forecast(analytics_table.deals(), analytics_table.stand_in, period="month")
    frame = f.to_pandas()
    assert str(frame["amount"].dtype) == "float64" and str(frame["deals"].dtype) == "int64"
    # describe() treats amounts as numbers (a Decimal object column would be categorical)
    assert "mean" in frame.describe().index and "amount" in frame.describe().columns
    assert frame["amount"].sum() == pytest.approx(float(sum(r.amount for r in f.rows)))
    exact = f.to_pandas(money="decimal")
    assert list(exact["amount"]) == [r.amount for r in f.rows]
    assert all(isinstance(v, Decimal) for v in exact["amount"])
    with pytest.raises(ValidationError, match="money must be one of"):
        f.to_pandas(money="cents")


def test_empty_results_have_typed_columns(analytics_table: "AnalyticsTable") -> None:
    stand_in = analytics_table.stand_in
    empty = analytics.forecast([], stand_in).to_pandas()
    assert list(empty.columns) == list(analytics.Forecast.columns) and len(empty) == 0
    assert str(empty["deals"].dtype) == "int64"
    assert str(empty["amount"].dtype) == "float64"
    funnel = analytics.win_rate([], stand_in).to_pandas()
    assert str(funnel["win_rate"].dtype) == "float64"
    assert str(funnel["won"].dtype) == "int64"


def test_unknown_values_are_missing_not_zero(analytics_table: "AnalyticsTable") -> None:
    frame = analytics.funnel(analytics_table.deals(), analytics_table.stand_in).to_pandas()
    assert str(frame["conversion"].dtype) == "float64"
    assert frame["conversion"].isna().tolist() == [False, False, False, False, True]


def test_a_generator_read_twice_is_refused_not_counted_as_empty(
        analytics_table: "AnalyticsTable") -> None:
    from datetime import datetime, timezone

    from oppcore import Pipeline
    from oppcore._report import build_report

    deals = (d for d in analytics_table.deals())
    first = analytics.funnel(deals, analytics_table.stand_in)
    assert first.deals == 8
    with pytest.raises(ValidationError, match="generator is exhausted"):
        analytics.win_rate(deals, analytics_table.stand_in)
    with pytest.raises(ValidationError, match="generator is exhausted"):
        build_report(deals, Pipeline.template("standard"),
                     now=datetime(2026, 2, 1, tzinfo=timezone.utc))
    # A fresh generator that yields nothing is an empty input, not an error.
    assert analytics.funnel((d for d in []), analytics_table.stand_in).deals == 0


def test_deals_frame_joins_other_tables() -> None:
    from datetime import datetime, timezone
    from pathlib import Path

    from oppcore import Pipeline
    from oppcore import io as oio

    fixture = Path(__file__).parent / "fixtures" / "report" / "maven_shaped.csv"
    deals = oio.import_csv(fixture, oio.preset("maven"),
                           as_of=datetime(2017, 12, 31, tzinfo=timezone.utc)).records
    now = datetime(2018, 1, 1, tzinfo=timezone.utc)
    frame = analytics.deals_frame(deals, Pipeline.template("simple"), now=now)
    assert frame.custom_columns == ("product",)
    df = frame.to_pandas()
    assert len(df) == 24 and list(df.columns)[:4] == ["opportunity_id", "name", "stage",
                                                      "kind"]
    row = df.set_index("opportunity_id").loc["R01"]
    assert (row["kind"], row["amount"], row["currency"], row["product"]) == (
        "won", 550.0, "USD", "GTX Basic")
    assert row["cycle_days"] == 36.0 and pd.isna(row["age_days"])
    # Open deals have no amount: missing, never 0.
    assert df[df["kind"] == "open"]["amount"].isna().all()
    assert df.set_index("opportunity_id").loc["R11", "age_days"] == 226.0
    accounts = pd.DataFrame({"account": ["Cancity", "Codehow"], "sector": ["retail", "it"]})
    joined = df.merge(accounts, on="account")
    assert sorted(set(joined["sector"])) == ["it", "retail"]
    assert len(joined) == len(df[df["account"].isin(["Cancity", "Codehow"])])
    # A custom field named like a built-in column does not overwrite it.
    renamed = [d.evolve(custom={"owner": "someone else"}) for d in deals[:1]]
    clash = analytics.deals_frame(renamed, Pipeline.template("simple")).to_records()[0]
    assert clash["owner"] == "Ada Moss" and clash["custom_owner"] == "someone else"


def test_polars_frames_are_typed_the_same_way(analytics_table: "AnalyticsTable") -> None:
    pl = pytest.importorskip("polars")  # the polars extra
    f = analytics.forecast(analytics_table.deals(), analytics_table.stand_in, period="month")
    frame = f.to_polars()
    assert frame.schema["amount"] == pl.Float64 and frame.schema["deals"] == pl.Int64
    exact = f.to_polars(money="decimal")
    assert [Decimal(str(v)) for v in exact["amount"].to_list()] == [r.amount for r in f.rows]
    empty = analytics.forecast([], analytics_table.stand_in).to_polars()
    assert empty.schema["period"] == pl.Utf8 and empty.schema["weighted"] == pl.Float64
