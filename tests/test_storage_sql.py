"""SQLStore: the conformance kit on PostgreSQL and on SQLite, tenants, ordering, schema."""

from typing import Any

import pytest

from oppcore.testing.contract import StoreContract


class TestSQLStore(StoreContract):
    """The whole kit, once on a real PostgreSQL server and once on SQLite."""

    # Fewer compare-and-set rounds than the in-process stores: every round is a network
    # round trip per thread; the assertions are the kit's own.
    cas_attempts = 150
    dup_attempts = 40

    @pytest.fixture
    def store(self, sql_clean: Any) -> Any:
        from oppcore.storage.sql import SQLStore

        return SQLStore(sql_clean)
