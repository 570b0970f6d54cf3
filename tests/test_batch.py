"""oppcore.batch: partials merged in any tree equal the analytics over all deals at once."""

import csv
import itertools
import pickle
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Money,
    Opportunity,
    Pipeline,
    Scorecard,
    StageChange,
    ValidationError,
    analytics,
    batch,
    io,
)

PIPELINE = Pipeline.template("standard")
OPEN = ("identification", "needs_analysis", "solution", "quote_contract")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)

# One option set per analysis, including the options that change what is tallied.
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "funnel": [{}],
    "win_rate": [{}, {"by": "tag"}, {"by": "source"}, {"by": "account"}],
    "stage_durations": [{}, {"now": NOW}],
    "sales_cycle": [{}, {"include_open": True, "now": NOW}],
    "pipeline_velocity": [{}],
    "forecast": [{}, {"period": "month", "now": NOW, "start": date(2026, 2, 1),
                      "target": (Money.of("50000", "USD"),)}],
    "compliance": [{"now": NOW}, {"now": NOW, "cadence_days": 10}],
    "rep_performance": [{}, {"quota": Money.of("1000", "USD")}],
    "account_tiers": [{"currency": "USD"}, {"scores": {"a1": 3, "a2": 1}}],
    "health": [{"now": NOW}, {"now": NOW, "max_pushes": 0}],
}
CASES = [(name, options) for name, sets in OPTIONS.items() for options in sets]


@st.composite
def deals(draw: st.DrawFn) -> list[Opportunity]:
    """Plausible deals of the standard pipeline: paths with skips, loss, re-entry."""
    out = []
    for i in range(draw(st.integers(0, 14))):
        path = draw(st.lists(st.sampled_from(OPEN), min_size=1, max_size=4))
        end = draw(st.sampled_from(["open", "won", "lost"]))
        stages = path + {"won": ["won"], "lost": ["lost"]}.get(end, [])
        # Durations repeat across deals (whole days), so histograms have shared buckets.
        days = sorted(draw(st.lists(st.integers(0, 80), min_size=len(stages),
                                    max_size=len(stages))))
        seconds = draw(st.sampled_from([0, 0, 3600, 1]))
        history = tuple(
            StageChange(from_stage=stages[k - 1] if k else None, to_stage=stage,
                        at=T0 + timedelta(days=day, seconds=seconds if k else 0), by="t",
                        reason="price" if stage == "lost" else None)
            for k, (stage, day) in enumerate(zip(stages, days, strict=True)))
        amount = draw(st.none() | st.decimals(0, 10**5, places=2))
        currency = draw(st.sampled_from(["USD", "EUR"]))
        account = draw(st.none() | st.sampled_from(["a1", "a2", "a3"]))
        activities = tuple(
            Activity(id=f"a{i}-{d}", kind=ActivityKind.CALL, at=T0 + timedelta(days=d), by="t",
                     next_step_due=date(2026, 3, 1) + timedelta(days=d))
            for d in draw(st.lists(st.integers(0, 80), max_size=2)))
        out.append(Opportunity(
            id=f"d{i}", name=f"Deal {i}", pipeline_id="standard", stage_id=stages[-1],
            created_at=T0, stage_history=history,
            owner=draw(st.sampled_from([None, "ann", "ben", "chen"])),
            amount=None if amount is None else Money.of(str(amount), currency),
            tags=frozenset(draw(st.sets(st.sampled_from(["x", "y"])))),
            account=None if account is None else Account(id=account, name=account.upper()),
            expected_close=draw(st.none() | st.dates(date(2026, 1, 1), date(2026, 8, 1))),
            activities=activities,
            lost_reason=draw(st.sampled_from([None, "price"])) if end == "lost" else None,
        ))
    return out


@st.composite
def splits(draw: st.DrawFn, items: list[Opportunity]) -> list[list[Opportunity]]:
    """Cut ``items`` into consecutive partitions, empty ones included (one is allowed)."""
    n = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), min_size=n - 1,
                                max_size=n - 1)))
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def merge_tree(draw: st.DrawFn, parts: list[batch.Partial]) -> batch.Partial:
    """Merge ``parts`` in a random order and a random tree of merges."""
    pool = draw(st.permutations(parts))
    pool = list(pool)
    while len(pool) > 1:
        i = draw(st.integers(0, len(pool) - 2))
        k = draw(st.integers(2, len(pool) - i))
        pool[i:i + k] = [batch.merge(pool[i:i + k])]
    return pool[0]


