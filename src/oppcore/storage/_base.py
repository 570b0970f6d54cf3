"""``BaseStore``: everything a store must do the same way, over a few storage hooks.

:class:`BaseStore` holds the public methods of the store protocol once, with every argument
check, and :func:`plan_batch` holds the rules of a write batch once (version checks,
versions after a delete, uniqueness keys, what the history feed records). A store, ours or
a host's, implements only the storage-specific hooks, which receive checked arguments.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal, NamedTuple, cast

import attrs

from oppcore._errors import DuplicateError, NotFoundError, ValidationError, VersionConflictError
from oppcore._identity import unique_keys
from oppcore._models import Opportunity

from ._audit import AuditEntry
from ._protocol import Change, Kind, Page, R, Record, Write, check_id, check_unicode, kind_name

__all__ = ["ACTIONS", "BaseStore", "BatchPlan", "FeedAction", "PlannedWrite", "QueryFilter",
           "Stored", "check_batch", "check_feed", "check_id", "plan_batch", "unique_keys"]

FeedAction = Literal["added", "saved", "deleted"]

ACTIONS: dict[str, FeedAction] = {
    "add": "added", "save": "saved", "delete": "deleted"}
"""The history-feed action of each write action."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_LIMIT = 100_000


def check_feed(after: object, limit: object) -> tuple[int, int]:
    """Return the checked ``after`` and ``limit`` arguments of ``Store.changes``.

    Raises:
        ValidationError: Either is not an int >= 0 (``bool`` is refused).
    """
    for name, value in (("after", after), ("limit", limit)):
        if type(value) is not int or value < 0:
            raise ValidationError(f"{name} must be an int >= 0, got {value!r}", field=name,
                                  value=value)
    return cast(int, after), cast(int, limit)


def check_batch(writes: object, audit: Sequence[AuditEntry]) -> tuple[
    tuple[Write, ...], tuple[AuditEntry, ...]
]:
    """Return the batch as tuples after checking its element types.

    Raises:
        ValidationError: A write is not a :class:`Write` or an entry not an
            :class:`AuditEntry`.
    """
    if not isinstance(writes, (list, tuple)):
        raise ValidationError("writes must be a sequence of Write values", field="writes",
                              value=writes)
    for w in writes:
        if not isinstance(w, Write):
            raise ValidationError(f"expected a Write, got {type(w).__name__}", field="writes",
                                  value=w)
    if isinstance(audit, AuditEntry):
        audit = (audit,)
    for entry in audit:
        if not isinstance(entry, AuditEntry):
            raise ValidationError(f"expected an AuditEntry, got {type(entry).__name__}",
                                  field="audit", value=entry)
    return tuple(writes), tuple(audit)


