"""Deal duplicates that are real (issue #13): repeat business is not a duplicate.

On the Maven export every repeat order of a product by one customer matched on the
importer's synthesised name ("<account> <product>") and the account. The Maven-shaped
fixture (``fixtures/report/maven_shaped.csv``) has such repeat orders, a won and a lost
deal entered the same day, and two real duplicates: R11/R12 (same account, product, owner
and engage day, both open) and R20/R21 (identical undated Prospecting rows).
"""

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Money,
    Opportunity,
    Pipeline,
    StageChange,
    ValidationError,
    analytics,
    find_duplicates,
)
from oppcore import io as oio
from oppcore.dedupe import match_keys

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "maven_shaped.csv"
AS_OF = datetime(2017, 12, 31, tzinfo=timezone.utc)
SIMPLE = Pipeline.template("simple")
T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def maven() -> list[Opportunity]:
    return list(oio.import_csv(FIXTURE, oio.preset("maven"), as_of=AS_OF).records)


def test_repeat_orders_are_not_duplicates(maven: list[Opportunity]) -> None:
    found = {c.ids: c for c in find_duplicates(maven)}
    # Before: 23 pairs, every repeat order of one product by one customer.
    assert set(found) == {("R11", "R12"), ("R20", "R21")}
    reasons = {r.code for r in found[("R11", "R12")].reasons}
    assert reasons == {"company_name", "product", "created", "owner", "stage"}
    assert "same product: 'mg advanced'" in [r.message for r in found[("R11", "R12")].reasons]


def test_a_synthesised_name_is_no_evidence(maven: list[Opportunity]) -> None:
    by_id = {d.id: d for d in maven}
    assert by_id["R01"].name == "Cancity GTX Basic"  # what the importer made up
    assert match_keys(by_id["R01"]).name is None
    assert match_keys(by_id["R17"]).name is None  # "GTX Pro": the product alone
    real = by_id["R01"].evolve(name="Cancity fleet renewal 2017")
    assert match_keys(real).name == "cancityfleetrenewal2017"


def test_won_and_lost_deals_of_one_day_are_two_deals(maven: list[Opportunity]) -> None:
    by_id = {d.id: d for d in maven}
    # R05 (won 03-02) and R06 (lost 04-08): same account, product, owner, engage day.
    assert find_duplicates([by_id["R05"], by_id["R06"]], threshold=0.0) == ()


def _closed(oid: str, stage: str, closed_day: int, **fields: object) -> Opportunity:
    closed = T0 + timedelta(days=closed_day)
    return Opportunity(
        id=oid, name="Acme GTX Basic", pipeline_id="simple", stage_id=stage, created_at=T0,
        account=Account(id="acme", name="Acme"), owner="ada", custom={"product": "GTX Basic"},
        lost_reason="price" if stage == "lost" else None,
        stage_history=(StageChange(from_stage=None, to_stage="engaging", at=T0, by="ada"),
                       StageChange(from_stage="engaging", to_stage=stage, at=closed,
                                   by="ada")),
        **fields)  # type: ignore[arg-type]


@given(st.sampled_from(["won", "lost"]), st.sampled_from(["won", "lost"]),
       st.integers(1, 60), st.integers(1, 60))
def test_closed_deals_with_different_close_dates_are_never_paired(
        a_stage: str, b_stage: str, a_day: int, b_day: int) -> None:
    a, b = _closed("a", a_stage, a_day), _closed("b", b_stage, b_day)
    paired = bool(find_duplicates([a, b], threshold=0.0))
    assert paired == (a_stage == b_stage and a_day == b_day)


@given(st.sampled_from(["amount", "owner", "product", "external_key"]))
def test_a_distinguishing_fact_keeps_two_deals_apart(field: str) -> None:
    a = _closed("a", "won", 3, amount=Money.of("100", "USD"), external_key="X-1")
    twin = _closed("b", "won", 3, amount=Money.of("100", "USD"), external_key="X-1")
    assert find_duplicates([a, twin])[0].score > 0.9
    changed = {"amount": {"amount": Money.of("120", "USD")}, "owner": {"owner": "ben"},
               "product": {"custom": {"product": "MG Special"}},
               "external_key": {"external_key": "X-2"}}[field]
    assert find_duplicates([a, twin.evolve(**changed)], threshold=0.0) == ()


def test_data_quality_reports_duplicates_by_group(maven: list[Opportunity]) -> None:
    third = next(d for d in maven if d.id == "R12").evolve(id="R12b")
    deals = [*maven, third]
    report = analytics.data_quality(deals, SIMPLE, now=AS_OF)
    assert report.duplicate_groups == (("R11", "R12", "R12b"), ("R20", "R21"))
    found = [f for f in report.findings if f.issue == "probable_duplicate"]
    assert [f.opportunity_id for f in found] == ["R11", "R20"]
    assert "'R12', 'R12b'" in found[0].detail


def test_data_quality_takes_now_and_still_reads_at_for_one_release(
        maven: list[Opportunity]) -> None:
    with pytest.warns(DeprecationWarning, match="now="):
        old = analytics.data_quality(maven, SIMPLE, at=AS_OF)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = analytics.data_quality(maven, SIMPLE, now=AS_OF)
    assert old == new
    with pytest.raises(ValidationError, match="'now' is required"):
        analytics.data_quality(maven, SIMPLE)
    with pytest.raises(ValidationError, match="give 'now' only"):
        analytics.data_quality(maven, SIMPLE, now=AS_OF, at=AS_OF)
