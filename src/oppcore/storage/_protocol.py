"""The store protocol: what every store (ours or a host's) promises, and its error contract.

A store keeps two kinds of record, :class:`~oppcore.Lead` and :class:`~oppcore.Opportunity`,
each identified by its ``id`` within its kind. Every method names the kind by its class
(``store.get(Opportunity, "opp-1")``), so one small protocol covers both.

Error contract (the conformance kit in :mod:`oppcore.testing` checks every line):

* ``get`` of an unknown or deleted id raises :class:`~oppcore.NotFoundError`.
* ``add`` stores a new record and returns it with the version the store assigned (``1``;
  after a delete of the same id, one more than the deleted record's last version, so a stale
  copy of the deleted record can never overwrite its successor). If the id, or a uniqueness
  key (a lead's normalised e-mail, any record's normalised external key), is already taken
  by another record of the same kind, it raises :class:`~oppcore.DuplicateError` carrying
  ``existing_id`` and ``key``.
* ``save`` replaces a record if the stored version equals ``record.version`` (the version
  the caller read) and returns the stored value with ``version + 1``. Otherwise it raises
  :class:`~oppcore.VersionConflictError` and **nothing is written**. Saving an unknown or
  deleted id raises :class:`~oppcore.NotFoundError`; taking another record's uniqueness key
  raises :class:`~oppcore.DuplicateError`.
* ``delete`` removes a record with the same version check; the record is
  :class:`~oppcore.NotFoundError` afterwards (not a conflict).
* ``apply`` writes a batch atomically: every write or none. The first failing write's error
  is raised and the store is unchanged (including the history feed and the audit trail).
* ``query`` returns records in ascending ``id`` order (code-point order), or with
  ``order="updated_at"`` in ascending ``(updated_at, id)`` order, with keyset paging: pass
  the previous page's ``next_after``. A record that exists, matches the filters and is not
  written for the whole paging run is returned exactly once, whatever other writers do
  meanwhile (by id, this holds even for records written during the run; by ``updated_at``
  a record written during the run moves to its new place and may be returned again there).
* ``changes`` is the append-only history feed: one :class:`FeedEntry` per written record, in
  one global order (``seq`` increasing); the changes of one transaction are contiguous.
* ``audit_trail`` returns the :class:`~oppcore.AuditEntry` values written with a record's
  writes, oldest first; they survive the record's deletion. A store records exactly the
  entries it is given and never invents one: a write without ``audit=`` appears in the
  history feed (which record, what action, which version, which transaction) but adds no
  audit entry, because a store knows neither who acts nor when (time enters as an
  argument). :class:`~oppcore.OpportunityService` passes an entry with every write; code
  that writes to a store directly passes its own (:meth:`~oppcore.AuditEntry.for_change`).

Values passed in are never mutated (they are frozen); a store must be safe to use from
several threads.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

import attrs

from oppcore._checks import COUNT, check_bounds, in_bounds
from oppcore._copying import trusted
from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity, kind_name, record_class
from oppcore._money import Money

from ._audit import AuditEntry

__all__ = ["FeedEntry", "Kind", "QueryPage", "R", "Record", "Store", "StoreWrite", "check_id",
           "check_unicode", "kind_name", "record_class"]

Record = Lead | Opportunity
"""A stored record: a lead or an opportunity."""

Kind = type[Lead] | type[Opportunity]
"""The class naming a kind of record."""

R = TypeVar("R", Lead, Opportunity)

def check_id(record_id: object, field: str = "record_id") -> str:
    """Return ``record_id`` if it is a non-blank string that is valid Unicode.

    Lone surrogates (``"\\ud800"``, e.g. from a bad decode) are refused: they cannot be
    stored as UTF-8, so a database-backed store could not keep or even look them up.

    Raises:
        ValidationError: Otherwise.
    """
    if not isinstance(record_id, str) or not record_id.strip():
        raise ValidationError(f"record id must be a non-blank string, got {record_id!r}",
                              field=field, value=record_id)
    check_unicode(record_id, field)
    return record_id


def check_unicode(text: str, field: str) -> None:
    """Refuse a string that cannot be encoded as UTF-8 (it holds a lone surrogate).

    Raises:
        ValidationError: ``text`` holds a lone surrogate.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{field} is not valid Unicode (it holds a lone surrogate): "
                                  f"{text!r}", field=field, value=text) from None


