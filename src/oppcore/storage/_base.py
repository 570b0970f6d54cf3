"""Parts shared by the reference stores: argument checks, uniqueness keys, query filters.

:class:`StoreBase` holds the public methods of the protocol once, with every argument check;
a store implements only the storage-specific steps (``_get``, ``_apply``, ``_query``,
``_changes``, ``_audit_trail``), which receive checked arguments.
"""

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Literal, cast

import attrs

from oppcore._errors import ValidationError
from oppcore._identity import unique_keys
from oppcore._models import Opportunity

from ._audit import AuditEntry
from ._protocol import Change, Kind, Page, R, Record, Write, check_id, check_unicode, kind_name

__all__ = ["ACTIONS", "FeedAction", "QueryFilter", "StoreBase", "check_batch", "check_feed",
           "check_id", "unique_keys"]

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
    """The checked arguments of ``Store.query``."""

    kind: Kind
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
        return cls(kind=kind, **args)

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


class StoreBase:
    """The public store methods, with their argument checks, over a few store-specific steps.

    Subclasses implement ``_get``, ``_apply``, ``_query``, ``_changes`` and ``_audit_trail``;
    the single-record writes are one-write batches of ``apply``.
    """

    # --- the store-specific steps (arguments already checked) ----------------------------

    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        """Return the record or raise ``NotFoundError``."""
        raise NotImplementedError

    def _apply(
        self, writes: tuple[Write, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        """Apply a checked batch atomically."""
        raise NotImplementedError

    def _query(self, f: "QueryFilter") -> tuple[tuple[Record, ...], bool]:
        """Return up to ``f.limit`` matching records after ``f.after`` and whether more follow."""
        raise NotImplementedError

    def _changes(self, after: int, limit: int) -> tuple[Change, ...]:
        """Return the history-feed entries after ``after``."""
        raise NotImplementedError

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        """Return one record's audit entries, oldest first."""
        raise NotImplementedError

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


def _one(audit: AuditEntry | None) -> tuple[AuditEntry, ...]:
    return () if audit is None else (audit,)
