"""Merging two duplicate records into one, with a report of what happened to every field.

The merge is pure: storing the merged record and deleting the other one is the service's
job (:meth:`oppcore.OpportunityService.merge_duplicates`).
"""

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final, Literal, TypeVar

import attrs

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Lead, LeadStatus, Opportunity
from oppcore._parties import Account, Contact
from oppcore._qualification import PARTS, UNKNOWN_QUALIFICATION

from ._record_keys import Record

__all__ = ["FieldOutcome", "MergeResult", "Prefer", "merge_records"]


@attrs.frozen(kw_only=True)
class FieldOutcome:
    """What a merge did with one field.

    Args:
        field: The field name; a dotted path for parts (``"qualification.budget"``,
            ``"custom.region"``).
        kept: The value in the merged record.
        dropped: Non-empty values of the inputs that are not the kept value (each is also
            written to the merged record's notes or custom fields where the type has them).
        source: ``"survivor"``, ``"other"`` (the survivor's value was empty), ``"both"``
            (combined: unions, concatenated notes) or ``"merge"`` (set by the merge itself:
            ``updated_at``).
    """

    field: str
    kept: Any
    dropped: tuple[Any, ...] = ()
    source: str = "survivor"


@attrs.frozen(kw_only=True)
class MergeResult:
    """The outcome of :func:`merge_records`: the merged record and a report of every field.

    Args:
        record: The merged record: the survivor's id and version, ready for a store's save
            (then delete ``merged_ids``).
        survivor_id: The id of the record that was kept.
        merged_ids: The ids of the records folded into it.
        fields: One outcome per field (and per custom field and qualification part).
        at: When the merge happened.
        by: Who merged.
    """

    record: Record
    survivor_id: str
    merged_ids: tuple[str, ...]
    fields: tuple[FieldOutcome, ...]
    at: datetime
    by: str

    @property
    def conflicts(self) -> tuple[FieldOutcome, ...]:
        """The outcomes that dropped a value (a conflict between the two records)."""
        return tuple(f for f in self.fields if f.dropped)

    def outcome(self, field: str) -> FieldOutcome:
        """Return the outcome of ``field`` (``"email"``, ``"custom.region"``).

        Raises:
            KeyError: No such field in the report.
        """
        for outcome in self.fields:
            if outcome.field == field:
                return outcome
        raise KeyError(field)


Prefer = Literal["older", "newer", "first", "second"]
_R = TypeVar("_R", Lead, Contact, Account, Opportunity)
_CREATED: Final = {Lead: "captured_at", Opportunity: "created_at"}
_STATUS_RANK: Final = {LeadStatus.NEW: 0, LeadStatus.CONTACTED: 1, LeadStatus.QUALIFIED: 2,
                       LeadStatus.DISQUALIFIED: 3, LeadStatus.CONVERTED: 4}
_BY_ID: Final = frozenset({"contacts", "activities", "quotes"})
# Fields whose "dropped" value is bookkeeping, not customer data: not copied to notes/custom.
_BOOKKEEPING: Final = frozenset({"id", "version", "updated_at", "captured_at", "created_at"})


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is UNKNOWN_QUALIFICATION or (
        isinstance(value, tuple | frozenset | Mapping) and not value)


