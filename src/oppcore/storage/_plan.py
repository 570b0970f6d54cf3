"""The rules of a write batch, once for every store: :func:`plan_batch`.

An add needs a free id and continues the versions of a deleted predecessor; a save or
delete needs the version the caller read; no two records of a kind hold one uniqueness
key; the history feed records what each write did. Stores call :func:`plan_batch` inside
their own transaction and persist the plan it returns.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, cast

from oppcore._errors import DuplicateError, NotFoundError, VersionConflictError
from oppcore._identity import unique_keys

from ._audit import AuditEntry
from ._protocol import FeedEntry, Record, StoreWrite, kind_name

__all__ = ["ACTIONS", "BatchPlan", "FeedAction", "PlannedWrite", "Stored", "plan_batch"]

FeedAction = Literal["added", "saved", "deleted"]

ACTIONS: dict[str, FeedAction] = {
    "add": "added", "save": "saved", "delete": "deleted"}
"""The history-feed action of each write action."""

class Stored(NamedTuple):
    """What :func:`plan_batch` needs to know of a record a store holds."""

    version: int
    """Its stored version."""
    keys: tuple[tuple[str, str], ...]
    """Its uniqueness keys (:func:`unique_keys`), so a save can release them."""


class PlannedWrite(NamedTuple):
    """One write of a checked batch, as the store must persist it."""

    kind: str
    """``"lead"`` or ``"opportunity"``."""
    record_id: str
    """The record written."""
    action: FeedAction
    """The history-feed action: ``"added"``, ``"saved"`` or ``"deleted"``."""
    record: Record | None
    """The value to store, with its new version (``None`` for a delete)."""
    version: int
    """The version after the write (the deleted version for a delete: a later add of the
    same id starts at ``version + 1``)."""
    keys: tuple[tuple[str, str], ...]
    """The uniqueness keys the stored value holds (empty for a delete)."""


class BatchPlan(NamedTuple):
    """The outcome of a batch that passed every check: what to persist, in order."""

    writes: tuple[PlannedWrite, ...]
    """The planned writes, in the order given."""
    audit: tuple[AuditEntry, ...]
    """The audit entries to append with them."""
    keys: Mapping[tuple[str, str, str], str | None]
    """``(kind, key name, key) -> holder id`` after the batch, ``None`` for a key the batch
    released; only for stores that keep key ownership themselves (a store with unique
    indexes may ignore it)."""

    def results(self) -> tuple[Record | None, ...]:
        """What ``apply`` returns: each stored value, ``None`` for a delete."""
        return tuple(w.record for w in self.writes)

    def feed(self, *, tx: int, first_seq: int) -> tuple[FeedEntry, ...]:
        """The history-feed entries of the batch, numbered from ``first_seq`` in ``tx``."""
        return tuple(FeedEntry(seq=first_seq + i, tx=tx, kind=w.kind, record_id=w.record_id,
                            action=w.action, version=w.version)
                     for i, w in enumerate(self.writes))


_MISSING: Any = object()


def plan_batch(
    writes: Iterable[StoreWrite],
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


