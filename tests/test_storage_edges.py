"""Edge cases of the reference stores and SQLStore: hostile ids and arguments, field round-trips."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oppcore import Lead, Opportunity, ValidationError
from oppcore.storage import InMemoryStore, SQLiteStore, Store, StoreWrite
from oppcore.storage._transfer import export_document, import_document
from oppcore.testing.contract import lead, opportunity
from oppcore.testing.strategies import leads, opportunities


@pytest.fixture(params=["memory", "sqlite", "sql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
    elif request.param == "sql":  # SQLStore on PostgreSQL (SQLite is the sqlite param's)
        import sqlalchemy as sa

        from oppcore.storage.sql import SQLStore, upgrade

        engine = sa.create_engine(request.getfixturevalue("pg_url"))
        prefix = f"e{tmp_path.name.replace('-', '_')[-30:]}_"
        upgrade(engine, table_prefix=prefix)
        yield SQLStore(engine, table_prefix=prefix)
        engine.dispose()
    else:
        with SQLiteStore(tmp_path / "edges.db", synchronous="NORMAL") as s:
            yield s


LONE = "\ud800"


def test_lone_surrogate_ids_are_validation_errors_everywhere(store: Store) -> None:
    bad = f"o{LONE}"
    with pytest.raises(ValidationError):
        store.add(opportunity(bad))
    with pytest.raises(ValidationError):
        store.get(Opportunity, bad)
    with pytest.raises(ValidationError):
        store.save(opportunity(bad, version=1))
    with pytest.raises(ValidationError):
        store.delete(Opportunity, bad, version=1)
    with pytest.raises(ValidationError):
        store.apply([StoreWrite.add(opportunity("fine")), StoreWrite.add(lead(bad))])
    with pytest.raises(ValidationError):
        store.audit_trail(Opportunity, bad)
    for name in ("owner", "stage", "after"):
        with pytest.raises(ValidationError):
            store.query(Opportunity, **{name: bad})  # type: ignore[arg-type]
    assert store.changes() == ()
    assert store.query(Opportunity).items == ()


def test_lone_surrogate_in_a_field_is_stored_or_refused_never_a_crash(store: Store) -> None:
    # Ids and names with lone surrogates are refused by the models themselves; free-text
    # fields such as the owner still reach the store, which must store or refuse them.
    record = opportunity("o1", owner=f"rep {LONE}")
    try:
        stored = store.add(record)
    except ValidationError:
        assert store.changes() == ()
        assert store.query(Opportunity).items == ()
    else:
        assert store.get(Opportunity, "o1") == stored


def test_unusual_but_valid_ids_round_trip(store: Store) -> None:
    for record_id in ("a\x00b", " padded ", "客户-001", "\U0001f600", "x" * 100_000):
        stored = store.add(opportunity(record_id))
        assert store.get(Opportunity, record_id) == stored
    assert [r.id for r in store.query(Opportunity).items] == sorted(
        ["a\x00b", " padded ", "客户-001", "\U0001f600", "x" * 100_000])


def test_feed_and_audit_arguments_are_checked(store: Store) -> None:
    store.add(opportunity("o1"))
    for args in ({"after": "x"}, {"after": -1}, {"after": True}, {"limit": -1},
                 {"limit": 1.5}, {"limit": None}):
        with pytest.raises(ValidationError):
            store.changes(**args)  # type: ignore[arg-type]
    for record_id in ("", "  ", 5, None):
        with pytest.raises(ValidationError):
            store.audit_trail(Opportunity, record_id)  # type: ignore[arg-type]
    assert len(store.changes(after=0, limit=0)) == 0
    assert len(store.changes()) == 1


def test_a_lead_and_an_opportunity_may_share_an_id(store: Store) -> None:
    store.add(lead("same", external_key="K"))
    opp = store.add(opportunity("same", external_key="K"))
    store.delete(Lead, "same", version=1)
    assert store.get(Opportunity, "same") == opp
    assert store.add(lead("same")).version == 2
    assert [(c.kind, c.action) for c in store.changes()] == [
        ("lead", "added"), ("opportunity", "added"), ("lead", "deleted"), ("lead", "added")]


# Each example opens a store: keep the count modest.
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                   HealthCheck.too_slow])
@given(opps=st.lists(opportunities(), max_size=4, unique_by=lambda o: o.id),
       lds=st.lists(leads(), max_size=4, unique_by=lambda r: r.id))
def test_every_field_survives_store_and_export_import(
    tmp_path_factory: pytest.TempPathFactory, opps: list[Opportunity], lds: list[Lead]
) -> None:
    # uniqueness keys are not what this test is about: give each record its own
    opps = [o.evolve(external_key=None) for o in opps]
    lds = [r.evolve(external_key=None, email=None) for r in lds]
    path = tmp_path_factory.mktemp("rt") / "rt.db"
    with SQLiteStore(path, synchronous="NORMAL") as source:
        for record in [*opps, *lds]:
            stored = source.add(record)
            assert stored == record.evolve(version=1)
            assert source.get(type(record), record.id) == stored
        doc = json.loads(json.dumps(export_document(source, page_size=3)))
    for target in (InMemoryStore(), SQLiteStore(path.with_name("copy.db"))):
        assert import_document(target, doc) == len(opps) + len(lds)
        for record in [*opps, *lds]:
            assert target.get(type(record), record.id) == record.evolve(version=1)
        if isinstance(target, SQLiteStore):
            target.close()
            path.with_name("copy.db").unlink()


def test_bulk_add_refuses_invalid_text_and_writes_nothing_of_that_batch(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "b.db", synchronous="NORMAL") as store:
        records = [opportunity(f"o{i}") for i in range(6)]
        records[4] = opportunity("o4", owner=f"bad {LONE}")
        with pytest.raises(ValidationError, match="o4"):
            store.bulk_add(records, batch_size=3)
        assert [r.id for r in store.query(Opportunity).items] == ["o0", "o1", "o2"]


def test_bulk_add_whose_conflict_vanished_reports_the_stored_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fast path failed on a key another writer then released: the checked replay
    # stores the batch, and bulk_add must count it rather than raise a raw sqlite3 error.
    import sqlite3

    with SQLiteStore(tmp_path / "b.db", synchronous="NORMAL") as store:
        real = store._write
        calls = []

        def flaky(body):  # type: ignore[no-untyped-def]
            calls.append(body)
            if len(calls) == 1:
                raise sqlite3.IntegrityError("UNIQUE constraint failed (simulated race)")
            return real(body)

        monkeypatch.setattr(store, "_write", flaky)
        assert store.bulk_add([opportunity("a"), opportunity("b")]) == 2
        assert [r.id for r in store.query(Opportunity).items] == ["a", "b"]


def test_the_kit_is_importable_from_oppcore_testing() -> None:
    import oppcore.testing
    from oppcore.testing import contract

    assert oppcore.testing.StoreContract is contract.StoreContract
    with pytest.raises(AttributeError):
        oppcore.testing.NoSuchThing  # noqa: B018 - the lazy lookup must still refuse


@given(st.one_of(opportunities(), leads()))
def test_store_writes_built_unchecked_equal_the_validating_constructor(
    record: Lead | Opportunity,
) -> None:
    # StoreWrite.add and .save check every field, then build unchecked (_copying.trusted).
    kind = type(record)
    assert StoreWrite.add(record) == StoreWrite(action="add", kind=kind, record_id=record.id,
                                                record=record)
    assert StoreWrite.save(record) == StoreWrite(action="save", kind=kind,
                                                 record_id=record.id, record=record,
                                                 version=record.version)
