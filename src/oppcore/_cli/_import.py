"""``oppcore import``: read a whole file, refuse what cannot be stored, then write.

The order matters: the file is read and checked completely (rows, duplicate ids, every
stage of the mapping against the pipeline) **before** the database is opened, so a file
that cannot be read, or a mapping with a stage typo, leaves no database and no half import.
Deals are then written through :func:`oppcore.io.sync` (new ones audited ``create``, with
``--sync`` changed ones audited ``sync``), one atomic batch at a time.
"""

import argparse
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from oppcore import io as oio
from oppcore._errors import ConfigError, DuplicateError, ImportDataError, OppcoreError
from oppcore._models import Lead, Opportunity
from oppcore._service import AllowAll, OpportunityService
from oppcore.io._report import RowError
from oppcore.io._sync import SyncReport, run_sync
from oppcore.locale._catalog import N_, _
from oppcore.pipeline import Pipeline
from oppcore.pipeline._templates import TEMPLATES
from oppcore.storage import Store

from ._common import UsageError, error, load_pipeline, open_store, parse_now
from ._files import LOOKS_LIKE, Source, mapping_of, open_file, recognised_preset
from ._progress import progress

__all__ = ["cmd_import"]

EXIT_OK, EXIT_DATA = 0, 1
_BATCH = 500
_SHOWN_GROUPS = 20
_SHOWN_IDS = 10

# User-facing messages, marked with N_() and shown as _(NAME): translated when shown.
IMPORTED = N_("imported {added} record(s) into {db}")
SKIPPED = N_(", {n} already present (skipped; add --sync to update them from the file)")
PROBLEMS = N_(", {n} problem(s)")
SYNCED = N_("synced {file} into {db}: {added} added, {updated} updated, {unchanged} unchanged, "
          "{conflicts} conflict(s), {missing} missing")
CONFLICT = N_("conflict: {id}: {reason}; kept the store's {fields} (--prefer export takes "
              "the file's)")
OVERWRITTEN = N_("conflict: {id}: {reason}; took the file's {fields} (--prefer export)")
MISSING = N_("missing from the file (kept in the store): {ids}")
MORE = N_("... and {n} more")
GROUP = N_("{rows}: {where}{message}")
STOPPED = N_("stopped after {n} record(s) were committed ({db} holds them, each with its audit "
           "entry); fix the cause and run the same command with --sync to finish")
UNREADABLE = N_("{file}: nothing was imported (no database was created or changed)")
NO_PIPELINE = N_("the mapping's deals follow pipeline {id!r}, which is not a template "
               "({templates}): give its file with --pipeline")
LEADS_NO_SYNC = N_("--sync updates deals; {n} lead(s) in the file (import leads without --sync)")
STAGE = N_("opportunity {id}: {why}")
WRONG_PIPELINE = N_("follows pipeline {have!r}, not {want!r}")
UNKNOWN_PIPELINE = N_("follows pipeline {have!r}, which the import does not know (give --pipeline)")
UNKNOWN_STAGE = N_("pipeline {pipeline!r} has no stage {stage!r}")

# Library hints name Python arguments; the command line has flags.
_CLI_WORDS = (
    ("pass as_of= (the export date)", "pass --as-of (the export date)"),
    ("with encoding=", "with --encoding"),
    ("give delimiter=", "give --delimiter"),
    ("the mapping has no default_currency",
     "the mapping has no default_currency (give --default-currency)"),
)


def cli_words(message: str) -> str:
    """Say a library hint in the command line's words (``--as-of``, not ``as_of=``)."""
    for api, cli in _CLI_WORDS:
        message = message.replace(api, cli)
    return message


def _ranges(rows: list[int]) -> str:
    spans: list[str] = []
    start = prev = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == prev + 1:
            prev = row
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if row is not None:
            start = prev = row
    shown = _(", ").join(spans[:3]) + (_(", ") + "..." if len(spans) > 3 else "")
    if len(rows) > 1:
        return _("{n} rows ({shown})").format(n=len(rows), shown=shown)
    return _("row {shown}").format(shown=shown)


