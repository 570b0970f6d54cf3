"""The SQL of :class:`~oppcore.SQLiteStore`: migrations, statements, the steps of a write.

Only fixed table and column names appear in these statements; every value is bound.
"""

import sqlite3
from collections.abc import Callable
from typing import Any, cast

from oppcore import serde
from oppcore._errors import DuplicateError, StorageUnavailableError, ValidationError
from oppcore._identity import unique_keys
from oppcore._models import Opportunity

from ._arguments import micros
from ._plan import FeedAction, PlannedWrite, Stored
from ._protocol import Record
from ._sqlite_items import ITEMS, SPLIT, delete_items, item_rows, record_text, write_items

__all__ = ["DELETE", "GET", "HOLDER", "INSERT", "MIGRATIONS", "SCHEMA_VERSION", "TABLES",
           "UPDATE", "Step", "bulk_rows", "key_holder", "log_changes", "migrate", "persist",
           "row_of",
           "stored", "tombstone"]

TABLES = {"lead": "leads", "opportunity": "opportunities"}

Step = str | Callable[[sqlite3.Connection], None]
"""One step of a migration: an SQL statement, or a function run on the connection."""


class _Damaged(ValueError):
    """A migration found a row it cannot read."""


def _split_existing(conn: sqlite3.Connection) -> None:
    """Migration 3: move the split fields of every stored record into its items table."""
    for name, fields in SPLIT.items():
        table, after = TABLES[name], ""
        while True:
            rows = conn.execute(f"SELECT id, data FROM {table} WHERE id > ? "  # noqa: S608
                                "ORDER BY id LIMIT 500", (after,)).fetchall()
            if not rows:
                break
            for record_id, text in rows:
                try:
                    data = serde.decode_json(text)
                except ValueError:
                    data = None
                if not isinstance(data, dict) or not all(
                        isinstance(data.get(field, []), list) for field in fields):
                    raise _Damaged(f"{name} {record_id!r} is not a stored record")
                if not any(field in data for field in fields):
                    continue
                for field in fields:
                    items = data.pop(field, [])
                    conn.executemany(
                        f"INSERT INTO {ITEMS[name]} (record_id, field, pos, data) "  # noqa: S608
                        "VALUES (?,?,?,?)",
                        [(record_id, field, pos, serde.encode_json(item))
                         for pos, item in enumerate(items)])
                conn.execute(f"UPDATE {table} SET data = ? WHERE id = ?",  # noqa: S608
                             (serde.encode_json(data),
                              record_id))
            after = rows[-1][0]


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
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
    # 3: the append-only collections of a deal, one row per item (see _sqlite_items)
    (
        """CREATE TABLE opportunity_items (record_id TEXT NOT NULL, field TEXT NOT NULL,
            pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (record_id, field, pos))
            WITHOUT ROWID""",
        _split_existing,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION`, inside the caller's write transaction.

    Raises:
        StorageUnavailableError: The file is from a newer oppcore, or an SQLite database
            that is not an oppcore store.
    """
    # Read under the write lock: another process may have migrated meanwhile.
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current == SCHEMA_VERSION:
        return
    if current > SCHEMA_VERSION:
        raise StorageUnavailableError(
            f"{path!r} has schema version {current}; this oppcore reads up to "
            f"{SCHEMA_VERSION}: upgrade oppcore", path=path, reason="newer-schema",
            operation="open")
    if current == 0 and conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    ).fetchone()[0]:
        raise StorageUnavailableError(
            f"{path!r} is an SQLite database but not an oppcore store: check the path",
            path=path, reason="not-an-oppcore-store", operation="open")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        for step in MIGRATIONS[version - 1]:
            if isinstance(step, str):
                conn.execute(step)
                continue
            try:
                step(conn)
            except _Damaged as exc:
                raise StorageUnavailableError(
                    f"{path!r} cannot be migrated to schema version {version}: {exc}; the "
                    f"file is damaged: restore it from a backup", path=path, reason="corrupt",
                    operation="open", detail=str(exc)) from exc
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def row_of(name: str, record: Record, version: int) -> tuple[Any, ...]:
    """Return the table row of ``record`` stored at ``version`` (without its split items)."""
    text = record_text(name, record, version)
    keys = dict(unique_keys(record))
    if name == "opportunity":
        opp = cast(Opportunity, record)
        account = opp.account.id if opp.account is not None else None
        return (opp.id, version, opp.stage_id, opp.pipeline_id, opp.owner, account,
                micros(opp.updated_at), keys.get("external_key"), text)
    return (record.id, version, record.owner, micros(record.updated_at), keys.get("email"),
            keys.get("external_key"), text)


INSERT = {
    "opportunity": "INSERT INTO opportunities (id, version, stage_id, pipeline_id, owner, "
                   "account_id, updated_us, external_key, data) VALUES (?,?,?,?,?,?,?,?,?)",
    "lead": "INSERT INTO leads (id, version, owner, updated_us, email_key, external_key, "
            "data) VALUES (?,?,?,?,?,?,?)",
}
UPDATE = {
    "opportunity": "UPDATE opportunities SET version=?2, stage_id=?3, pipeline_id=?4, "
                   "owner=?5, account_id=?6, updated_us=?7, external_key=?8, data=?9 "
                   "WHERE id=?1",
    "lead": "UPDATE leads SET version=?2, owner=?3, updated_us=?4, email_key=?5, "
            "external_key=?6, data=?7 WHERE id=?1",
}
GET = {"lead": "SELECT data FROM leads WHERE id = ?"}
DELETE = {"lead": "DELETE FROM leads WHERE id = ?",
           "opportunity": "DELETE FROM opportunities WHERE id = ?"}
HOLDER = {
    ("lead", "email"): "SELECT id FROM leads WHERE email_key = ? AND id != ?",
    ("lead", "external_key"): "SELECT id FROM leads WHERE external_key = ? AND id != ?",
    ("opportunity", "external_key"):
        "SELECT id FROM opportunities WHERE external_key = ? AND id != ?",
}


def _not_unicode(name: str, record: Record) -> ValidationError:
    return ValidationError(f"{name} {record.id!r} holds text that is not valid Unicode (a lone "
                           f"surrogate) and cannot be stored", model=type(record).__name__,
                           value=record)


STORED = {"lead": "SELECT version, email_key, external_key FROM leads WHERE id = ?",
          "opportunity": "SELECT version, NULL, external_key FROM opportunities WHERE id = ?"}
KEY_HOLDER = {
    ("lead", "email"): "SELECT id FROM leads WHERE email_key = ?",
    ("lead", "external_key"): "SELECT id FROM leads WHERE external_key = ?",
    ("opportunity", "external_key"): "SELECT id FROM opportunities WHERE external_key = ?",
}


def stored(conn: sqlite3.Connection, name: str, record_id: str) -> Stored | None:
    """Return the version and uniqueness keys of a stored record (for ``plan_batch``)."""
    row = conn.execute(STORED[name], (record_id,)).fetchone()
    if row is None:
        return None
    keys = tuple((key_name, key) for key_name, key in (("email", row[1]),
                                                        ("external_key", row[2]))
                 if key is not None)
    return Stored(row[0], keys)


def tombstone(conn: sqlite3.Connection, name: str, record_id: str) -> int:
    """Return the last version of a deleted record with this id (0 if none)."""
    row = conn.execute("SELECT version FROM tombstones WHERE kind = ? AND id = ?",
                       (name, record_id)).fetchone()
    return int(row[0]) if row else 0


def key_holder(conn: sqlite3.Connection, name: str, key_name: str, key: str) -> str | None:
    """Return the id of the record holding a uniqueness key, or ``None``."""
    row = conn.execute(KEY_HOLDER[(name, key_name)], (key,)).fetchone()
    return None if row is None else str(row[0])


def persist(conn: sqlite3.Connection, w: PlannedWrite, previous: Record | None, *,
            known: bool) -> None:
    """Write one planned write inside the open transaction.

    ``previous`` is the value the write replaces, as stored, if ``known``: then only the
    item rows from the first changed position on are written (see ``_sqlite_items``).
    """
    if w.record is None:
        conn.execute(DELETE[w.kind], (w.record_id,))
        delete_items(conn, w.kind, w.record_id)
        conn.execute("INSERT OR REPLACE INTO tombstones (kind, id, version) VALUES (?,?,?)",
                     (w.kind, w.record_id, w.version))
        return
    sql = INSERT[w.kind] if w.action == "added" else UPDATE[w.kind]
    _execute_keyed(conn, w.kind, w.record, sql, row_of(w.kind, w.record, w.version))
    try:
        write_items(conn, w.kind, w.record, previous, known=known)
    except UnicodeEncodeError as exc:
        raise _not_unicode(w.kind, w.record) from exc


def bulk_rows(name: str, record: Record, version: int) -> tuple[tuple[Any, ...],
                                                                 list[tuple[str, str, int, str]]]:
    """Return the row and the item rows of a new record (for ``bulk_add``)."""
    items: list[tuple[str, str, int, str]] = []
    for field in SPLIT.get(name, ()):
        values = getattr(record, field)
        if values:
            items += item_rows(record.id, field, values)
    return row_of(name, record, version), items


def _execute_keyed(conn: sqlite3.Connection, name: str, record: Record, sql: str,
                   row: tuple[Any, ...]) -> None:
    """Run an insert or update; translate a unique-key violation to ``DuplicateError``."""
    try:
        conn.execute(sql, row)
    except sqlite3.IntegrityError as exc:
        raise _duplicate(conn, name, record) from exc
    except UnicodeEncodeError as exc:
        raise _not_unicode(name, record) from exc


def _duplicate(conn: sqlite3.Connection, name: str, record: Record) -> DuplicateError:
    for key_name, key in unique_keys(record):
        holder = conn.execute(HOLDER[(name, key_name)], (key, record.id)).fetchone()
        if holder is not None:
            return DuplicateError(name, record.id, existing_id=holder[0], key=key_name)
    return DuplicateError(name, record.id, existing_id=record.id)


def log_changes(conn: sqlite3.Connection, changes: list[tuple[str, str, FeedAction, int]],
                audit_rows: list[tuple[str, str, str]]) -> None:
    """Append a batch's history-feed entries (one transaction number) and audit rows."""
    if changes:
        last = conn.execute("SELECT tx FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
        tx = (last[0] if last else 0) + 1
        conn.executemany(
            "INSERT INTO changes (tx, kind, record_id, action, version) VALUES (?,?,?,?,?)",
            [(tx, *c) for c in changes])
    if audit_rows:
        conn.executemany("INSERT INTO audit (kind, record_id, data) VALUES (?,?,?)",
                         audit_rows)
