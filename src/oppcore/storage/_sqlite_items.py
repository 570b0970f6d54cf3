"""The append-only collections of :class:`~oppcore.SQLiteStore` records, in their own table.

A long-lived deal gathers thousands of stage moves and activities. Stored inside the
record's JSON, every move would read, decode, encode and rewrite all of them. So the
*split fields* of a kind (:data:`SPLIT`) live one item per row in an items table keyed by
``(record_id, field, pos)``, and the record row keeps everything else:

* a write compares the new value of each split field with the value it replaces (known
  from the batch or from the store's :class:`~._sqlite_cache.RecordCache`) and rewrites
  only the rows from the first position that differs: an append inserts the appended rows
  alone, a splice rewrites from the splice on. When the value it replaces is not known,
  the field is rewritten whole (correct, and O(n)).
* a read first reads the row with its version and whether it has items: a record without
  items is decoded from the row alone, and one the cache holds at that version is not
  decoded at all. Otherwise it reads the row and its item rows in ONE statement (one
  snapshot: never a row of one commit and items of another) and splices the items back
  into the record's JSON, so decoding goes through :func:`oppcore.serde.loads` as before.
  A query page and its items are read in one read transaction.

Only fixed table and column names appear in the SQL; every value is bound.
"""

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from operator import is_
from typing import Any, Final, cast

from oppcore import serde
from oppcore._copying import trusted_evolve
from oppcore._serde import encode_model

from ._protocol import Record

__all__ = ["ITEMS", "SPLIT", "assemble", "common_prefix", "delete_items", "insert_items",
           "item_rows", "page_texts", "read_record", "record_text", "split_items",
           "write_items"]

SPLIT: Final[dict[str, tuple[str, ...]]] = {"opportunity": ("activities", "stage_history")}
"""The tuple fields of each kind that live in the items table, not in the record row (a
kind not listed keeps its whole record in the row): those that grow for the life of a
record, one entry per move or touch. Contacts, quotes and close-date pushes stay short and
stay in the row."""

ITEMS: Final[dict[str, str]] = {"opportunity": "opportunity_items"}
"""The items table of each kind with split fields."""

_INSERT: Final = {"opportunity": "INSERT INTO opportunity_items (record_id, field, pos, data) "
                                  "VALUES (?,?,?,?)"}
_DELETE: Final = {"opportunity": "DELETE FROM opportunity_items WHERE record_id = ?"}
_DELETE_FROM: Final = {"opportunity": "DELETE FROM opportunity_items WHERE record_id = ? AND "
                                      "field = ? AND pos >= ?"}
_PAGE_ITEMS: Final = {"opportunity": "SELECT record_id, field, pos, data FROM "
                                     "opportunity_items WHERE record_id IN "}

_HEAD: Final = {
    "opportunity": "SELECT version, data, EXISTS (SELECT 1 FROM opportunity_items WHERE "
                   "record_id = ?1) FROM opportunities WHERE id = ?1",
}
# One statement, one snapshot: the record row (field NULL) and its item rows.
_READ: Final = {
    "opportunity": "SELECT NULL, version, data FROM opportunities WHERE id = ?1 UNION ALL "
                   "SELECT field, pos, data FROM opportunity_items WHERE record_id = ?1",
}


def record_text(name: str, record: Record, version: int) -> str:
    """Return the JSON of the record row: the record at ``version`` without split fields."""
    fields = SPLIT.get(name, ())
    for field in fields:
        if getattr(record, field):
            # Encode a copy with the split fields emptied, so the work does not grow with
            # them. An empty tuple is a valid value of each, so the copy needs no check.
            record = trusted_evolve(record, dict.fromkeys(fields, ()))
            break

    def edit(data: dict[str, Any]) -> None:
        for field in fields:
            del data[field]
        data["version"] = version

    return encode_model(record, edit)


def split_items(name: str, record: Record) -> dict[str, tuple[Any, ...]]:
    """Return the split fields of ``record`` by name (empty for a kind without any)."""
    return {f: getattr(record, f) for f in SPLIT.get(name, ())}


def item_rows(record_id: str, field: str, items: Sequence[Any],
              start: int = 0) -> list[tuple[str, str, int, str]]:
    """Return the item rows of ``items[start:]``, at their positions in the field."""
    return [(record_id, field, pos,
             encode_model(items[pos]))
            for pos in range(start, len(items))]


def insert_items(conn: sqlite3.Connection, name: str,
                 rows: Iterable[tuple[str, str, int, str]]) -> None:
    """Insert item rows of kind ``name``."""
    conn.executemany(_INSERT[name], rows)