def grouped(problems: list[RowError]) -> list[str]:
    """One line per distinct problem, with the rows it was found in."""
    groups: dict[tuple[str | None, str], list[int]] = {}
    for p in problems:
        groups.setdefault((p.column, p.message), []).append(p.row)
    lines = []
    for (column, message), rows in groups.items():
        where = f"{column}: " if column else ""
        text = cli_words(message)
        if rows == [0]:
            lines.append(f"{where}{text}")
        else:
            lines.append(_(GROUP).format(rows=_ranges(sorted(set(rows))), where=where,
                                      message=text))
    return lines


def _read(args: argparse.Namespace, source: Source, mapping: oio.ColumnMapping | None,
          problems: list[RowError]) -> Iterator[Lead | Opportunity]:
    suffix = source.path.suffix.lower()
    if suffix == ".jsonl":
        yield from oio.read_jsonl(source.path, on_error=problems.append)
        return
    if suffix == ".json":
        report = oio.import_json(source.path, errors="collect")
        problems.extend(report.errors)
        yield from report.records
        return
    if mapping is not None:
        as_of = (parse_now(args.as_of, option="--as-of", zone=args.zone)
                 if args.as_of else None)
        mapped = oio.import_csv(source.stream(), mapping, errors="collect", zone=args.zone,
                                as_of=as_of, encoding=source.encoding,
                                delimiter=source.delimiter)
        problems.extend(mapped.errors)
        yield from mapped.records
        return
    name = recognised_preset(source)
    if name is not None:
        raise UsageError(_(LOOKS_LIKE).format(file=args.file, preset=name))
    yield from oio.read_opportunities_csv(source.stream(), on_error=problems.append,
                                          encoding=source.encoding, delimiter=source.delimiter)


def _pipelines(args: argparse.Namespace, mapping: oio.ColumnMapping | None) -> list[Pipeline]:
    """The pipelines deals may follow; a mapping's stages are checked against its own."""
    if args.pipeline:
        chosen = [load_pipeline(args.pipeline)]
    else:
        chosen = [Pipeline.template(name) for name in TEMPLATES]
    if mapping is not None:
        own = next((p for p in chosen if p.id == mapping.pipeline_id), None)
        if own is None and not args.pipeline:
            raise UsageError(_(NO_PIPELINE).format(id=mapping.pipeline_id,
                                                templates=", ".join(TEMPLATES)))
        problems = mapping.pipeline_problems(own or chosen[0])
        if problems:
            raise ConfigError(problems, source=args.mapping or f"preset {args.preset!r}")
    return chosen


def _misfit(record: Lead | Opportunity, pipelines: list[Pipeline], chosen: bool) -> str | None:
    if not isinstance(record, Opportunity):
        return None
    known = {p.id: p for p in pipelines}
    pipeline = known.get(record.pipeline_id)
    if pipeline is None:
        if chosen:
            return _(WRONG_PIPELINE).format(have=record.pipeline_id, want=pipelines[0].id)
        return _(UNKNOWN_PIPELINE).format(have=record.pipeline_id)
    if record.stage_id not in pipeline:
        return _(UNKNOWN_STAGE).format(stage=record.stage_id, pipeline=pipeline.id)
    return None


