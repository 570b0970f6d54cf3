"""The audit trail: who changed which fields of a record, when, and what changed.

Audit entries are plain frozen values. They are written by the same atomic store write as
the change they describe (``store.save(record, audit=entry)``), so a change and its audit
entry exist together or not at all, and they are append-only: a store offers no way to edit
or remove one. :class:`~oppcore.OpportunityService` writes one for every use case.

An entry holds the part of each field that changed, never more (:class:`FieldChange`): an
activity logged on a deal with a thousand activities is audited as that one activity, so
the trail grows with the changes made, not with the size of the record times the number of
writes. :meth:`FieldChange.apply_to` replays a change on the value before it.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

import attrs

from oppcore import serde
from oppcore._checks import COUNT, aware, in_bounds
from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity

__all__ = ["AuditEntry", "FieldChange", "diff_fields"]

# Managed by the store, not by people: a version bump is not a change of content.
_SKIPPED = frozenset({"version"})


Op = Literal["set", "append", "splice", "members", "keys"]
"""The kinds of change a :class:`FieldChange` records (see its table)."""

OPS: Final[tuple[Op, ...]] = ("set", "append", "splice", "members", "keys")


@attrs.frozen(kw_only=True)
class FieldChange:
    """One changed field of a record: the part that changed, in the wire format.

    ``old`` holds what the write took away or replaced and ``new`` what it put in its
    place, in the JSON wire format of :mod:`oppcore.serde`; ``op`` says how to read them:

    ===========  ==============================  ==========================  ======================
    ``op``       used for                        ``old``                     ``new``
    ===========  ==============================  ==========================  ======================
    ``set``      scalars and nested values       the whole value before      the whole value after
                 (``stage_id``, ``amount``,      (``None`` when created)
                 ``qualification``); any field
                 of a created record
    ``append``   a tuple whose new value         ``[]``                      the appended items
                 extends the old one
                 (``stage_history``,
                 ``activities``)
    ``splice``   any other tuple edit            the items removed at        the items inserted
                                                 ``index``                   there
    ``members``  sets (``tags``)                 the members removed         the members added
                                                 (sorted)                    (sorted)
    ``keys``     mappings (``custom``)           ``{key: value before}`` of  ``{key: value after}``
                                                 each removed or changed     of each added or
                                                 key                         changed key
    ===========  ==============================  ==========================  ======================

    So an entry's size is that of the change, whatever the size of the record: appending
    one stage move to a history of 5,000 is audited as that one move. A splice keeps the
    items shared at both ends out of the entry: editing the 3rd of 1,000 activities is
    ``splice`` at ``index`` 2 with one item on each side.

    Wire format: an object with every attribute (``field``, ``op``, ``index``, ``old``,
    ``new``). Entries written by oppcore before the operations existed have no ``op`` and
    whole values on both sides; they read back as ``set``, which is what they mean.

    Attributes:
        field: The field name (``"stage_id"``, ``"activities"``).
        op: How the field changed (the table above); default ``"set"``.
        index: Where a ``splice`` starts (an index into the old tuple); ``None`` for every
            other operation.
        old: What was taken away or replaced (see the table).
        new: What was put in its place (see the table).

    Raises:
        ValidationError: ``field`` is blank, ``op`` is unknown, or ``old``, ``new`` or
            ``index`` do not have the shape ``op`` needs (lists for tuple and set
            operations, dicts for ``keys``, a non-negative ``index`` only on ``splice``).
    """

    field: str
    op: Op = "set"
    index: int | None = attrs.field(default=None, metadata=in_bounds(COUNT))
    old: Any
    new: Any

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field.strip():
            raise ValidationError("must be a non-blank string", model="FieldChange",
                                  field="field", value=self.field)
        op = self.op
        if op not in OPS:
            raise ValidationError(f"must be one of {', '.join(OPS)}", model="FieldChange",
                                  field="op", value=op)
        index = self.index
        if op == "splice":
            if type(index) is not int or index < 0:
                raise ValidationError("a splice needs a non-negative int index",
                                      model="FieldChange", field="index", value=index)
        elif index is not None:
            raise ValidationError(f"only a splice has an index, not {op!r}",
                                  model="FieldChange", field="index", value=index)
        if op == "set":
            return
        shape, what = (dict, "object") if op == "keys" else (list, "array")
        for name in ("old", "new"):
            value = getattr(self, name)
            if type(value) is not shape:
                raise ValidationError(f"{op!r} needs a JSON {what}", model="FieldChange",
                                      field=name, value=value)
        if op == "append" and (self.old or not self.new):
            raise ValidationError("an append removes nothing and adds at least one item",
                                  model="FieldChange", field="new", value=self.new)

    def apply_to(self, value: Any) -> Any:
        """Return the field's wire value after this change, given its wire value before.

        Pure: ``value`` is not modified. ``serde.unstructure(after)`` equals the result for
        every change :func:`diff_fields` lists between ``before`` and ``after``, applied to
        the field of ``serde.unstructure(before)``.

        Args:
            value: The field's value before the change, in the wire format.

        Raises:
            ValidationError: The change does not fit ``value``: a tuple or set operation on
                something not a list, ``keys`` on something not a dict, or what the change
                says it removed is not in ``value`` (at ``index`` for a splice).
        """
        op = self.op
        if op == "set":
            return self.new
        if op == "keys":
            if not isinstance(value, dict):
                raise self._misfit(value, "a JSON object")
            old, new = self.old, self.new
            if any(k not in value or value[k] != v for k, v in old.items()):
                raise self._misfit(value, "an object holding the old values")
            out = {k: v for k, v in value.items() if k not in old or k in new}
            out.update(new)
            return out
        if not isinstance(value, list):
            raise self._misfit(value, "a JSON array")
        if op == "append":
            return [*value, *self.new]
        if op == "splice":
            start = self.index
            assert start is not None  # checked when built
            end = start + len(self.old)
            if end > len(value) or value[start:end] != self.old:
                raise self._misfit(value, f"an array holding the removed items at {start}")
            return [*value[:start], *self.new, *value[end:]]
        removed = set(self.old)
        if not removed.issubset(value):
            raise self._misfit(value, "an array holding the removed members")
        return sorted(set(value).difference(removed).union(self.new))

    def _misfit(self, value: Any, expected: str) -> ValidationError:
        return ValidationError(f"a {self.op!r} change of {self.field!r} applies to {expected}",
                               model="FieldChange", field=self.field, value=value)


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
        changes: The changed fields, each as the part that changed
            (:class:`FieldChange`).
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
        aware(self.at, "at", model="AuditEntry")
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

    def apply_to(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Return the wire form of the record after this entry's changes.

        ``record`` is the wire form of the record before the write
        (``serde.unstructure(before)``); it is not modified. The store-managed ``version``
        is left as it was. An entry for a creation lists only the fields that differ from
        their defaults, so replay it on the defaults of the record's class.

        Raises:
            ValidationError: A change does not fit the record (see
                :meth:`FieldChange.apply_to`).
        """
        out = dict(record)
        for change in self.changes:
            out[change.field] = change.apply_to(out.get(change.field))
        return out


