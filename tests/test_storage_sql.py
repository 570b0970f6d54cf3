"""SQLStore: the conformance kit on PostgreSQL and on SQLite, tenants, ordering, schema."""

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    AuditEntry,
    DuplicateError,
    Lead,
    NotFoundError,
    Opportunity,
    StorageUnavailableError,
    ValidationError,
    VersionConflictError,
)
from oppcore.storage import InMemoryStore, StoreWrite
from oppcore.storage.sql import SCHEMA_VERSION, SQLStore, _migrate, upgrade
from oppcore.testing.contract import T0 as KIT_T0
from oppcore.testing.contract import StoreContract, lead, opportunity


class TestSQLStore(StoreContract):
    """The whole kit, once on a real PostgreSQL server and once on SQLite."""

    # Fewer compare-and-set rounds than the in-process stores: every round is a network
    # round trip per thread; the assertions are the kit's own.
    cas_attempts = 150
    dup_attempts = 40

    @pytest.fixture
    def store(self, sql_clean: Any) -> Any:
        return SQLStore(sql_clean)


# --------------------------------------------------------------------------- tenants

def test_two_tenants_share_ids_keys_and_numbers_but_nothing_else(sql_clean: Any) -> None:
    acme, globex = SQLStore(sql_clean, tenant="acme"), SQLStore(sql_clean, tenant="globex")
    a = acme.add(opportunity("o1", owner="ann"), audit=AuditEntry.for_change(
        None, opportunity("o1"), action="create", by="ann", at=KIT_T0))
    g = globex.add(opportunity("o1", owner="gus", name="Globex deal"))
    acme.add(lead("l1", email="same@example.com"))
    globex.add(lead("l1", email="same@example.com"))  # keys are per tenant
    assert acme.get(Opportunity, "o1") == a and globex.get(Opportunity, "o1") == g
    assert a != g
    globex.delete(Opportunity, "o1", version=1)
    assert acme.get(Opportunity, "o1") == a
    with pytest.raises(NotFoundError):
        globex.get(Opportunity, "o1")
    assert [r.id for r in acme.query(Opportunity).items] == ["o1"]
    assert globex.query(Opportunity).items == ()
    assert [(c.seq, c.record_id, c.action) for c in acme.changes()] == [
        (1, "o1", "added"), (2, "l1", "added")]
    assert [(c.seq, c.record_id, c.action) for c in globex.changes()] == [
        (1, "o1", "added"), (2, "l1", "added"), (3, "o1", "deleted")]
    assert len(acme.audit_trail(Opportunity, "o1")) == 1
    assert globex.audit_trail(Opportunity, "o1") == ()
    default = SQLStore(sql_clean)
    assert default.tenant is None and default.query(Lead).items == ()
    with pytest.raises(ValidationError):
        SQLStore(sql_clean, tenant=" ")


_ops = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["add", "save", "delete"]),
                          st.integers(0, 3), st.sampled_from([None, "x@e.com", "y@e.com"])),
                max_size=25)


@settings(max_examples=15, deadline=None)
@given(ops=_ops)
def test_each_tenant_behaves_like_a_store_of_its_own(sql_engine: Any, ops: list[Any]) -> None:
    tenants = {t: f"prop-{t}-{next(_COUNTER)}" for t in "ab"}
    stores = {t: SQLStore(sql_engine, tenant=name) for t, name in tenants.items()}
    models = {t: InMemoryStore() for t in "ab"}
    for tenant, action, slot, email in ops:
        outcomes = []
        for store in (stores[tenant], models[tenant]):
            try:
                if action == "add":
                    store.add(lead(f"l{slot}", email=email))
                else:
                    current = store.get(Lead, f"l{slot}")
                    if action == "save":
                        store.save(current.evolve(email=email))
                    else:
                        store.delete(Lead, current.id, version=current.version)
                outcomes.append("ok")
            except (DuplicateError, NotFoundError) as exc:  # noqa: PERF203
                outcomes.append(type(exc).__name__)
        assert outcomes[0] == outcomes[1]
    for t in "ab":
        assert stores[t].query(Lead).items == models[t].query(Lead).items
        assert [(c.record_id, c.action, c.version, c.seq, c.tx) for c in stores[t].changes()] \
            == [(c.record_id, c.action, c.version, c.seq, c.tx) for c in models[t].changes()]


_COUNTER = iter(range(10**9))


# --------------------------------------------------------------------------- id order

_ids = st.text(alphabet=st.sampled_from(list("aAbB_-.zZ09 éÉ中\U0001f600")), min_size=1,
               max_size=6).filter(lambda s: s.strip() != "")