def delete_items(conn: sqlite3.Connection, name: str, record_id: str) -> None:
    """Delete every item row of a record (a kind without split fields has none)."""
    if name in _DELETE:
        conn.execute(_DELETE[name], (record_id,))


def common_prefix(old: tuple[Any, ...], new: tuple[Any, ...]) -> int:
    """Return how many leading items ``old`` and ``new`` store alike.

    Items are alike when they are the same object or have the same wire form: ``==`` is not
    enough (two times at one instant in different offsets are equal, yet stored apart).
    The usual move shares every old item with the new value, so the identity check over the
    whole old tuple runs in C and answers at once.
    """
    n = len(old)
    if new is old or (len(new) >= n and all(map(is_, old, new))):
        return n
    k = 0
    for a, b in zip(old, new, strict=False):
        if a is not b and serde.unstructure(a) != serde.unstructure(b):
            break
        k += 1
    return k


def write_items(conn: sqlite3.Connection, name: str, record: Record,
                previous: Record | None, *, known: bool) -> None:
    """Bring the item rows of ``record`` up to date inside the open transaction.

    Args:
        conn: The connection, in the write transaction.
        name: The kind name.
        record: The value being stored.
        previous: The value it replaces, as stored (``None``: no item rows are stored).
        known: Whether ``previous`` is known; if not, every item row is rewritten.
    """
    fields = SPLIT.get(name)
    if not fields:
        return
    rows: list[tuple[str, str, int, str]] = []
    if not known:
        delete_items(conn, name, record.id)
    for field in fields:
        new = getattr(record, field)
        start = 0
        if known and previous is not None:
            old = getattr(previous, field)
            start = common_prefix(old, new)
            if start < len(old):
                conn.execute(_DELETE_FROM[name], (record.id, field, start))
        rows += item_rows(record.id, field, new, start)
    if rows:
        insert_items(conn, name, rows)


def page_texts(conn: sqlite3.Connection, name: str, rows: list[tuple[str, str]]) -> list[str]:
    """Return the whole JSON of each ``(id, row JSON)`` of a query page, items spliced in.

    Call it in the read transaction that read ``rows``, so the items match them.
    """
    found: dict[str, list[tuple[str | None, int, str]]] = {
        rid: [(None, 0, text)] for rid, text in rows}
    ids = list(found)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sql = _PAGE_ITEMS[name] + "(" + ",".join("?" * len(chunk)) + ")"
        for rid, field, pos, data in conn.execute(sql, chunk):
            found[rid].append((field, pos, data))
    return [cast(str, assemble(found[rid])) for rid in ids]


def _splice(text: str, items: dict[str, list[tuple[int, str]]]) -> str:
    """Put each field's item JSON back into the record row's JSON object."""
    if not items:
        return text
    parts = []
    for field, rows in items.items():
        rows.sort()
        parts.append(f'{json.dumps(field)}:[{",".join(data for _, data in rows)}]')
    return f'{text.rstrip()[:-1]},{",".join(parts)}}}'


def read_record(conn: sqlite3.Connection, name: str, record_id: str,
                cached: Callable[[int], Record | None]) -> tuple[Record | str | None, bool]:
    """Read one record of a kind with split fields.

    The first statement reads the row, its version and whether it has item rows: a record
    without items is decoded from the row as it is, and one the cache holds at that version
    is returned from the cache. Otherwise a second statement reads the row and its items
    together (its own snapshot, so they always belong to one commit).

    Args:
        conn: The connection (autocommit: each statement is its own snapshot).
        name: The kind name.
        record_id: The record.
        cached: ``cached(version)`` returns the decoded record at that version, or ``None``.

    Returns:
        The cached record, the JSON of the whole record to decode, or ``None`` if there is
        no such record; and whether the record has items (worth caching once decoded).
    """
    head = conn.execute(_HEAD[name], (record_id,)).fetchone()
    if head is None:
        return None, False
    version, text, has_items = head
    if not has_items:
        return cast(str, text), False
    hit = cached(version)
    if hit is not None:
        return hit, True
    return assemble(conn.execute(_READ[name], (record_id,))), True


def assemble(rows: Iterable[tuple[Any, Any, str]]) -> str | None:
    """Return the whole record's JSON from its row and item rows (``None`` if no row)."""
    text = None
    items: dict[str, list[tuple[int, str]]] = {}
    for field, pos, data in rows:
        if field is None:
            text = data
        else:
            items.setdefault(field, []).append((pos, data))
    return None if text is None else _splice(text, items)
