"""``InMemoryStore``: a complete, thread-safe store held in process memory."""

import threading
from collections.abc import Sequence
from typing import Any, cast

from oppcore._errors import DuplicateError, NotFoundError, VersionConflictError

from ._audit import AuditEntry
from ._base import QueryFilter, StoreBase, check_batch, check_feed, check_id, unique_keys
from ._protocol import Change, Kind, Page, R, Record, Write, kind_name

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
        self._changes: list[Change] = []
        self._audit: dict[tuple[str, str], list[AuditEntry]] = {}
        self._tx = 0

    def __repr__(self) -> str:
        return (f"InMemoryStore(leads={len(self._records['lead'])}, "
                f"opportunities={len(self._records['opportunity'])})")

    def get(self, kind: type[R], record_id: str) -> R:
        """Return the stored record ``record_id`` of ``kind``.

        Raises:
            NotFoundError: No such record.
            ValidationError: Unknown kind or a blank id.
        """
        name = kind_name(kind)
        check_id(record_id)
        try:
            return cast(R, self._records[name][record_id])
        except KeyError:
            raise NotFoundError(name, record_id) from None

    def apply(
        self, writes: Sequence[Write], *, audit: Sequence[AuditEntry] = ()
    ) -> tuple[Record | None, ...]:
        """Apply ``writes`` atomically and append ``audit``; return the stored values.

        Raises:
            NotFoundError: A save or delete names a missing record.
            VersionConflictError: A save or delete carries a stale version.
            DuplicateError: An add reuses an id, or a record takes another's key.
            ValidationError: The batch contains something other than writes and entries.
        """
        writes, entries = check_batch(writes, audit)
        with self._lock:
            # Stage every effect in overlays first; touch the real state only once the
            # whole batch is known to succeed.
            records: dict[tuple[str, str], Record | None] = {}
            keys: dict[tuple[str, str, str], str | None] = {}
            tombs: dict[tuple[str, str], int] = {}
            results: list[Record | None] = []
            pending: list[tuple[str, str, str, int]] = []
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
                action = {"add": "added", "save": "saved", "delete": "deleted"}[w.action]
                version = new.version if new is not None else cast(Record, current).version
                pending.append((name, w.record_id, action, version))
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
        pending: list[tuple[str, str, str, int]],
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
        seq = len(self._changes)
        for name, record_id, action, version in pending:
            seq += 1
            self._changes.append(Change(seq=seq, tx=self._tx, kind=name, record_id=record_id,
                                        action=action, version=version))  # type: ignore[arg-type]
        for entry in entries:
            self._audit.setdefault((entry.kind, entry.record_id), []).append(entry)

    def query(
        self,
        kind: type[R],
        *,
        stage: str | None = None,
        owner: str | None = None,
        account: str | None = None,
        pipeline: str | None = None,
        updated_since: Any = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[R]:
        """Return one page of matching records in ascending id order (see the protocol).

        Raises:
            ValidationError: Bad filters or limit.
        """
        f = QueryFilter.check(kind, stage=stage, owner=owner, account=account,
                              pipeline=pipeline, updated_since=updated_since, after=after,
                              limit=limit)
        with self._lock:
            table = self._records[kind_name(kind)]
            ids = sorted(i for i in table if after is None or i > after)
            items: list[R] = []
            for record_id in ids:
                record = table[record_id]
                if f.matches(record):
                    if len(items) == limit:
                        return Page(items=tuple(items), next_after=items[-1].id)
                    items.append(cast(R, record))
        return Page(items=tuple(items), next_after=None)

    def changes(self, *, after: int = 0, limit: int = 1000) -> tuple[Change, ...]:
        """Return up to ``limit`` history-feed entries with ``seq > after``, in order.

        Raises:
            ValidationError: ``after`` or ``limit`` is not an int >= 0.
        """
        after, limit = check_feed(after, limit)
        with self._lock:
            start = max(after, 0)  # seq n sits at index n - 1
            return tuple(self._changes[start:start + max(limit, 0)])

    def audit_trail(self, kind: Kind, record_id: str) -> tuple[AuditEntry, ...]:
        """Return the audit entries of one record, oldest first.

        Raises:
            ValidationError: Unknown kind or a blank or invalid id.
        """
        check_id(record_id)
        name = kind_name(kind)
        with self._lock:
            return tuple(self._audit.get((name, record_id), ()))

