"""The use case behind re-importing an export: store new deals and updated ones in one batch.

What changes (which fields, which stage-history entry) is decided by
:func:`oppcore.io.sync` from the export and the stored record; this use case checks the
policy and the pipeline, writes the batch atomically with one audit entry per record, and
returns the events. It never retries by itself: a stale version means the decision was made
on an old record, so the caller reloads and decides again.
"""

from collections.abc import Sequence

import attrs

from oppcore._errors import UnknownStageError, ValidationError
from oppcore._models import Opportunity
from oppcore.storage import StoreWrite

from ._base import ServiceBase, entry
from ._events import DomainEvent, Events, OpportunityCreated, RecordEdited, StageChanged
from ._policy import Permission

__all__ = ["SyncUseCases"]

# Fields a sync never reports as edited: the store or the sync's own bookkeeping moves them.
_QUIET = frozenset({"version", "updated_at", "stage_history"})


class SyncUseCases(ServiceBase):
    """Write what a sync decided: new deals and new versions of stored deals."""

    def sync_batch(
        self,
        adds: Sequence[Opportunity],
        updates: Sequence[tuple[Opportunity, Opportunity]],
        *,
        by: str,
        action: str = "sync",
    ) -> Events:
        """Store ``adds`` and replace each stored deal by its new version, in one atomic write.

        Each add is audited ``create``, each update ``action`` (``"sync"``) with its diff; a
        stage change appears as a :class:`StageChanged` event beside :class:`RecordEdited`.
        The new version of a deal must keep its id and pipeline and carry the version of the
        stored deal it replaces.

        Args:
            adds: New deals (version 0).
            updates: ``(stored, new)`` pairs.
            by: The actor named in the audit trail.
            action: The audit action of the updates.

        Returns:
            The events, adds first.

        Raises:
            ValidationError: A blank actor, or an update that changes the id or pipeline or
                does not carry the stored version.
            UnknownStageError: A deal's stage is not in its (known) pipeline.
            PermissionDeniedError: The policy refuses ``create`` or ``edit``.
            VersionConflictError: A stored deal changed since it was read (nothing written).
            DuplicateError: An id or external key is taken (nothing written).
        """
        self._check_actor(by)
        for record in adds:
            self._authorise(by, Permission.CREATE, self._check_new(record))
        for current, new in updates:
            if (new.id, new.pipeline_id, new.version) != (
                    current.id, current.pipeline_id, current.version):
                raise ValidationError("an update keeps the id, pipeline and version of the "
                                      "deal it replaces", model="Opportunity", field="id",
                                      value=new.id)
            pipeline = self._pipelines.get(new.pipeline_id)
            if pipeline is not None and new.stage_id not in pipeline:
                raise UnknownStageError(new.stage_id, pipeline.id)
            self._authorise(by, Permission.EDIT, current)
        if not adds and not updates:
            return ()
        now = self._now()
        writes = [StoreWrite.add(r) for r in adds] + [StoreWrite.save(n) for _, n in updates]
        audit = [entry(None, r, "create", by, now) for r in adds]
        audit += [entry(c, n, action, by, now) for c, n in updates]
        self._store.apply(writes, audit=audit)
        events: list[DomainEvent] = [
            OpportunityCreated(opportunity_id=r.id, pipeline_id=r.pipeline_id,
                               stage_id=r.stage_id, at=now, by=by) for r in adds]
        for current, new in updates:
            fields = tuple(f.name for f in attrs.fields(Opportunity)
                           if f.name not in _QUIET
                           and getattr(new, f.name) != getattr(current, f.name))
            events.append(RecordEdited(kind="opportunity", record_id=new.id, fields=fields,
                                       at=now, by=by))
            if new.stage_id != current.stage_id:
                events.append(StageChanged(opportunity_id=new.id, from_stage=current.stage_id,
                                           to_stage=new.stage_id, at=now, by=by))
        return tuple(events)
