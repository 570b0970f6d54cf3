"""After-win analytics: satisfaction, renewals, referrals and RFM segments."""

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Channel,
    CurrencyMismatchError,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Pipeline,
    Source,
    StageChange,
    SurveyScale,
    ValidationError,
    analytics,
)
from oppcore.analytics import Segment

UTC = timezone.utc
STANDARD = Pipeline.template("standard")
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def deal(oid: str, *, stage: str = "won", days: int = 0, amount: str | None = "100.00",
         currency: str = "CNY", account: str | None = "acc-1", owner: str = "li",
         surveys: tuple[tuple[int, SurveyScale, int], ...] = (),
         **fields: object) -> Opportunity:
    at = T0 + timedelta(days=days)
    acts = tuple(Activity(id=f"{oid}-s{i}", kind=ActivityKind.SURVEY,
                          at=at + timedelta(days=d), by="u", scale=scale, score=score)
                 for i, (d, scale, score) in enumerate(surveys))
    return Opportunity(
        id=oid, name=oid, pipeline_id="standard", stage_id=stage, created_at=at, owner=owner,
        account=Account(id=account, name=account.upper()) if account else None,
        amount=Money.of(amount, currency) if amount else None, activities=acts,
        stage_history=(StageChange(from_stage=None, to_stage=stage, at=at, by="u"),),
        **fields)  # type: ignore[arg-type]


# --- satisfaction ----------------------------------------------------------------------

def test_nps_and_csat_per_owner() -> None:
    deals = [
        deal("a", surveys=((10, SurveyScale.NPS, 3), (40, SurveyScale.NPS, 10))),  # latest 10
        deal("b", owner="wang", surveys=((5, SurveyScale.NPS, 8), (6, SurveyScale.CSAT, 4))),
        deal("c", surveys=((5, SurveyScale.NPS, 2),)),
        deal("d"),                                      # won, not surveyed
        deal("e", stage="solution", surveys=((1, SurveyScale.NPS, 10),)),  # open: ignored
        deal("f", surveys=((900, SurveyScale.CSAT, 5),)),  # answered after now: ignored
    ]
    result = analytics.satisfaction(deals, STANDARD, by="owner", now=NOW)
    li, wang = result.get("li"), result.get("wang")
    assert li is not None and wang is not None
    assert (li.won, li.surveyed, li.promoters, li.detractors, li.nps_responses) == (
        4, 2, 1, 1, 2)
    assert li.nps == 0.0 and li.surveyed_share == 0.5
    assert (wang.passives, wang.nps, wang.csat_mean) == (1, 0.0, 4.0)
    o = result.overall
    assert (o.won, o.surveyed, o.nps_responses, o.csat_responses) == (5, 3, 3, 1)
    assert (o.promoters, o.passives, o.detractors, o.nps) == (1, 1, 1, 0.0)
    assert "NPS" in str(result) and "<table>" in result._repr_html_()


def test_satisfaction_by_product_and_period() -> None:
    deals = [deal("a", tags=frozenset({"crm", "erp"}), surveys=((1, SurveyScale.CSAT, 5),)),
             deal("b", days=100, tags=frozenset({"crm"}), surveys=((1, SurveyScale.CSAT, 3),))]
    by_product = analytics.satisfaction(deals, STANDARD, by="product", now=NOW)
    crm = by_product.get("crm")
    assert crm is not None and crm.csat_mean == 4.0 and by_product.dimension == "product"
    by_period = analytics.satisfaction(deals, STANDARD, by="period", now=NOW)
    assert {r.key for r in by_period.rows} == {"2025-Q1", "2025-Q2"}
    with pytest.raises(ValidationError, match="period"):
        analytics.satisfaction(deals, STANDARD, by="period", now=NOW, period="week")
    with pytest.raises(ValidationError, match="now"):
        analytics.satisfaction(deals, STANDARD, now=datetime(2026, 1, 1))


# --- renewals --------------------------------------------------------------------------

