"""Models: validated at construction, immutable, changed only through evolve."""

import copy
import pickle
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Budget,
    Competition,
    Competitor,
    Contact,
    FrozenMap,
    Lead,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    Qualification,
    Quote,
    QuoteLine,
    StageChange,
    ValidationError,
)
from oppcore._copying import trusted, trusted_evolve
from oppcore.testing import strategies as ost

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def opp(**changes: Any) -> Opportunity:
    base: dict[str, Any] = {"id": "o1", "name": "Deal", "pipeline_id": "standard",
                            "stage_id": "solution", "created_at": NOW}
    base.update(changes)
    return Opportunity(**base)


def test_defaults_fill_an_empty_deal() -> None:
    o = opp()
    assert o.updated_at == o.created_at
    assert o.contacts == () and o.activities == () and o.stage_history == ()
    assert o.qualification == Qualification()
    assert o.qualification.known_parts() == ()
    assert o.tags == frozenset() and dict(o.custom) == {}
    assert o.version == 0 and o.primary_contact is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("id", "", "non-empty"),
    ("id", "   ", "non-empty"),
    ("id", "o\ud800", "valid Unicode"),
    ("name", "Deal \udfff", "valid Unicode"),
    ("name", None, "non-empty"),
    ("stage_id", 3, "non-empty"),
    ("created_at", datetime(2026, 1, 1), "naive"),
    ("created_at", "2026-01-01T00:00:00+00:00", "datetime"),
    ("updated_at", datetime(2026, 1, 1), "naive"),
    ("amount", Money.of("-1", "CNY"), "negative"),
    ("amount", Decimal(5), "Money"),
    ("expected_close", NOW, "date"),
    ("owner", 42, "string"),
    ("version", -1, ">= 0"),
    ("version", True, ">= 0"),
    ("contacts", "Li Lei", "sequence"),
    ("contacts", [{"id": "c1"}], "item 0 must be Contact"),
    ("tags", "vip", "set of strings"),
    ("tags", {""}, "non-empty"),
    ("custom", {"score": 1.5}, "float refused"),
    ("custom", {"price": Decimal("1.5")}, "store decimals as strings"),
    ("custom", {1: "x"}, "names"),
    ("custom", ["x"], "mapping"),
    ("qualification", None, "Qualification"),
    ("account", {"name": "Acme"}, "Account"),
])
def test_invalid_fields_are_refused_with_model_and_field(field: str, value: object,
                                                         message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        opp(**{field: value})
    assert info.value.model == "Opportunity"
    assert info.value.field == field
    assert str(info.value).startswith(f"Opportunity.{field}: ")


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        opp(id="")


def test_lists_sets_and_dicts_are_copied_into_immutable_collections() -> None:
    contacts = [Contact(id="c1", name="Li Lei")]
    tags = {"vip"}
    custom = {"region": "east"}
    o = opp(contacts=contacts, tags=tags, custom=custom)
    contacts.append(Contact(id="c2", name="Han Meimei"))
    tags.add("other")
    custom["region"] = "west"
    assert o.contacts == (Contact(id="c1", name="Li Lei"),)
    assert o.tags == frozenset({"vip"})
    assert o.custom == {"region": "east"}
    assert isinstance(o.custom, FrozenMap)
    with pytest.raises(TypeError):
        o.custom["region"] = "west"  # type: ignore[index]


def test_custom_fields_in_a_frozen_map_are_checked_until_they_pass() -> None:
    # A FrozenMap that passed the custom-fields check is taken as it is by the next model
    # (it cannot change); one that failed, or was never checked, is checked every time.
    bad = FrozenMap({"score": 1.5})
    for _ in range(2):
        with pytest.raises(ValidationError, match="float refused"):
            opp(custom=bad)
    good = opp(custom={"region": "east"}).custom
    again = opp(custom=good)
    assert again.custom is good and Lead(id="l", name="L", captured_at=NOW,
                                         custom=good).custom is good
    assert opp(custom=FrozenMap()).custom == {}


@given(ost.opportunities())
def test_no_model_can_be_mutated(o: Opportunity) -> None:
    for field in attrs.fields(Opportunity):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(o, field.name, getattr(o, field.name))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del o.name
    assert isinstance(o.contacts, tuple) and isinstance(o.tags, frozenset)


@given(ost.opportunities(), ost.ids("x-"))
def test_evolve_returns_a_new_valid_value_and_leaves_the_original(o: Opportunity,
                                                                  new_id: str) -> None:
    changed = o.evolve(stage_id="won", id=new_id)
    assert changed.stage_id == "won" and changed.id == new_id
    assert (o.stage_id, o.id) != ("won", new_id) or o == changed
    assert attrs.evolve(o, stage_id="won", id=new_id) == changed
    for field in attrs.fields(Opportunity):
        if field.name not in ("stage_id", "id"):
            assert getattr(changed, field.name) == getattr(o, field.name)


def test_evolve_revalidates_and_names_unknown_fields() -> None:
    o = opp()
    with pytest.raises(ValidationError, match="naive"):
        o.evolve(updated_at=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="no field"):
        o.evolve(stage="won")
    assert Qualification().evolve(budget=Budget()).budget == Budget()


def test_internal_trusted_copies_refuse_misuse() -> None:
    # trusted()/trusted_evolve() skip validation on oppcore's own hot paths; what they
    # refuse are programming errors, which must stay loud.
    o = opp()
    moved = trusted_evolve(o, {"stage_id": "won"})
    assert moved.stage_id == "won" and o.stage_id != "won"
    assert attrs.evolve(moved) == moved  # every other field copied as it was
    with pytest.raises(TypeError, match="stage"):
        trusted_evolve(o, {"stage": "won"})
    with pytest.raises(TypeError, match="Money"):  # Money has rules beyond a Checks table
        trusted_evolve(Money(amount=1, currency="EUR"), {"currency": "USD"})
    with pytest.raises(TypeError, match="exactly the fields"):
        trusted(StageChange, from_stage=None, to_stage="a")


@given(st.datetimes())
def test_naive_datetimes_are_always_refused(naive: datetime) -> None:
    with pytest.raises(ValidationError, match="naive"):
        opp(created_at=naive)
    with pytest.raises(ValidationError, match="naive"):
        Lead(id="l1", name="Li", captured_at=naive)
    with pytest.raises(ValidationError, match="naive"):
        StageChange(from_stage=None, to_stage="a", at=naive, by="u")
    with pytest.raises(ValidationError, match="naive"):
        Activity(id="a", kind=ActivityKind.CALL, at=naive, by="u")


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: datetimes using it are naive by Python's definition."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_tzinfo_without_an_offset_counts_as_naive() -> None:
    with pytest.raises(ValidationError, match="naive"):
        opp(created_at=datetime(2026, 1, 1, tzinfo=_NoOffset()))
    with pytest.raises(ValidationError, match="naive"):
        Activity(id="a", kind=ActivityKind.CALL, at=datetime(2026, 1, 1, tzinfo=_NoOffset()),
                 by="u")


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan"), float("inf"), "0.5", None])
def test_probability_must_be_a_number_in_the_unit_interval(value: object) -> None:
    with pytest.raises(ValidationError, match=r"Probability\.value"):
        Probability(value=value, source=ProbabilitySource.MANUAL)  # type: ignore[arg-type]


def test_probability_accepts_ints_and_decimals_as_floats() -> None:
    assert Probability(value=1, source=ProbabilitySource.STAGE).value == 1.0
    assert Probability(value=Decimal("0.25"),  # type: ignore[arg-type]
                       source=ProbabilitySource.MODEL).value == 0.25


def test_models_hash_pickle_and_copy() -> None:
    o = opp(custom={"a": 1}, tags={"x"}, contacts=[Contact(id="c", name="n")])
    assert hash(o) == hash(pickle.loads(pickle.dumps(o)))
    assert pickle.loads(pickle.dumps(o)) == o
    assert copy.deepcopy(o) == o
    assert {o, opp(custom={"a": 1}, tags={"x"}, contacts=[Contact(id="c", name="n")])} == {o}


def test_close_date_pushes_count_later_dates_only() -> None:
    o = opp(expected_close=date(2026, 3, 1),
            expected_close_history=[date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 15)])
    assert o.close_date_pushes == 2  # Jan 1 -> Feb 1 and Jan 15 -> Mar 1; Feb 1 -> Jan 15 is a pull


