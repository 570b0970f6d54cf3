"""SQLiteStore keeps a deal's stage history and activities one item per row (issue #11).

A move writes the appended row only; every read gives back exactly what was saved, from a
warm store (its cache of decoded records) and from a cold one (the plain path), across
appends, splices, rewrites, reorders and deletes; a schema-2 file made by the previous
code migrates; another connection's write is never hidden by the cache.
"""

import json
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oppcore import (
    Activity,
    ActivityKind,
    DuplicateError,
    Lead,
    Opportunity,
    OpportunityService,
    Pipeline,
    StageChange,
    StorageUnavailableError,
    StoreWrite,
    serde,
)
from oppcore.storage import SQLiteStore
from oppcore.storage._sqlite_cache import RecordCache
from oppcore.storage._sqlite_items import common_prefix
from oppcore.storage._sqlite_schema import SCHEMA_VERSION
from oppcore.testing.strategies import activities, opportunities, stage_changes

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
FIXTURE = Path(__file__).parent / "fixtures" / "sqlite" / "schema2.db"
STAGES = ("prospecting", "engaging")


def deal(record_id: str = "D-1", **fields: object) -> Opportunity:
    base: dict[str, object] = {"id": record_id, "name": "Deal", "pipeline_id": "simple",
                               "stage_id": STAGES[0], "created_at": T0}
    base.update(fields)
    return Opportunity(**base)  # type: ignore[arg-type]


def history(n: int) -> tuple[StageChange, ...]:
    return tuple(StageChange(from_stage=STAGES[i % 2], to_stage=STAGES[(i + 1) % 2],
                             at=T0 + timedelta(seconds=i), by="ann") for i in range(n))


def item_rows(store: SQLiteStore, record_id: str) -> list[tuple[str, int, str]]:
    return store._conn().execute(
        "SELECT field, pos, data FROM opportunity_items WHERE record_id = ? "
        "ORDER BY field, pos", (record_id,)).fetchall()


def moves_written(store: SQLiteStore, length: int, record_id: str) -> int:
    """Return the rows a service move changes on a deal with ``length`` history entries."""
    store.add(deal(record_id, stage_id=STAGES[length % 2], stage_history=history(length),
                   updated_at=T0 + timedelta(seconds=length)))
    clock = iter(T0 + timedelta(seconds=length + 1 + i) for i in range(10))
    service = OpportunityService(store, pipelines=Pipeline.template("simple"),
                                 clock=lambda: next(clock))
    store.get(Opportunity, record_id)
    conn = store._conn()
    before = conn.total_changes
    service.move_stage(record_id, STAGES[(length + 1) % 2], by="ann")
    return conn.total_changes - before


