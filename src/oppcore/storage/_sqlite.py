"""``SQLiteStore``: the embedded default store, on the standard library's ``sqlite3``.

Design notes (why it is safe to share between threads and processes):

* WAL journal: readers never block the writer and see a consistent snapshot per statement.
* Every write batch runs in ``BEGIN IMMEDIATE``: the write lock is taken before the version
  checks, so check-then-write is atomic across threads *and* processes. Waiting writers
  queue on SQLite's busy timeout.
* ``synchronous=FULL`` by default: a committed batch survives power loss. ``NORMAL`` (opt-in)
  keeps the database consistent after a crash but may lose the last commits on power loss;
  it is several times faster for many small writes.
* One connection per thread (and per process: a connection is never used after ``fork``).
* The record is stored as JSON in the wire format of :mod:`oppcore.serde`, beside
  indexed columns for every queried field and the normalised uniqueness keys (partial
  unique indexes enforce them, so concurrent adds cannot both win). A deal's append-only
  collections (stage history, activities) live one item per row in their own table, so a
  stage move writes one row, not the whole history (``_sqlite_items``), and a bounded cache
  of decoded records, checked against the stored version on every read, spares the
  service's get -> move -> save loop from decoding the history again (``_sqlite_cache``).
* The schema version lives in ``PRAGMA user_version``; opening a store applies the forward
  migrations it lacks, in one transaction.
* Every public method runs as one operation of an :class:`OperationGuard`: ``close()`` waits
  for the operations in flight before it closes a connection (closing one under a running
  statement crashes the interpreter), and ``sqlite3`` exceptions become
  :class:`~oppcore.StorageUnavailableError` there, in one place.
"""

import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, cast

from oppcore import serde
from oppcore._errors import NotFoundError, ValidationError

from ._arguments import QueryFilter, collect, micros
from ._audit import AuditEntry
from ._base import BaseStore
from ._plan import FeedAction, PlannedWrite, plan_batch
from ._protocol import FeedEntry, Kind, Record, StoreWrite, kind_name
from ._sqlite_backup import copy_database
from ._sqlite_cache import RecordCache
from ._sqlite_conn import Connections
from ._sqlite_guard import OperationGuard, classify, guarded
from ._sqlite_items import ITEMS, insert_items, page_texts, read_record
from ._sqlite_schema import (
    GET,
    INSERT,
    SCHEMA_VERSION,
    TABLES,
    bulk_rows,
    key_holder,
    log_changes,
    migrate,
    persist,
    stored,
    tombstone,
)

__all__ = ["SQLiteStore"]


