"""The audit trail: who changed which fields of a record, when, from what to what.

Audit entries are plain frozen values. They are written by the same atomic store write as
the change they describe (``store.save(record, audit=entry)``), so a change and its audit
entry exist together or not at all, and they are append-only: a store offers no way to edit
or remove one. :class:`~oppcore.OpportunityService` writes one for every use case.
"""

from datetime import datetime
from typing import Any

import attrs

from oppcore import serde
from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity

__all__ = ["AuditEntry", "FieldChange", "diff_fields"]

# Managed by the store, not by people: a version bump is not a change of content.
_SKIPPED = frozenset({"version"})


@attrs.frozen(kw_only=True)
class FieldChange:
    """One changed field of a record.

    Attributes:
        field: The field name (``"stage_id"``, ``"amount"``).
        old: The value before, in the JSON wire format of :mod:`oppcore.serde`
            (``None`` when the record was created).
        new: The value after, in the same format (``None`` when deleted).
    """

    field: str
    old: Any
    new: Any


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One audited write: who did what to which record, when, and what changed.

    Attributes:
        kind: ``"lead"`` or ``"opportunity"``.
        record_id: The record written.
        action: What was done, a short verb phrase: ``"create"``, ``"edit"``, ``"move"``,
            ``"log_activity"``, ``"rescore"``, ``"win"``, ``"lose"``, ``"merge"``,
            ``"delete"`` or a host's own.
        by: The actor (a user id of the host).
        at: When (timezone-aware).
        changes: The changed fields with old and new values.
        note: Free text (a reason, the merged record's id...).
    """

    kind: str
    record_id: str
    action: str
    by: str
    at: datetime
    changes: tuple[FieldChange, ...] = ()
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("kind", "record_id", "action", "by"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("must be a non-blank string", model="AuditEntry",
                                      field=name, value=value)
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise ValidationError("must be a timezone-aware datetime", model="AuditEntry",
                                  field="at", value=self.at)
        if self.note is not None and not isinstance(self.note, str):
            raise ValidationError("must be a string or None", model="AuditEntry",
                                  field="note", value=self.note)
        object.__setattr__(self, "changes", tuple(self.changes))

    @classmethod
    def for_change(
        cls,
        before: Lead | Opportunity | None,
        after: Lead | Opportunity | None,
        *,
        action: str,
        by: str,
        at: datetime,
        note: str | None = None,
    ) -> "AuditEntry":
        """Return the entry for a write from ``before`` to ``after``.

        Args:
            before: The record as read (``None`` for a creation).
            after: The record as written (``None`` for a deletion).
            action: What was done (see :attr:`action`).
            by: The actor.
            at: When (timezone-aware).
            note: Free text.

        Raises:
            ValidationError: Both records are ``None``, they differ in kind or id, or an
                argument is invalid.
        """
        record = after if after is not None else before
        if record is None:
            raise ValidationError("an audit entry needs a record before or after the write",
                                  model="AuditEntry")
        if before is not None and after is not None and (
            type(before) is not type(after) or before.id != after.id
        ):
            raise ValidationError("before and after must be the same record",
                                  model="AuditEntry", field="record_id", value=after.id)
        kind = "lead" if isinstance(record, Lead) else "opportunity"
        return cls(kind=kind, record_id=record.id, action=action, by=by, at=at,
                   changes=diff_fields(before, after), note=note)


def _wire(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(serde.unstructure(v) for v in value)
    return serde.unstructure(value)


def diff_fields(
    before: Lead | Opportunity | None, after: Lead | Opportunity | None
) -> tuple[FieldChange, ...]:
    """Return the fields that differ between two versions of a record, in field order.

    A creation (``before`` is ``None``) lists every field that differs from its default; a
    deletion (``after`` is ``None``) lists nothing. The store-managed ``version`` is never
    listed. Values are given in the JSON wire format.
    """
    if after is None:
        return ()
    changes = []
    for field in attrs.fields(type(after)):
        name = field.name
        if name in _SKIPPED:
            continue
        new = getattr(after, name)
        if before is None:
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                continue  # derived defaults (updated_at = created_at) carry no news
            if new == default:
                continue
            changes.append(FieldChange(field=name, old=None, new=_wire(new)))
        else:
            old = getattr(before, name)
            if old != new:
                changes.append(FieldChange(field=name, old=_wire(old), new=_wire(new)))
    return tuple(changes)