@settings(max_examples=15)
@pytest.mark.parametrize(("name", "options"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _o) in enumerate(CASES)])
@given(data=st.data())
def test_merged_partials_equal_the_function_on_all_deals(
    name: str, options: dict[str, Any], data: st.DataObject,
) -> None:
    everything = data.draw(deals())
    parts = data.draw(splits(everything))
    partials = [batch.partial(name, p, PIPELINE, part=i, **options)
                for i, p in enumerate(parts)]
    merged_partial = merge_tree(data.draw, partials)
    expected = getattr(analytics, name)(everything, PIPELINE, **options)
    got = merged_partial.finalize()
    assert type(got) is type(expected)
    assert got == expected
    # A partial travels between processes unchanged.
    assert pickle.loads(pickle.dumps(merged_partial)).finalize() == expected


@settings(max_examples=30)
@given(data=st.data())
def test_merge_is_associative_and_commutative_on_states(data: st.DataObject) -> None:
    name, options = data.draw(st.sampled_from(CASES))
    # Each slice has its own place in the input (health lists findings in that order).
    a, b, c = (batch.partial(name, data.draw(deals()), PIPELINE, part=i, **options)
               for i in range(3))
    assert batch.merge([a, b]).tally == batch.merge([b, a]).tally
    assert batch.merge([batch.merge([a, b]), c]).tally == \
        batch.merge([a, batch.merge([b, c])]).tally


def test_a_partial_is_small_whatever_the_number_of_deals() -> None:
    one = [_won(i, days=i % 30) for i in range(30)]
    many = one * 100
    small = pickle.dumps(batch.partial("sales_cycle", one, PIPELINE))
    big = pickle.dumps(batch.partial("sales_cycle", many, PIPELINE))
    # Exact histograms: 30 distinct durations whatever the number of deals.
    assert len(big) < len(small) + 200
    assert batch.partial("sales_cycle", many, PIPELINE).finalize() == \
        analytics.sales_cycle(many, PIPELINE)


def _won(i: int, *, days: int) -> Opportunity:
    return Opportunity(
        id=f"w{i}", name=f"Won {i}", pipeline_id="standard", stage_id="won", created_at=T0,
        stage_history=(
            StageChange(from_stage=None, to_stage="identification", at=T0, by="t"),
            StageChange(from_stage="identification", to_stage="won",
                        at=T0 + timedelta(days=days), by="t"),
        ), owner="ann", amount=Money.of("100", "USD"))


def test_partials_made_with_different_options_are_refused() -> None:
    a = batch.partial("win_rate", [], PIPELINE, by="owner")
    b = batch.partial("win_rate", [], PIPELINE, by="source")
    with pytest.raises(ValidationError, match="different options: by='owner' and by='source'"):
        batch.merge([a, b])
    # A default given explicitly is the same option.
    assert batch.merge([a, batch.partial("win_rate", [], PIPELINE)]).options == a.options


def test_partials_of_different_analyses_or_pipelines_are_refused() -> None:
    a = batch.partial("win_rate", [], PIPELINE)
    with pytest.raises(ValidationError, match="win_rate partial with a funnel partial"):
        batch.merge([a, batch.partial("funnel", [], PIPELINE)])
    other = attrs.evolve(PIPELINE, label="Another version")
    with pytest.raises(ValidationError, match="pipelines"):
        batch.merge([a, batch.partial("win_rate", [], other)])
    with pytest.raises(ValidationError, match="at least one"):
        batch.merge([])
    with pytest.raises(ValidationError, match="takes partials"):
        batch.merge([a, "b"])  # type: ignore[list-item]


def test_unknown_analysis_or_option_and_missing_option_are_clear_errors() -> None:
    with pytest.raises(ValidationError, match="unknown analysis 'funel'"):
        batch.partial("funel", [], PIPELINE)
    with pytest.raises(ValidationError, match="takes no option 'by'"):
        batch.partial("funnel", [], PIPELINE, by="owner")
    with pytest.raises(ValidationError, match="needs the option 'now'") as info:
        batch.partial("health", [], PIPELINE)
    assert info.value.field == "now"
    with pytest.raises(ValidationError, match="part"):
        batch.partial("funnel", [], PIPELINE, part=-1)
    # The analysis' own checks run on each partition.
    with pytest.raises(ValidationError, match="period"):
        batch.partial("forecast", [], PIPELINE, period="week")


