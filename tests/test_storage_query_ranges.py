"""query_all with the range filters and the updated_at order, on the in-memory store."""

from datetime import date, timedelta

import pytest

from oppcore import InMemoryStore, Money, Opportunity, ValidationError
from oppcore.storage import query_all
from oppcore.testing._workloads import T0, opportunity


def test_query_all_passes_ranges_and_order_through_every_page() -> None:
    store = InMemoryStore()
    for i in range(40):
        store.add(opportunity(
            f"o{i:02d}", created_at=T0 + timedelta(minutes=40 - i),
            expected_close=date(2026, 1, 1) + timedelta(days=i) if i % 5 else None,
            amount=Money.of(i * 100, "CNY" if i % 2 else "USD")))
    got = [o.id for o in query_all(store, Opportunity, close_from=date(2026, 1, 3),
                                   close_to=date(2026, 1, 30), amount_max=Money.of(2000, "CNY"),
                                   order="updated_at", page_size=2)]
    # odd i (CNY), 2 <= i <= 20 (close and amount), no close when i % 5 == 0; newest first
    want = [f"o{i:02d}" for i in range(20, 1, -1) if i % 2 and i % 5]
    assert got == want


def test_query_all_checks_range_arguments_at_the_call() -> None:
    with pytest.raises(ValidationError) as info:
        query_all(InMemoryStore(), Opportunity, amount_min=Money.of(1, "USD"),
                  amount_max=Money.of(1, "CNY"))
    assert info.value.field == "amount_max"
