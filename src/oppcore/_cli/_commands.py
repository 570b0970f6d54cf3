"""The ``oppcore`` subcommands: import, score, report, pipeline validate/show, dedupe.

Each handler returns the exit code: 0 success, 1 data errors found, 2 usage errors.
"""

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import attrs

from oppcore import io as oio
from oppcore._errors import DuplicateError, UnknownStageError
from oppcore._models import Lead, Opportunity
from oppcore._report._format import fit, money, width
from oppcore._service import AllowAll, OpportunityService, RescoreSummary
from oppcore.dedupe import find_duplicates
from oppcore.locale._catalog import _
from oppcore.locale._reasons import translate_reason
from oppcore.pipeline import Pipeline
from oppcore.pipeline._templates import TEMPLATES

from ._common import (
    UsageError,
    error,
    iter_records,
    load_pipeline,
    load_scorecard,
    open_store,
    parse_now,
    pick_pipeline,
    with_calendar,
)
from ._progress import progress

EXIT_OK, EXIT_DATA = 0, 1
_BATCH = 500
_MAX_SHOWN_ERRORS = 20


# --- import -----------------------------------------------------------------------------


def _records_from_file(args: argparse.Namespace,
                       on_error: Any) -> Iterator[Lead | Opportunity]:
    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"no such file: {args.file!r}")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from oio.read_jsonl(path, on_error=on_error)
        return
    if suffix == ".json":
        report = oio.import_json(path, errors="collect")
        for row_error in report.errors:
            on_error(row_error)
        yield from report.records
        return
    if args.mapping or args.preset:
        if args.mapping and args.preset:
            raise UsageError("give --mapping or --preset, not both")
        if args.mapping:
            mapping_path = Path(args.mapping)
            if not mapping_path.exists():
                raise UsageError(f"no mapping file at {args.mapping!r}")
            mapping = oio.ColumnMapping.from_toml(mapping_path.read_text(encoding="utf-8"),
                                                  source=str(mapping_path))
        else:
            mapping = oio.preset(args.preset)
        as_of = parse_now(args.as_of, option="--as-of") if args.as_of else None
        yield from oio.read_csv(path, mapping, zone=args.zone, as_of=as_of, on_error=on_error)
        return
    yield from oio.read_opportunities_csv(path, on_error=on_error)


