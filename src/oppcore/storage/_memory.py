"""``InMemoryStore``: a complete, thread-safe store held in process memory."""

import threading
from typing import Any, cast

from oppcore._errors import DuplicateError, NotFoundError, VersionConflictError

from ._audit import AuditEntry
from ._base import ACTIONS, FeedAction, QueryFilter, StoreBase, unique_keys
from ._protocol import Change, Kind, Record, Write, kind_name

__all__ = ["InMemoryStore"]

_ABSENT: Any = object()


class InMemoryStore(StoreBase):
    """A store that keeps everything in memory: for tests, notebooks and small tools.

    It implements the whole :class:`~oppcore.Store` contract, including uniqueness keys,
    atomic batches, the history feed and the audit trail. One lock serialises writes and
    reads, so it is safe to share between threads; records are frozen values, so what a
    reader gets can never change under it. Nothing is persisted.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Record]] = {"lead": {}, "opportunity": {}}
        self._keys: dict[tuple[str, str, str], str] = {}
        self._tombstones: dict[tuple[str, str], int] = {}
        self._changes_list: list[Change] = []
        self._audit: dict[tuple[str, str], list[AuditEntry]] = {}
        self._tx = 0

    def __repr__(self) -> str:
        return (f"InMemoryStore(leads={len(self._records['lead'])}, "
                f"opportunities={len(self._records['opportunity'])})")

    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        try:
            return self._records[name][record_id]
        except KeyError:
            raise NotFoundError(name, record_id) from None

    def _apply(
        self, writes: tuple[Write, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        with self._lock:
            # Stage every effect in overlays first; touch the real state only once the
            # whole batch is known to succeed.
            records: dict[tuple[str, str], Record | None] = {}
            keys: dict[tuple[str, str, str], str | None] = {}
            tombs: dict[tuple[str, str], int] = {}
            results: list[Record | None] = []
            pending: list[tuple[str, str, FeedAction, int]] = []
            for w in writes:
                name = kind_name(w.kind)
                slot = (name, w.record_id)
                current = records.get(slot, _ABSENT)
                if current is _ABSENT:
                    current = self._records[name].get(w.record_id)
                if w.action == "add":
                    if current is not None:
                        raise DuplicateError(name, w.record_id, existing_id=w.record_id)
                    tomb = tombs.get(slot, self._tombstones.get(slot, 0))
                    new: Record | None = cast(Record, w.record).evolve(version=tomb + 1)
                else:
                    if current is None:
                        raise NotFoundError(name, w.record_id)
                    expected = cast(int, w.version)
                    if current.version != expected:
                        raise VersionConflictError(name, w.record_id, expected=expected,
                                                   actual=current.version)
                    new = (None if w.action == "delete"
                           else cast(Record, w.record).evolve(version=expected + 1))
                self._stage_keys(name, w.record_id, current, new, keys)
                records[slot] = new
                if new is None:
                    tombs[slot] = cast(Record, current).version
                results.append(new)
                version = new.version if new is not None else cast(Record, current).version
                pending.append((name, w.record_id, ACTIONS[w.action], version))
            self._commit(records, keys, tombs, pending, entries)
        return tuple(results)

    def _stage_keys(
        self,
        name: str,
        record_id: str,
        current: Record | None,
        new: Record | None,
        keys: dict[tuple[str, str, str], str | None],
    ) -> None:
        old_keys = unique_keys(current) if current is not None else ()
        new_keys = unique_keys(new) if new is not None else ()
        for key_name, key in old_keys:
            if (key_name, key) not in new_keys:
                keys[(name, key_name, key)] = None
        for key_name, key in new_keys:
            slot = (name, key_name, key)
            holder = keys[slot] if slot in keys else self._keys.get(slot)
            if holder is not None and holder != record_id:
                raise DuplicateError(name, record_id, existing_id=holder, key=key_name)
            keys[slot] = record_id

    def _commit(
        self,
        records: dict[tuple[str, str], Record | None],
        keys: dict[tuple[str, str, str], str | None],
        tombs: dict[tuple[str, str], int],
        pending: list[tuple[str, str, FeedAction, int]],
        entries: tuple[AuditEntry, ...],
    ) -> None:
        for (name, record_id), record in records.items():
            if record is None:
                self._records[name].pop(record_id, None)
            else:
                self._records[name][record_id] = record
        for slot, holder in keys.items():
            if holder is None:
                self._keys.pop(slot, None)
            else:
                self._keys[slot] = holder
        self._tombstones.update(tombs)
        if pending:
            self._tx += 1
        seq = len(self._changes_list)
        for name, record_id, action, version in pending:
            seq += 1
            self._changes_list.append(Change(seq=seq, tx=self._tx, kind=name, record_id=record_id,
                                        action=action, version=version))
        for entry in entries:
            self._audit.setdefault((entry.kind, entry.record_id), []).append(entry)

    def _query(self, f: QueryFilter) -> tuple[tuple[Record, ...], bool]:
        with self._lock:
            table = self._records[kind_name(f.kind)]
            ids = sorted(i for i in table if f.after is None or i > f.after)
            items: list[Record] = []
            for record_id in ids:
                record = table[record_id]
                if f.matches(record):
                    if len(items) == f.limit:
                        return tuple(items), True
                    items.append(record)
        return tuple(items), False

    def _changes(self, after: int, limit: int) -> tuple[Change, ...]:
        with self._lock:
            return tuple(self._changes_list[after:after + limit])  # seq n is at index n - 1

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        with self._lock:
            return tuple(self._audit.get((name, record_id), ()))
