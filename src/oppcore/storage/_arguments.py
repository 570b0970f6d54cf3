"""The checked arguments of the store protocol: batches, feed paging and query filters.

:class:`~oppcore.storage.BaseStore` checks every argument with these before a store's hooks
see it; the hooks receive the checked values (:class:`QueryFilter` for a query).
"""

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, cast

import attrs

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._models import Opportunity

from ._audit import AuditEntry
from ._protocol import Kind, Record, StoreWrite, check_unicode, kind_name

__all__ = ["QueryFilter", "check_batch", "check_feed", "micros"]

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
    tuple[StoreWrite, ...], tuple[AuditEntry, ...]
]:
    """Return the batch as tuples after checking its element types.

    Raises:
        ValidationError: A write is not a :class:`StoreWrite` or an entry not an
            :class:`AuditEntry`.
    """
    if not isinstance(writes, (list, tuple)):
        raise ValidationError("writes must be a sequence of Write values", field="writes",
                              value=writes)
    for w in writes:
        if not isinstance(w, StoreWrite):
            raise ValidationError(f"expected a StoreWrite, got {type(w).__name__}", field="writes",
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
        if since is not None:
            aware(since, "updated_since")
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