def test_renewal_rate_and_retention() -> None:
    deals = [
        deal("a", amount="100.00", contract_end=date(2025, 12, 31), renewed_by="a2"),
        deal("a2", days=340, amount="150.00", renewal_of="a"),         # upsell, won
        deal("b", amount="200.00", contract_end=date(2025, 11, 30), renewed_by="b2"),
        deal("b2", days=320, amount="120.00", renewal_of="b"),         # downsell, won
        deal("c", amount="50.00", contract_end=date(2026, 2, 1), renewed_by="c2"),
        deal("c2", stage="solution", days=380, renewal_of="c"),        # renewal still open
        deal("d", amount="70.00", contract_end=date(2027, 1, 1)),      # not ended yet
    ]
    result = analytics.renewals(deals, STANDARD, now=NOW)
    t = result.total
    assert (t.ended, t.renewed, t.churned) == (3, 2, 1)
    assert t.value_ended == Decimal("350.00")
    assert t.value_renewed == Decimal("270.00")
    assert t.retained_gross == Decimal("220.00")  # min(150, 100) + min(120, 200)
    assert t.gross_retention == pytest.approx(220 / 350)
    assert t.net_retention == pytest.approx(270 / 350)
    assert [r.period for r in result.rows] == ["2025-Q4", "2026-Q1"]
    assert result.currency == "CNY"


def test_renewals_refuse_mixed_currencies_unless_told() -> None:
    deals = [deal("a", contract_end=date(2025, 1, 31)),
             deal("b", currency="USD", contract_end=date(2025, 1, 31))]
    with pytest.raises(CurrencyMismatchError):
        analytics.renewals(deals, STANDARD, now=NOW)
    result = analytics.renewals(deals, STANDARD, now=NOW, currency="USD")
    assert result.total.ended == 2 and result.total.value_ended == Decimal("100.00")


@st.composite
def contract_books(draw: st.DrawFn) -> list[Opportunity]:
    n = draw(st.integers(0, 12))
    deals = []
    for i in range(n):
        ended = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
        stage = draw(st.sampled_from(["won", "won", "lost", "solution"]))
        deals.append(deal(f"d{i}", stage=stage,
                          amount=str(draw(st.integers(0, 10_000))),
                          contract_end=draw(st.none() | st.just(ended))))
    # Link some won contracts to renewals (won or not) drawn from the rest.
    out = list(deals)
    for i, d in enumerate(deals):
        if d.stage_id == "won" and draw(st.booleans()):
            stage = draw(st.sampled_from(["won", "identification", "lost"]))
            renewal = deal(f"r{i}", stage=stage, amount=str(draw(st.integers(0, 10_000))),
                           renewal_of=d.id)
            out[i] = d.evolve(renewed_by=renewal.id)
            out.append(renewal)
    return out


@given(contract_books(), st.sampled_from(["month", "quarter", "year"]))
def test_renewal_figures_add_up_to_the_deal_counts(deals: list[Opportunity],
                                                    period: str) -> None:
    result = analytics.renewals(deals, STANDARD, now=NOW, period=period)
    ended = [d for d in deals if d.stage_id == "won" and d.contract_end is not None
             and d.contract_end < NOW.date()]
    ids = {d.id: d for d in deals}
    renewed = [d for d in ended if d.renewed_by and ids[d.renewed_by].stage_id == "won"]
    t = result.total
    assert (t.ended, t.renewed, t.churned) == (len(ended), len(renewed),
                                               len(ended) - len(renewed))
    assert sum(r.ended for r in result.rows) == t.ended
    assert sum(r.renewed for r in result.rows) == t.renewed
    assert sum((r.value_ended for r in result.rows), Decimal(0)) == t.value_ended
    assert t.retained_gross <= t.value_ended
    assert t.retained_gross <= t.value_renewed
    if t.gross_retention is not None:
        assert 0 <= t.gross_retention <= 1


# --- referrals -------------------------------------------------------------------------

def referred(referrer: str) -> Source:
    return Source(channel=Channel.REFERRAL, referrer=referrer)


def test_referrals_per_referrer() -> None:
    leads = [
        Lead(id="l1", name="A", captured_at=T0, source=referred("acc-1"),
             status=LeadStatus.CONVERTED, opportunity_id="o1"),
        Lead(id="l2", name="B", captured_at=T0, source=referred("acc-1")),
        Lead(id="l3", name="C", captured_at=T0, source=referred("c-9"),
             status=LeadStatus.CONVERTED, opportunity_id="o3"),
        Lead(id="l4", name="D", captured_at=T0),
    ]
    deals = [
        deal("o1", days=10, lead_id="l1", source=referred("acc-1"), amount="300.00"),
        deal("o3", stage="solution", days=20, lead_id="l3", source=referred("c-9")),
        deal("o4", source=referred("acc-1"), amount="50.00"),  # entered as referred
        deal("o5"),
    ]
    result = analytics.referrals(leads, deals, STANDARD)
    acc = result.get("acc-1")
    c9 = result.get("c-9")
    assert acc is not None and c9 is not None
    assert (acc.leads, acc.converted, acc.deals, acc.won, acc.value_won) == (
        2, 1, 2, 2, Decimal("350.00"))
    assert acc.conversion_rate == 0.5 and acc.median_days_to_convert == 10.0
    assert (c9.leads, c9.deals, c9.won, c9.median_days_to_convert) == (1, 1, 0, 20.0)
    assert [r.referrer for r in result.rows] == ["acc-1", "c-9"]
    assert (result.total.leads, result.total.deals) == (3, 3)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]),
                          st.sampled_from(["won", "lost", "solution"])), max_size=15),
       st.lists(st.sampled_from(["a", "b", None]), max_size=10))
