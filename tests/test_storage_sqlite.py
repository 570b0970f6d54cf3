"""SQLiteStore: the conformance kit plus schema, backup, export/import and process safety."""

import json
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import DuplicateError, Lead, Opportunity, StoreError, StructureError, ValidationError
from oppcore.storage import InMemoryStore
from oppcore.storage._sqlite import SQLiteStore
from oppcore.storage._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from oppcore.storage._transfer import export_document, import_document
from oppcore.testing.contract import StoreContract, lead, opportunity, run_compare_and_set


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SQLiteStore:
        # NORMAL keeps the many-small-commits contract tests fast; FULL is covered below
        # and by the crash-safety test.
        with SQLiteStore(tmp_path / "store.db", synchronous="NORMAL") as s:
            yield s  # type: ignore[misc]


def test_negative_control_without_version_check_loses_updates(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "n.db", synchronous="NORMAL") as store:
        wins, _, final = run_compare_and_set(store, threads=8, attempts=30, blind=True)
    assert wins > final, "no lost update seen: the harness cannot detect them"


def test_full_sync_is_the_default_and_pragmas_are_set(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        conn = store._conn()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        saved = store.save(store.add(opportunity("o1", owner="ann")))
    with SQLiteStore(path) as store:
        assert store.get(Opportunity, "o1") == saved
        assert [c.action for c in store.changes()] == ["added", "saved"]


def test_forward_migration_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with SQLiteStore(path) as store:  # schema 1 has no audit table yet
        assert store._conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        store.add(opportunity("o1"))
        assert store.audit_trail(Opportunity, "o1") == ()


def test_newer_schema_and_foreign_databases_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade oppcore"):
        SQLiteStore(newer)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an oppcore store"):
        SQLiteStore(foreign)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(garbage)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        SQLiteStore(":memory:")
    with pytest.raises(ValidationError):
        SQLiteStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SQLiteStore(tmp_path / "x.db", busy_timeout=float("nan"))
    store = SQLiteStore(tmp_path / "y.db")
    with pytest.raises(ValidationError):
        store.bulk_add([opportunity("a")], batch_size=0)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get(Opportunity, "a")


def test_bulk_add_is_batched_and_a_bad_batch_writes_nothing(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "b.db", synchronous="NORMAL") as store:
        assert store.bulk_add((opportunity(f"o{i:03d}") for i in range(25)), batch_size=10) == 25
        assert len({c.tx for c in store.changes()}) == 3
        records = [lead(f"l{i}", email=f"u{i}@example.com") for i in range(10)]
        records[7] = lead("l7", email="U2@example.com")  # collides inside the second batch
        with pytest.raises(DuplicateError) as info:
            store.bulk_add(records, batch_size=5)
        assert (info.value.existing_id, info.value.key) == ("l2", "email")
        assert [r.id for r in store.query(Lead).items] == [f"l{i}" for i in range(5)]


def test_bulk_add_after_delete_continues_versions(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "b.db") as store:
        store.add(opportunity("a"))
        store.delete(Opportunity, "a", version=1)
        store.bulk_add([opportunity("a"), opportunity("b")])
        assert store.get(Opportunity, "a").version == 2
        assert store.get(Opportunity, "b").version == 1


def test_online_backup_copies_everything(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "live.db") as store:
        store.bulk_add(opportunity(f"o{i}") for i in range(50))
        store.backup(tmp_path / "copy.db")
        store.add(opportunity("after-backup"))
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert copy.integrity_check() == "ok"
        assert len(copy.query(Opportunity, limit=1000).items) == 50
        assert copy.changes()[-1].record_id == "o49"


def test_export_import_round_trip_between_stores(tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "src.db")
    source.bulk_add([opportunity(f"o{i}", owner="ann") for i in range(7)]
                    + [lead("l1", email="a@example.com")])
    source.save(source.get(Opportunity, "o3").evolve(stage_id="s2"))
    doc = json.loads(json.dumps(export_document(source, page_size=3)))
    assert doc["schema_version"] >= 1
    for target in (InMemoryStore(), SQLiteStore(tmp_path / "dst.db")):
        assert import_document(target, doc, batch_size=4) == 8
        assert target.get(Opportunity, "o3").stage_id == "s2"
        assert target.get(Opportunity, "o3").version == 1  # versions restart per store
        assert target.get(Lead, "l1").email == "a@example.com"
        assert len(target.query(Opportunity, limit=100).items) == 7
        with pytest.raises(DuplicateError):
            import_document(target, doc)
        if isinstance(target, SQLiteStore):
            target.close()
    with pytest.raises(StructureError):
        import_document(InMemoryStore(), {"schema_version": 1, "opportunities": [{"id": 1}]})
    source.close()


_WORKER = textwrap.dedent("""
    import sys
    from oppcore import Opportunity, VersionConflictError
    from oppcore.storage._sqlite import SQLiteStore
    store = SQLiteStore(sys.argv[1], synchronous="NORMAL")
    wins = 0
    while wins < int(sys.argv[2]):
        seen = store.get(Opportunity, "shared")
        try:
            store.save(seen.evolve(custom={"n": seen.custom["n"] + 1}))
            wins += 1
        except VersionConflictError:
            pass
    print(wins)
""")


def test_processes_share_one_store_without_lost_updates(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteStore(path) as store:
        store.add(opportunity("shared", custom={"n": 0}))
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(path), "150"],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(int(o) for o in outputs) == 300
    with SQLiteStore(path) as store:
        final = store.get(Opportunity, "shared")
        assert final.custom["n"] == 300
        assert final.version == 301


_BULK = st.lists(st.tuples(st.sampled_from(["lead", "opp"]), st.integers(0, 6),
                           st.sampled_from([None, "a@e.com", "A@E.com ", "b@e.com"])),
                 min_size=1, max_size=12)


@settings(max_examples=25, deadline=None)
@given(deleted=st.sets(st.integers(0, 6), max_size=3), batch=_BULK, size=st.integers(1, 5))
def test_bulk_add_fast_path_equals_batches_of_apply(deleted: set[int], batch: list[Any],
                                                    size: int) -> None:
    """SQLiteStore's bulk batch (multi-row inserts per kind, replayed through apply on a
    unique violation) stores what the plain path (BaseStore._bulk_batch: one apply per
    batch) stores, feed order included: the feed follows the input, not the kinds."""
    from oppcore.storage import BaseStore

    with tempfile.TemporaryDirectory() as tmp, SQLiteStore(Path(tmp) / "fast.db") as fast, \
            SQLiteStore(Path(tmp) / "plain.db") as plain:
        for store in (fast, plain):  # tombstones, so re-added ids continue their versions
            for i in sorted(deleted):
                store.delete(Lead, store.add(lead(f"r{i}")).id, version=1)
        records = [lead(f"r{i}", email=email) if k == "lead" else opportunity(f"r{i}")
                   for k, i, email in batch]

        def plain_bulk(rs: list[Any], batch_size: int) -> int:
            return sum(BaseStore._bulk_batch(plain, rs[i:i + batch_size])
                       for i in range(0, len(rs), batch_size))

        outcomes: list[object] = []
        for bulk in (fast.bulk_add, plain_bulk):
            try:
                outcomes.append(bulk(records, batch_size=size))
            except DuplicateError as exc:  # noqa: PERF203 - the outcome is the test
                outcomes.append((exc.record_id, exc.existing_id, exc.key))
        assert outcomes[0] == outcomes[1]
        for kind in (Lead, Opportunity):
            assert fast.query(kind).items == plain.query(kind).items
        assert [(c.seq, c.tx, c.kind, c.record_id, c.action, c.version)
                for c in fast.changes()] == [(c.seq, c.tx, c.kind, c.record_id, c.action,
                                              c.version) for c in plain.changes()]