def micros(at: datetime) -> int:
    """Return an aware datetime as integer microseconds since the epoch (for indexing)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@attrs.frozen(kw_only=True)
class QueryFilter:
    """The checked arguments of ``Store.query``, as a store's ``_query`` hook receives them.

    Attributes:
        kind: :class:`~oppcore.Lead` or :class:`~oppcore.Opportunity`.
        name: The kind's name, ``"lead"`` or ``"opportunity"``.
        stage: Only opportunities in this stage (``None``: any).
        owner: Only records of this owner.
        account: Only opportunities of this account id.
        pipeline: Only opportunities of this pipeline.
        updated_since: Only records with ``updated_at >= updated_since``.
        after: Only ids greater than this one (code-point order): the paging cursor.
        limit: The page size (1 to 100,000).
    """

    kind: Kind
    name: str
    stage: str | None
    owner: str | None
    account: str | None
    pipeline: str | None
    updated_since: datetime | None
    after: str | None
    limit: int

    @classmethod
    def check(cls, kind: Kind, **args: Any) -> "QueryFilter":
        """Validate query arguments.

        Raises:
            ValidationError: Unknown kind, opportunity filters on leads, non-string filter
                values (or strings holding a lone surrogate), a naive ``updated_since`` or a
                limit outside [1, 100000].
        """
        name = kind_name(kind)
        for field in ("stage", "owner", "account", "pipeline", "after"):
            value = args[field]
            if value is not None:
                if not isinstance(value, str):
                    raise ValidationError(f"{field} must be a string or None, got {value!r}",
                                          field=field, value=value)
                check_unicode(value, field)
        if name == "lead":
            for field in ("stage", "account", "pipeline"):
                if args[field] is not None:
                    raise ValidationError(f"leads cannot be queried by {field}", field=field,
                                          value=args[field])
        since = args["updated_since"]
        if since is not None and (not isinstance(since, datetime) or since.utcoffset() is None):
            raise ValidationError("updated_since must be a timezone-aware datetime",
                                  field="updated_since", value=since)
        limit = args["limit"]
        if type(limit) is not int or not 1 <= limit <= _MAX_LIMIT:
            raise ValidationError(f"limit must be an int in [1, {_MAX_LIMIT}], got {limit!r}",
                                  field="limit", value=limit)
        return cls(kind=kind, name=name, **args)

    def matches(self, record: Record) -> bool:
        """Return whether ``record`` passes every filter (not the paging cursor)."""
        if self.owner is not None and record.owner != self.owner:
            return False
        if self.updated_since is not None and record.updated_at < self.updated_since:
            return False
        if type(record) is Opportunity:
            if self.stage is not None and record.stage_id != self.stage:
                return False
            if self.pipeline is not None and record.pipeline_id != self.pipeline:
                return False
            if self.account is not None and (
                record.account is None or record.account.id != self.account
            ):
                return False
        return True


class Stored(NamedTuple):
    """What :func:`plan_batch` needs to know of a record a store holds.

    Attributes:
        version: Its stored version.
        keys: Its uniqueness keys (:func:`unique_keys`), so a save can release them.
    """

    version: int
    keys: tuple[tuple[str, str], ...]


class PlannedWrite(NamedTuple):
    """One write of a checked batch, as the store must persist it.

    Attributes:
        kind: ``"lead"`` or ``"opportunity"``.
        record_id: The record written.
        action: The history-feed action: ``"added"``, ``"saved"`` or ``"deleted"``.
        record: The value to store, with its new version (``None`` for a delete).
        version: The version after the write (the deleted version for a delete: a later
            add of the same id starts at ``version + 1``).
        keys: The uniqueness keys the stored value holds (empty for a delete).
    """

    kind: str
    record_id: str
    action: FeedAction
    record: Record | None
    version: int
    keys: tuple[tuple[str, str], ...]


class BatchPlan(NamedTuple):
    """The outcome of a batch that passed every check: what to persist, in order.

    Attributes:
        writes: The planned writes, in the order given.
        audit: The audit entries to append with them.
        keys: ``(kind, key name, key) -> holder id`` after the batch, ``None`` for a key
            the batch released; only for stores that keep key ownership themselves (a store
            with unique indexes may ignore it).
    """

    writes: tuple[PlannedWrite, ...]
    audit: tuple[AuditEntry, ...]
    keys: Mapping[tuple[str, str, str], str | None]

    def results(self) -> tuple[Record | None, ...]:
        """What ``apply`` returns: each stored value, ``None`` for a delete."""
        return tuple(w.record for w in self.writes)

    def feed(self, *, tx: int, first_seq: int) -> tuple[Change, ...]:
        """The history-feed entries of the batch, numbered from ``first_seq`` in ``tx``."""
        return tuple(Change(seq=first_seq + i, tx=tx, kind=w.kind, record_id=w.record_id,
                            action=w.action, version=w.version)
                     for i, w in enumerate(self.writes))


_MISSING: Any = object()


def plan_batch(
    writes: Iterable[Write],
    audit: Sequence[AuditEntry] = (),
    *,
    stored: Callable[[str, str], Stored | None],
    tombstone: Callable[[str, str], int],
    key_holder: Callable[[str, str, str], str | None],
) -> BatchPlan:
    """Check a batch against what a store holds and return what to persist.

    The rules of the store contract, in one place: an add needs a free id and starts one
    version after a deleted predecessor; a save or delete needs the stored version to be
    the one the caller read; no two records of a kind hold one uniqueness key; later writes
    see earlier ones of the same batch. Call it inside the store's transaction, with
    readers of that transaction, and persist the plan only if it returns.

    Args:
        writes: The checked writes, in order.
        audit: The audit entries to append with them.
        stored: ``stored(kind, record_id)``: the stored record's version and keys, or
            ``None`` if there is none.
        tombstone: ``tombstone(kind, record_id)``: the last version of a deleted record
            with that id, 0 if none was ever deleted.
        key_holder: ``key_holder(kind, key_name, key)``: the id of the record holding a
            uniqueness key, or ``None``.

    Returns:
        The plan: planned writes, audit entries and key ownership after the batch.

    Raises:
        NotFoundError: A save or delete names a missing record.
        VersionConflictError: A save or delete carries a stale version.
        DuplicateError: An add reuses an id, or a record takes another's key.
    """
    state: dict[tuple[str, str], Stored | None] = {}
    tombs: dict[tuple[str, str], int] = {}
    keys: dict[tuple[str, str, str], str | None] = {}
    planned: list[PlannedWrite] = []
    for w in writes:
        name = kind_name(w.kind)
        slot = (name, w.record_id)
        current = state.get(slot, _MISSING)
        if current is _MISSING:
            current = stored(name, w.record_id)
        if w.action == "add":
            if current is not None:
                raise DuplicateError(name, w.record_id, existing_id=w.record_id)
            previous = tombs.get(slot)
            version = (previous if previous is not None else tombstone(name, w.record_id)) + 1
        else:
            if current is None:
                raise NotFoundError(name, w.record_id)
            expected = cast(int, w.version)
            if current.version != expected:
                raise VersionConflictError(name, w.record_id, expected=expected,
                                           actual=current.version)
            version = expected if w.action == "delete" else expected + 1
        record = None if w.action == "delete" else cast(Record, w.record).evolve(
            version=version)
        new_keys = unique_keys(record) if record is not None else ()
        for key_name, key in (current.keys if current is not None else ()):
            if (key_name, key) not in new_keys:
                keys[(name, key_name, key)] = None
        for key_name, key in new_keys:
            kslot = (name, key_name, key)
            holder = keys[kslot] if kslot in keys else key_holder(name, key_name, key)
            if holder is not None and holder != w.record_id:
                raise DuplicateError(name, w.record_id, existing_id=holder, key=key_name)
            keys[kslot] = w.record_id
        if record is None:
            state[slot] = None
            tombs[slot] = version
        else:
            state[slot] = Stored(version, new_keys)
        planned.append(PlannedWrite(name, w.record_id, ACTIONS[w.action], record, version,
                                    new_keys))
    return BatchPlan(tuple(planned), tuple(audit), keys)


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
    * ``_changes(after, limit) -> tuple[Change, ...]``: history-feed entries with
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
        self, writes: tuple[Write, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        """Apply a checked batch atomically (see the class documentation)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _apply")

    def _query(self, f: "QueryFilter") -> tuple[tuple[Record, ...], bool]:
        """Return up to ``f.limit`` matching records after ``f.after``, and if more follow."""
        raise NotImplementedError(f"{type(self).__name__} must implement _query")

    def _changes(self, after: int, limit: int) -> tuple[Change, ...]:
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
        self, writes: Sequence[Write], *, audit: Sequence[AuditEntry] = ()
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
    ) -> Page[R]:
        """Return one page of matching records in ascending id order (see the protocol).

        Raises:
            ValidationError: Bad filters or limit.
        """
        f = QueryFilter.check(kind, stage=stage, owner=owner, account=account,
                              pipeline=pipeline, updated_since=updated_since, after=after,
                              limit=limit)
        items, more = self._query(f)
        page = cast(tuple[R, ...], items)
        return Page(items=page, next_after=page[-1].id if more and page else None)

    def changes(self, *, after: int = 0, limit: int = 1000) -> tuple[Change, ...]:
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
        return cast(R, self.apply((Write.add(record),), audit=_one(audit))[0])

    def save(self, record: R, *, audit: AuditEntry | None = None) -> R:
        """Replace a record if the stored version is ``record.version``; return it, version+1.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was written.
            DuplicateError: The new value takes another record's uniqueness key.
        """
        return cast(R, self.apply((Write.save(record),), audit=_one(audit))[0])

    def delete(
        self, kind: Kind, record_id: str, *, version: int, audit: AuditEntry | None = None
    ) -> None:
        """Delete a record if the stored version is ``version``.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was deleted.
        """
        self.apply((Write.delete(kind, record_id, version=version),), audit=_one(audit))

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
        batch: list[Write] = []
        for record in records:
            batch.append(Write.add(record))
            if len(batch) == batch_size:
                total += len(self.apply(batch))
                batch = []
        if batch:
            total += len(self.apply(batch))
        return total


def _one(audit: AuditEntry | None) -> tuple[AuditEntry, ...]:
    return () if audit is None else (audit,)