def cmd_import(args: argparse.Namespace) -> int:
    """Import (or with ``--sync`` re-import) a CSV/XLSX/JSON/JSON Lines file into SQLite."""
    source = open_file(args)
    mapping = None if source.path.suffix.lower() in (".json", ".jsonl") else mapping_of(args)
    pipelines = _pipelines(args, mapping)
    by = args.by or f"import:{source.path.name}"
    problems: list[RowError] = []
    refused: list[str] = []
    deals: list[Opportunity] = []
    leads: list[Lead] = []
    try:
        for record in _read(args, source, mapping, problems):
            why = _misfit(record, pipelines, bool(args.pipeline))
            if why:
                refused.append(_(STAGE).format(id=record.id, why=why))
            elif isinstance(record, Opportunity):
                deals.append(record)
            else:
                leads.append(record)
    except ImportDataError as exc:  # the file as a whole: nothing was written
        for line in grouped(list(exc.errors)):
            error(line)
        error(_(UNREADABLE).format(file=args.file))
        return EXIT_DATA
    if args.sync and leads:
        raise UsageError(_(LEADS_NO_SYNC).format(n=len(leads)))
    lines = grouped(problems) + refused
    now = datetime.now(timezone.utc)
    store = open_store(args.db, must_exist=False)
    committed = 0
    try:
        with progress(_("importing"), total=len(deals) + len(leads)) as bar:
            def written(n: int) -> None:
                nonlocal committed
                committed += n
                bar.advance(n)

            try:
                report, skipped = run_sync(store, deals, by=by, at=now, prefer=args.prefer,
                                           pipelines=pipelines, batch_size=_BATCH,
                                           update=args.sync, on_written=written,
                                           mark_new=args.sync or mapping is not None)
                added_leads = _add_leads(store, leads, by, pipelines, lines)
            except OppcoreError:
                if committed:  # else the error itself says nothing was written
                    error(_(STOPPED).format(n=committed, db=args.db))
                raise
    finally:
        store.close()
    for line in lines[:_SHOWN_GROUPS]:
        error(line)
    if len(lines) > _SHOWN_GROUPS:
        error(_(MORE).format(n=len(lines) - _SHOWN_GROUPS))
    if args.sync:
        return _print_sync(args, report, lines)
    print(_(IMPORTED).format(added=report.added + added_leads, db=args.db)
          + (_(SKIPPED).format(n=len(skipped)) if skipped else "")
          + (_(PROBLEMS).format(n=len(lines)) if lines else ""))
    return EXIT_DATA if lines else EXIT_OK


def _add_leads(store: Store, leads: list[Lead], by: str, pipelines: list[Pipeline],
               lines: list[str]) -> int:
    """Leads (JSON files) are created, never synced; one already stored is skipped."""
    service = OpportunityService(store, pipelines=pipelines,
                                 clock=lambda: datetime.now(timezone.utc), policy=AllowAll())
    added = 0
    for lead in leads:
        try:
            service.create(lead, by=by)
        except DuplicateError as exc:
            if exc.key != "id":
                lines.append(str(exc))
            continue
        added += 1
    return added


def _print_sync(args: argparse.Namespace, report: SyncReport, lines: list[str]) -> int:
    print(_(SYNCED).format(file=Path(args.file).name, db=args.db, added=report.added,
                        updated=report.updated, unchanged=report.unchanged,
                        conflicts=report.conflict_count, missing=report.missing)
          + (_(PROBLEMS).format(n=len(lines)) if lines else ""))
    taken = set(report.updated_ids)
    for conflict in report.conflicts[:_SHOWN_IDS]:
        template = OVERWRITTEN if conflict.record_id in taken else CONFLICT
        print(_(template).format(id=conflict.record_id, reason=conflict.reason,
                              fields=", ".join(conflict.fields) or "values"))
    if report.conflict_count > _SHOWN_IDS:
        print(_(MORE).format(n=report.conflict_count - _SHOWN_IDS))
    if report.missing_ids:
        ids = ", ".join(report.missing_ids[:_SHOWN_IDS])
        more = (" " + _(MORE).format(n=report.missing - _SHOWN_IDS)
                if report.missing > _SHOWN_IDS else "")
        print(_(MISSING).format(ids=ids) + more)
    kept = any(c.record_id not in taken for c in report.conflicts)
    return EXIT_DATA if lines or kept else EXIT_OK

