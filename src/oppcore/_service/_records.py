"""Use cases on any record, lead or deal: read, create, edit, merge duplicates."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity
from oppcore.dedupe._merging import Prefer, merge_records
from oppcore.storage import StoreWrite

from ._base import ServiceBase, entry
from ._events import (
    DomainEvent,
    Events,
    LeadCaptured,
    OpportunityCreated,
    RecordEdited,
    RecordsMerged,
)
from ._policy import Permission

__all__ = ["RecordUseCases"]

_R = TypeVar("_R", Lead, Opportunity)

# Fields an edit may not touch, and what to call instead. Each of these has a use case that
# checks its rules (a stage move checks the pipeline's requirements and appends to the
# history; a lead moves through its lifecycle), or is managed by the store or the service.
_MANAGED: Final = {
    "id": "a record's id never changes (create a new record, or merge_duplicates)",
    "version": "the store manages it",
    "updated_at": "every use case sets it",
}
_OWN_USE_CASE: Final[dict[type, dict[str, str]]] = {
    Lead: {
        "status": "call mark_contacted, qualify, disqualify or convert",
        "disqualified_reason": "call disqualify",
        "opportunity_id": "call convert",
    },
    Opportunity: {
        "stage_id": "call move_stage, mark_won or mark_lost",
        "stage_history": "call move_stage, mark_won or mark_lost (the history is append-only)",
        "lost_reason": "call mark_lost",
        "activities": "call log_activity (log_survey, complete_task)",
        "renewal_of": "call renew on the deal being renewed (it links both ways)",
        "renewed_by": "call renew (it links both ways)",
        "pipeline_id": "the stage and its history belong to the pipeline (create a new deal)",
    },
}


def _created(record: Lead | Opportunity, at: datetime, by: str) -> DomainEvent:
    if isinstance(record, Lead):
        return LeadCaptured(lead_id=record.id, at=at, by=by)
    return OpportunityCreated(opportunity_id=record.id, pipeline_id=record.pipeline_id,
                              stage_id=record.stage_id, at=at, by=by)


def _editable(kind: object, changes: object) -> dict[str, Any]:
    """Return ``changes`` as a dict if every field may be edited; else say what to call."""
    if kind is not Lead and kind is not Opportunity:
        raise ValidationError(f"kind must be Lead or Opportunity, got {kind!r}", field="kind",
                              value=kind)
    if not isinstance(changes, Mapping):
        raise ValidationError("changes must be a mapping of field name to new value",
                              field="changes", value=changes)
    names = {f.name for f in attrs.fields(kind)}
    refused = _OWN_USE_CASE[kind]
    for name in changes:
        why = _MANAGED.get(name) or refused.get(name)
        if why is not None:
            raise ValidationError(f"cannot be edited: {why}", model=kind.__name__, field=name,
                                  value=changes[name])
        if name not in names:
            raise ValidationError(f"{kind.__name__} has no field {name!r}", field=str(name),
                                  value=changes[name])
    return dict(changes)


class RecordUseCases(ServiceBase):
    """Read, create, edit and merge leads and opportunities."""

    def get(self, opportunity_id: str, *, by: str) -> Opportunity:
        """Return an opportunity if ``by`` may read it.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``read``.
        """
        opp = self._store.get(Opportunity, opportunity_id)
        self._authorise(by, Permission.READ, opp)
        return opp

    def create(self, record: Lead | Opportunity, *, by: str) -> Events:
        """Store a new lead or opportunity, audited as ``create``.

        The policy is asked for ``create`` with the record as it would be stored (so a
        policy can decide on its owner, its pipeline...). The record is stored as given:
        its ``captured_at`` / ``created_at`` and ``updated_at`` are facts the caller knows
        (an import keeps the dates of the file); the audit entry carries the service
        clock's time. A deal in a pipeline the service knows must be in one of its stages;
        a deal of another pipeline is stored as it is (its moves need a service that knows
        its pipeline).

        Not idempotent by itself: a second create of the same id raises
        :class:`~oppcore.DuplicateError` with ``key == "id"`` (and changes nothing), which
        a host retrying after a timeout can take as "already done".

        Returns:
            :class:`LeadCaptured` for a lead, :class:`OpportunityCreated` for a deal.

        Raises:
            ValidationError: Not a lead or an opportunity, or a blank actor.
            UnknownStageError: The deal's stage is not in its (known) pipeline.
            PermissionDeniedError: The policy refuses ``create``.
            DuplicateError: The id or a uniqueness key (a lead's e-mail, an external key)
                is taken; ``.existing_id`` and ``.key`` say by whom and which.
        """
        new = self._check_new(record)
        self._authorise(by, Permission.CREATE, new)
        now = self._now()
        self._store.apply([StoreWrite.add(new)], audit=[entry(None, new, "create", by, now)])
        return (_created(new, now, by),)

    def create_many(self, records: Iterable[Lead | Opportunity], *, by: str,
                    batch_size: int = 500) -> Events:
        """Store many new records, ``batch_size`` per atomic write, each audited as ``create``.

        The bulk form of :meth:`create` for imports: each batch is one
        :meth:`~oppcore.Store.apply` holding the adds and one audit entry per record, so a
        batch is stored with its audit entries or not at all. The policy is asked for every
        record of a batch before the batch is written. When a batch fails, the batches
        before it stay stored and the error is raised; a caller that must know exactly what
        was stored passes one batch per call (as ``oppcore import`` does).

        Returns:
            One :class:`LeadCaptured` or :class:`OpportunityCreated` per record, in order.

        Raises:
            ValidationError: A value is not a record, a blank actor or a bad batch size.
            UnknownStageError: A deal's stage is not in its (known) pipeline.
            PermissionDeniedError: The policy refuses ``create`` for a record of the batch.
            DuplicateError: A record's id or uniqueness key is taken (also within the
                batch); the batch is not written.
        """
        if type(batch_size) is not int or batch_size < 1:
            raise ValidationError("batch_size must be a positive int", field="batch_size",
                                  value=batch_size)
        self._check_actor(by)
        events: list[DomainEvent] = []
        batch: list[Lead | Opportunity] = []
        for record in records:
            batch.append(self._check_new(record))
            if len(batch) == batch_size:
                events += self._create_batch(batch, by)
                batch = []
        if batch:
            events += self._create_batch(batch, by)
        return tuple(events)

    def _create_batch(self, batch: list[Lead | Opportunity], by: str) -> list[DomainEvent]:
        for record in batch:
            self._authorise(by, Permission.CREATE, record)
        now = self._now()
        self._store.apply([StoreWrite.add(r) for r in batch],
                          audit=[entry(None, r, "create", by, now) for r in batch])
        return [_created(r, now, by) for r in batch]

    def edit(self, kind: type[_R], record_id: str, changes: Mapping[str, Any], *,
             by: str) -> Events:
        """Change fields of a lead or an opportunity (a rename, a quote, an amount, tags).

        ``changes`` maps field names to new values; the record is rebuilt with them (and
        validated again) and ``updated_at`` moves to the service clock's time (never
        backwards). Fields with a use case of their own are refused, so their rules cannot
        be bypassed: a deal's ``stage_id``, ``stage_history``, ``lost_reason``,
        ``activities``, ``renewal_of``, ``renewed_by`` and ``pipeline_id``; a lead's
        ``status``, ``disqualified_reason`` and ``opportunity_id``; and ``id``, ``version``
        and ``updated_at`` everywhere.

        Idempotent: changes that leave every field as it is return no events and write
        nothing.

        Args:
            kind: :class:`~oppcore.Lead` or :class:`~oppcore.Opportunity`.
            record_id: The record to edit.
            changes: Field name -> new value.
            by: The actor.

        Returns:
            One :class:`RecordEdited` naming the fields that changed.

        Raises:
            ValidationError: An unknown field, a field with its own use case (the message
                names the field and what to call instead), or a new value the model
                refuses.
            NotFoundError: No such record.
            PermissionDeniedError: The policy refuses ``edit``.
            DuplicateError: The new value takes another record's uniqueness key.
        """
        fields = _editable(kind, changes)
        order = [f.name for f in attrs.fields(kind) if f.name in fields]

        def attempt() -> Events:
            current = self._store.get(kind, record_id)
            self._authorise(by, Permission.EDIT, current)
            candidate = current.evolve(**fields)
            changed = tuple(n for n in order if getattr(candidate, n) != getattr(current, n))
            if not changed:
                return ()
            now = self._now()
            new = candidate.evolve(updated_at=max(now, current.updated_at))
            audit = entry(current, new, "edit", by, now)
            self._store.save(new, audit=audit)
            return (RecordEdited(kind=audit.kind, record_id=current.id, fields=changed, at=now,
                                 by=by),)

        return self._retry(attempt)

    def merge_duplicates(
        self,
        kind: type[_R],
        first_id: str,
        second_id: str,
        *,
        by: str,
        prefer: Prefer = "older",
    ) -> Events:
        """Merge two duplicate records: save the merged survivor, delete the other.

        Both writes and their audit entries are one atomic batch. The survivor's audit
        entry lists every changed field; its note names the merged record and every value
        the merge did not keep, so no value is lost silently.

        Raises:
            NotFoundError: Either record is missing (e.g. already merged).
            PermissionDeniedError: The policy refuses ``edit`` on the survivor or
                ``delete`` on the other.
            ValidationError: Both ids are the same.
        """
        if first_id == second_id:
            raise ValidationError("cannot merge a record with itself", field="second_id",
                                  value=second_id)

        def attempt() -> Events:
            a = self._store.get(kind, first_id)
            b = self._store.get(kind, second_id)
            for record in (a, b):
                self._authorise(by, Permission.EDIT, record)
            now = self._now()
            result = merge_records(a, b, prefer=prefer, at=now, by=by)
            survivor = a if result.survivor_id == a.id else b
            other = b if survivor is a else a
            self._authorise(by, Permission.DELETE, other)
            merged = result.record
            assert isinstance(merged, (Lead, Opportunity))
            lost = "; ".join(f"{c.field}: kept {c.kept!r}, dropped {list(c.dropped)!r}"
                             for c in result.conflicts)
            note = f"merged {other.id}" + (f" ({lost})" if lost else "")
            audit = [entry(other, None, "merge", by, now, note=f"merged into {survivor.id}"),
                     entry(survivor, merged, "merge", by, now, note=note)]
            self._store.apply(
                # delete first: the survivor may take over the other's uniqueness keys
                [StoreWrite.delete(kind, other.id, version=other.version), StoreWrite.save(merged)],
                audit=audit)
            return (RecordsMerged(kind=audit[1].kind, survivor_id=survivor.id,
                                  merged_ids=(other.id,),
                                  conflicts=tuple(c.field for c in result.conflicts),
                                  at=now, by=by),)

        return self._retry(attempt)