@settings(max_examples=20, deadline=None)
@given(ids=st.lists(_ids, min_size=2, max_size=12, unique=True))
def test_ids_page_in_python_code_point_order(sql_engine: Any, ids: list[str]) -> None:
    # The PostgreSQL test database's default collation is ICU en-US ("a" < "B"); the
    # store's COLLATE "C" columns must still page in code-point order, as Python sorts.
    store = SQLStore(sql_engine, tenant=f"order-{next(_COUNTER)}")
    store.bulk_add([opportunity(i) for i in ids])
    seen, after = [], None
    while True:
        page = store.query(Opportunity, after=after, limit=3)
        seen += [r.id for r in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(ids)
    middle = sorted(ids)[len(ids) // 2]
    assert [r.id for r in store.query(Opportunity, after=middle).items] == [
        i for i in sorted(ids) if i > middle]


def test_the_database_collation_alone_would_order_differently(pg_engine: Any) -> None:
    # SQLite always compares text as bytes; the trap is PostgreSQL's.
    with pg_engine.connect() as conn:
        plain = conn.execute(sa.text("SELECT x FROM (VALUES ('a'), ('B'), ('_c')) v(x) "
                                     "ORDER BY x")).scalars().all()
    assert plain != sorted(plain), "the test database must not sort in code-point order"


def test_nul_and_u0001_round_trip_in_code_point_order(sql_clean: Any) -> None:
    # PostgreSQL text cannot hold NUL; the store escapes it (and U+0001) keeping the order.
    store = SQLStore(sql_clean, tenant="t\x01")
    ids = ["a", "a\x00", "a\x00\x01", "a\x01", "a\x01\x00", "a\x02", "b\x00b", "\x00"]
    for i in ids:
        store.add(opportunity(i, owner=f"o\x00{i}", stage_id="s\x01"))
    assert [r.id for r in store.query(Opportunity).items] == sorted(ids)
    assert [r.id for r in store.query(Opportunity, after="a\x00", limit=2).items] == sorted(
        ids)[3:5]
    assert store.get(Opportunity, "a\x00").owner == "o\x00a\x00"
    assert [r.id for r in store.query(Opportunity, owner="o\x00a\x01").items] == ["a\x01"]
    assert len(store.query(Opportunity, stage="s\x01").items) == len(ids)
    assert [c.record_id for c in store.changes()] == ids
    store.delete(Opportunity, "a\x00", version=1)
    assert store.add(opportunity("a\x00")).version == 2  # the tombstone found it
    if sql_clean.dialect.name == "postgresql":  # what is stored is escaped, not cut
        with sql_clean.connect() as conn:
            raw = conn.exec_driver_sql("SELECT id FROM oppcore_opportunities WHERE id LIKE "
                                       "'a%%' ORDER BY id").scalars().all()
        assert "a\x01\x01" in raw and all("\x00" not in r for r in raw)


_escapable = st.text(alphabet=st.sampled_from(["\x00", "\x01", "\x02", "a", "\xff"]),
                     min_size=0, max_size=6)


@given(a=_escapable, b=_escapable)
def test_the_nul_escape_keeps_order_and_round_trips(a: str, b: str) -> None:
    from oppcore.storage.sql._schema import CodePointText

    codec = CodePointText()
    dialect = sa.create_engine("sqlite://").dialect
    ea, eb = (codec.process_bind_param(x, dialect) for x in (a, b))
    assert ea is not None and eb is not None and "\x00" not in ea + eb
    assert codec.process_result_value(ea, dialect) == a
    assert (ea.encode() < eb.encode()) == (a < b) and (ea == eb) == (a == b)


def test_an_id_too_large_for_an_index_is_a_validation_error(pg_engine: Any) -> None:
    import random
    import string

    store = SQLStore(pg_engine, tenant=f"big-{next(_COUNTER)}")
    huge = "".join(random.Random(1).choices(string.ascii_letters, k=20_000))  # incompressible
    with pytest.raises(ValidationError) as caught:
        store.add(opportunity(huge))
    assert "too large" in str(caught.value) and "add" in str(caught.value)
    assert store.changes() == () and store.add(opportunity("fine")).version == 1


def test_lone_surrogates_are_refused_naming_the_record(sql_clean: Any) -> None:
    store = SQLStore(sql_clean)
    with pytest.raises(ValidationError) as caught:
        store.add(opportunity("o1", custom={"note": "bad \ud800 text"}))
    assert "o1" in str(caught.value)
    with pytest.raises(ValidationError):
        store.bulk_add([opportunity("o2"), opportunity("o3", tags={"\udc80"})])
    assert store.changes() == ()


# --------------------------------------------------------------------------- schema


def _version(engine: Any, value: int) -> None:
    meta = SQLStore.metadata.tables["oppcore_meta"]
    with engine.begin() as conn:
        conn.execute(sa.update(meta).values(value=value))


def test_upgrade_is_idempotent_and_a_newer_schema_is_refused(sql_clean: Any) -> None:
    assert upgrade(sql_clean) == SCHEMA_VERSION
    store = SQLStore(sql_clean)
    store.add(opportunity("kept"))
    _version(sql_clean, SCHEMA_VERSION + 1)
    try:
        with pytest.raises(StorageUnavailableError) as caught:
            SQLStore(sql_clean)
        assert caught.value.reason == "newer-schema" and "upgrade oppcore" in str(caught.value)
        with pytest.raises(StorageUnavailableError) as caught:
            upgrade(sql_clean)
        assert caught.value.reason == "newer-schema"
    finally:
        _version(sql_clean, SCHEMA_VERSION)
    assert SQLStore(sql_clean).get(Opportunity, "kept").version == 1


def test_a_database_without_the_tables_asks_for_an_upgrade(sql_engine: Any) -> None:
    with pytest.raises(StorageUnavailableError) as caught:
        SQLStore(sql_engine, table_prefix="nothing_here_")
    assert caught.value.reason == "needs-upgrade"
    assert "oppcore db upgrade" in str(caught.value)
    with pytest.raises(ValidationError):
        SQLStore(sql_engine, table_prefix="bad-prefix; drop")
    with pytest.raises(ValidationError):
        SQLStore("sqlite://")  # type: ignore[arg-type]


def test_forward_migration_keeps_data(sql_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"mig{next(_COUNTER)}_"
    assert upgrade(sql_engine, table_prefix=prefix) == 1
    SQLStore(sql_engine, table_prefix=prefix).add(opportunity("o1", owner="ann"))

    def add_column(conn: sa.Connection, tables: Any) -> None:
        conn.execute(sa.text(f"ALTER TABLE {prefix}opportunities ADD COLUMN note TEXT"))

    monkeypatch.setattr(_migrate, "MIGRATIONS", (*_migrate.MIGRATIONS, add_column))
    monkeypatch.setattr(_migrate, "SCHEMA_VERSION", 2)
    with pytest.raises(StorageUnavailableError) as caught:
        SQLStore(sql_engine, table_prefix=prefix)
    assert caught.value.reason == "needs-upgrade" and "version 1" in str(caught.value)
    assert upgrade(sql_engine, table_prefix=prefix) == 2
    assert upgrade(sql_engine, table_prefix=prefix) == 2  # nothing left to do
    store = SQLStore(sql_engine, table_prefix=prefix)
    assert store.get(Opportunity, "o1").owner == "ann"
    with sql_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns(f"{prefix}opportunities")}
    assert "note" in columns


def test_tables_from_the_metadata_are_stamped_by_upgrade(sql_engine: Any) -> None:
    # A host that creates the tables from SQLStore.metadata (Alembic autogenerate) runs
    # upgrade once: it creates nothing and records the version.
    prefix = f"own{next(_COUNTER)}_"
    metadata = SQLStore.metadata_for(table_prefix=prefix)
    metadata.create_all(sql_engine)
    with pytest.raises(StorageUnavailableError):
        SQLStore(sql_engine, table_prefix=prefix)
    assert upgrade(sql_engine, table_prefix=prefix) == SCHEMA_VERSION
    store = SQLStore(sql_engine, table_prefix=prefix)
    assert store.metadata is not SQLStore.metadata
    assert sorted(store.metadata.tables) == sorted(metadata.tables)
    assert store.add(lead("l1")).version == 1


def test_concurrent_upgrades_agree(sql_engine: Any) -> None:
    import threading

    prefix = f"race{next(_COUNTER)}_"
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(upgrade(sql_engine, table_prefix=prefix))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    pool = [threading.Thread(target=run) for _ in range(3)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert results == [SCHEMA_VERSION] * 3
    meta = SQLStore.metadata_for(table_prefix=prefix).tables[f"{prefix}meta"]
    with sql_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(meta)).scalar() == 1


def test_a_postgres_schema_holds_the_tables(pg_engine: Any) -> None:
    with pg_engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS crm")
    upgrade(pg_engine, schema="crm")
    store = SQLStore(pg_engine, schema="crm", tenant="t1")
    store.add(opportunity("in-crm"))
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT id FROM crm.oppcore_opportunities").scalars().all() == ["in-crm"]


def test_an_unreachable_server_is_a_storage_error() -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@/none?host=/nonexistent-dir")
    with pytest.raises(StorageUnavailableError) as caught:
        SQLStore(engine)
    assert caught.value.reason == "cannot-open" and caught.value.operation == "open"
    assert "nobody@" in caught.value.path


def test_indexes_serve_the_protocols_queries(sql_clean: Any) -> None:
    indexes = {tuple(c.name for c in index.columns)
               for table in SQLStore.metadata.tables.values() for index in table.indexes}
    for column in ("stage_id", "pipeline_id", "owner", "account_id"):
        assert ("tenant", column, "id") in indexes
    assert ("tenant", "updated_us") in indexes
    if sql_clean.dialect.name == "postgresql":
        store = SQLStore(sql_clean)
        store.bulk_add(opportunity(f"o{i:04d}", owner=f"u{i % 50}") for i in range(2000))
        with sql_clean.begin() as conn:
            conn.exec_driver_sql("ANALYZE oppcore_opportunities")
            plan = "\n".join(conn.exec_driver_sql(
                "EXPLAIN SELECT data FROM oppcore_opportunities WHERE tenant = '' AND "
                "owner = 'u7' AND id > 'o0100' ORDER BY id LIMIT 11").scalars())
        assert "oppcore_opportunities_owner" in plan, plan


def test_batches_and_versions_in_the_where_clause(sql_clean: Any) -> None:
    store = SQLStore(sql_clean)
    v1 = store.add(opportunity("o1"))
    # A row changed behind the store's back (SQL outside oppcore) is still a conflict.
    table = SQLStore.metadata.tables["oppcore_opportunities"]
    with sql_clean.begin() as conn:
        conn.execute(sa.update(table).values(version=7))
    with pytest.raises(VersionConflictError):
        store.save(v1)
    results = store.apply([StoreWrite.add(opportunity("o2")),
                           StoreWrite.save(opportunity("o2", version=1, name="again"))])
    assert [r.version for r in results if r is not None] == [1, 2]


# --------------------------------------------------------------------------- the command


def test_oppcore_db_upgrade(sql_engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from oppcore._cli import main

    url = sql_engine.url.render_as_string(hide_password=False)
    prefix = f"cli{next(_COUNTER)}_"
    assert main(["db", "upgrade", "--url", url, "--table-prefix", prefix]) == 0
    assert f"schema version {SCHEMA_VERSION}" in capsys.readouterr().out
    assert SQLStore(sql_engine, table_prefix=prefix).add(lead("l1")).version == 1
    assert main(["db", "upgrade", "--url", url, "--table-prefix", prefix]) == 0
    with sql_engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {prefix}meta SET value = 99")  # noqa: S608 - test
    assert main(["db", "upgrade", "--url", url, "--table-prefix", prefix]) == 1
    err = capsys.readouterr().err
    assert "schema version 99" in err and "upgrade oppcore" in err
    assert main(["db", "upgrade", "--url", "nonsense://x"]) == 2
    assert "cannot use --url" in capsys.readouterr().err
    assert main(["db", "upgrade", "--url", url, "--table-prefix", "no-good"]) == 1
    assert main(["db"]) == 2


# --------------------------------------------------------------------------- the fast path

_records = st.lists(st.tuples(st.sampled_from(["lead", "opp"]), st.integers(0, 6),
                              st.sampled_from([None, "a@e.com", "A@E.com ", "b@e.com"])),
                    min_size=1, max_size=12)


@settings(max_examples=20, deadline=None)
@given(deleted=st.sets(st.integers(0, 6), max_size=3), batch=_records,
       size=st.integers(1, 5))
def test_bulk_add_fast_path_equals_batches_of_apply(sql_engine: Any, deleted: set[int],
                                                    batch: list[Any], size: int) -> None:
    """SQLStore.bulk_add (multi-row INSERT, replayed through apply on a unique violation)
    stores exactly what the plain path (BaseStore._bulk_batch: one apply per batch)
    stores, feed order included."""
    from oppcore.storage import BaseStore

    run = next(_COUNTER)
    fast, plain = (SQLStore(sql_engine, tenant=f"{name}-{run}") for name in ("fast", "plain"))
    for store in (fast, plain):  # tombstones, so re-added ids continue their versions
        for i in sorted(deleted):
            store.delete(Lead, store.add(lead(f"r{i}")).id, version=1)
    records = [lead(f"r{i}", email=email) if k == "lead" else opportunity(f"r{i}")
               for k, i, email in batch]
    outcomes = []
    def plain_bulk(rs: list[Any], batch_size: int) -> int:  # BaseStore's batch: one apply
        return sum(BaseStore._bulk_batch(plain, rs[i:i + batch_size])
                   for i in range(0, len(rs), batch_size))

    for bulk in (fast.bulk_add, plain_bulk):
        try:
            outcomes.append(bulk(records, batch_size=size))
        except DuplicateError as exc:  # noqa: PERF203 - the outcome is the test
            outcomes.append((exc.record_id, exc.existing_id, exc.key))
    assert outcomes[0] == outcomes[1]
    for kind in (Lead, Opportunity):
        assert fast.query(kind).items == plain.query(kind).items
    assert [(c.seq, c.tx, c.kind, c.record_id, c.action, c.version) for c in fast.changes()] \
        == [(c.seq, c.tx, c.kind, c.record_id, c.action, c.version) for c in plain.changes()]


def test_autocommit_reads_equal_reads_in_a_transaction(sql_clean: Any) -> None:
    """The engine-bound store reads in autocommit on PostgreSQL (the fast path); a store on a
    connection in a transaction reads the plain way. Both see the same records."""
    store = SQLStore(sql_clean, tenant="r")
    store.bulk_add([opportunity(f"o{i:02d}", owner=f"u{i % 3}") for i in range(30)])
    for i in range(0, 30, 4):
        store.save(store.get(Opportunity, f"o{i:02d}").evolve(name="changed"))
    store.delete(Opportunity, "o01", version=1)
    with sql_clean.begin() as conn:
        plain = SQLStore(conn, tenant="r")
        for i in range(30):
            try:
                assert store.get(Opportunity, f"o{i:02d}") == plain.get(Opportunity, f"o{i:02d}")
            except NotFoundError:  # noqa: PERF203 - the deleted one, in both
                with pytest.raises(NotFoundError):
                    plain.get(Opportunity, f"o{i:02d}")
        for owner in ("u0", "u1", "u2"):
            assert store.query(Opportunity, owner=owner, limit=4).items == plain.query(
                Opportunity, owner=owner, limit=4).items
        assert store.changes() == plain.changes()


def test_export_and_import_between_tenants(sql_clean: Any) -> None:
    from oppcore import export_document, import_document

    source = SQLStore(sql_clean, tenant="src")
    source.bulk_add([opportunity(f"o{i}", owner="ann") for i in range(7)]
                    + [lead(f"l{i}", email=f"p{i}@example.com") for i in range(3)])
    source.save(source.get(Opportunity, "o3").evolve(name="edited"))
    target = SQLStore(sql_clean, tenant="dst")
    assert import_document(target, export_document(source, page_size=4), batch_size=3) == 10
    assert [r.evolve(version=1) for r in source.query(Opportunity).items] == list(
        target.query(Opportunity).items)  # versions restart at 1 in the new store
    assert target.query(Lead).items == source.query(Lead).items


class _Orig(Exception):
    """A driver exception carrying an SQLSTATE, as psycopg's do."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "message", "reason"), [
    ("40001", "could not serialize access", "retry-transaction"),
    ("40P01", "deadlock detected", "retry-transaction"),
    ("25P02", "current transaction is aborted", "retry-transaction"),
    ("53100", "could not extend file: No space left on device", "disk-full"),
    ("25006", "cannot execute UPDATE in a read-only transaction", "read-only"),
    ("57014", "canceling statement due to statement timeout", "busy"),
    ("08006", "server closed the connection unexpectedly", "cannot-open"),
    ("42P01", 'relation "oppcore_leads" does not exist', "needs-upgrade"),
    ("XX001", "invalid page in block 0", "corrupt"),
    ("22000", "something else", "failed"),
    (None, "database is locked", "busy"),
    (None, "attempt to write a readonly database", "read-only"),
    (None, "database or disk is full", "disk-full"),
    (None, "no such table: oppcore_leads", "needs-upgrade"),
])
def test_driver_errors_become_storage_errors(sqlstate: str | None, message: str,
                                             reason: str) -> None:
    from oppcore.storage.sql._failures import unavailable

    error = unavailable(sa.exc.OperationalError("SELECT 1", {}, _Orig(message, sqlstate)),
                        where="postgresql://app@db/crm", operation="save")
    assert isinstance(error, StorageUnavailableError)
    assert error.reason == reason and error.operation == "save"
    assert message in str(error) and "postgresql://app@db/crm" in str(error)
