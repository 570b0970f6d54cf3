"""InMemoryStore against the conformance kit, plus its negative control."""

import pytest

from oppcore import Opportunity
from oppcore.storage import InMemoryStore
from oppcore.testing.contract import StoreContract, run_compare_and_set


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore()


def test_negative_control_without_version_check_loses_updates() -> None:
    # The same harness as the contract's conflicting-updates test, with the version check
    # defeated: the test must be able to see lost updates, or its "0 lost" proves nothing.
    store = InMemoryStore()
    wins, _, final = run_compare_and_set(store, threads=8, attempts=50, blind=True)
    assert wins > final, "no lost update seen: the harness cannot detect them"
    assert store.get(Opportunity, "cas-target").version == wins + 1
