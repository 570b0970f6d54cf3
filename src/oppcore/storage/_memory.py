"""``InMemoryStore``: a complete, thread-safe store held in process memory."""

import threading

from oppcore._errors import NotFoundError
from oppcore._identity import unique_keys

from ._arguments import QueryFilter
from ._audit import AuditEntry
from ._base import BaseStore
from ._plan import BatchPlan, Stored, plan_batch
from ._protocol import FeedEntry, Kind, Record, StoreWrite

__all__ = ["InMemoryStore"]

class InMemoryStore(BaseStore):
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
        self._changes_list: list[FeedEntry] = []
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
        self, writes: tuple[StoreWrite, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        with self._lock:
            # Plan first (every check, against the state as the batch goes); touch the real
            # state only once the whole batch is known to succeed.
            plan = plan_batch(writes, entries, stored=self._stored,
                              tombstone=lambda name, rid: self._tombstones.get((name, rid), 0),
                              key_holder=lambda *slot: self._keys.get(slot))
            self._commit(plan)
        return plan.results()

    def _stored(self, name: str, record_id: str) -> Stored | None:
        record = self._records[name].get(record_id)
        return None if record is None else Stored(record.version, unique_keys(record))

    def _commit(self, plan: BatchPlan) -> None:
        for w in plan.writes:
            if w.record is None:
                self._records[w.kind].pop(w.record_id, None)
                self._tombstones[(w.kind, w.record_id)] = w.version
            else:
                self._records[w.kind][w.record_id] = w.record
        for slot, holder in plan.keys.items():
            if holder is None:
                self._keys.pop(slot, None)
            else:
                self._keys[slot] = holder
        if plan.writes:
            self._tx += 1
            self._changes_list.extend(plan.feed(tx=self._tx,
                                                first_seq=len(self._changes_list) + 1))
        for entry in plan.audit:
            self._audit.setdefault((entry.kind, entry.record_id), []).append(entry)

    def _query(self, f: QueryFilter) -> tuple[tuple[Record, ...], bool]:
        with self._lock:
            return f.page(self._records[f.name].values())

    def _changes(self, after: int, limit: int) -> tuple[FeedEntry, ...]:
        with self._lock:
            return tuple(self._changes_list[after:after + limit])  # seq n is at index n - 1

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        with self._lock:
            return tuple(self._audit.get((name, record_id), ()))
