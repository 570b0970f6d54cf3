"""SQLStore's driver statement path (``storage.sql._fast``) against the plain SQLAlchemy path.

The driver path (point gets on a pooled DBAPI connection; bulk rows by COPY on psycopg,
by ``executemany`` of tuples on sqlite3) must store and return exactly what the plain path
does, map errors the same way, and step aside when a host listens to statements.
"""

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    DuplicateError,
    Lead,
    NotFoundError,
    Opportunity,
    StorageUnavailableError,
    ValidationError,
)
from oppcore.storage.sql import SQLStore
from oppcore.testing.contract import lead, opportunity

_COUNTER = iter(range(10**9))


def _plain(store: SQLStore) -> SQLStore:
    """Turn the store's driver path off: every statement through SQLAlchemy."""
    store._runner.driver_reads = False
    store._runner.driver_writes = False
    return store


def _everything(store: SQLStore) -> tuple[Any, ...]:
    feed = [(c.seq, c.tx, c.kind, c.record_id, c.action, c.version) for c in store.changes()]
    return (store.query(Lead).items, store.query(Opportunity).items, feed)


# Ids with the characters PostgreSQL's text needs escaped (NUL, U+0001), and others.
_ids = st.text(alphabet=st.sampled_from(["a", "b", "\x00", "\x01", "é", "中", ":"]),
               min_size=1, max_size=4).filter(lambda s: s.strip() != "")
_records = st.lists(st.tuples(st.sampled_from(["lead", "opp"]), _ids,
                              st.sampled_from([None, "a@e.com", "B@e.com"])),
                    min_size=1, max_size=10)


@settings(max_examples=25, deadline=None)
@given(batch=_records, deleted=st.lists(_ids, max_size=3, unique=True),
       size=st.integers(1, 4), missing=_ids)
def test_driver_path_equals_the_plain_path(sql_engine: Any, batch: list[Any],
                                           deleted: list[str], size: int,
                                           missing: str) -> None:
    run = next(_COUNTER)
    fast = SQLStore(sql_engine, tenant=f"fast-{run}")
    plain = _plain(SQLStore(sql_engine, tenant=f"plain-{run}"))
    assert fast._runner.driver_writes and fast._runner.driver_reads
    for store in (fast, plain):  # tombstones: re-added ids continue their versions
        for i in deleted:
            store.delete(Opportunity, store.add(opportunity(i)).id, version=1)
    records = [lead(i, email=email) if k == "lead" else opportunity(i)
               for k, i, email in batch]
    outcomes = []
    for store in (fast, plain):
        try:
            outcomes.append(store.bulk_add(records, batch_size=size))
        except DuplicateError as exc:  # noqa: PERF203 - the outcome is the test
            outcomes.append((exc.record_id, exc.existing_id, exc.key))
    assert outcomes[0] == outcomes[1]
    assert _everything(fast) == _everything(plain)
    # Each store's rows read back alike through both read paths.
    for tenant in (fast.tenant, plain.tenant):
        by_driver = SQLStore(sql_engine, tenant=tenant)
        by_sqlalchemy = _plain(SQLStore(sql_engine, tenant=tenant))
        for kind, name in ((Lead, "lead"), (Opportunity, "opp")):
            for i in {i for k, i, _ in batch if k == name} | {missing}:
                got = []
                for store in (by_driver, by_sqlalchemy):
                    try:
                        got.append(store.get(kind, i))
                    except NotFoundError:  # noqa: PERF203 - the outcome is the test
                        got.append(None)
                assert got[0] == got[1]
                assert got[0] is None or got[0].id == i


def test_statement_listeners_see_every_statement(sql_engine: Any) -> None:
    """A host that traces statements gets the plain path: it sees the gets and inserts."""
    engine = sa.create_engine(sql_engine.url)
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def trace(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement.split()[0].upper())

    store = SQLStore(engine, tenant=f"traced-{next(_COUNTER)}")
    seen.clear()
    store.bulk_add([opportunity("o1"), lead("l1")])
    assert seen.count("INSERT") >= 3  # the opportunity, the lead, the feed: no COPY
    seen.clear()
    assert store.get(Opportunity, "o1").id == "o1"
    assert seen == ["SELECT"]
    engine.dispose()


def test_a_dropped_connection_is_reported_then_replaced(pg_engine: Any) -> None:
    store = SQLStore(pg_engine, tenant=f"dropped-{next(_COUNTER)}")
    store.add(opportunity("o1"))
    assert store.get(Opportunity, "o1").version == 1  # the pool holds a connection now
    other = sa.create_engine(pg_engine.url, poolclass=sa.pool.NullPool)
    with other.connect() as admin:  # end every other session of this database
        admin.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    with pytest.raises(StorageUnavailableError) as caught:
        store.get(Opportunity, "o1")
    assert caught.value.operation == "get" and caught.value.reason == "cannot-open"
    assert store.get(Opportunity, "o1").version == 1  # the dead connection was discarded


def test_a_refused_copy_maps_like_an_insert(pg_engine: Any) -> None:
    """COPY's errors become the store's errors: too large, duplicates (replayed)."""
    import random
    import string

    store = SQLStore(pg_engine, tenant=f"copy-{next(_COUNTER)}")
    huge = "".join(random.Random(1).choices(string.ascii_letters, k=20_000))
    with pytest.raises(ValidationError, match="too large"):
        store.bulk_add([opportunity("ok"), opportunity(huge)])
    assert store.changes() == ()
    store.add(opportunity("taken"))
    with pytest.raises(DuplicateError) as caught:
        store.bulk_add([opportunity("new"), opportunity("taken")])
    assert caught.value.record_id == "taken"
    assert [c.record_id for c in store.changes()] == ["taken"]


def test_bulk_add_in_the_host_transaction_commits_and_rolls_back_with_it(
        sql_engine: Any) -> None:
    tenant = f"host-{next(_COUNTER)}"
    with sql_engine.connect() as conn:
        with conn.begin():
            SQLStore(conn, tenant=tenant).bulk_add([opportunity("gone1"), lead("gone2")])
            conn.rollback()
        with conn.begin():
            store = SQLStore(conn, tenant=tenant)
            store.add(opportunity("taken"))
            with pytest.raises(DuplicateError):  # refused in its savepoint
                store.bulk_add([opportunity("a"), opportunity("taken")])
            assert store.bulk_add([opportunity("kept")]) == 1  # the transaction is usable
    store = SQLStore(sql_engine, tenant=tenant)
    assert [r.id for r in store.query(Opportunity).items] == ["kept", "taken"]
    with pytest.raises(NotFoundError):
        store.get(Lead, "gone2")