def test_referral_figures_add_up_to_the_counts(
        deal_specs: list[tuple[str | None, str]], lead_refs: list[str | None]) -> None:
    deals = [deal(f"o{i}", stage=stage, source=referred(ref) if ref else None)
             for i, (ref, stage) in enumerate(deal_specs)]
    leads = [Lead(id=f"l{i}", name="x", captured_at=T0,
                  source=referred(ref) if ref else None) for i, ref in enumerate(lead_refs)]
    result = analytics.referrals(leads, deals, STANDARD)
    assert result.total.deals == sum(1 for ref, _ in deal_specs if ref)
    assert result.total.won == sum(1 for ref, s in deal_specs if ref and s == "won")
    assert result.total.leads == sum(1 for ref in lead_refs if ref)
    assert sum(r.deals for r in result.rows) == result.total.deals
    assert sum((r.value_won for r in result.rows), Decimal(0)) == result.total.value_won
    counts = Counter(ref for ref, _ in deal_specs if ref)
    for ref, n in counts.items():
        row = result.get(ref)
        assert row is not None and row.deals == n


def test_referrals_refuse_what_is_not_a_lead() -> None:
    with pytest.raises(ValidationError, match="leads"):
        analytics.referrals([deal("x")], [], STANDARD)  # type: ignore[list-item]


# --- customer segments -----------------------------------------------------------------

def test_default_segments() -> None:
    recent = (NOW - T0).days  # deal days are counted from T0
    deals = [
        *(deal(f"ch{i}", account="champ", days=recent - 30 - i, amount="1000.00")
          for i in range(3)),
        deal("n1", account="newbie", days=recent - 10, amount="10.00"),
        deal("r1", account="risky", days=recent - 500), deal("r2", account="risky",
                                                             days=recent - 450),
        deal("z1", account="sleepy", days=recent - 800),
        deal("lost", stage="lost", account="gone"),
        deal("anon", account=None),
    ]
    result = analytics.customer_segments(deals, STANDARD, now=NOW)
    assert {r.account_id: r.segment for r in result.rows} == {
        "champ": "champions", "newbie": "new", "risky": "at_risk", "sleepy": "dormant"}
    champ = result.rows[0]
    assert (champ.account_id, champ.frequency, champ.value) == ("champ", 3,
                                                                  Decimal("3000.00"))
    assert result.counts()["loyal"] == 0
    assert result.segment_of("gone") is None


def test_segments_are_data() -> None:
    deals = [deal("a", account="x", amount="5.00"), deal("b", account="y", amount="9.00")]
    mine = (Segment(name="big", min_value_quantile=1.0), Segment(name="small"))
    result = analytics.customer_segments(deals, STANDARD, now=NOW, segments=mine)
    assert (result.segment_of("y"), result.segment_of("x")) == ("big", "small")
    with pytest.raises(ValidationError, match="max_frequency"):
        Segment(name="odd", min_frequency=3, max_frequency=2)
    with pytest.raises(ValidationError, match="min_value_quantile"):
        Segment(name="odd", min_value_quantile=1.5)
    with pytest.raises(ValidationError, match="segments"):
        analytics.customer_segments(deals, STANDARD, now=NOW,
                                    segments=[Segment(name="a")])  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 700),
                          st.sampled_from(["won", "lost"]), st.integers(0, 5000)),
                max_size=20))
def test_every_account_with_a_win_is_segmented_once(
        specs: list[tuple[str, int, str, int]]) -> None:
    deals = [deal(f"o{i}", account=acc, days=d, stage=stage, amount=str(amount))
             for i, (acc, d, stage, amount) in enumerate(specs)]
    result = analytics.customer_segments(deals, STANDARD, now=NOW)
    # A win after now does not count yet.
    won = Counter(acc for acc, d, stage, _ in specs
                  if stage == "won" and T0 + timedelta(days=d) <= NOW)
    assert {r.account_id: r.frequency for r in result.rows} == dict(won)
    assert sum(result.counts().values()) == len(won)
    assert all(r.segment is not None for r in result.rows)  # "occasional" catches all
    values = [r.value for r in result.rows]
    assert values == sorted(values, reverse=True)
