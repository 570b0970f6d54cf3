"""SQLiteStore lifecycle: connections per thread and process, close, backup targets, migration."""

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from oppcore import Lead, Opportunity, StoreError
from oppcore.storage import SQLiteStore
from oppcore.storage._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from oppcore.testing.contract import lead, opportunity


def test_connections_of_finished_threads_are_closed(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "t.db", synchronous="NORMAL") as store:
        store.add(opportunity("o1"))
        seen: list[str] = []
        for _ in range(20):  # a host serving each request on a fresh thread
            t = threading.Thread(target=lambda: seen.append(store.get(Opportunity, "o1").id))
            t.start()
            t.join()
        assert seen == ["o1"] * 20
        # the main thread's connection and at most the last finished thread's remain open
        assert store._open_connections() <= 2


def test_close_twice_and_use_after_close_from_any_thread(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    store.add(opportunity("o1"))
    store.close()
    store.close()
    assert store._open_connections() == 0
    errors: list[BaseException] = []

    def use() -> None:
        try:
            store.get(Opportunity, "o1")
        except StoreError as exc:
            errors.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join()
    assert len(errors) == 1
    assert "closed" in str(errors[0])
    with pytest.raises(StoreError, match="closed"):
        store.add(opportunity("o2"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_close_in_a_forked_child_leaves_the_parents_connections_alone(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "f.db", synchronous="NORMAL")
    store.add(opportunity("o1"))
    inherited = store._conn()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            store.add(opportunity("from-child"))  # the child opens its own connection
            store.close()
            try:
                inherited.total_changes  # noqa: B018 - raises if the child closed it
            except sqlite3.ProgrammingError:
                code = 3  # SQLite forbids touching a connection carried across fork
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [r.id for r in store.query(Opportunity).items] == ["from-child", "o1"]
    store.close()


def test_backup_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "other.db") as other:
        other.add(opportunity("precious"))
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n", encoding="utf-8")
    with SQLiteStore(tmp_path / "live.db") as store:
        store.add(opportunity("o1"))
        for target in (tmp_path / "other.db", notes, Path(store.path)):
            with pytest.raises(StoreError, match="exists"):
                store.backup(target)
        assert store.integrity_check() == "ok"
        store.backup(tmp_path / "copy.db")
    assert notes.read_text(encoding="utf-8") == "keep me\n"
    with SQLiteStore(tmp_path / "other.db") as other:
        assert [r.id for r in other.query(Opportunity).items] == ["precious"]
    with SQLiteStore(tmp_path / "copy.db") as copy:
        assert [r.id for r in copy.query(Opportunity).items] == ["o1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "copy.db", "live.db", "notes.txt", "other.db"]


def test_failed_backup_leaves_no_file_behind(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "live.db") as store, pytest.raises(StoreError):
        store.backup(tmp_path / "missing-dir" / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]


def test_migration_from_schema_one_keeps_existing_records(tmp_path: Path) -> None:
    # Build a version-1 database with data through a version-1 schema, then open it.
    path = tmp_path / "v1.db"
    with SQLiteStore(tmp_path / "donor.db") as donor:
        donor.add(opportunity("o1", owner="ann"))
        donor.add(lead("l1", email="a@example.com"))
        donor.delete(Lead, "l1", version=1)
        rows = {table: donor._conn().execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
                for table in ("opportunities", "leads", "tombstones", "changes")}
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    for table, table_rows in rows.items():
        for row in table_rows:
            marks = ",".join("?" * len(row))
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", row)  # noqa: S608
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with SQLiteStore(path) as store:
        assert store._conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.get(Opportunity, "o1").owner == "ann"
        assert store.add(lead("l1", email="a@example.com")).version == 2
        assert [c.action for c in store.changes()] == ["added", "added", "deleted", "added"]
        assert store.audit_trail(Opportunity, "o1") == ()


def test_a_path_that_is_not_a_text_path_is_a_validation_error(tmp_path: Path) -> None:
    from oppcore import ValidationError

    for bad in (str(tmp_path / "b.db").encode(), 5, None):
        with pytest.raises(ValidationError):
            SQLiteStore(bad)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(tmp_path)  # a directory
