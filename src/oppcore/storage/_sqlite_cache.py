"""The decoded-record cache of an :class:`~oppcore.SQLiteStore` (a contained fast path).

Decoding a deal with thousands of stage moves costs milliseconds, and the service's
get -> change -> save loop would pay it on every call. The cache keeps the last decoded
value of recently used records that hold split items, keyed by kind and id; each entry
carries its version.

Why it never returns stale data, even with several processes writing one file:

* an entry is only ever a value that was committed at its version: one read from a
  committed snapshot, or one this store wrote, put in after its ``COMMIT`` succeeded;
* versions of one id only grow (a save needs the stored version and adds one; an add after
  a delete continues from the deleted version), so no two commits store different values
  at one version of one id;
* a read takes an entry only if its version equals the version in the row it reads in the
  same statement, so anything committed since, by any connection, is a miss.

The one thing that could break the second point is copying an older file over the
database while a store has it open (restoring a backup in place, then writing again); SQLite
does not support that either: close the store, restore, open it again.

It is bounded (records and items held) and thread-safe; in a child process after ``fork``
it starts empty (its lock may have been held by a parent thread).
"""

import os
import threading
from collections import OrderedDict
from typing import Final

from ._protocol import Record
from ._sqlite_items import split_items

__all__ = ["RecordCache"]

MAX_RECORDS: Final = 256
"""At most this many records are cached."""
MAX_ITEMS: Final = 100_000
"""At most this many split items are held by the cached records together (a decoded stage
move takes about 400 bytes: some 40 MB at most)."""


class RecordCache:
    """A bounded, thread-safe LRU cache of decoded records with split items."""

    def __init__(self, max_records: int = MAX_RECORDS, max_items: int = MAX_ITEMS) -> None:
        self._max_records = max_records
        self._max_items = max_items
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[Record, int]] = OrderedDict()
        self._items = 0

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    def get(self, name: str, record_id: str, version: int) -> Record | None:
        """Return the cached record if it is cached at exactly ``version``."""
        self._check_fork()
        with self._lock:
            entry = self._entries.get((name, record_id))
            if entry is None or entry[0].version != version:
                return None
            self._entries.move_to_end((name, record_id))
            return entry[0]

    def put(self, name: str, record: Record) -> None:
        """Cache a committed value (a record without split items is not kept).

        A value older than the cached one is ignored (two threads may finish out of order).
        """
        size = sum(len(items) for items in split_items(name, record).values())
        if size == 0 or size > self._max_items:
            if (name, record.id) in self._entries:  # the usual record: nothing to drop
                self.drop(name, record.id)
            return
        self._check_fork()
        slot = (name, record.id)
        with self._lock:
            old = self._entries.get(slot)
            if old is not None:
                if old[0].version > record.version:
                    return
                self._items -= old[1]
            self._entries[slot] = (record, size)
            self._entries.move_to_end(slot)
            self._items += size
            while len(self._entries) > self._max_records or self._items > self._max_items:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._items -= dropped

    def drop(self, name: str, record_id: str) -> None:
        """Forget a record (deleted, or its new value is not worth keeping)."""
        self._check_fork()
        with self._lock:
            old = self._entries.pop((name, record_id), None)
            if old is not None:
                self._items -= old[1]

    def clear(self) -> None:
        """Forget every record (the store closed)."""
        self._check_fork()
        with self._lock:
            self._entries.clear()
            self._items = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
