"""Shared pieces of the CLI commands: opening the store, loading configs, reading records."""

import sys
from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from oppcore._errors import ConfigError
from oppcore._iso import parse_datetime
from oppcore._models import Opportunity
from oppcore.locale._catalog import N_, _, active
from oppcore.pipeline import GuardRegistry, Pipeline
from oppcore.pipeline._templates import TEMPLATES
from oppcore.scoring import Scorecard
from oppcore.storage import SQLiteStore, query_all

# User-facing messages, marked with N_() and shown as _(NAME): translated when shown.
BAD_TIME = N_("{option}: invalid date or time {text!r}; give 2026-10-29, 2026-10-29T09:30 (in "
            "--zone) or 2026-10-29T09:30+08:00")

# The duplicate keys the CLI names (match reason codes, a refused record's key): the codes
# themselves in English, words in other locales.
_KEY_LABELS = {
    "id": N_("id"), "email": N_("email"), "phone": N_("phone"), "name": N_("name"),
    "company_name": N_("company_name"), "company_domain": N_("company_domain"),
    "external_key": N_("external_key"), "credit_code": N_("credit_code"),
}


def key_label(code: str) -> str:
    """Name a duplicate key (``"company_name"``) in the active locale."""
    known = _KEY_LABELS.get(code)
    return _(known) if known is not None else code


class UsageError(Exception):
    """A command-line mistake (exit code 2), reported in one line."""


def open_store(db: str, *, must_exist: bool = True, synchronous: str = "FULL") -> SQLiteStore:
    """Open the SQLite store ``db`` (refusing a missing file unless asked to create it)."""
    if must_exist and not Path(db).exists():
        raise UsageError(_("no database at {db!r} (create one with 'oppcore import' or "
                           "'oppcore demo --db {db}')").format(db=db))
    return SQLiteStore(db, synchronous=synchronous)  # type: ignore[arg-type]


def _declared(opp: object, stage: object, at: object) -> None:
    """Stand-in for a guard the host application registers: the CLI cannot run it."""
    return


def load_pipeline(spec: str, *, guards: Sequence[str] = ()) -> Pipeline:
    """Return a template (``standard``, ``simple``) or the pipeline in a TOML/JSON file.

    ``guards`` names the custom guards the host application registers, so that a file
    referring to them validates; the CLI never runs them.
    """
    if spec in TEMPLATES:
        return Pipeline.template(spec, locale=active())
    path = Path(spec)
    if not path.exists():
        raise UsageError(_("pipeline {spec!r} is neither a template ({templates}) nor an "
                           "existing file").format(spec=spec, templates=", ".join(TEMPLATES)))
    registry = GuardRegistry()
    for name in guards:
        registry = registry.with_guard(name, _declared)
    if path.suffix.lower() == ".json":
        return Pipeline.from_json(path, guards=registry)
    return Pipeline.from_toml(path, guards=registry)


def load_scorecard(spec: str | None) -> Scorecard:
    """Return the default scorecard, or the one in a TOML file."""
    if spec is None:
        return Scorecard.default()
    path = Path(spec)
    if not path.exists():
        raise UsageError(_("no scorecard file at {spec!r}").format(spec=spec))
    return Scorecard.from_toml(path.read_text(encoding="utf-8"), source=str(path))


def with_calendar(pipeline: Pipeline, calendar: str | None) -> Pipeline:
    """Return ``pipeline`` counting business days with ``calendar`` (``--calendar``), if
    given: a built-in name (``weekends``, ``CN``) or a TOML calendar file.

    Raises:
        ConfigError: An unknown calendar or an unreadable file.
    """
    if calendar is None:
        return pipeline
    import attrs

    return attrs.evolve(pipeline, calendar=calendar)


def pick_pipeline(store: SQLiteStore, spec: str | None) -> Pipeline:
    """Return the pipeline named on the command line, or the one the stored deals follow."""
    if spec is not None:
        return load_pipeline(spec)
    ids = {o.pipeline_id for o in query_all(store, Opportunity)}
    if not ids:
        raise UsageError(_("the store holds no opportunities"))
    if len(ids) > 1:
        raise UsageError(_("the store holds several pipelines ({ids}): choose one with "
                           "--pipeline").format(ids=", ".join(sorted(ids))))
    (only,) = ids
    if only in TEMPLATES:
        return Pipeline.template(only, locale=active())
    raise UsageError(_("the deals follow pipeline {id!r}: give its file with --pipeline"
                       ).format(id=only))


def parse_now(text: str | None, *, option: str = "--now", zone: tzinfo = timezone.utc
              ) -> datetime:
    """Parse ``--now``/``--as-of``: an ISO 8601 date or time, or the current time in UTC.

    A plain date (``2026-10-29``) is midnight in ``zone``; a time without an offset is in
    ``zone`` too; a time with an offset keeps it.
    """
    if text is None:
        return datetime.now(timezone.utc)
    try:
        value = parse_datetime(text.strip())  # "2026-10-29+08:00" is midnight at +08:00
    except ValueError:
        raise UsageError(_(BAD_TIME).format(option=option, text=text)) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value


def error(message: str) -> None:
    """Print one readable error line to stderr."""
    print(_("oppcore: error: {message}").format(message=message), file=sys.stderr)


__all__ = ["ConfigError", "UsageError", "error", "load_pipeline",
           "load_scorecard", "open_store", "parse_now", "pick_pipeline", "with_calendar"]
