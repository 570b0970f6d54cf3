"""Re-importing a changed export: add new deals, update changed ones, report the rest.

:func:`sync` compares each deal of an export with the stored deal it matches (by external
key, else by id) and decides:

* **added**: no stored deal matches; it is created as exported.
* **unchanged**: the stored deal already holds the export's values; nothing is written.
* **updated**: the export changed and the store did not since the last sync wrote the deal;
  the export's fields replace the stored ones, a stage change *appends* a history entry.
* **conflict**: the stored deal was edited since the last sync wrote it (or no sync ever
  wrote it); it is kept as it is and reported, unless ``prefer="export"``.
* **missing**: a deal a sync wrote earlier, in one of the export's pipelines, that this
  export no longer lists; reported, never deleted.

What the last sync wrote is remembered on the deal itself (see ``_sync_state``), so a sync
works on every store and needs no side file.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal

import attrs

from oppcore._checks import aware
from oppcore._errors import ImportDataError, ValidationError, VersionConflictError
from oppcore._models import Opportunity
from oppcore._records import StageChange
from oppcore._service import AllowAll, OpportunityService
from oppcore.locale._catalog import N_, _
from oppcore.pipeline import Pipeline, StageKind
from oppcore.pipeline._templates import TEMPLATES
from oppcore.storage import Store, query_all

from ._report import ImportReport, RowError
from ._sync_state import SYNCED_FIELDS, export_keys, fingerprint, mark, read_mark

__all__ = ["Prefer", "SyncConflict", "SyncReport", "sync"]

Prefer = Literal["store", "export"]
"""Who wins when a deal was edited in the store since the last sync wrote it."""

# User-facing messages, marked with N_() and translated where used (in the active locale,
# English unless a caller such as the CLI chose another); API misuse stays English.
EDITED = N_("edited in the store since the last sync wrote it")
UNMARKED = N_("not written by a sync (created or imported before syncs kept their mark)")
MOVED = N_("follows pipeline {stored!r} in the store and {export!r} in the export (never "
           "synced)")
UNKNOWN_PIPELINE = N_("deal {id!r}: unknown pipeline {pipeline!r} (known: {known})")
UNKNOWN_STAGE = N_("deal {id!r}: stage {stage!r} is not a stage of pipeline {pipeline!r}")
SHARED = N_("records {first} and {second} share {key} {value!r}")
NOT_A_DEAL = "record {n}: sync takes opportunities, got {kind}"
BAD_PREFER = "prefer must be 'store' or 'export', got {prefer!r}"
BAD_BATCH = "batch_size must be a positive int"
_RETRIES = 3


@attrs.frozen(kw_only=True)
class SyncConflict:
    """A deal the export would change that was edited in the store meanwhile.

    Args:
        record_id: The stored deal.
        fields: The synced fields whose stored value differs from the export's.
        reason: Why the store's value was kept (or, with ``prefer="export"``, replaced).
    """

    record_id: str
    fields: tuple[str, ...]
    reason: str


@attrs.frozen(kw_only=True)
class SyncReport:
    """What a sync did: the ids behind each outcome, and the read's row errors.

    Args:
        added_ids: Deals created.
        updated_ids: Deals updated from the export (including conflicts overwritten with
            ``prefer="export"``).
        unchanged_ids: Deals already as exported (not written; their version did not move).
        conflicts: Deals edited in the store since the last sync, kept as they are (with
            ``prefer="export"``: the ones overwritten, also listed in ``updated_ids``).
        missing_ids: Deals an earlier sync wrote that this export no longer lists (kept).
        errors: The row errors of the read (records that never reached the sync).
    """

    added_ids: tuple[str, ...] = ()
    updated_ids: tuple[str, ...] = ()
    unchanged_ids: tuple[str, ...] = ()
    conflicts: tuple[SyncConflict, ...] = ()
    missing_ids: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def added(self) -> int:
        """How many deals were added."""
        return len(self.added_ids)

    @property
    def updated(self) -> int:
        """How many deals were updated."""
        return len(self.updated_ids)

    @property
    def unchanged(self) -> int:
        """How many deals were already as exported."""
        return len(self.unchanged_ids)

    @property
    def conflict_count(self) -> int:
        """How many deals were edited in the store since the last sync."""
        return len(self.conflicts)

    @property
    def missing(self) -> int:
        """How many earlier-synced deals this export no longer lists."""
        return len(self.missing_ids)

    def __str__(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.conflict_count} conflict(s), {self.missing} missing, "
                f"{len(self.errors)} row error(s)")


class _Plan:
    """The decisions of one sync, filled by :func:`_decide`."""

    def __init__(self) -> None:
        self.adds: list[Opportunity] = []
        self.updates: list[tuple[Opportunity, Opportunity]] = []
        self.unchanged: list[str] = []
        self.skipped: list[str] = []
        self.conflicts: list[SyncConflict] = []


def _differing(stored: Opportunity, export: Opportunity, keys: frozenset[str]) -> tuple[str, ...]:
    fields = [n for n in SYNCED_FIELDS if getattr(stored, n) != getattr(export, n)]
    if any(stored.custom.get(k) != export.custom.get(k) for k in keys):
        fields.append("custom")
    return tuple(fields)


def _closing_time(export: Opportunity, pipeline: Pipeline, at: datetime) -> datetime:
    """When the export says the deal entered its stage: the close date of a won/lost deal
    (the export's own history entry into that stage), else the sync time."""
    if pipeline.stage(export.stage_id).kind is StageKind.OPEN:
        return at
    for change in reversed(export.stage_history):
        if change.to_stage == export.stage_id:
            return change.at
    return at


def _updated(stored: Opportunity, export: Opportunity, old_keys: frozenset[str],
             pipeline: Pipeline, at: datetime, by: str) -> Opportunity:
    keys = export_keys(export)
    custom = {k: v for k, v in stored.custom.items() if k not in old_keys}
    custom.update((k, export.custom[k]) for k in keys)
    changes: dict[str, object] = {n: getattr(export, n) for n in SYNCED_FIELDS}
    mine, theirs = stored.account, export.account
    if mine is not None and theirs is not None and mine.id == theirs.id:
        # The export knows the account's id and name; details the host added stay.
        changes["account"] = attrs.evolve(mine, name=theirs.name)
    changes["custom"] = mark(custom, fingerprint(export, keys), keys)
    changes["updated_at"] = max(at, stored.updated_at)
    if export.stage_id != stored.stage_id:
        when = _closing_time(export, pipeline, at)
        if stored.stage_history and when < stored.stage_history[-1].at:
            when = stored.stage_history[-1].at  # the history stays in time order
        lost = pipeline.stage(export.stage_id).kind is StageKind.LOST
        changes["stage_history"] = (*stored.stage_history, StageChange(
            from_stage=stored.stage_id, to_stage=export.stage_id, at=when, by=by,
            reason=export.lost_reason if lost else None))
    return stored.evolve(**changes)


def _decide(export: Opportunity, stored: Opportunity | None, plan: _Plan, *,
            pipeline: Pipeline, at: datetime, by: str, prefer: Prefer, update: bool,
            mark_new: bool) -> None:
    keys = export_keys(export)
    if stored is None:
        if mark_new:
            export = export.evolve(custom=mark(export.custom, fingerprint(export, keys), keys))
        plan.adds.append(export)
        return
    if not update:
        plan.skipped.append(stored.id)
        return
    if stored.pipeline_id != export.pipeline_id:  # a deal's history belongs to its pipeline
        plan.conflicts.append(SyncConflict(record_id=stored.id, fields=("pipeline_id",),
                                           reason=_(MOVED).format(stored=stored.pipeline_id,
                                                               export=export.pipeline_id)))
        return
    previous = read_mark(stored)
    old_keys = previous.keys if previous is not None else keys
    both = keys | old_keys
    if fingerprint(stored, both) == fingerprint(export, both):
        plan.unchanged.append(stored.id)
        return
    untouched = previous is not None and fingerprint(stored, previous.keys) == previous.fp
    if not untouched:
        plan.conflicts.append(SyncConflict(record_id=stored.id,
                                           fields=_differing(stored, export, both),
                                           reason=_(UNMARKED if previous is None else EDITED)))
        if prefer != "export":
            return
    plan.updates.append((stored, _updated(stored, export.evolve(id=stored.id), old_keys,
                                          pipeline, at, by)))


def _refusals(records: Sequence[Opportunity], pipelines: dict[str, Pipeline]
              ) -> list[RowError]:
    """Everything that stops a sync before it writes: duplicates, unknown pipelines/stages."""
    problems: list[RowError] = []
    seen: dict[tuple[str, str], tuple[int, Opportunity]] = {}
    for number, record in enumerate(records, 1):
        pipeline = pipelines.get(record.pipeline_id)
        if pipeline is None:
            problems.append(RowError(row=number, column="pipeline_id", message=(
                _(UNKNOWN_PIPELINE).format(id=record.id, pipeline=record.pipeline_id,
                                        known=", ".join(sorted(pipelines))))))
        elif record.stage_id not in pipeline:
            problems.append(RowError(row=number, column="stage_id", message=(
                _(UNKNOWN_STAGE).format(id=record.id, stage=record.stage_id,
                                     pipeline=pipeline.id))))
        for key, value in (("id", record.id), ("external_key", record.external_key)):
            if value is None:
                continue
            first = seen.setdefault((key, value), (number, record))
            if first[0] != number and first[1] != record:
                problems.append(RowError(row=number, column=key, message=(
                    _(SHARED).format(first=first[0], second=number, key=key, value=value))))
    return problems


def _unique(records: Sequence[Opportunity]) -> list[Opportunity]:
    """Drop exact repeats (identical records are one record)."""
    seen: set[str] = set()
    out = []
    for record in records:
        if record.id not in seen:
            seen.add(record.id)
            out.append(record)
    return out


def run_sync(
    store: Store,
    records: Iterable[Opportunity] | ImportReport[Opportunity],
    *,
    by: str,
    at: datetime,
    prefer: Prefer = "store",
    pipelines: Pipeline | Iterable[Pipeline] | None = None,
    batch_size: int = 500,
    update: bool = True,
    mark_new: bool = True,
    on_written: Callable[[int], None] | None = None,
) -> tuple[SyncReport, tuple[str, ...]]:
    """:func:`sync`, plus the ids skipped when ``update`` is false (a plain import), and a
    callback told how many deals each committed batch held (for the CLI's progress).

    ``mark_new=False`` stores new deals exactly as given, without the sync mark (a plain
    import of oppcore's own full-fidelity formats); a later sync then treats them as not
    written by a sync."""
    aware(at, "at")
    if prefer not in ("store", "export"):
        raise ValidationError(BAD_PREFER.format(prefer=prefer), field="prefer", value=prefer)
    if type(batch_size) is not int or batch_size < 1:
        raise ValidationError(BAD_BATCH, field="batch_size", value=batch_size)
    errors: tuple[RowError, ...] = ()
    if isinstance(records, ImportReport):
        errors, records = records.errors, records.records
    listed = list(records)
    for number, record in enumerate(listed, 1):
        if type(record) is not Opportunity:
            raise ValidationError(NOT_A_DEAL.format(n=number, kind=type(record).__name__),
                                  field="records", value=record)
    if pipelines is None:
        pipelines = [Pipeline.template(name) for name in TEMPLATES]
    known = {p.id: p for p in ((pipelines,) if isinstance(pipelines, Pipeline) else pipelines)}
    problems = _refusals(listed, known)
    if problems:
        raise ImportDataError(problems)
    listed = _unique(listed)
    service = OpportunityService(store, pipelines=list(known.values()), clock=lambda: at,
                                 policy=AllowAll())
    by_id: dict[str, Opportunity] = {}
    by_key: dict[str, Opportunity] = {}
    for stored in query_all(store, Opportunity, page_size=1000):
        by_id[stored.id] = stored
        if stored.external_key is not None:
            by_key[stored.external_key] = stored
    matched: set[str] = set()
    outcome = _Plan()
    for start in range(0, len(listed), batch_size):
        batch = listed[start:start + batch_size]
        for attempt in range(_RETRIES + 1):
            plan = _Plan()
            for export in batch:
                key = export.external_key
                found = (by_key.get(key) if key else None) or by_id.get(export.id)
                if found is not None:
                    matched.add(found.id)
                _decide(export, found, plan, pipeline=known[export.pipeline_id], at=at,
                        by=by, prefer=prefer, update=update, mark_new=mark_new)
            try:
                service.sync_batch(plan.adds, plan.updates, by=by)
            except VersionConflictError:
                if attempt == _RETRIES:
                    raise
                for current, _ in plan.updates:  # another writer came first: read again
                    fresh = store.get(Opportunity, current.id)
                    by_id[fresh.id] = fresh
                    if fresh.external_key is not None:
                        by_key[fresh.external_key] = fresh
                continue
            break
        for name in ("adds", "updates", "unchanged", "skipped", "conflicts"):
            getattr(outcome, name).extend(getattr(plan, name))
        if on_written is not None:
            on_written(len(plan.adds) + len(plan.updates))
    # "The same source": the export's pipelines (all known ones for an empty export).
    pipelines_seen = {r.pipeline_id for r in listed} or set(known)
    missing = tuple(s.id for s in by_id.values() if s.id not in matched
                    and s.pipeline_id in pipelines_seen and read_mark(s) is not None)
    report = SyncReport(
        added_ids=tuple(r.id for r in outcome.adds),
        updated_ids=tuple(n.id for _, n in outcome.updates),
        unchanged_ids=tuple(outcome.unchanged), conflicts=tuple(outcome.conflicts),
        missing_ids=missing, errors=errors)
    return report, tuple(outcome.skipped)


def sync(
    store: Store,
    records: Iterable[Opportunity] | ImportReport[Opportunity],
    *,
    by: str,
    at: datetime,
    prefer: Prefer = "store",
    pipelines: Pipeline | Iterable[Pipeline] | None = None,
    batch_size: int = 500,
) -> SyncReport:
    """Bring a store up to date with a new version of an export (see the module docs).

    Deals are matched by ``external_key`` when the export gives one, else by id. Changed
    deals are saved through the service (audited as ``sync`` by ``by``, new deals as
    ``create``), ``batch_size`` per atomic write. A stage change appends a history entry
    dated by the export (the close date for a won or lost deal, else ``at``), never
    rewriting the stored history. Only the fields an export owns are written (name, stage,
    created_at, account, owner, amount, expected close, source, lost reason, tags and the
    export's custom fields); activities, quotes, contacts, probabilities, a saved score and
    the other custom fields stay the host's.

    Syncing the same export twice writes nothing the second time. A sync stopped midway
    (a crash, a full disk) leaves whole batches stored, each with its audit entries; run
    it again and it ends as if it had never stopped.

    Args:
        store: Any :class:`~oppcore.Store`.
        records: The export's deals (from :func:`read_csv` or any reader), or an
            :class:`ImportReport` whose row errors are passed on into the report.
        by: The actor named in the audit trail (``oppcore import`` uses
            ``import:<file name>``).
        at: The sync time (timezone-aware): audit time, and the date of stage changes of
            deals still open.
        prefer: ``"store"`` (default) keeps deals edited in the store since the last sync
            and reports them as conflicts; ``"export"`` overwrites them (still reported).
        pipelines: The pipelines the deals follow (default: the built-in templates). A deal
            in another pipeline, or in a stage its pipeline lacks, is refused.
        batch_size: Deals per atomic write.

    Returns:
        A :class:`SyncReport`.

    Raises:
        ImportDataError: Before anything is written: two deals share an id or external key
            (identical repeats are one deal), or a deal's pipeline or stage is unknown.
        ValidationError: Bad arguments (a naive ``at``, an unknown ``prefer``, a lead).
        PermissionDeniedError, DuplicateError, StorageUnavailableError: From the store or the
            service; the batches before the failing one stay stored (run again to finish).
    """
    report, _ = run_sync(store, records, by=by, at=at, prefer=prefer, pipelines=pipelines,
                         batch_size=batch_size)
    return report