def _check_version(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValidationError(
            f"version must be a non-negative int, got {value!r}", field="version", value=value
        )
    return value


@attrs.frozen(kw_only=True)
class StoreWrite:
    """One write of a batch passed to :meth:`Store.apply`.

    Build one with :meth:`add`, :meth:`save` or :meth:`delete` rather than directly.

    Attributes:
        action: ``"add"``, ``"save"`` or ``"delete"``.
        kind: :class:`~oppcore.Lead` or :class:`~oppcore.Opportunity`.
        record_id: Id of the record written.
        record: The new value (``None`` for a delete).
        version: The version the caller read (``record.version`` for a save, the version
            to delete for a delete, ``None`` for an add).
    """

    action: Literal["add", "save", "delete"]
    kind: Kind
    record_id: str
    record: Record | None = None
    version: int | None = attrs.field(default=None, metadata=in_bounds(COUNT))

    def __attrs_post_init__(self) -> None:
        if self.action not in ("add", "save", "delete"):
            raise ValidationError(f"must be 'add', 'save' or 'delete', got {self.action!r}",
                                  model="StoreWrite", field="action", value=self.action)
        kind_name(self.kind)
        check_id(self.record_id)
        check_bounds(self)

    @classmethod
    def add(cls, record: Record) -> "StoreWrite":
        """Return a write that adds ``record``.

        Raises:
            ValidationError: ``record`` is not a lead or an opportunity, or its id holds a
                lone surrogate.
        """
        kind = _record_kind(record)
        # Every field is checked here (the record's version by the record itself): built
        # unchecked, as bulk adds make one per record.
        return trusted(cls, action="add", kind=kind, record_id=check_id(record.id),
                       record=record, version=None)

    @classmethod
    def save(cls, record: Record) -> "StoreWrite":
        """Return a write that saves ``record`` if the store still holds ``record.version``.

        Raises:
            ValidationError: ``record`` is not a lead or an opportunity, or its id holds a
                lone surrogate.
        """
        kind = _record_kind(record)
        return trusted(cls, action="save", kind=kind, record_id=check_id(record.id),
                       record=record, version=record.version)

    @classmethod
    def delete(cls, kind: Kind, record_id: str, *, version: int) -> "StoreWrite":
        """Return a write that deletes a record if the store still holds ``version``.

        Raises:
            ValidationError: Unknown kind, a blank or invalid id or a negative version.
        """
        kind_name(kind)
        return cls(action="delete", kind=kind, record_id=check_id(record_id),
                   version=_check_version(version))


def _record_kind(record: object) -> Kind:
    if type(record) is Lead:
        return Lead
    if type(record) is Opportunity:
        return Opportunity
    raise ValidationError(
        f"a store keeps Lead and Opportunity values, got {type(record).__name__}",
        field="record", value=record,
    )


@attrs.frozen(kw_only=True)
class FeedEntry:
    """One entry of a store's append-only history feed.

    Attributes:
        seq: Position in the feed (strictly increasing, store-wide).
        tx: The transaction (batch) that wrote it; one transaction's changes are contiguous.
        kind: ``"lead"`` or ``"opportunity"``.
        record_id: The record written.
        action: ``"added"``, ``"saved"`` or ``"deleted"``.
        version: The record's version after the write (the deleted version for a delete).
    """

    seq: int
    tx: int
    kind: str
    record_id: str
    action: Literal["added", "saved", "deleted"]
    version: int


@attrs.frozen(kw_only=True)
class QueryPage(Generic[R]):
    """One page of a query.

    Attributes:
        items: The records, in the query's order (ascending id by default).
        next_after: Pass it as ``after`` (with the same filters and order) to get the next
            page; ``None`` on the last page.
    """

    items: tuple[R, ...]
    next_after: str | None


@runtime_checkable
class Store(Protocol):
    """A store of leads and opportunities with optimistic concurrency.

    The module documentation above is the error contract; :class:`oppcore.testing.StoreContract`
    checks it. ``InMemoryStore`` and ``SQLiteStore`` implement it; a host implements it over
    its own database.
    """

    def get(self, kind: type[R], record_id: str) -> R:
        """Return the stored record ``record_id`` of ``kind``.

        Raises:
            NotFoundError: No such record (never added, or deleted).
        """
        ...

    def add(self, record: R, *, audit: AuditEntry | None = None) -> R:
        """Store a new record; return it with the version the store assigned.

        Raises:
            DuplicateError: The id or a uniqueness key is taken (``.existing_id``, ``.key``).
        """
        ...

    def save(self, record: R, *, audit: AuditEntry | None = None) -> R:
        """Replace a record if the stored version is ``record.version``; return it, version+1.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was written.
            DuplicateError: The new value takes another record's uniqueness key.
        """
        ...

    def delete(
        self, kind: Kind, record_id: str, *, version: int, audit: AuditEntry | None = None
    ) -> None:
        """Delete a record if the stored version is ``version``.

        Raises:
            NotFoundError: No such record.
            VersionConflictError: The stored version differs; nothing was deleted.
        """
        ...

    def apply(
        self, writes: Sequence[StoreWrite], *, audit: Sequence[AuditEntry] = ()
    ) -> tuple[Record | None, ...]:
        """Apply ``writes`` in order, atomically, and append ``audit``; return what was stored.

        Each result is the stored value (``None`` for a delete). Later writes see earlier
        ones (an add then a save of version 1 is fine).

        Raises:
            NotFoundError, DuplicateError, VersionConflictError: As for the single writes;
                nothing at all was written.
        """
        ...

    def query(
        self,
        kind: type[R],
        *,
        stage: str | None = None,
        owner: str | None = None,
        account: str | None = None,
        pipeline: str | None = None,
        updated_since: datetime | None = None,
        close_from: date | None = None,
        close_to: date | None = None,
        amount_min: Money | None = None,
        amount_max: Money | None = None,
        order: Literal["id", "updated_at"] = "id",
        after: str | None = None,
        limit: int = 100,
    ) -> QueryPage[R]:
        """Return **one page** of records matching every filter given, in the order asked for.

        One page only (``limit``, 100 by default): pass ``next_after`` back as ``after`` for
        the next, or read every page with :func:`oppcore.storage.query_all`.

        Args:
            kind: Lead or Opportunity.
            stage: Opportunity stage id.
            owner: Owner user id.
            account: Opportunity account id.
            pipeline: Opportunity pipeline id.
            updated_since: Only records with ``updated_at >= updated_since`` (aware).
            close_from: Only opportunities expected to close on or after this date.
            close_to: Only opportunities expected to close on or before this date.
            amount_min: Only opportunities whose amount is in this money's currency and at
                least this much (never compared across currencies).
            amount_max: Only opportunities whose amount is in this money's currency and at
                most this much (with ``amount_min``, the same currency).
            order: ``"id"`` (ascending code-point id) or ``"updated_at"`` (ascending
                ``(updated_at, id)``).
            after: The previous page's ``next_after`` (with ``order="updated_at"`` an opaque
                ``"<microseconds>:<id>"`` cursor).
            limit: Page size (>= 1).

        A deal without an expected close (or an amount) never matches a close (or amount)
        range; both ends of both ranges are inclusive.

        Raises:
            ValidationError: A filter that does not apply to the kind (``stage`` on leads),
                a naive datetime, an empty or mixed-currency range, an unknown order, a
                cursor of another order or a bad limit; the error names the argument.
        """
        ...

    def changes(self, *, after: int = 0, limit: int = 1000) -> tuple[FeedEntry, ...]:
        """Return up to ``limit`` history-feed entries with ``seq > after``, in order."""
        ...

    def bulk_add(self, records: Iterable[Record], *, batch_size: int = 1000) -> int:
        """Add many new records in atomic batches of ``batch_size``; return how many.

        A batch holding a duplicate is not written and its error is raised; earlier batches
        stay written. :class:`~oppcore.storage.BaseStore` provides it; a store with a faster
        path (``SQLiteStore``) overrides it.

        Raises:
            DuplicateError: A record's id or uniqueness key is taken.
        """
        ...

    def audit_trail(self, kind: Kind, record_id: str) -> tuple[AuditEntry, ...]:
        """Return the audit entries of one record, oldest first (empty if none)."""
        ...
