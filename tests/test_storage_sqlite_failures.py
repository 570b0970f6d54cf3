"""SQLiteStore on a broken database: every failure is an oppcore error naming the file.

Read-only files, a full disk, damaged pages, files that are not databases and a held write
lock each raise :class:`StorageUnavailableError` with the path, a ``reason`` and advice,
never a raw ``sqlite3`` exception; a failed write leaves nothing behind.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oppcore import Lead, Opportunity, SQLiteStore, StorageUnavailableError, StoreError
from oppcore.storage import StoreWrite
from oppcore.testing.contract import lead, opportunity

PAGE = 4096  # SQLite's default page size, used by every database these tests create


def make_store(path: Path, records: int = 50) -> None:
    """Create a store at ``path`` holding ``records`` opportunities and one lead."""
    with SQLiteStore(path, synchronous="NORMAL") as store:
        store.bulk_add([opportunity(f"o{i:03}", owner="ann") for i in range(records)])
        store.add(lead("l1", email="l1@example.com"))


def damage_every_page_but_the_first(path: Path) -> None:
    """Overwrite every page after the header page with a byte pattern (a closed file).

    The first page (file header and schema) stays intact, so the store still opens, but
    every table and index is damaged, whichever SQLite version laid the file out.
    """
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(PAGE)
        f.write((bytes(range(256)) * (size // 256 + 1))[:size - PAGE])


def expect_unavailable(call: Callable[[], object], path: Path | str, reason: str) -> str:
    with pytest.raises(StorageUnavailableError) as info:
        call()
    exc = info.value
    assert exc.reason == reason, str(exc)
    assert exc.path == os.fspath(path)
    assert repr(os.fspath(path)) in str(exc)  # the message names the file
    assert "To fix:" in str(exc)
    assert isinstance(exc.__cause__, sqlite3.Error)  # the driver's error is kept as cause
    return str(exc)


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make SQLite open one file read-only, as it does for a file it may not write.

    Tests run as root in CI, where ``chmod 0o444`` does not stop writes. SQLite, denied
    write access to a file, opens it read-only (``SQLITE_OPEN_READONLY``); opening it with
    the ``mode=ro`` URI parameter puts the connection in exactly that state, as root too.
    (``test_real_file_permissions`` checks real permissions as an unprivileged user.)
    """
    connect = sqlite3.connect

    def arm(path: Path) -> None:
        def read_only_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            if os.fspath(database) == os.fspath(path):
                return connect(f"file:{os.fspath(path)}?mode=ro", *args, uri=True, **kwargs)
            return connect(database, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", read_only_connect)

    return arm


def test_a_read_only_database_refuses_every_write_and_still_reads(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    path = tmp_path / "ro.db"
    make_store(path)
    read_only(path)
    with SQLiteStore(path) as store:
        deal = store.get(Opportunity, "o001")
        before = store.changes()
        writes: list[Callable[[], object]] = [
            lambda: store.add(opportunity("new")),
            lambda: store.save(deal.evolve(owner="bob")),
            lambda: store.delete(Opportunity, "o001", version=deal.version),
            lambda: store.apply([StoreWrite.add(opportunity("n1")),
                                 StoreWrite.add(opportunity("n2"))]),
            lambda: store.bulk_add([opportunity("b1"), opportunity("b2")]),
        ]
        for write in writes:
            message = expect_unavailable(write, path, "read-only")
            assert "permissions" in message
            assert "rolled back" in message or "nothing was written" in message
        # nothing half-written, and the store still reads
        assert store.changes() == before
        assert store.get(Opportunity, "o001") == deal
        assert store.query(Opportunity, owner="ann", limit=1000).next_after is None
        assert store.integrity_check() == "ok"


_PERMISSIONS_CHILD = """
import json, os, sys
from oppcore import Opportunity
from oppcore import SQLiteStore, StorageUnavailableError
from oppcore.testing.contract import opportunity

if os.geteuid() == 0:
    # Root ignores file permissions: with the interpreter and oppcore loaded (they may live
    # where an unprivileged user cannot read), become "nobody" before touching the files.
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
results = {}
for case in sys.argv[1:]:
    path = os.path.join(case, "store.db")
    try:
        with SQLiteStore(path) as store:
            assert store.get(Opportunity, "o001").id == "o001"
            store.add(opportunity("new"))
            results[case] = ["written"]
    except StorageUnavailableError as exc:
        results[case] = [exc.operation, exc.reason, exc.path == path, exc.detail]
print(json.dumps(results))
"""


def test_real_file_permissions_a_read_only_file_and_a_read_only_directory() -> None:
    # Root ignores file permissions, so as root the child drops to the unprivileged user
    # "nobody" (uid 65534) once it has loaded Python and oppcore; any other user runs it as
    # itself.
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)  # noqa: S103 - nobody must reach the two cases below
        file_case, dir_case = Path(top, "file-ro"), Path(top, "dir-ro")
        for case in (file_case, dir_case):
            case.mkdir()
            make_store(case / "store.db")
        os.chmod(file_case, 0o777)  # noqa: S103 - the directory writable, the file not
        os.chmod(file_case / "store.db", 0o444)
        # The file writable, its directory not (WAL needs to create -wal and -shm there).
        os.chmod(dir_case / "store.db", 0o666)  # noqa: S103 - deliberately writable
        os.chmod(dir_case, 0o555)  # noqa: S103 - deliberately read-only
        try:
            out = subprocess.run(
                [sys.executable, "-c", _PERMISSIONS_CHILD, str(file_case),
                 str(dir_case)], capture_output=True, text=True, timeout=120, check=False)
        finally:
            os.chmod(dir_case, 0o755)  # noqa: S103 - so that the directory can be removed
        assert out.returncode == 0, out.stderr
        results = json.loads(out.stdout)
    # A read-only file opens and reads; only the write fails.
    assert results[str(file_case)][:3] == ["add", "read-only", True]
    # In a read-only directory SQLite cannot create the WAL index (-shm) that even a read
    # needs, so the store does not open (older SQLite versions may fail at the write).
    assert results[str(dir_case)][0] in ("open", "add")
    assert results[str(dir_case)][1:3] == ["read-only", True]


def test_a_full_disk_writes_nothing_and_the_store_recovers(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    make_store(path)
    with SQLiteStore(path) as store:
        conn = store._conn()  # this thread's connection: the one the calls below use
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")  # "database or disk is full"
        before = store.changes()
        big = "x" * 20_000  # a record larger than the free room in the last pages
        message = expect_unavailable(lambda: store.add(opportunity("big", name=big)), path,
                                     "disk-full")
        assert "nothing was written" in message
        assert "free space" in message
        message = expect_unavailable(
            lambda: store.bulk_add([opportunity(f"b{i}", name=big) for i in range(5)]),
            path, "disk-full")
        assert "batches before it stay stored" in message
        assert store.changes() == before
        with pytest.raises(StoreError, match="not found"):
            store.get(Opportunity, "big")
        conn.execute(f"PRAGMA max_page_count = {pages * 100}")
        assert store.add(opportunity("big", name=big)).version == 1  # not stuck in a tx


def test_a_full_disk_in_the_middle_of_bulk_add_keeps_the_committed_batches(
    tmp_path: Path,
) -> None:
    path = tmp_path / "full.db"
    make_store(path)
    with SQLiteStore(path) as store:
        conn = store._conn()
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages + 12}")
        records = [opportunity(f"b{i:02}", name="x" * 6000) for i in range(30)]
        with pytest.raises(StorageUnavailableError) as info:
            store.bulk_add(records, batch_size=1)
        assert info.value.reason == "disk-full"
        added = [c.record_id for c in store.changes() if c.record_id.startswith("b")]
        assert 0 < len(added) < len(records)
        # exactly the committed batches are stored, in order, each whole
        assert added == [r.id for r in records[:len(added)]]
        assert store.get(Opportunity, added[-1]).name == "x" * 6000


def test_damaged_pages_fail_every_read_and_write_and_integrity_check_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "corrupt.db"
    make_store(path)
    damage_every_page_but_the_first(path)
    with SQLiteStore(path) as store:
        calls: list[Callable[[], object]] = [
            lambda: store.get(Opportunity, "o001"),
            lambda: store.query(Opportunity),
            lambda: store.query(Lead, owner="ann"),
            lambda: store.changes(),
            lambda: store.audit_trail(Opportunity, "o001"),
            lambda: store.add(opportunity("new")),
            lambda: store.bulk_add([opportunity("b1")]),
        ]
        for call in calls:
            message = expect_unavailable(call, path, "corrupt")
            assert "restore it from a backup" in message
        verdict = store.integrity_check()
    assert isinstance(verdict, str)
    assert verdict != "ok"
    assert "malformed" in verdict or "corrupt" in verdict or "Page" in verdict


@pytest.mark.parametrize("content", [
    b"id,name\n1,a CSV file, not a database\n" * 50,
    b"\0" * 100 + b"a database whose header was wiped" * 200,
], ids=["text", "wiped-header"])
def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "not.db"
    path.write_bytes(content)
    message = expect_unavailable(lambda: SQLiteStore(path), path, "not-a-database")
    assert "open failed" in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.db"]


def test_a_write_lock_held_beyond_busy_timeout_is_busy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    make_store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's long write, in effect
        with SQLiteStore(path, busy_timeout=0) as store:
            before = store.changes()
            message = expect_unavailable(lambda: store.add(opportunity("new")), path, "busy")
            assert "busy_timeout (0 s)" in message
            assert "nothing was written" in message
            holder.execute("ROLLBACK")
            assert store.changes() == before
            assert store.add(opportunity("new")).version == 1
    finally:
        holder.close()


def test_opening_problems_have_their_own_reasons(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailableError) as info:
        SQLiteStore(tmp_path)  # a directory
    assert (info.value.reason, info.value.operation) == ("cannot-open", "open")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StorageUnavailableError) as info:
        SQLiteStore(other)
    assert info.value.reason == "not-an-oppcore-store"
    newer = tmp_path / "newer.db"
    SQLiteStore(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StorageUnavailableError, match="upgrade oppcore") as info:
        SQLiteStore(newer)
    assert info.value.reason == "newer-schema"


def test_a_backup_that_cannot_be_written_names_the_target(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "live.db") as store:
        target = tmp_path / "missing-dir" / "copy.db"
        with pytest.raises(StorageUnavailableError) as info:
            store.backup(target)
    assert info.value.path == os.fspath(target)
    assert info.value.reason == "cannot-open"
    assert "no partial copy was left behind" in str(info.value)


def test_messages_read_on_their_own(tmp_path: Path,
                                    read_only: Callable[[Path], None]) -> None:
    path = tmp_path / "ro.db"
    make_store(path, records=1)
    read_only(path)
    with SQLiteStore(path) as store, pytest.raises(StorageUnavailableError) as info:
        store.add(opportunity("new"))
    assert str(info.value) == (
        f"{os.fspath(path)!r}: add failed: the database is read-only (SQLite: attempt to "
        f"write a readonly database); nothing was written. To fix: check the permissions "
        f"of the file and of its directory (SQLite writes -wal and -shm files beside it) "
        f"and whether the file system is mounted read-only")
    assert info.value.operation == "add"
    assert info.value.detail == "attempt to write a readonly database"
