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
* The record is stored whole as JSON in the wire format of :mod:`oppcore.serde`, beside
  indexed columns for every queried field and the normalised uniqueness keys (partial
  unique indexes enforce them, so concurrent adds cannot both win).
* The schema version lives in ``PRAGMA user_version``; opening a store applies the forward
  migrations it lacks, in one transaction.
"""

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, cast

from oppcore import serde
from oppcore._errors import (
    DuplicateError,
    NotFoundError,
    StoreError,
    ValidationError,
    VersionConflictError,
)
from oppcore._models import Lead, Opportunity

from ._audit import AuditEntry
from ._base import ACTIONS, BaseStore, FeedAction, QueryFilter, micros, unique_keys
from ._protocol import Change, Kind, Record, Write, kind_name

__all__ = ["SQLiteStore"]

_TABLES = {"lead": "leads", "opportunity": "opportunities"}
_CLASSES: dict[str, type[Record]] = {"lead": Lead, "opportunity": Opportunity}

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: records, tombstones, the history feed
    (
        """CREATE TABLE opportunities (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, stage_id TEXT NOT NULL,
            pipeline_id TEXT NOT NULL, owner TEXT, account_id TEXT,
            updated_us INTEGER NOT NULL, external_key TEXT, data TEXT NOT NULL)""",
        "CREATE INDEX opportunities_stage ON opportunities (stage_id, id)",
        "CREATE INDEX opportunities_pipeline ON opportunities (pipeline_id, id)",
        "CREATE INDEX opportunities_owner ON opportunities (owner, id)",
        "CREATE INDEX opportunities_account ON opportunities (account_id, id)",
        "CREATE INDEX opportunities_updated ON opportunities (updated_us)",
        """CREATE UNIQUE INDEX opportunities_external_key ON opportunities (external_key)
            WHERE external_key IS NOT NULL""",
        """CREATE TABLE leads (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, owner TEXT,
            updated_us INTEGER NOT NULL, email_key TEXT, external_key TEXT,
            data TEXT NOT NULL)""",
        "CREATE INDEX leads_owner ON leads (owner, id)",
        "CREATE INDEX leads_updated ON leads (updated_us)",
        "CREATE UNIQUE INDEX leads_email ON leads (email_key) WHERE email_key IS NOT NULL",
        """CREATE UNIQUE INDEX leads_external_key ON leads (external_key)
            WHERE external_key IS NOT NULL""",
        """CREATE TABLE tombstones (kind TEXT NOT NULL, id TEXT NOT NULL,
            version INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID""",
        """CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx INTEGER NOT NULL,
            kind TEXT NOT NULL, record_id TEXT NOT NULL, action TEXT NOT NULL,
            version INTEGER NOT NULL)""",
    ),
    # 2: the audit trail
    (
        """CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
            record_id TEXT NOT NULL, data TEXT NOT NULL)""",
        "CREATE INDEX audit_record ON audit (kind, record_id, seq)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)


def _row(name: str, record: Record, version: int) -> tuple[Any, ...]:
    """Return the table row of ``record`` stored at ``version``."""
    data = serde.unstructure(record)
    data["version"] = version
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    keys = dict(unique_keys(record))
    if name == "opportunity":
        opp = cast(Opportunity, record)
        account = opp.account.id if opp.account is not None else None
        return (opp.id, version, opp.stage_id, opp.pipeline_id, opp.owner, account,
                micros(opp.updated_at), keys.get("external_key"), text)
    return (record.id, version, record.owner, micros(record.updated_at), keys.get("email"),
            keys.get("external_key"), text)


_INSERT = {
    "opportunity": "INSERT INTO opportunities (id, version, stage_id, pipeline_id, owner, "
                   "account_id, updated_us, external_key, data) VALUES (?,?,?,?,?,?,?,?,?)",
    "lead": "INSERT INTO leads (id, version, owner, updated_us, email_key, external_key, "
            "data) VALUES (?,?,?,?,?,?,?)",
}
_UPDATE = {
    "opportunity": "UPDATE opportunities SET version=?2, stage_id=?3, pipeline_id=?4, "
                   "owner=?5, account_id=?6, updated_us=?7, external_key=?8, data=?9 "
                   "WHERE id=?1",
    "lead": "UPDATE leads SET version=?2, owner=?3, updated_us=?4, email_key=?5, "
            "external_key=?6, data=?7 WHERE id=?1",
}
_GET = {"lead": "SELECT data FROM leads WHERE id = ?",
        "opportunity": "SELECT data FROM opportunities WHERE id = ?"}
_VERSION = {"lead": "SELECT version FROM leads WHERE id = ?",
            "opportunity": "SELECT version FROM opportunities WHERE id = ?"}
_DELETE = {"lead": "DELETE FROM leads WHERE id = ?",
           "opportunity": "DELETE FROM opportunities WHERE id = ?"}
_HOLDER = {
    ("lead", "email"): "SELECT id FROM leads WHERE email_key = ? AND id != ?",
    ("lead", "external_key"): "SELECT id FROM leads WHERE external_key = ? AND id != ?",
    ("opportunity", "external_key"):
        "SELECT id FROM opportunities WHERE external_key = ? AND id != ?",
}


def _publish(partial: Path, target: Path) -> None:
    """Give the finished copy its name without ever replacing an existing file."""
    try:
        os.link(partial, target)  # fails, rather than replaces, if the name was taken
    except FileExistsError:
        raise
    except OSError:
        # A filesystem without hard links: rename, after checking the name once more.
        if target.exists():
            raise FileExistsError(os.fspath(target)) from None
        os.replace(partial, target)


def _not_unicode(name: str, record: Record) -> ValidationError:
    return ValidationError(f"{name} {record.id!r} holds text that is not valid Unicode (a lone "
                           f"surrogate) and cannot be stored", model=type(record).__name__,
                           value=record)


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

    Raises:
        ValidationError: Bad arguments.
        StoreError: The file is not an oppcore database, or was written by a newer oppcore.
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
        self._local = threading.local()
        # Every connection this store opened, with the thread and process that own it.
        self._all: list[tuple[threading.Thread, int, sqlite3.Connection]] = []
        # Connections inherited through fork(): never used, closed or freed in this process
        # (SQLite forbids touching a connection carried across fork; freeing one closes it).
        self._inherited: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        try:
            self._migrate(self._conn())
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
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if self._closed:
            raise StoreError(f"SQLiteStore {self._path!r} is closed")
        try:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self._path!r}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.Error as exc:
            conn.close()  # not half-set-up and left open
            raise StoreError(f"cannot open SQLite database {self._path!r}: {exc}") from exc
        pid = os.getpid()
        with self._all_lock:
            if self._is_closed():  # close() ran while this thread was connecting
                conn.close()
                raise StoreError(f"SQLiteStore {self._path!r} is closed")
            local.conn, local.pid = conn, pid
            # Close the connections of threads that have finished (a host serving each
            # request on a new thread would otherwise pile them up until close()), and set
            # aside those inherited from a parent process.
            kept = []
            for owner, owner_pid, other in self._all:
                if owner_pid != pid:
                    self._inherited.append(other)
                elif owner.is_alive():
                    kept.append((owner, owner_pid, other))
                else:
                    other.close()
            kept.append((threading.current_thread(), pid, conn))
            self._all = kept
        return conn

    def _is_closed(self) -> bool:
        # A call, so that type checkers do not narrow the flag across the connect above.
        return self._closed

    def _open_connections(self) -> int:
        """Return how many connections this process holds open for the store (for tests)."""
        pid = os.getpid()
        with self._all_lock:
            return sum(1 for _, owner_pid, _ in self._all if owner_pid == pid)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        try:
            (current,) = conn.execute("PRAGMA user_version").fetchone()
            if current == SCHEMA_VERSION:
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read under the write lock: another process may have migrated meanwhile.
                (current,) = conn.execute("PRAGMA user_version").fetchone()
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self._path!r} has schema version {current}; this oppcore reads up "
                        f"to {SCHEMA_VERSION}: upgrade oppcore")
                if current == 0 and conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]:
                    raise StoreError(f"{self._path!r} is an SQLite database but not an "
                                     f"oppcore store")
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[version - 1]:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # some errors end the transaction themselves
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {self._path!r} as an oppcore store: {exc}") from exc

    def close(self) -> None:
        """Close every connection this store opened in this process.

        Closing twice is harmless; any other use afterwards, from any thread, raises
        ``StoreError``. In a child process after ``fork``, the parent's connections are
        left untouched (SQLite forbids using them in the child), so closing the store in
        the child never disturbs the parent.
        """
        pid = os.getpid()
        with self._all_lock:
            # Under the lock that registers connections: none can slip in after this.
            self._closed = True
            entries, self._all = self._all, []
        for _, owner_pid, conn in entries:
            if owner_pid == pid:
                conn.close()
            else:
                self._inherited.append(conn)
        self._local = threading.local()

    def _write(self, body: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction; roll back on any error."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self._path!r}: cannot start a write: {exc}") from exc
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    # --- reads ---------------------------------------------------------------------------

    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        row = self._conn().execute(_GET[name], (record_id,)).fetchone()
        if row is None:
            raise NotFoundError(name, record_id)
        return serde.loads(row[0], kind)

    def _query(self, f: QueryFilter) -> tuple[tuple[Record, ...], bool]:
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
        if f.after is not None:
            where.append("id > ?")
            args.append(f.after)
        # Only fixed table and column names are spliced in; every value is a bound parameter.
        sql = f"SELECT data FROM {_TABLES[kind_name(f.kind)]}"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ?"
        args.append(f.limit + 1)
        rows = self._conn().execute(sql, args).fetchall()
        items = tuple(serde.loads(row[0], f.kind) for row in rows[:f.limit])
        return items, len(rows) > f.limit

    def _changes(self, after: int, limit: int) -> tuple[Change, ...]:
        rows = self._conn().execute(
            "SELECT seq, tx, kind, record_id, action, version FROM changes WHERE seq > ? "
            "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return tuple(Change(seq=r[0], tx=r[1], kind=r[2], record_id=r[3], action=r[4],
                            version=r[5]) for r in rows)

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        rows = self._conn().execute(
            "SELECT data FROM audit WHERE kind = ? AND record_id = ? ORDER BY seq",
            (name, record_id)).fetchall()
        return tuple(serde.loads(row[0], AuditEntry) for row in rows)

    # --- writes --------------------------------------------------------------------------

    def _apply(
        self, writes: tuple[Write, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        audit_rows = [(e.kind, e.record_id, serde.dumps(e)) for e in entries]

        def body(conn: sqlite3.Connection) -> tuple[Record | None, ...]:
            results: list[Record | None] = []
            changes: list[tuple[str, str, FeedAction, int]] = []
            for w in writes:
                stored = self._write_one(conn, w)
                results.append(stored[0])
                changes.append((kind_name(w.kind), w.record_id, ACTIONS[w.action], stored[1]))
            self._log(conn, changes, audit_rows)
            return tuple(results)

        return cast(tuple[Record | None, ...], self._write(body))

    def _write_one(self, conn: sqlite3.Connection, w: Write) -> tuple[Record | None, int]:
        name = kind_name(w.kind)
        row = conn.execute(_VERSION[name], (w.record_id,)).fetchone()
        if w.action == "add":
            if row is not None:
                raise DuplicateError(name, w.record_id, existing_id=w.record_id)
            tomb = conn.execute("SELECT version FROM tombstones WHERE kind = ? AND id = ?",
                                (name, w.record_id)).fetchone()
            version = (tomb[0] if tomb else 0) + 1
            record = cast(Record, w.record)
            self._execute_keyed(conn, name, record, _INSERT[name], _row(name, record, version))
            return record.evolve(version=version), version
        if row is None:
            raise NotFoundError(name, w.record_id)
        expected = cast(int, w.version)
        if row[0] != expected:
            raise VersionConflictError(name, w.record_id, expected=expected, actual=row[0])
        if w.action == "delete":
            conn.execute(_DELETE[name], (w.record_id,))
            conn.execute("INSERT OR REPLACE INTO tombstones (kind, id, version) VALUES (?,?,?)",
                         (name, w.record_id, expected))
            return None, expected
        record = cast(Record, w.record)
        self._execute_keyed(conn, name, record, _UPDATE[name], _row(name, record, expected + 1))
        return record.evolve(version=expected + 1), expected + 1

    def _execute_keyed(self, conn: sqlite3.Connection, name: str, record: Record, sql: str,
                       row: tuple[Any, ...]) -> None:
        """Run an insert or update; translate a unique-key violation to ``DuplicateError``."""
        try:
            conn.execute(sql, row)
        except sqlite3.IntegrityError as exc:
            raise self._duplicate(conn, name, record) from exc
        except UnicodeEncodeError as exc:
            raise _not_unicode(name, record) from exc

    def _duplicate(self, conn: sqlite3.Connection, name: str, record: Record) -> StoreError:
        for key_name, key in unique_keys(record):
            holder = conn.execute(_HOLDER[(name, key_name)], (key, record.id)).fetchone()
            if holder is not None:
                return DuplicateError(name, record.id, existing_id=holder[0], key=key_name)
        return DuplicateError(name, record.id, existing_id=record.id)

    @staticmethod
    def _log(conn: sqlite3.Connection, changes: list[tuple[str, str, FeedAction, int]],
             audit_rows: list[tuple[str, str, str]]) -> None:
        if changes:
            last = conn.execute("SELECT tx FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
            tx = (last[0] if last else 0) + 1
            conn.executemany(
                "INSERT INTO changes (tx, kind, record_id, action, version) VALUES (?,?,?,?,?)",
                [(tx, *c) for c in changes])
        if audit_rows:
            conn.executemany("INSERT INTO audit (kind, record_id, data) VALUES (?,?,?)",
                             audit_rows)

    def bulk_add(self, records: Iterable[Record], *, batch_size: int = 1000) -> int:
        """Add many new records, ``batch_size`` per transaction; return how many were added.

        Each batch is atomic. If a batch holds a duplicate, that batch is not written and
        the error is raised; the batches before it stay committed, so an interrupted import
        can resume from the first record not stored.

        Raises:
            DuplicateError: A record's id or uniqueness key is taken.
            ValidationError: A value is not a lead or an opportunity, or a bad batch size.
        """
        if type(batch_size) is not int or batch_size < 1:
            raise ValidationError("batch_size must be a positive int", field="batch_size",
                                  value=batch_size)
        total = 0
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == batch_size:
                total += self._bulk_batch(batch)
                batch = []
        if batch:
            total += self._bulk_batch(batch)
        return total

    def _bulk_batch(self, batch: list[Record]) -> int:
        writes = [Write.add(r) for r in batch]  # type-checks every value first
        by_kind: dict[str, list[Record]] = {"lead": [], "opportunity": []}
        for w in writes:
            by_kind[kind_name(w.kind)].append(cast(Record, w.record))

        def body(conn: sqlite3.Connection) -> int:
            changes: list[tuple[str, str, FeedAction, int]] = []
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
                conn.executemany(_INSERT[name], [_row(name, r, versions[r.id]) for r in records])
                changes += [(name, r.id, "added", versions[r.id]) for r in records]
            self._log(conn, changes, [])
            return len(changes)

        try:
            return cast(int, self._write(body))
        except (sqlite3.IntegrityError, UnicodeEncodeError):
            # The batch was rolled back; replay it as one checked batch, which names the
            # culprit (DuplicateError, ValidationError). If the replay succeeds (another
            # writer removed the conflict meanwhile), the batch is now stored, so say so.
            return len(self.apply(writes))

    def backup(self, path: str | os.PathLike[str]) -> None:
        """Copy the database to a new file ``path`` while it stays in use (online backup).

        The copy is written under a temporary name beside ``path`` and appears under
        ``path`` only once complete, so ``path`` never holds a partial copy. An existing
        file is never overwritten (it could be another database, or this one): remove it
        first, or pick a new name.

        Raises:
            StoreError: ``path`` exists, or the copy failed (nothing is left behind).
        """
        target = Path(path)
        if target.exists():
            raise StoreError(f"backup target {os.fspath(target)!r} exists; a backup never "
                             f"overwrites a file: remove it or choose a new path")
        partial = target.with_name(
            f".{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
        try:
            dest = sqlite3.connect(os.fspath(partial))
            try:
                self._conn().backup(dest)
            finally:
                dest.close()
            _publish(partial, target)
        except FileExistsError as exc:
            raise StoreError(f"backup target {os.fspath(target)!r} exists; a backup never "
                             f"overwrites a file: remove it or choose a new path") from exc
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"backup of {self._path!r} to {os.fspath(target)!r} failed: "
                             f"{exc}") from exc
        finally:
            for leftover in (partial, *(partial.with_name(partial.name + suffix)
                                        for suffix in ("-journal", "-wal", "-shm"))):
                leftover.unlink(missing_ok=True)

    def integrity_check(self) -> str:
        """Return SQLite's ``PRAGMA integrity_check`` verdict (``"ok"`` when healthy)."""
        rows = self._conn().execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)