class SQLiteStore(BaseStore):
    """A store in one SQLite database file, safe across threads and processes.

    Args:
        path: The database file (created if missing). ``":memory:"`` is refused: each
            thread has its own connection, so an in-memory database would not be shared;
            use :class:`~oppcore.InMemoryStore` instead.
        synchronous: ``"FULL"`` (default: every committed batch survives power loss) or
            ``"NORMAL"`` (faster; after a power loss the last commits may be missing, the
            database is still consistent).
        busy_timeout: Seconds a writer waits for another writer's lock before failing.

    A deal's stage history and activities are stored one entry per row, so a stage move or
    a logged activity writes what it added, and a deal read again at the version this store
    last saw is not decoded again: a move on a deal with 5,000 moves costs a fraction of a
    millisecond, close to a move on a new deal. Opening a file written by an older oppcore
    migrates it forward, once, in one transaction; a file written by a newer oppcore is
    refused.

    Every method may raise :class:`~oppcore.StorageUnavailableError` when the database
    cannot do what was asked (read-only, disk full, corrupt, locked beyond
    ``busy_timeout`` ...); its message names the file and says what to do, and a failed
    write wrote nothing. After :meth:`close`, every method raises
    :class:`~oppcore.StoreClosedError`.

    Raises:
        ValidationError: Bad arguments.
        StorageUnavailableError: The file cannot be opened as an oppcore store: it is not an
            SQLite database, not an oppcore store, written by a newer oppcore, damaged,
            or cannot be opened or migrated.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 30.0,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValidationError(f"synchronous must be 'FULL' or 'NORMAL', got "
                                  f"{synchronous!r}", field="synchronous", value=synchronous)
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)) or not (
            0 <= busy_timeout <= 3600
        ):
            raise ValidationError("busy_timeout must be seconds in [0, 3600]",
                                  field="busy_timeout", value=busy_timeout)
        raw = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
        if not isinstance(raw, str):
            raise ValidationError(f"path must be a str or os.PathLike path, got {path!r}",
                                  field="path", value=path)
        self._path = raw
        if self._path in ("", ":memory:") or self._path.startswith("file::memory:"):
            raise ValidationError("SQLiteStore needs a file path; use InMemoryStore for an "
                                  "in-memory store", field="path", value=path)
        self._synchronous = synchronous
        self._timeout = float(busy_timeout)
        self._guard = OperationGuard(self._path, self._timeout)
        self._cache = RecordCache()
        self._connections = Connections(self._path, synchronous=synchronous,
                                        timeout=self._timeout, guard=self._guard)
        try:
            self._migrate()
        except BaseException:
            self.close()  # the caller never gets the store, so it cannot close it
            raise

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r}, synchronous={self._synchronous!r})"

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connections and schema ----------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _open_connections(self) -> int:
        """Return how many connections this process holds open for the store (for tests)."""
        return self._connections.count_open()

    @guarded("open", write=True)
    def _migrate(self) -> None:
        (current,) = self._conn().execute("PRAGMA user_version").fetchone()
        if current != SCHEMA_VERSION:
            self._write(lambda conn: migrate(conn, self._path))

    def close(self) -> None:
        """Close the store: refuse new calls, wait for running ones, close the connections.

        Calls already running in other threads finish (or fail) normally before any
        connection closes, so closing never pulls a connection from under a statement. A
        call that starts afterwards, from any thread, raises
        :class:`~oppcore.StoreClosedError`. Closing twice is harmless. The wait lasts as
        long as the slowest running call (a writer waits up to ``busy_timeout`` for a lock).

        In a child process after ``fork``, the parent's connections are left untouched
        (SQLite forbids using them in the child), so closing the store in the child never
        disturbs the parent.
        """
        self._guard.shut()
        self._connections.close_all()
        self._cache.clear()

    def _write(self, body: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction; roll back on any error."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            self._roll_back(conn)
            raise
        return result

    def _roll_back(self, conn: sqlite3.Connection) -> None:
        """Undo this thread's open transaction, keeping the error that caused the undo.

        If even ``ROLLBACK`` fails (a full disk or an I/O error can do that), the connection
        is closed and forgotten: closing it undoes the transaction, and the thread's next
        call opens a fresh connection instead of finding a transaction still open.
        """
        if not conn.in_transaction:  # some errors end the transaction themselves
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._connections.drop(conn)

    # --- reads ---------------------------------------------------------------------------

    @guarded("get")
    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        if name not in ITEMS:
            row = self._conn().execute(GET[name], (record_id,)).fetchone()
            if row is None:
                raise NotFoundError(name, record_id)
            return serde.loads(row[0], kind)
        found, has_items = read_record(
            self._conn(), name, record_id,
            lambda version: self._cache.get(name, record_id, version))
        if found is None:
            raise NotFoundError(name, record_id)
        if not isinstance(found, str):
            return found
        record: Record = serde.loads(found, kind)
        if has_items:
            self._cache.put(name, record)
        return record

    @guarded("query")
    def _query(self, f: QueryFilter) -> tuple[tuple[Record, ...], bool]:
        # Indexed filters and the keyset run in SQL; the close-date and amount ranges run in
        # code on the decoded records (exact Decimal, no schema change): see collect().
        return collect(f, lambda after, after_us, n: self._candidates(f, after, after_us, n))

    def _candidates(self, f: QueryFilter, after: str | None, after_us: int | None,
                    n: int) -> tuple[Record, ...]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("stage_id", f.stage), ("owner", f.owner),
                              ("account_id", f.account), ("pipeline_id", f.pipeline)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if f.updated_since is not None:
            where.append("updated_us >= ?")
            args.append(micros(f.updated_since))
        if after is not None and after_us is None:
            where.append("id > ?")
            args.append(after)
        elif after is not None:  # keyset on (updated_us, id)
            where.append("(updated_us > ? OR (updated_us = ? AND id > ?))")
            args += [after_us, after_us, after]
        # Only fixed table and column names are spliced in; every value is a bound parameter.
        name = f.name
        sql = f"SELECT id, data FROM {TABLES[name]}"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ?" if f.order == "id" else " ORDER BY updated_us, id LIMIT ?"
        args.append(n)
        conn = self._conn()
        if name not in ITEMS:
            rows = conn.execute(sql, args).fetchall()
            texts = [row[1] for row in rows]
        else:  # the page and its items in one read transaction: one snapshot
            conn.execute("BEGIN")
            try:
                rows = conn.execute(sql, args).fetchall()
                texts = page_texts(conn, name, rows)
                conn.execute("COMMIT")
            except BaseException:
                self._roll_back(conn)
                raise
        records = tuple(serde.loads(text, f.kind) for text in texts)
        if name in ITEMS:  # committed values of one snapshot: a save after a query appends
            for record in records:
                self._cache.put(name, record)
        return records

    @guarded("changes")
    def _changes(self, after: int, limit: int) -> tuple[FeedEntry, ...]:
        rows = self._conn().execute(
            "SELECT seq, tx, kind, record_id, action, version FROM changes WHERE seq > ? "
            "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return tuple(FeedEntry(seq=r[0], tx=r[1], kind=r[2], record_id=r[3], action=r[4],
                            version=r[5]) for r in rows)

    @guarded("audit_trail")
    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        rows = self._conn().execute(
            "SELECT data FROM audit WHERE kind = ? AND record_id = ? ORDER BY seq",
            (name, record_id)).fetchall()
        return tuple(serde.loads(row[0], AuditEntry) for row in rows)

    # --- writes --------------------------------------------------------------------------

    def _apply(
        self, writes: tuple[StoreWrite, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        audit_rows = [(e.kind, e.record_id, serde.dumps(e)) for e in entries]
        cache = self._cache

        def body(conn: sqlite3.Connection) -> tuple[PlannedWrite, ...]:
            # The batch rules (versions, tombstones, keys) are BaseStore's plan_batch, read
            # inside this BEGIN IMMEDIATE transaction; the unique indexes stay as a guard.
            plan = plan_batch(
                writes, entries, stored=lambda name, rid: stored(conn, name, rid),
                tombstone=lambda name, rid: tombstone(conn, name, rid),
                key_holder=lambda name, key_name, key: key_holder(conn, name, key_name, key))
            # What each write replaces, as stored: an earlier write of the batch, or the
            # cached value at the version plan_batch found stored (None: unknown).
            batch: dict[tuple[str, str], Record | None] = {}
            for w in plan.writes:
                slot = (w.kind, w.record_id)
                if slot in batch:
                    previous, known = batch[slot], True
                elif w.action == "added":  # nothing stored: a delete removed every item row
                    previous, known = None, True
                else:
                    previous = cache.get(w.kind, w.record_id, w.version - 1)
                    known = previous is not None
                persist(conn, w, previous, known=known)
                batch[slot] = w.record
            log_changes(conn, [(w.kind, w.record_id, w.action, w.version)
                               for w in plan.writes], audit_rows)
            return plan.writes

        # Name the method the caller used (add, save, delete) when the batch is one write.
        operation = writes[0].action if len(writes) == 1 else "apply"
        with self._guard.operation(operation, write=True):
            planned = cast(tuple[PlannedWrite, ...], self._write(body))
        for w in planned:  # committed: these are the stored values now
            if w.record is None:
                cache.drop(w.kind, w.record_id)
            else:
                cache.put(w.kind, w.record)
        return tuple(w.record for w in planned)

    def bulk_add(self, records: Iterable[Record], *, batch_size: int = 1000) -> int:
        """Add many new records, ``batch_size`` per transaction; return how many were added.

        Each batch is atomic. If a batch holds a duplicate, or the database fails (disk
        full ...), that batch is not written and the error is raised; the batches before it
        stay committed, so an interrupted import can resume from the first record not
        stored. ``records`` is read between batches, outside any database operation, so a
        ``close()`` meanwhile stops the import at the next batch.

        Raises:
            DuplicateError: A record's id or uniqueness key is taken.
            StorageUnavailableError: The database cannot take the batch (read-only, disk
                full, corrupt, locked ...).
            StoreClosedError: The store was closed.
            ValidationError: A value is not a lead or an opportunity, or a bad batch size.
        """
        return super().bulk_add(records, batch_size=batch_size)  # batches: _bulk_batch

    @guarded("bulk_add", write=True,
             rolled_back="this batch was rolled back; the batches before it stay stored")
    def _bulk_batch(self, batch: list[Record]) -> int:
        writes = [StoreWrite.add(r) for r in batch]  # type-checks every value first
        by_kind: dict[str, list[Record]] = {"lead": [], "opportunity": []}
        for w in writes:
            by_kind[kind_name(w.kind)].append(cast(Record, w.record))

        def body(conn: sqlite3.Connection) -> int:
            versions_of: dict[str, dict[str, int]] = {}
            for name, records in by_kind.items():
                if not records:
                    continue
                versions = dict.fromkeys((r.id for r in records), 1)
                if conn.execute("SELECT 1 FROM tombstones WHERE kind = ? LIMIT 1",
                                (name,)).fetchone():
                    for r in records:
                        tomb = conn.execute("SELECT version FROM tombstones WHERE kind = ? "
                                            "AND id = ?", (name, r.id)).fetchone()
                        versions[r.id] = (tomb[0] if tomb else 0) + 1
                rows = [bulk_rows(name, r, versions[r.id]) for r in records]
                conn.executemany(INSERT[name], [row for row, _ in rows])
                if name in ITEMS:
                    insert_items(conn, name, [item for _, items in rows for item in items])
                versions_of[name] = versions
            # The feed follows the input (as one apply would), not the kinds.
            changes: list[tuple[str, str, FeedAction, int]] = []
            for w in writes:
                name = kind_name(w.kind)
                changes.append((name, w.record_id, "added", versions_of[name][w.record_id]))
            log_changes(conn, changes, [])
            return len(changes)

        try:
            return cast(int, self._write(body))
        except (sqlite3.IntegrityError, UnicodeEncodeError):
            # The batch was rolled back; replay it as one checked batch, which names the
            # culprit (DuplicateError, ValidationError). If the replay succeeds (another
            # writer removed the conflict meanwhile), the batch is now stored, so say so.
            return len(self.apply(writes))

    @guarded("backup")
    def backup(self, path: str | os.PathLike[str]) -> None:
        """Copy the database to a new file ``path`` while it stays in use (online backup).

        The copy is written under a temporary name beside ``path`` and appears under
        ``path`` only once complete, so ``path`` never holds a partial copy. An existing
        file is never overwritten (it could be another database, or this one): remove it
        first, or pick a new name.

        Raises:
            StoreError: ``path`` exists.
            StorageUnavailableError: The copy failed (nothing is left behind); the error
                names the target for a problem writing the copy (its directory missing or
                read-only, its disk full) and this database for damage in it.
        """
        # A problem opening this thread's connection is this database's, not the target's.
        copy_database(self._conn(), self._path, Path(path), self._guard)

    def integrity_check(self) -> str:
        """Return SQLite's verdict on the database file: ``"ok"`` when it is healthy.

        The verdict is what ``PRAGMA integrity_check`` reports, one problem a line. When the
        damage keeps SQLite from running the check at all (a damaged schema or header), the
        verdict is SQLite's own message, such as ``"database disk image is malformed"``;
        it is never ``"ok"`` then.

        Raises:
            StorageUnavailableError: The check could not run for another reason (the file
                is locked beyond ``busy_timeout``, an I/O error ...).
        """
        with self._guard.operation("integrity_check"):
            try:
                rows = self._conn().execute("PRAGMA integrity_check").fetchall()
            except sqlite3.DatabaseError as exc:
                if classify(exc) not in ("corrupt", "not-a-database"):
                    raise
                return str(exc)
        return "\n".join(str(r[0]) for r in rows)
