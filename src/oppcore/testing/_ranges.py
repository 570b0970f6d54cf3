"""The conformance tests of query ranges and orders: close dates, amounts, ``updated_at``.

Private to :mod:`oppcore.testing.contract` (``StoreContract`` inherits these tests). A
hypothesis test writes deals with and without expected closes and amounts in two
currencies, with many ``updated_at`` ties, then pages through every combination of filters
and orders and compares the pages with a plain Python filter and sort of every record.
"""

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity
from oppcore._money import Money
from oppcore.storage._protocol import Store

from ._workloads import T0, opportunity

__all__ = ["RangeQueryContract"]

_DAY0 = date(2026, 1, 1)
_CURRENCIES = ("CNY", "USD")
_ZONES = (timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))

_close = st.none() | st.integers(0, 20).map(lambda d: _DAY0 + timedelta(days=d))
_amount = st.none() | st.builds(
    Money.of, st.integers(0, 5000).map(lambda cents: Decimal(cents).scaleb(-2)),
    st.sampled_from(_CURRENCIES))
_updated = st.builds(  # few distinct instants (ties), written in several time zones
    lambda minutes, zone: (T0 + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(0, 4), st.sampled_from(_ZONES))
_deal = st.fixed_dictionaries({
    "prefix": st.sampled_from(["a", "B", "z", "é", "中", "a-", "a:1:"]),  # ":" as in cursors
    "owner": st.sampled_from(["ann", "bob"]),
    "expected_close": _close, "amount": _amount, "created_at": _updated,
})


@st.composite
def _queries(draw: st.DrawFn) -> dict[str, Any]:
    query: dict[str, Any] = {"order": draw(st.sampled_from(["id", "updated_at"])),
                             "limit": draw(st.integers(1, 7))}
    if draw(st.booleans()):
        query["owner"] = "ann"
    low, high = sorted(draw(st.lists(_close, min_size=2, max_size=2)),
                       key=lambda d: d or _DAY0)
    if low is not None and high is not None and low > high:
        low, high = high, low
    query["close_from"], query["close_to"] = low, high
    if draw(st.booleans()):
        currency = draw(st.sampled_from(_CURRENCIES))
        bounds = sorted(draw(st.lists(st.none() | st.integers(0, 50), min_size=2, max_size=2)),
                        key=lambda v: -1 if v is None else v)
        query["amount_min"] = None if bounds[0] is None else Money.of(bounds[0], currency)
        query["amount_max"] = None if bounds[1] is None else Money.of(bounds[1], currency)
    return query


def _plain(records: list[Opportunity], query: dict[str, Any]) -> list[str]:
    """The expected ids: every record filtered and sorted in plain Python."""
    def keep(r: Opportunity) -> bool:
        if query.get("owner") is not None and r.owner != query["owner"]:
            return False
        low, high = query["close_from"], query["close_to"]
        if low is not None or high is not None:
            if r.expected_close is None:
                return False
            if (low is not None and r.expected_close < low) or (
                    high is not None and r.expected_close > high):
                return False
        lo, hi = query.get("amount_min"), query.get("amount_max")
        bound = lo if lo is not None else hi
        if bound is not None:
            currency = bound.currency
            if r.amount is None or r.amount.currency != currency:
                return False
            if (lo is not None and r.amount.amount < lo.amount) or (
                    hi is not None and r.amount.amount > hi.amount):
                return False
        return True

    kept = [r for r in records if keep(r)]
    if query["order"] == "id":
        kept.sort(key=lambda r: r.id)
    else:
        kept.sort(key=lambda r: (r.updated_at, r.id))  # aware datetimes compare as instants
    return [r.id for r in kept]


class RangeQueryContract:
    """Conformance tests of the close-date and amount ranges and of the two query orders."""

    range_settings: ClassVar[settings] = settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    """Size of the hypothesis comparison of range queries with a plain Python filter."""

    def test_ranges_and_orders_match_a_plain_filter_page_by_page(self, store: Store) -> None:
        written: list[Opportunity] = []
        counter = itertools.count()

        @self.range_settings
        @given(deals=st.lists(_deal, max_size=6), query=_queries())
        def check(deals: list[dict[str, Any]], query: dict[str, Any]) -> None:
            for deal in deals:
                fields = dict(deal)
                record_id = f"{fields.pop('prefix')}{next(counter):04d}"
                written.append(store.add(opportunity(record_id, **fields)))
            expected = _plain(written, query)
            seen: list[str] = []
            after = None
            for _ in range(len(expected) + 2):
                page = store.query(Opportunity, after=after, **query)
                assert len(page.items) <= query["limit"]
                seen += [r.id for r in page.items]
                if page.next_after is None:
                    break
                assert len(page.items) == query["limit"]  # only the last page is short
                after = page.next_after
            assert seen == expected

        check()

    def test_updated_at_paging_returns_unwritten_records_once_under_writes(
        self, store: Store
    ) -> None:
        for i in range(30):
            store.add(opportunity(f"k{i:02d}", created_at=T0 + timedelta(minutes=i % 4)))
        seen: list[str] = []
        page = store.query(Opportunity, order="updated_at", limit=4)
        n = 0
        while True:
            seen += [r.id for r in page.items]
            if page.next_after is None:
                break
            # a writer adds deals before and after the cursor between pages
            store.add(opportunity(f"new{n}", created_at=T0 + timedelta(minutes=n % 6 - 1)))
            n += 1
            page = store.query(Opportunity, order="updated_at", limit=4, after=page.next_after)
        stable = [i for i in seen if i.startswith("k")]
        assert sorted(stable) == [f"k{i:02d}" for i in range(30)]  # each exactly once
        assert len(set(seen)) == len(seen)

    @pytest.mark.parametrize(("field", "args"), [
        ("close_from", {"close_from": datetime(2026, 1, 1, tzinfo=timezone.utc)}),
        ("close_from", {"close_from": "2026-01-01"}),
        ("close_to", {"close_from": date(2026, 2, 1), "close_to": date(2026, 1, 1)}),
        ("amount_min", {"amount_min": Decimal(10)}),
        ("amount_max", {"amount_min": Money.of(1, "CNY"), "amount_max": Money.of(2, "USD")}),
        ("amount_max", {"amount_min": Money.of(5, "CNY"), "amount_max": Money.of(2, "CNY")}),
        ("order", {"order": "name"}),
        ("after", {"order": "updated_at", "after": "o1"}),
    ])
    def test_bad_range_arguments_name_the_argument(
        self, store: Store, field: str, args: dict[str, Any]
    ) -> None:
        with pytest.raises(ValidationError) as info:
            store.query(Opportunity, **args)
        assert info.value.field == field

    def test_leads_cannot_be_queried_by_deal_ranges(self, store: Store) -> None:
        with pytest.raises(ValidationError) as info:
            store.query(Lead, close_to=date(2026, 1, 1))
        assert info.value.field == "close_to"
        assert store.query(Lead, order="updated_at").items == ()

    def test_range_pages_skip_long_runs_of_non_matching_deals(self, store: Store) -> None:
        # a store may run the ranges in code over chunks of candidates: matches far apart,
        # beyond any chunk, must still page correctly in both orders
        deals = [opportunity(f"r{i:04d}", created_at=T0 + timedelta(seconds=(1200 - i) // 2),
                             expected_close=_DAY0 + timedelta(days=1 if i % 397 == 5 else 30))
                 for i in range(1200)]
        store.bulk_add(deals, batch_size=400)
        expected = [f"r{i:04d}" for i in range(1200) if i % 397 == 5]
        orders: tuple[tuple[Literal["id", "updated_at"], list[str]], ...] = (
            ("id", expected), ("updated_at", expected[::-1]))
        for order, want in orders:
            seen: list[str] = []
            after = None
            while True:
                page = store.query(Opportunity, close_to=_DAY0 + timedelta(days=1), order=order,
                                   limit=1, after=after)
                seen += [r.id for r in page.items]
                if page.next_after is None:
                    break
                after = page.next_after
            assert seen == want