def _check_stage(record: Lead | Opportunity, pipeline: Pipeline | None) -> str | None:
    if pipeline is None or not isinstance(record, Opportunity):
        return None
    if record.pipeline_id != pipeline.id:
        return f"follows pipeline {record.pipeline_id!r}, not {pipeline.id!r}"
    if record.stage_id not in {s.id for s in pipeline.stages}:
        return f"stage {record.stage_id!r} is not a stage of pipeline {pipeline.id!r}"
    return None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV/JSON/JSON Lines file into the SQLite store through the service.

    Every record is created by :meth:`OpportunityService.create_many` (audited ``create``,
    actor ``import:<file name>``), one atomic batch at a time.
    """
    pipeline = load_pipeline(args.pipeline) if args.pipeline else None
    by = f"import:{Path(args.file).name}"
    store = open_store(args.db, must_exist=False)
    # Without --pipeline the service knows the built-in templates: a deal that names one
    # is checked against its stages, a deal of another pipeline is stored as it is.
    service = OpportunityService(
        store, pipelines=pipeline or [Pipeline.template(name) for name in TEMPLATES],
        clock=_utc_now, policy=AllowAll())
    problems: list[str] = []

    def on_error(row_error: Any) -> None:
        problems.append(str(row_error))

    added = already = 0
    try:
        with progress("importing") as bar:
            batch: list[Lead | Opportunity] = []
            for record in _records_from_file(args, on_error):
                why = _check_stage(record, pipeline)
                if why:
                    problems.append(f"{type(record).__name__.lower()} {record.id}: {why}")
                    continue
                batch.append(record)
                if len(batch) == _BATCH:
                    a, s = _store_batch(service, batch, by, problems)
                    added, already = added + a, already + s
                    bar.advance(len(batch))
                    batch = []
            if batch:
                a, s = _store_batch(service, batch, by, problems)
                added, already = added + a, already + s
                bar.advance(len(batch))
    finally:
        store.close()
    for line in problems[:_MAX_SHOWN_ERRORS]:
        error(line)
    if len(problems) > _MAX_SHOWN_ERRORS:
        error(f"... and {len(problems) - _MAX_SHOWN_ERRORS} more problem(s)")
    print(f"imported {added} record(s) into {args.db}"
          + (f", {already} already present (skipped)" if already else "")
          + (f", {len(problems)} problem(s)" if problems else ""))
    return EXIT_DATA if problems else EXIT_OK


def _store_batch(service: OpportunityService, batch: list[Lead | Opportunity], by: str,
                 problems: list[str]) -> tuple[int, int]:
    """Create a batch in one atomic write; if a record is refused, create one by one to
    name each refusal (the batch was not written)."""
    try:
        return len(service.create_many(batch, by=by, batch_size=len(batch))), 0
    except (DuplicateError, UnknownStageError):
        pass
    added = already = 0
    for record in batch:
        refusal = _create_one(service, record, by)
        if refusal is None:
            added += 1
        elif isinstance(refusal, DuplicateError) and refusal.key == "id":
            already += 1  # re-running an import is safe: stored records are skipped
        elif isinstance(refusal, DuplicateError):
            problems.append(str(refusal))
        else:
            problems.append(f"{type(record).__name__.lower()} {record.id}: {refusal}")
    return added, already


def _create_one(service: OpportunityService, record: Lead | Opportunity,
                by: str) -> DuplicateError | UnknownStageError | None:
    """Create one record; return the refusal instead of raising it."""
    try:
        service.create(record, by=by)
    except (DuplicateError, UnknownStageError) as exc:
        return exc
    return None


# --- score ------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    """Score every open deal in the store and print the ranking with top reasons."""
    store = open_store(args.db)
    try:
        pipeline = with_calendar(pick_pipeline(store, args.pipeline), args.calendar)
        card = load_scorecard(args.scorecard)
        now = parse_now(args.now)
        open_ids = {s.id for s in pipeline.open_stages}
        deals = [o for o in iter_records(store, Opportunity, pipeline=pipeline.id)
                 if o.stage_id in open_ids]
        scored = []
        summary: RescoreSummary | None = None
        with progress("scoring", total=len(deals)) as bar:
            for opp, score in zip(deals, card.score_many(deals, now=now), strict=True):
                scored.append((score, opp))
                bar.advance()
        if args.save:
            # Through the service: audited, conflicts retried, updated_at bumped.
            service = OpportunityService(store, pipelines=pipeline, clock=lambda: now,
                                         scorecard=card, policy=AllowAll())
            summary = service.rescore_many([opp.id for _, opp in scored], by=args.by)
    finally:
        store.close()
    scored.sort(key=lambda pair: (-pair[0].total, pair[1].id))
    out = sys.stdout
    out.write(_("Scored {count} open deal(s) in pipeline {pipeline!r} with scorecard "
                "{scorecard!r} as of {moment}").format(
        count=len(scored), pipeline=pipeline.id, scorecard=card.name,
        moment=now.isoformat(timespec="minutes")) + "\n")
    _print_ranking(out, scored[: args.top])
    if summary is not None:
        out.write(f"Saved {len(summary.rescored)} changed score(s) as {args.by!r}"
                  f" ({len(summary.unchanged)} unchanged)\n")
        for failure in summary.failed:
            error(f"score of {failure.record_id} not saved: {failure.error}")
        if summary.failed:
            return EXIT_DATA
    incomplete = sum(1 for score, _ in scored if not score.complete)
    if incomplete:
        error(f"{incomplete} score(s) are incomplete: a rule failed (see the contributions)")
        return EXIT_DATA
    return EXIT_OK


def _print_ranking(out: TextIO, scored: Iterable[Any]) -> None:
    coverage = _("coverage")
    for rank, (score, opp) in enumerate(scored, 1):
        amount = money(opp.amount)
        out.write(f"{rank:3}. {score.total:>6} {score.grade}  {opp.id}  {fit(opp.name, 32)}  "
                  f"[{opp.stage_id}] {amount}  {coverage} {score.coverage:.0%}\n")
        for factor in (*score.top_positive(2), *score.top_negative(1)):
            sign = "+" if factor.points > 0 else ""
            out.write(f"       {sign}{factor.points:g} {translate_reason(factor.message)}\n")


# --- report -----------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    """Print (text, JSON, CSV) or write (HTML) the pipeline report of the store."""
    from oppcore._report import build_report, render_csv, render_html, render_json, render_text

    store = open_store(args.db)
    try:
        pipeline = with_calendar(pick_pipeline(store, args.pipeline), args.calendar)
        now = parse_now(args.now)
        card = load_scorecard(args.scorecard)
        report = build_report(iter_records(store, Opportunity, pipeline=pipeline.id),
                              pipeline, now=now, scorecard=card, top=args.top,
                              title=_("Pipeline report"))
    finally:
        store.close()
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(_("wrote {path}").format(path=args.html), file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(render_json(report))
    elif args.format == "csv":
        sys.stdout.write(render_csv(report))
    elif args.format == "text" or not args.html:
        sys.stdout.write(render_text(report))
    return EXIT_OK


# --- pipeline validate / show ------------------------------------------------------------


def cmd_pipeline_validate(args: argparse.Namespace) -> int:
    """Validate a pipeline file; print every problem (ConfigError handled by main)."""
    pipeline = load_pipeline(args.file, guards=args.guard)
    print(f"{args.file}: ok (pipeline {pipeline.id!r}, {len(pipeline.stages)} stages)")
    return EXIT_OK


def cmd_pipeline_show(args: argparse.Namespace) -> int:
    """Print a pipeline as a table and as a Mermaid state diagram."""
    pipeline = load_pipeline(args.file, guards=args.guard)
    out = sys.stdout
    out.write(f"{pipeline.id}: {pipeline.label}\n\n")
    header = ("stage", _("label"), _("kind"), _("prob"), _("forecast"), _("stale after"),
              _("requirements"))
    rows = []
    for s in pipeline.stages:
        stale = f"{s.follow_up.max_days}d" if s.follow_up and s.follow_up.max_days else "-"
        reqs = "; ".join(_describe_requirement(r) for r in s.requirements) or "-"
        rows.append((s.id, s.label, s.kind.value, f"{s.probability:.0%}",
                     s.forecast_category.value, stale, reqs))
    # Widths in terminal columns: a Chinese label takes two per character.
    widths = [max(width(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(c) + " " * (w - width(str(c))) for c, w in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, str(row[-1])]).rstrip() + "\n")
    if not args.no_mermaid:
        out.write("\n```mermaid\n" + pipeline.to_mermaid().rstrip() + "\n```\n")
    return EXIT_OK


def _describe_requirement(requirement: Any) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(requirement).__name__.removeprefix("Require"))
    name = name.lower()
    parts = []
    for field in attrs.fields(type(requirement)):
        value = getattr(requirement, field.name)
        if value == field.default or value in ((), None):
            continue
        if isinstance(value, tuple | frozenset):
            value = "/".join(sorted(str(getattr(v, "value", v)) for v in value))
        parts.append(str(getattr(value, "value", value)))
    return f"{name}: {', '.join(parts)}" if parts else name


# --- dedupe -----------------------------------------------------------------------------


def cmd_dedupe(args: argparse.Namespace) -> int:
    """List probable duplicate leads (and deals) with their score and matched keys."""
    store = open_store(args.db)
    try:
        records: list[Lead | Opportunity] = list(iter_records(store, Lead))
        if args.deals:
            records += list(iter_records(store, Opportunity))
    finally:
        store.close()
    pairs = find_duplicates(records, threshold=args.threshold)
    print(_("checked {records} record(s): {pairs} probable duplicate pair(s)").format(
        records=len(records), pairs=len(pairs)))
    for pair in pairs[: args.top]:
        keys = ", ".join(r.code for r in pair.reasons)
        first, second = pair.first, pair.second
        print(f"  {pair.score:.2f}  {type(first).__name__.lower()} {first.id} ~ {second.id}"
              f"  ({keys})")
    if len(pairs) > args.top:
        print("  " + _("... and {count} more (raise --top to see them)").format(
            count=len(pairs) - args.top))
    return EXIT_DATA if pairs else EXIT_OK

