"""The ``oppcore`` subcommands: score, report, pipeline validate/show, mapping show, dedupe
(import has a module of its own, ``_import``).

Each handler returns the exit code: 0 success, 1 data errors found, 2 usage errors.
"""

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import attrs

from oppcore import io as oio
from oppcore._models import Lead, Opportunity
from oppcore._report._format import fit, money, points, width
from oppcore._service import AllowAll, OpportunityService, RescoreSummary
from oppcore.dedupe import find_duplicates
from oppcore.locale._catalog import N_, _, ngettext
from oppcore.locale._reasons import translate_reason
from oppcore.pipeline import Pipeline
from oppcore.storage import query_all

from ._common import (
    error,
    key_label,
    load_pipeline,
    load_scorecard,
    open_store,
    parse_now,
    pick_pipeline,
    with_calendar,
)
from ._import import cmd_import
from ._progress import progress

__all__ = ["cmd_dedupe", "cmd_import", "cmd_mapping_show", "cmd_pipeline_show",
           "cmd_pipeline_validate", "cmd_report", "cmd_score"]

EXIT_OK, EXIT_DATA = 0, 1

# User-facing messages, marked with N_() and shown as _(NAME): translated when shown.
MAPPING_HEADER = N_("# The {name!r} preset as a mapping file. Copy it and edit it, or keep only\n"
                  "# the lines you change under  extends = \"{name}\"\n")


# --- score ------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    """Score every open deal in the store and print the ranking with top reasons."""
    store = open_store(args.db)
    try:
        pipeline = with_calendar(pick_pipeline(store, args.pipeline), args.calendar)
        card = load_scorecard(args.scorecard)
        now = parse_now(args.now, zone=args.zone)
        open_ids = {s.id for s in pipeline.open_stages}
        deals = [o for o in query_all(store, Opportunity, pipeline=pipeline.id)
                 if o.stage_id in open_ids]
        scored = []
        summary: RescoreSummary | None = None
        with progress(_("scoring"), total=len(deals)) as bar:
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
    _print_ranking(out, scored[: args.top], pipeline)
    if summary is not None:
        out.write(_("Saved {count} changed score(s) as {by!r} ({unchanged} unchanged)").format(
            count=len(summary.rescored), by=args.by, unchanged=len(summary.unchanged)) + "\n")
        for failure in summary.failed:
            error(_("score of {id} not saved: {error}").format(id=failure.record_id,
                                                               error=failure.error))
        if summary.failed:
            return EXIT_DATA
    incomplete = sum(1 for score, _ in scored if not score.complete)
    if incomplete:
        error(_("{count} score(s) are incomplete: a rule failed (see the contributions)"
                ).format(count=incomplete))
        return EXIT_DATA
    return EXIT_OK


def _print_ranking(out: TextIO, scored: Iterable[Any], pipeline: Pipeline) -> None:
    """The ranking a person reads: each deal's stage by its label in the active locale."""
    coverage = _("coverage")
    for rank, (score, opp) in enumerate(scored, 1):
        amount = money(opp.amount)
        out.write(f"{rank:3}. {score.total:>6} {score.grade}  {opp.id}  {fit(opp.name, 32)}  "
                  f"[{pipeline.stage(opp.stage_id).label}] {amount}  {coverage} "
                  f"{score.coverage:.0%}\n")
        for factor in (*score.top_positive(2), *score.top_negative(1)):
            out.write(f"       {points(factor.points)} {translate_reason(factor.message)}\n")


# --- report -----------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    """Print (text, JSON, CSV) or write (HTML) the pipeline report of the store."""
    from oppcore._report import build_report, render_csv, render_html, render_json, render_text

    store = open_store(args.db)
    try:
        pipeline = with_calendar(pick_pipeline(store, args.pipeline), args.calendar)
        now = parse_now(args.now, zone=args.zone)
        card = load_scorecard(args.scorecard)
        report = build_report(query_all(store, Opportunity, pipeline=pipeline.id),
                              pipeline, now=now, scorecard=card, top=args.top,
                              stale_after=args.stale_after, title=_("Pipeline report"))
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
    print(ngettext("{file}: ok (pipeline {id!r}, {count} stage)",
                   "{file}: ok (pipeline {id!r}, {count} stages)", len(pipeline.stages)).format(
        file=args.file, id=pipeline.id, count=len(pipeline.stages)))
    return EXIT_OK


def cmd_pipeline_show(args: argparse.Namespace) -> int:
    """Print a pipeline as a table and as a Mermaid state diagram."""
    pipeline = load_pipeline(args.file, guards=args.guard)
    out = sys.stdout
    out.write(f"{pipeline.id}: {pipeline.label}\n\n")
    header = (_("stage"), _("label"), _("kind"), _("prob"), _("forecast"), _("stale after"),
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


# --- mapping show -----------------------------------------------------------------------


def cmd_mapping_show(args: argparse.Namespace) -> int:
    """Print a preset as a mapping file to copy and edit."""
    mapping = oio.preset(args.name)
    sys.stdout.write(_(MAPPING_HEADER).format(name=args.name) + mapping.to_toml())
    return EXIT_OK


# --- dedupe -----------------------------------------------------------------------------


def cmd_dedupe(args: argparse.Namespace) -> int:
    """List probable duplicate leads (and deals) with their score and matched keys."""
    store = open_store(args.db)
    try:
        records: list[Lead | Opportunity] = list(query_all(store, Lead))
        if args.deals:
            records += list(query_all(store, Opportunity))
    finally:
        store.close()
    pairs = find_duplicates(records, threshold=args.threshold)
    print(_("checked {records} record(s): {pairs} probable duplicate pair(s)").format(
        records=len(records), pairs=len(pairs)))
    for pair in pairs[: args.top]:
        keys = _(", ").join(key_label(r.code) for r in pair.reasons)
        first, second = pair.first, pair.second
        kind = _("lead") if isinstance(first, Lead) else _("opportunity")
        print(f"  {pair.score:.2f}  {kind} {first.id} ~ {second.id}  ({keys})")
    if len(pairs) > args.top:
        print("  " + _("... and {count} more (raise --top to see them)").format(
            count=len(pairs) - args.top))
    return EXIT_DATA if pairs else EXIT_OK

