"""The ``oppcore`` subcommands: import, score, report, pipeline validate/show, dedupe.

Each handler returns the exit code: 0 success, 1 data errors found, 2 usage errors.
"""

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import attrs

from oppcore import io as oio
from oppcore._errors import DuplicateError
from oppcore._models import Lead, Opportunity
from oppcore._report._format import fit, money
from oppcore.dedupe import find_duplicates
from oppcore.pipeline import Pipeline
from oppcore.storage import AuditEntry, SQLiteStore

from ._common import (
    UsageError,
    error,
    iter_records,
    load_pipeline,
    load_scorecard,
    open_store,
    parse_now,
    pick_pipeline,
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


def cmd_import(args: argparse.Namespace) -> int:
    """Import a CSV/JSON/JSON Lines file into the SQLite store, in batches."""
    pipeline = load_pipeline(args.pipeline) if args.pipeline else None
    store = open_store(args.db, must_exist=False)
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
                    a, s = _store_batch(store, batch, problems)
                    added, already = added + a, already + s
                    bar.advance(len(batch))
                    batch = []
            if batch:
                a, s = _store_batch(store, batch, problems)
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


def _store_batch(store: SQLiteStore, batch: list[Lead | Opportunity],
                 problems: list[str]) -> tuple[int, int]:
    """Add a batch in one transaction; on a duplicate, add one by one to name each."""
    try:
        return store.bulk_add(batch, batch_size=len(batch)), 0
    except DuplicateError:
        pass
    added = already = 0
    for record in batch:
        outcome = _add_one(store, record)
        if outcome is None:
            added += 1
        elif outcome.key == "id":
            already += 1  # re-running an import is safe: stored records are skipped
        else:
            problems.append(str(outcome))
    return added, already


def _add_one(store: SQLiteStore, record: Lead | Opportunity) -> DuplicateError | None:
    """Add one record; return the duplicate error instead of raising it."""
    try:
        if isinstance(record, Lead):
            store.add(record)
        else:
            store.add(record)
    except DuplicateError as exc:
        return exc
    return None


# --- score ------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    """Score every open deal in the store and print the ranking with top reasons."""
    store = open_store(args.db)
    try:
        pipeline = pick_pipeline(store, args.pipeline)
        card = load_scorecard(args.scorecard)
        now = parse_now(args.now)
        open_ids = {s.id for s in pipeline.open_stages}
        deals = [o for o in iter_records(store, Opportunity, pipeline=pipeline.id)
                 if o.stage_id in open_ids]
        scored = []
        with progress("scoring", total=len(deals)) as bar:
            for opp, score in zip(deals, card.score_many(deals, now=now), strict=True):
                scored.append((score, opp))
                bar.advance()
        if args.save:
            _save_scores(store, scored, now=now, by=args.by)
    finally:
        store.close()
    scored.sort(key=lambda pair: (-pair[0].total, pair[1].id))
    out = sys.stdout
    out.write(f"Scored {len(scored)} open deal(s) in pipeline {pipeline.id!r} "
              f"with scorecard {card.name!r} as of {now.isoformat(timespec='minutes')}\n")
    _print_ranking(out, scored[: args.top])
    incomplete = sum(1 for score, _ in scored if not score.complete)
    if incomplete:
        error(f"{incomplete} score(s) are incomplete: a rule failed (see the contributions)")
        return EXIT_DATA
    return EXIT_OK


def _save_scores(store: SQLiteStore, scored: list[Any], *, now: datetime, by: str) -> None:
    """Keep each score and grade on its deal, audited like the service's ``rescore``."""
    from oppcore._service import GRADE_FIELD, SCORE_FIELD

    for score, opp in scored:
        custom = dict(opp.custom)
        custom[SCORE_FIELD], custom[GRADE_FIELD] = str(score.total), score.grade
        if custom != dict(opp.custom):
            new = opp.evolve(custom=custom)
            store.save(new, audit=AuditEntry.for_change(
                opp, new, action="rescore", by=by, at=now, note=f"scorecard {score.scorecard}"))


def _print_ranking(out: TextIO, scored: Iterable[Any]) -> None:
    for rank, (score, opp) in enumerate(scored, 1):
        amount = money(opp.amount)
        out.write(f"{rank:3}. {score.total:>6} {score.grade}  {opp.id}  {fit(opp.name, 32)}  "
                  f"[{opp.stage_id}] {amount}  coverage {score.coverage:.0%}\n")
        for factor in (*score.top_positive(2), *score.top_negative(1)):
            sign = "+" if factor.points > 0 else ""
            out.write(f"       {sign}{factor.points:g} {factor.message}\n")


# --- report -----------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    """Print (text, JSON, CSV) or write (HTML) the pipeline report of the store."""
    from oppcore._report import build_report, render_csv, render_html, render_json, render_text

    store = open_store(args.db)
    try:
        pipeline = pick_pipeline(store, args.pipeline)
        now = parse_now(args.now)
        card = load_scorecard(args.scorecard)
        report = build_report(iter_records(store, Opportunity, pipeline=pipeline.id),
                              pipeline, now=now, scorecard=card, top=args.top)
    finally:
        store.close()
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
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
    header = ("stage", "label", "kind", "prob", "forecast", "stale after", "requirements")
    rows = []
    for s in pipeline.stages:
        stale = f"{s.follow_up.max_days}d" if s.follow_up and s.follow_up.max_days else "-"
        reqs = "; ".join(_describe_requirement(r) for r in s.requirements) or "-"
        rows.append((s.id, s.label, s.kind.value, f"{s.probability:.0%}",
                     s.forecast_category.value, stale, reqs))
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=False)]
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
    print(f"checked {len(records)} record(s): {len(pairs)} probable duplicate pair(s)")
    for pair in pairs[: args.top]:
        keys = ", ".join(r.code for r in pair.reasons)
        first, second = pair.first, pair.second
        print(f"  {pair.score:.2f}  {type(first).__name__.lower()} {first.id} ~ {second.id}"
              f"  ({keys})")
    if len(pairs) > args.top:
        print(f"  ... and {len(pairs) - args.top} more (raise --top to see them)")
    return EXIT_DATA if pairs else EXIT_OK