def test_every_listed_analysis_is_a_partial() -> None:
    assert set(batch.ANALYSES) == {
        "funnel", "win_rate", "stage_durations", "sales_cycle", "pipeline_velocity",
        "forecast", "compliance", "rep_performance", "account_tiers", "health"}
    assert set(OPTIONS) == set(batch.ANALYSES)


def test_money_sums_stay_exact_across_partitions() -> None:
    cents = [attrs.evolve(_won(i, days=3), amount=Money.of("0.10", "USD")) for i in range(10)]
    parts = [batch.partial("rep_performance", [o], PIPELINE) for o in cents]
    row = batch.merge(parts).finalize().get("ann")
    assert row is not None
    assert row.won_value == analytics.rep_performance(cents, PIPELINE).get("ann").won_value
    assert row.won_value == (Money.of("1.00", "USD"),)


# --- row-local work: import and scoring per partition ----------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "io"


def _well_shaped(tmp_path: Path) -> Path:
    """bad_rows.csv without the rows of a wrong cell count (pandas' own refusal)."""
    with (FIXTURES / "bad_rows.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(r for r in rows if len(r) == len(rows[0]))
    return path


def test_a_frame_imports_like_the_file_with_the_same_refusals(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = _well_shaped(tmp_path)
    report = io.import_csv(path, io.preset("maven"), errors="collect")
    assert report.errors and report.records  # hostile rows and good rows both
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    deals, errors = batch.import_frame(frame, mapping=io.preset("maven"))
    assert tuple(deals) == report.records
    assert tuple(errors) == report.errors
    # pandas' default NA handling rewrites cells ("NaN" becomes missing), so a refused
    # amount would pass: the docs say to read with keep_default_na=False.
    _deals, rewritten = batch.import_frame(pd.read_csv(path, dtype=str),
                                           mapping=io.preset("maven"))
    assert len(rewritten) < len(errors)


def test_score_frame_returns_scores_and_errors_as_frames(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = _well_shaped(tmp_path)
    report = io.import_csv(path, io.preset("maven"), errors="collect")
    card = Scorecard.default()
    scores, errors = batch.score_frame(pd.read_csv(path, dtype=str, keep_default_na=False),
                                       mapping=io.preset("maven"), scorecard=card, now=NOW)
    assert list(scores.columns) == list(batch.SCORE_COLUMNS)
    assert list(errors.columns) == list(batch.ERROR_COLUMNS)
    expected = [card.score(o, now=NOW) for o in report.records]
    assert scores["id"].tolist() == [s.subject_id for s in expected]
    assert scores["total"].tolist() == [float(s.total) for s in expected]
    assert scores["grade"].tolist() == [s.grade for s in expected]
    assert errors.to_dict("records") == [
        {"row": e.row, "column": e.column, "message": e.message} for e in report.errors]
    empty, none = batch.score_frame(pd.read_csv(path, dtype=str).iloc[:0],
                                    mapping=io.preset("maven"), scorecard=card, now=NOW)
    assert len(empty) == len(none) == 0
    assert list(empty.dtypes.astype(str)) == list(scores.dtypes.astype(str))


def test_score_records_refuses_what_is_not_a_scorecard() -> None:
    with pytest.raises(ValidationError, match="scorecard must be a Scorecard"):
        batch.score_records([], scorecard="default", now=NOW)  # type: ignore[arg-type]


def test_an_account_with_two_names_shows_the_same_one_whatever_the_order() -> None:
    a = attrs.evolve(_won(1, days=3), account=Account(id="acc", name="Zeta Ltd"))
    b = attrs.evolve(_won(2, days=4), account=Account(id="acc", name="Alpha Ltd"))
    one = analytics.account_tiers([a, b], PIPELINE)
    assert one == analytics.account_tiers([b, a], PIPELINE)
    assert one.rows[0].account == "Alpha Ltd"
    parts = [batch.partial("account_tiers", [d], PIPELINE) for d in (a, b)]
    assert batch.merge(parts).finalize() == batch.merge(parts[::-1]).finalize() == one