def test_contact_reachability_and_competition_incumbent() -> None:
    assert not Contact(id="c", name="n").reachable
    assert Contact(id="c", name="n", phone="123").reachable
    rival = Competitor(name="Rival", incumbent=True)
    assert Competition(competitors=(Competitor(name="Other"), rival)).incumbent == rival
    assert Competition().incumbent is None


def test_budget_refuses_negative_money() -> None:
    with pytest.raises(ValidationError, match=r"Budget\.amount"):
        Budget(amount=Money.of("-5", "CNY"))


def test_account_and_lead_validate_their_fields() -> None:
    with pytest.raises(ValidationError, match=r"Account\.employees"):
        Account(id="a", name="Acme", employees=-3)
    with pytest.raises(ValidationError, match=r"Lead\.email"):
        Lead(id="l", name="Li", captured_at=NOW, email=["x@y.cn"])  # type: ignore[arg-type]
    lead = Lead(id="l", name="Li", captured_at=NOW)
    assert lead.updated_at == NOW and lead.evolve(name="Lee").name == "Lee"


class TestQuote:
    def line(self, qty: str, price: str, discount: str = "0", tax: str = "0") -> QuoteLine:
        return QuoteLine(product="p", quantity=Decimal(qty),
                         unit_price=Money.of(price, "CNY"), discount=Decimal(discount),
                         tax_rate=Decimal(tax))

    def test_totals_follow_the_documented_rounding_rule(self) -> None:
        # 3 x 33.335 = 100.005 -> gross 100.01 (half-up); discount 10% of 100.01 = 10.001
        # -> 10.00; net 90.01; tax 13% of 90.01 = 11.7013 -> 11.70; total 101.71.
        line = self.line("3", "33.335", "0.10", "0.13")
        assert line.gross == Money.of("100.01", "CNY")
        assert line.discount_amount == Money.of("10.00", "CNY")
        assert line.net == Money.of("90.01", "CNY")
        assert line.tax == Money.of("11.70", "CNY")
        assert line.total == Money.of("101.71", "CNY")
        quote = Quote(id="q1", currency="CNY", lines=(line, self.line("2", "0.005")))
        assert quote.subtotal == Money.of("100.02", "CNY")  # 0.01 from 2 x 0.005
        assert quote.total == Money.of("101.72", "CNY")
        assert quote.total == quote.subtotal - quote.discount + quote.tax

    @given(ost.quotes())
    def test_total_equals_subtotal_minus_discount_plus_tax(self, quote: Quote) -> None:
        assert quote.total == quote.subtotal - quote.discount + quote.tax
        assert quote.total == sum((ln.total for ln in quote.lines), Money.zero(quote.currency))
        assert quote.total.amount == quote.total.quantize().amount

    def test_empty_quote_totals_zero(self) -> None:
        assert Quote(id="q", currency="JPY").total == Money.zero("JPY")

    def test_lines_must_share_the_quote_currency(self) -> None:
        with pytest.raises(ValidationError, match="line 0 is in CNY, the quote is in USD"):
            Quote(id="q", currency="USD", lines=(self.line("1", "1"),))

    @pytest.mark.parametrize(("field", "value"), [
        ("quantity", "-1"), ("quantity", "abc"), ("quantity", 1.5), ("discount", "1.2"),
        ("discount", "-0.1"), ("tax_rate", "-0.01"), ("tax_rate", "NaN"),
    ])
    def test_line_numbers_are_validated(self, field: str, value: object) -> None:
        kwargs: dict[str, Any] = {"product": "p", "quantity": "1",
                                  "unit_price": Money.of("1", "CNY"), field: value}
        with pytest.raises(ValidationError, match=f"QuoteLine.{field}"):
            QuoteLine(**kwargs)

    def test_unknown_quote_currency(self) -> None:
        with pytest.raises(ValidationError, match="currency"):
            Quote(id="q", currency="ABC")