def _describe(value: Any) -> str:
    """A short text form of a dropped value, for notes and custom fields."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset):
        return "; ".join(_describe(v) for v in value)
    if hasattr(value, "id") and isinstance(value.id, str):
        return f"{type(value).__name__} {value.id}"
    return str(value)


def _pick(field: str, kept_value: Any, other_value: Any) -> FieldOutcome:
    """The default rule: the survivor's non-empty value wins, else the other's."""
    if _empty(kept_value) and not _empty(other_value):
        return FieldOutcome(field=field, kept=other_value, source="other")
    dropped = () if _empty(other_value) or other_value == kept_value else (other_value,)
    return FieldOutcome(field=field, kept=kept_value, dropped=dropped)


def _union_by_id(field: str, mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> FieldOutcome:
    known = {item.id: item for item in mine}
    added = tuple(item for item in theirs if item.id not in known)
    dropped = tuple(item for item in theirs if item.id in known and known[item.id] != item)
    kept = mine + added
    if field == "activities":
        kept = tuple(sorted(kept, key=lambda activity: activity.at))
    return FieldOutcome(field=field, kept=kept, dropped=dropped,
                        source="both" if added and mine else ("other" if added else "survivor"))


def _merge_custom(mine: Mapping[str, Any], theirs: Mapping[str, Any]
                  ) -> tuple[dict[str, Any], list[FieldOutcome]]:
    merged = dict(mine)
    outcomes = []
    for key in sorted(set(mine) | set(theirs)):
        outcome = _pick(f"custom.{key}", mine.get(key), theirs.get(key))
        merged[key] = outcome.kept if key in mine else theirs[key]
        outcomes.append(outcome)
    return merged, outcomes


def _field_outcomes(kept: Record, other: Record, at: datetime) -> list[FieldOutcome]:
    outcomes: list[FieldOutcome] = []
    for attribute in attrs.fields(type(kept)):
        name = attribute.name
        mine, theirs = getattr(kept, name), getattr(other, name)
        if name == "updated_at":
            outcomes.append(FieldOutcome(field=name, kept=at, source="merge",
                                         dropped=tuple(dict.fromkeys(
                                             v for v in (mine, theirs) if v != at))))
        elif name in ("captured_at", "created_at"):
            first = min(mine, theirs)
            outcomes.append(FieldOutcome(
                field=name, kept=first, source="survivor" if first == mine else "other",
                dropped=(max(mine, theirs),) if mine != theirs else ()))
        elif name == "tags":
            outcomes.append(FieldOutcome(field=name, kept=mine | theirs,
                                         source="both" if theirs - mine else "survivor"))
        elif name in _BY_ID:
            outcomes.append(_union_by_id(name, mine, theirs))
        elif name == "custom":
            continue  # handled by _merge_custom
        elif name == "qualification":
            outcomes += [_pick(f"qualification.{part}", getattr(mine, part),
                               getattr(theirs, part)) for part in PARTS]
        elif name == "status":
            best = max((mine, theirs), key=_STATUS_RANK.__getitem__)
            outcomes.append(FieldOutcome(
                field=name, kept=best, source="survivor" if best == mine else "other",
                dropped=(theirs,) if best == mine and theirs != mine else
                ((mine,) if best != mine else ())))
        else:
            outcomes.append(_pick(name, mine, theirs))
    return outcomes


def merge_records(a: _R, b: _R, *, prefer: Prefer = "older", at: datetime, by: str) -> MergeResult:
    """Merge two records of the same type into one, losing no value silently.

    Policy:

    * **Survivor**: ``prefer="older"`` keeps the record captured/created first (leads and
      opportunities; ``a`` on a tie and for contacts and accounts), ``"newer"`` the later
      one, ``"first"``/``"second"`` the first or second argument. The merged record has
      the survivor's id and version, so a store saves it with the version read.
    * **Each field**: the survivor's non-empty value wins, else the other's. A conflicting
      value of the other record is listed in :attr:`FieldOutcome.dropped`.
    * **Combined fields**: ``tags`` are unioned; contacts, activities and quotes are
      unioned by id (activities sorted by time); ``custom`` fields are merged key by key
      with the same rule; each qualification part is merged separately; a lead's
      ``status`` is the furthest of the two (new < contacted < qualified < disqualified <
      converted), and a ``disqualified_reason`` is kept only with the disqualified status;
      ``captured_at``/``created_at`` is the earliest; ``updated_at`` is ``at``.
    * **Notes**: the other lead's notes are appended to the survivor's, followed by a line
      naming the merged id and every customer value that was not kept.
    * **Opportunities** have no notes: each value not kept is written to
      ``custom["merged:<other id>:<field>"]`` as text. Contacts and accounts have neither,
      so their dropped values are only in the result (the service records them in the
      audit trail).

    The function is pure: storing the result and deleting the merged record is the
    caller's (the service's) job.

    Args:
        a: A lead, contact, account or opportunity.
        b: Another record of the same type, with a different id.
        prefer: Which record survives (see above).
        at: When the merge happens (timezone-aware).
        by: Who merges.

    Returns:
        The merged record and the per-field report.

    Raises:
        ValidationError: The records are not of the same supported type, have the same
            id, ``prefer`` is unknown, ``at`` is not timezone-aware or ``by`` is blank.
    """
    if type(a) is not type(b) or not isinstance(a, Lead | Contact | Account | Opportunity):
        raise ValidationError(
            f"cannot merge a {type(a).__name__} with a {type(b).__name__}: both must be "
            "leads, contacts, accounts or opportunities", value=(a, b))
    kind = type(a).__name__
    if a.id == b.id:
        raise ValidationError(f"cannot merge {kind} {a.id!r} with itself", model=kind,
                              field="id", value=a.id)
    aware(at, "at")
    if not isinstance(by, str) or not by.strip():
        raise ValidationError(f"merge needs who merges (a non-blank string), got {by!r}",
                              field="by", value=by)
    survivor, other = _choose(a, b, prefer)
    outcomes = _field_outcomes(survivor, other, at)
    if isinstance(survivor, Lead):
        outcomes = _fix_disqualified_reason(outcomes)
    changes = {o.field: o.kept for o in outcomes if "." not in o.field}
    if isinstance(survivor, Lead | Opportunity) and isinstance(other, Lead | Opportunity):
        custom, custom_outcomes = _merge_custom(survivor.custom, other.custom)
        outcomes += custom_outcomes
        changes["qualification"] = survivor.qualification.evolve(**{
            o.field.partition(".")[2]: o.kept for o in outcomes
            if o.field.startswith("qualification.")})
        lost = [(o.field, v) for o in outcomes if o.field not in _BOOKKEEPING
                for v in o.dropped]
        if isinstance(survivor, Lead) and isinstance(other, Lead):
            notes = _merged_notes(survivor, other, lost, at, by)
            changes["notes"] = notes
            outcomes = [FieldOutcome(field="notes", kept=notes, source="both")
                        if o.field == "notes" else o for o in outcomes]
        else:
            for field, value in lost:
                custom[f"merged:{other.id}:{field}"] = _describe(value)
        changes["custom"] = FrozenMap(custom)
        outcomes.append(FieldOutcome(field="custom", kept=changes["custom"], source="both"))
    record = attrs.evolve(survivor, **changes)
    return MergeResult(record=record, survivor_id=survivor.id, merged_ids=(other.id,),
                       fields=tuple(outcomes), at=at, by=by)


def _fix_disqualified_reason(outcomes: list[FieldOutcome]) -> list[FieldOutcome]:
    """Drop a disqualified reason unless the merged lead is disqualified."""
    status = next(o.kept for o in outcomes if o.field == "status")
    if status is LeadStatus.DISQUALIFIED:
        return outcomes
    return [FieldOutcome(field=o.field, kept=None,
                         dropped=(o.kept, *o.dropped) if o.kept else o.dropped)
            if o.field == "disqualified_reason" else o for o in outcomes]


def _choose(a: _R, b: _R, prefer: str) -> tuple[_R, _R]:
    if prefer in ("first", "second"):
        return (a, b) if prefer == "first" else (b, a)
    if prefer not in ("older", "newer"):
        raise ValidationError(
            f"prefer must be 'older', 'newer', 'first' or 'second', got {prefer!r}",
            field="prefer", value=prefer)
    created = _CREATED.get(type(a))
    if created is None or getattr(a, created) == getattr(b, created):
        return a, b
    a_first = getattr(a, created) < getattr(b, created)
    return (a, b) if a_first == (prefer == "older") else (b, a)


def _merged_notes(survivor: Lead, other: Lead, lost: list[tuple[str, Any]], at: datetime,
                  by: str) -> str:
    parts = [survivor.notes] if survivor.notes else []
    if other.notes and other.notes not in survivor.notes:
        parts.append(other.notes)
    lines = [f"Merged lead {other.id} on {at.isoformat()} by {by}."]
    lines += [f"- {field} (not kept): {_describe(value)}" for field, value in lost
              if field != "notes"]
    parts.append("\n".join(lines))
    return "\n\n".join(parts)
