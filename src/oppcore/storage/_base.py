"""``BaseStore``: everything a store must do the same way, over a few storage hooks.

:class:`BaseStore` holds the public methods of the store protocol once, with every argument
check, and :func:`plan_batch` holds the rules of a write batch once (version checks,
versions after a delete, uniqueness keys, what the history feed records). A store, ours or
a host's, implements only the storage-specific hooks, which receive checked arguments.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from oppcore._errors import ValidationError

from ._arguments import QueryFilter, check_batch, check_feed
from ._audit import AuditEntry
from ._protocol import FeedEntry, Kind, QueryPage, R, Record, StoreWrite, check_id, kind_name

__all__ = ["BaseStore"]


class BaseStore:
    """The public store methods, with every argument check, over five storage hooks.

    Subclass it to build a store over any database: the base class checks arguments,
    builds single writes as one-write batches, pages queries and offers :func:`plan_batch`
    for the rules of a batch, so a store implements only these hooks (each receives checked
    arguments and is called by the base class, never by users):

    * ``_get(kind, name, record_id) -> Record``: the stored record, or raise
      :class:`~oppcore.NotFoundError` (``name`` is ``"lead"`` or ``"opportunity"``).
    * ``_apply(writes, entries) -> tuple[Record | None, ...]``: in ONE atomic transaction,
      call :func:`plan_batch` with readers of that transaction, persist the planned writes,
      their history-feed entries (:meth:`BatchPlan.feed`) and the audit entries, and return
      :meth:`BatchPlan.results`; on any error persist nothing.
    * ``_query(f) -> (records, more)``: up to ``f.limit`` records of ``f.kind`` with
      ``id > f.after`` matching the filters (:meth:`QueryFilter.matches` tells), in
      ascending code-point id order, and whether more follow.
    * ``_changes(after, limit) -> tuple[FeedEntry, ...]``: history-feed entries with
      ``seq > after``, oldest first.
    * ``_audit_trail(name, record_id) -> tuple[AuditEntry, ...]``: one record's audit
      entries, oldest first.

    ``bulk_add`` has a default (atomic batches of ``apply``); a store with a faster path
    overrides it. The conformance kit (``oppcore.testing.contract.StoreContract``, extra
    ``oppcore[testing]``) proves the result keeps the whole contract.
    """

    # --- the store-specific hooks (arguments already checked) ----------------------------

    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        """Return the record or raise ``NotFoundError``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _get")

    def _apply(
        self, writes: tuple[StoreWrite, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        """Apply a checked batch atomically (see the class documentation)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _apply")

    def _query(self, f: "QueryFilter") -> tuple[tuple[Record, ...], bool]:
        """Return up to ``f.limit`` matching records after ``f.after``, and if more follow."""
        raise NotImplementedError(f"{type(self).__name__} must implement _query")

    def _changes(self, after: int, limit: int) -> tuple[FeedEntry, ...]:
        """Return the history-feed entries after ``after``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _changes")

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        """Return one record's audit entries, oldest first."""
        raise NotImplementedError(f"{type(self).__name__} must implement _audit_trail")

    # --- the protocol --------------------------------------------------------------------

    def get(self, kind: type[R], record_id: str) -> R:
        """Return the stored record ``record_id`` of ``kind``.

        Raises:
            NotFoundError: No such record (never added, or deleted).
            ValidationError: Unknown kind, or a blank or invalid id.
        """
        name = kind_name(kind)
        return cast(R, self._get(kind, name, check_id(record_id)))

    def apply(
        self, writes: Sequence[StoreWrite], *, audit: Sequence[AuditEntry] = ()
    ) -> tuple[Record | None, ...]:
        """Apply ``writes`` in order, atomically, and append ``audit``; return what was stored.

        Each result is the stored value (``None`` for a delete). Later writes see earlier
        ones (an add then a save of version 1 is fine).

        Raises:
            NotFoundError: A save or delete names a missing record.
            VersionConflictError: A save or delete carries a stale version.
            DuplicateError: An add reuses an id, or a record takes another's key.
            ValidationError: The batch contains something other than writes and entries.
        """
        return self._apply(*check_batch(writes, audit))

    def query(
        self,
        kind: type[R],
        *,
        stage: str | None = None,
        owner: str | None = None,
        account: str | None = None,
        pipeline: str | None = None,
        updated_since: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> QueryPage[R]:
        """Return one page of matching records in ascending id order (see the protocol).

        Raises:
            ValidationError: Bad filters or limit.
        """
        f = QueryFilter.check(kind, stage=stage, owner=owner, account=account,
                              pipeline=pipeline, updated_since=updated_since, after=after,
                              limit=limit)
        items, more = self._query(f)
        page = cast(tuple[R, ...], items)
        return QueryPage(items=page, next_after=page[-1].id if more and page else None)

    def changes(self, *, after: int = 0, limit: int = 1000) -> tuple[FeedEntry, ...]:
        """Return up to ``limit`` history-feed entries with ``seq > after``, in order.

        Raises:
            ValidationError: ``after`` or ``limit`` is not an int >= 0.
        """
        return self._changes(*check_feed(after, limit))

    def audit_trail(self, kind: Kind, record_id: str) -> tuple[AuditEntry, ...]:
        """Return the audit entries of one record, oldest first (empty if none).

        Raises:
            ValidationError: Unknown kind, or a blank or invalid id.
        """
        return self._audit_trail(kind_name(kind), check_id(record_id))

    def add(self, record: R, *, audit: AuditEntry | None = None) -> R:
        """Store a new record; return it with the version the store assigned.

        Raises:
            DuplicateError: The id or a uniqueness key is taken.
            ValidationError: ``record`` is not a lead or an opportunity.
        """
        return cast(R, self.apply((StoreWrite.add(record),), audit=_one(audit))[0])

    def save(self, record: R, *, audit: AuditEntry | None = None) -> R:
        """Replace a record if the stored version is ``record.version``; return it, version+1.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was written.
            DuplicateError: The new value takes another record's uniqueness key.
        """
        return cast(R, self.apply((StoreWrite.save(record),), audit=_one(audit))[0])

    def delete(
        self, kind: Kind, record_id: str, *, version: int, audit: AuditEntry | None = None
    ) -> None:
        """Delete a record if the stored version is ``version``.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was deleted.
        """
        self.apply((StoreWrite.delete(kind, record_id, version=version),), audit=_one(audit))

    def bulk_add(self, records: Iterable[Record], *, batch_size: int = 1000) -> int:
        """Add many new records, ``batch_size`` per atomic batch; return how many were added.

        If a batch holds a duplicate, that batch is not written and the error is raised;
        the batches before it stay written, so an interrupted import can resume from the
        first record not stored.

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
        """Add one batch of new records atomically; return how many were added.

        The default is one :meth:`apply` of ``StoreWrite.add`` writes. A store may write a
        batch faster (one multi-row insert per kind) if it keeps the same contract: all or
        nothing, the same errors, the same feed and audit as that ``apply``.
        """
        return len(self.apply([StoreWrite.add(r) for r in batch]))


def _one(audit: AuditEntry | None) -> tuple[AuditEntry, ...]:
    return () if audit is None else (audit,)
