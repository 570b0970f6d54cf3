"""Win rate per owner and per product of the maven-shaped sample export, against pandas.

The export is imported with the io helper's ``maven`` preset (into the ``simple``
pipeline); the same numbers are computed independently from the raw CSV with pandas.
"""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from oppcore import Pipeline, analytics, io

pd = pytest.importorskip("pandas")  # the optional extra this comparison needs

SAMPLE = Path(__file__).parent / "fixtures" / "io" / "maven_sample.csv"


def _expected(column: str) -> dict[object, tuple[int, int, int, float | None]]:
    raw = pd.read_csv(SAMPLE, dtype=str)
    raw["product"] = raw["product"].replace({"GTXPro": "GTX Pro"})  # the export's typo
    raw["won"] = (raw["deal_stage"] == "Won").astype(int)
    raw["lost"] = (raw["deal_stage"] == "Lost").astype(int)
    raw["open"] = 1 - raw["won"] - raw["lost"]
    grouped = raw.groupby(column)[["won", "lost", "open"]].sum()
    grouped["rate"] = grouped["won"] / (grouped["won"] + grouped["lost"])
    return {
        key: (int(r.won), int(r.lost), int(r.open),
              None if pd.isna(r.rate) else float(r.rate))
        for key, r in grouped.iterrows()
    }


@pytest.fixture(scope="module")
def imported() -> tuple:  # type: ignore[type-arg]
    # Prospecting rows have no date at all: the export date stands in for their creation.
    report = io.import_csv(SAMPLE, io.preset("maven"),
                           as_of=datetime(2017, 12, 31, tzinfo=timezone.utc))
    assert not report.errors
    assert len(report.records) == report.rows_read == len(pd.read_csv(SAMPLE))
    return report.records


@pytest.mark.parametrize(("by", "column"), [("owner", "sales_agent"),
                                            ("custom:product", "product")])
def test_win_rate_agrees_exactly_with_pandas(imported: tuple, by: str, column: str) -> None:  # type: ignore[type-arg]
    got = analytics.win_rate(imported, Pipeline.template("simple"), by=by)
    mine = {r.key: (r.won, r.lost, r.open, r.win_rate) for r in got.rows}
    assert mine == _expected(column)
    assert got.overall.deals == len(imported)