def _wire(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(serde.unstructure(v) for v in value)
    return serde.unstructure(value)


def _items(values: tuple[Any, ...]) -> list[Any]:
    return [serde.unstructure(v) for v in values]


def _same(a: Any, b: Any) -> bool:
    # Strict for custom values: True == 1 in Python, but they are different JSON values.
    return a is b or (type(a) is type(b) and a == b)


def _tuple_change(name: str, old: tuple[Any, ...], new: tuple[Any, ...]) -> FieldChange:
    n_old, n_new = len(old), len(new)
    # The common case, appending to a history: comparing the prefix runs in C and finds
    # the shared items by identity (the new tuple was built from the old one's items).
    if n_new > n_old and new[:n_old] == old:
        return FieldChange(field=name, op="append", old=[], new=_items(new[n_old:]))
    limit = min(n_old, n_new)
    start = next((i for i, (a, b) in enumerate(zip(old, new, strict=False))
                  if a is not b and a != b), limit)
    end_old, end_new = n_old, n_new
    while end_old > start and end_new > start and (
        old[end_old - 1] is new[end_new - 1] or old[end_old - 1] == new[end_new - 1]
    ):
        end_old -= 1
        end_new -= 1
    return FieldChange(field=name, op="splice", index=start, old=_items(old[start:end_old]),
                       new=_items(new[start:end_new]))


def _keys_change(name: str, old: Mapping[str, Any], new: Mapping[str, Any]
                 ) -> FieldChange | None:
    gone = {k: serde.unstructure(v) for k, v in old.items()
            if k not in new or not _same(new[k], v)}
    came = {k: serde.unstructure(v) for k, v in new.items()
            if k not in old or not _same(old[k], v)}
    if not gone and not came:
        return None
    return FieldChange(field=name, op="keys", old=gone, new=came)


def _change(name: str, old: Any, new: Any) -> FieldChange | None:
    """Return how ``old`` became ``new``, or None if they are the same."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return _keys_change(name, old, new)  # not ==: it says True == 1
    if old == new:
        return None
    if type(old) is tuple and type(new) is tuple:
        return _tuple_change(name, old, new)
    if isinstance(old, frozenset) and isinstance(new, frozenset):
        return FieldChange(field=name, op="members", old=_wire(old - new),
                           new=_wire(new - old))
    return FieldChange(field=name, old=_wire(old), new=_wire(new))


def diff_fields(
    before: Lead | Opportunity | None, after: Lead | Opportunity | None
) -> tuple[FieldChange, ...]:
    """Return the fields that differ between two versions of a record, in field order.

    Each change holds only the part of the field that changed (see :class:`FieldChange`):
    a tuple that grew at its end is an ``append`` of the new items, any other tuple edit a
    ``splice`` of the differing middle, a set (``tags``) its ``members`` added and removed,
    a mapping (``custom``) its ``keys`` added, removed or changed, and anything else a
    ``set`` of the whole value. The work is proportional to the change: appending one item
    to a long history serialises that one item.

    A creation (``before`` is ``None``) lists every field that differs from its default,
    as ``set``; a deletion (``after`` is ``None``) lists nothing. The store-managed
    ``version`` is never listed. Values that compare equal are not changes (the same
    instant at another UTC offset, say), except in mappings, where ``True`` and ``1`` differ.
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
            if old is new:  # the common case on every write, and free for long tuples
                continue
            change = _change(name, old, new)
            if change is not None:
                changes.append(change)
    return tuple(changes)