def test_a_move_writes_the_same_few_rows_however_long_the_history(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        short = moves_written(store, 3, "D-short")
        long = moves_written(store, 400, "D-long")
        # The record row, the one appended item, the feed entry, the audit entry.
        assert short == long == 4
        rows = item_rows(store, "D-long")
        assert [pos for field, pos, _ in rows if field == "stage_history"] == list(range(401))
        stored = store.get(Opportunity, "D-long")
        assert len(stored.stage_history) == 401
        row = store._conn().execute("SELECT data FROM opportunities WHERE id = 'D-long'"
                                    ).fetchone()[0]
        assert "stage_history" not in row  # the record row does not grow with the history
    with SQLiteStore(tmp_path / "s.db") as cold:  # a new store: nothing cached
        assert cold.get(Opportunity, "D-long") == stored


def test_a_save_whose_predecessor_is_not_cached_rewrites_correctly(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as first:
        first.add(deal(stage_history=history(5)))
    with SQLiteStore(path) as second:  # cold: the stored items are unknown to it
        old = second.get(Opportunity, "D-1")
        # Take the value from elsewhere (a decoded copy), so it is not in the cache either.
        copy = serde.loads(serde.dumps(old), Opportunity)
        second._cache.drop("opportunity", "D-1")
        saved = second.save(copy.evolve(stage_history=copy.stage_history[2:]))
        assert second.get(Opportunity, "D-1") == saved
    with SQLiteStore(path) as third:
        assert third.get(Opportunity, "D-1").stage_history == history(5)[2:]
        assert len(item_rows(third, "D-1")) == 3


def test_query_pages_carry_every_item(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        for i in range(7):
            store.add(deal(f"D-{i}", stage_history=history(i),
                           activities=tuple(Activity(id=f"A-{j}", kind=ActivityKind.CALL,
                                                     at=T0, by="ann") for j in range(i % 3))))
        store.add(Lead(id="L-1", name="Lead", captured_at=T0))
        page = store.query(Opportunity, limit=4)
        rest = store.query(Opportunity, after=page.next_after)
        got = [*page.items, *rest.items]
        assert [len(o.stage_history) for o in got] == list(range(7))
        assert got == [store.get(Opportunity, f"D-{i}") for i in range(7)]
        assert [lead.id for lead in store.query(Lead).items] == ["L-1"]
    with SQLiteStore(tmp_path / "s.db") as cold:  # a deal read by a query is known too
        queried = cold.query(Opportunity).items[5]
        conn = cold._conn()
        before = conn.total_changes
        cold.save(queried.evolve(stage_history=(*queried.stage_history, history(6)[5])))
        assert conn.total_changes - before == 3  # the row, one item, the feed entry


def test_another_connections_write_is_never_hidden_by_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as a, SQLiteStore(path) as b:  # two caches, as two processes
        a.add(deal(stage_history=history(3)))
        warm = a.get(Opportunity, "D-1")
        assert a.get(Opportunity, "D-1") is warm  # served by a's cache
        by_b = b.save(b.get(Opportunity, "D-1").evolve(stage_history=history(2)))
        assert a.get(Opportunity, "D-1") == by_b
        # a's next save starts from b's value: a's stale entry is never used for the rows.
        by_a = a.save(a.get(Opportunity, "D-1").evolve(stage_history=history(6)))
        assert b.get(Opportunity, "D-1") == by_a
        b.delete(Opportunity, "D-1", version=by_a.version)
        with pytest.raises(Exception, match="D-1"):
            a.get(Opportunity, "D-1")
        readded = b.add(deal(stage_history=history(1)))
        assert a.get(Opportunity, "D-1") == readded
        assert len(item_rows(a, "D-1")) == 1


def test_a_failed_batch_leaves_the_cache_and_the_rows_as_they_were(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        store.add(deal("other"))
        stored = store.add(deal(stage_history=history(3)))
        longer = stored.evolve(stage_history=history(4))
        with pytest.raises(DuplicateError):
            store.apply([StoreWrite.save(longer), StoreWrite.add(deal("other"))])
        assert store.get(Opportunity, "D-1") == stored
        assert len(item_rows(store, "D-1")) == 3
        again = store.save(longer)
        with SQLiteStore(tmp_path / "s.db") as cold:
            assert cold.get(Opportunity, "D-1") == again


def test_common_prefix_finds_where_two_tuples_part() -> None:
    a, b, c = history(3)
    assert common_prefix((a, b), (a, b, c)) == 2
    assert common_prefix((a, b, c), (a, c)) == 1
    assert common_prefix((a, b), ()) == 0
    assert common_prefix((), (a,)) == 0
    equal_copy = serde.loads(serde.dumps(b), StageChange)
    assert common_prefix((a, b), (a, equal_copy, c)) == 2
    # Equal is not enough: the same instant in another offset is stored differently.
    moved = attrs.evolve(b, at=b.at.astimezone(timezone(timedelta(hours=-5))))
    assert moved == b
    assert common_prefix((a, b), (a, moved, c)) == 1


def test_an_item_changed_to_an_equal_instant_in_another_offset_is_stored(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        first = store.add(deal(stage_history=history(3)))
        shifted = tuple(attrs.evolve(h, at=h.at.astimezone(timezone.utc))
                        for h in first.stage_history)
        saved = store.save(first.evolve(stage_history=shifted))
        with SQLiteStore(tmp_path / "s.db") as cold:
            assert [h.at.utcoffset() for h in cold.get(Opportunity, "D-1").stage_history] == [
                timedelta(0)] * 3
            assert cold.get(Opportunity, "D-1") == saved


def test_the_cache_is_bounded_and_keeps_the_newest_version() -> None:
    cache = RecordCache(max_records=2, max_items=10)
    one = deal("a", stage_history=history(4), version=2)
    cache.put("opportunity", one)
    cache.put("opportunity", one.evolve(version=1))  # an older value arriving late
    assert cache.get("opportunity", "a", 2) is one
    assert cache.get("opportunity", "a", 1) is None
    cache.put("opportunity", deal("b", stage_history=history(4), version=1))
    cache.put("opportunity", deal("c", stage_history=history(4), version=1))  # 12 items > 10
    assert len(cache) == 2 and cache.get("opportunity", "a", 2) is None
    cache.put("opportunity", deal("d", version=1))  # no items: not worth keeping
    assert cache.get("opportunity", "d", 1) is None
    cache.clear()
    assert len(cache) == 0


def test_closing_the_store_empties_its_cache(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.add(deal(stage_history=history(2)))
    assert len(store._cache) == 1
    store.close()
    assert len(store._cache) == 0


def test_a_schema_two_file_made_by_the_previous_code_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
    before = {rid: serde.loads(text, Opportunity) for rid, text in
              raw.execute("SELECT id, data FROM opportunities")}
    audit_rows = raw.execute("SELECT count(*) FROM audit WHERE record_id = 'D-1'"
                             ).fetchone()[0]
    raw.close()
    assert len(before["D-1"].stage_history) == 12 and len(before["D-1"].activities) == 5
    with SQLiteStore(path) as store:
        assert store._conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        for rid, record in before.items():
            assert store.get(Opportunity, rid) == record
        assert store.query(Opportunity).items == tuple(before[r] for r in sorted(before))
        assert len(store.audit_trail(Opportunity, "D-1")) == audit_rows == 17
        assert store.add(deal("D-3")).version == 2  # the tombstone survived
        assert store.get(Lead, "L-1").email == "a@example.com"
        moved = store.save(before["D-1"].evolve(stage_history=history(13)))
        assert store.integrity_check() == "ok"
    with SQLiteStore(path) as again:
        assert again.get(Opportunity, "D-1") == moved


def test_a_file_from_a_newer_oppcore_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    shutil.copy(FIXTURE, path)
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageUnavailableError, match="upgrade oppcore"):
        SQLiteStore(path)


def _edits(items: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """A function from a tuple to an edited tuple: append, splice, rewrite, reorder, clear."""
    return st.one_of(
        st.lists(items, max_size=3).map(lambda new: lambda old: (*old, *new)),
        st.tuples(st.integers(0, 6), st.integers(0, 3), st.lists(items, max_size=2)).map(
            lambda s: lambda old: (*old[:s[0]], *s[2], *old[s[0] + s[1]:])),
        st.lists(items, max_size=4).map(lambda new: lambda old: tuple(new)),
        st.just(lambda old: tuple(reversed(old))),
        st.just(lambda old: ()),
    )


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(start=opportunities(), steps=st.lists(
    st.tuples(_edits(stage_changes(("a", "b"))), _edits(activities()),
              st.sampled_from(["save", "cold save", "delete and add"])),
    min_size=1, max_size=6))
def test_any_sequence_of_saves_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, start: Opportunity, steps: list[tuple]
) -> None:
    path = tmp_path_factory.mktemp("items") / "s.db"
    with SQLiteStore(path) as store:
        current = store.add(start)
        for edit_history, edit_activities, how in steps:
            new = current.evolve(stage_history=edit_history(current.stage_history),
                                 activities=edit_activities(current.activities))
            if how == "save":
                current = store.save(new)
            elif how == "cold save":  # the plain path: nothing cached to compare with
                store._cache.drop("opportunity", new.id)
                current = store.save(new)
            else:
                store.delete(Opportunity, new.id, version=new.version)
                current = store.add(new)
            assert store.get(Opportunity, new.id) == current
            assert store.query(Opportunity).items == (current,)
            with SQLiteStore(path) as cold:
                assert cold.get(Opportunity, new.id) == current
            rows = item_rows(store, new.id)
            for field in ("activities", "stage_history"):
                positions = [pos for f, pos, _ in rows if f == field]
                assert positions == list(range(len(getattr(current, field))))


@pytest.mark.parametrize("damage", ["not json", "[1, 2]", '{"id": "D-1", "activities": 5}'])
def test_a_damaged_row_stops_the_migration_with_a_store_error(tmp_path: Path,
                                                              damage: str) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    raw = sqlite3.connect(path)
    raw.execute("UPDATE opportunities SET data = ? WHERE id = 'D-2'", (damage,))
    raw.commit()
    raw.close()
    with pytest.raises(StorageUnavailableError, match=r"'D-2'.*restore it from a backup") as err:
        SQLiteStore(path)
    assert err.value.reason == "corrupt" and err.value.path == str(path)
    raw = sqlite3.connect(path)  # nothing was migrated: still schema 2, still whole rows
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "stage_history" in raw.execute(
        "SELECT data FROM opportunities WHERE id = 'D-1'").fetchone()[0]
    raw.close()


CHILD = """
import sys
from datetime import timedelta
from oppcore import Opportunity, SQLiteStore, StageChange
with SQLiteStore(sys.argv[1]) as store:
    deal = store.get(Opportunity, "D-1")
    last = deal.stage_history[-1]
    move = StageChange(from_stage=last.to_stage, to_stage=last.from_stage,
                       at=last.at + timedelta(seconds=1), by="child")
    store.save(deal.evolve(stage_id=move.to_stage, stage_history=(*deal.stage_history, move)))
"""


def test_another_processs_save_is_read_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.add(deal(stage_id=STAGES[1], stage_history=history(3)))
        cached = store.get(Opportunity, "D-1")
        subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True, timeout=120)
        seen = store.get(Opportunity, "D-1")
        assert seen.version == cached.version + 1
        assert [h.by for h in seen.stage_history] == ["ann"] * 3 + ["child"]
        # This process's next move starts from the child's value, rows and all.
        clock = iter(T0 + timedelta(hours=1 + i) for i in range(10))
        service = OpportunityService(store, pipelines=Pipeline.template("simple"),
                                     clock=lambda: next(clock))
        service.move_stage("D-1", STAGES[1], by="ann")
        final = store.get(Opportunity, "D-1")
    with SQLiteStore(path) as cold:
        assert cold.get(Opportunity, "D-1") == final
        assert len(final.stage_history) == 5


def test_backup_and_export_carry_the_items(tmp_path: Path) -> None:
    from oppcore import export_document, import_document

    with SQLiteStore(tmp_path / "s.db") as store:
        saved = store.add(deal(stage_history=history(30), activities=tuple(
            Activity(id=f"A-{i}", kind=ActivityKind.EMAIL, at=T0, by="ann") for i in range(4))))
        store.backup(tmp_path / "copy.db")
        document = json.loads(json.dumps(export_document(store)))
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert copy.get(Opportunity, "D-1") == saved
        assert copy.integrity_check() == "ok"
    with SQLiteStore(tmp_path / "again.db") as again:
        assert import_document(again, document) == 1
        assert again.get(Opportunity, "D-1") == saved.evolve(version=1)
