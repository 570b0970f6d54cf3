"""The ``oppcore`` command.

Exit codes: **0** success, **1** data problems found (bad rows, duplicates, sync conflicts,
incomplete scores), **2** usage or configuration errors (bad arguments, missing files, an
unknown preset, an invalid pipeline, mapping or scorecard file). Errors go to
stderr, one readable line each.
"""

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta, timezone, tzinfo

from oppcore._errors import ConfigError, OppcoreError
from oppcore._version import __version__
from oppcore.io._presets import PRESET_NAMES
from oppcore.locale._catalog import normalize, use

from ._common import UsageError, error

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2

_RAW = argparse.RawDescriptionHelpFormatter
_CALENDAR_HELP = ("business calendar for stale deals and follow-ups: weekends, CN, or a "
                  "TOML calendar file (default: the pipeline's)")


def _zone(text: str) -> tzinfo:
    """Parse ``--zone``: ``UTC``, ``+08:00``, ``-0500`` or an IANA name (``Asia/Shanghai``)."""
    if text.upper() in ("UTC", "Z"):
        return timezone.utc
    sign = {"+": 1, "-": -1}.get(text[:1])
    digits = text[1:].replace(":", "")
    if sign and digits.isdigit() and len(digits) in (2, 4):
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    from dateutil import tz

    zone = tz.gettz(text)
    if zone is None:
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r}")
    return zone


def _days(text: str) -> int:
    """Parse ``--stale-after``: ``90d``, ``90`` (days) or ``12w`` (weeks)."""
    raw = text.strip().lower()
    unit = 7 if raw.endswith("w") else 1
    digits = raw[:-1] if raw[-1:] in ("d", "w") else raw
    if not digits.isdigit() or not 1 <= int(digits) * unit <= 36500:
        raise argparse.ArgumentTypeError(
            f"expected a number of days such as 90d (or weeks: 12w), 1 to 36500 days; "
            f"got {text!r}")
    return int(digits) * unit


def _delimiter(text: str) -> str:
    """Parse ``--delimiter``: one character; ``\\t`` or ``tab`` for a tab."""
    value = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(value) != 1 or value in "\r\n\"":
        raise argparse.ArgumentTypeError(f"expected one character (or \\t), got {text!r}")
    return value


def _unit(text: str) -> float:
    """Parse a number in [0, 1] (``--threshold``)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _run_demo(args: argparse.Namespace) -> int:
    # (Not named after the submodule: importing oppcore._cli._demo binds that name in this
    # package, which would replace a handler of the same name.)
    from ._demo import run_demo

    return run_demo(db=args.db, out=sys.stdout)


def _db_upgrade(args: argparse.Namespace) -> int:
    from ._db import cmd_db_upgrade

    return cmd_db_upgrade(args)


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from . import _commands

        result: int = getattr(_commands, name)(args)
        return result

    return handler


def _command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", name: str,
             summary: str, example: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary,
                               epilog=f"Example:\n  {example}", formatter_class=_RAW)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``oppcore`` command."""
    parser = argparse.ArgumentParser(
        prog="oppcore",
        description="Opportunity management toolkit: demo, import, score, report, dedupe, "
                    "db.",
        epilog="Exit codes: 0 ok, 1 data problems found, 2 usage or configuration errors.\n"
               "Example: oppcore demo",
        formatter_class=_RAW,
    )
    parser.add_argument("--version", action="version", version=f"oppcore {__version__}")
    parser.add_argument("--locale", metavar="LOCALE",
                        help="language of the output: en (default) or zh-CN "
                             "(default: $OPPCORE_LOCALE)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = _command(commands, "demo", "run the end-to-end demo on a sample pipeline",
                    "oppcore demo --db demo.db")
    demo.add_argument("--db", help="SQLite file to write (default: a temporary directory)")
    demo.set_defaults(handler=_run_demo)

    imp = _command(commands, "import",
                   "import (or re-import with --sync) a CSV, XLSX, JSON or JSON Lines file "
                   "into an SQLite store",
                   "oppcore import export.csv --db crm.db --preset maven\n"
                   "  oppcore import export-week2.csv --db crm.db --preset maven --sync")
    imp.add_argument("file", help="the file (.csv, .tsv, .txt, .xlsx, .json or .jsonl)")
    imp.add_argument("--db", required=True, help="SQLite file (created if missing)")
    imp.add_argument("--mapping", help="column mapping TOML for a foreign CSV export "
                                       "(may say extends = \"<preset>\")")
    imp.add_argument("--preset", help="a built-in mapping: " + ", ".join(PRESET_NAMES)
                     + " (see 'oppcore mapping show NAME')")
    imp.add_argument("--pipeline", help="the pipeline deals follow (template name or "
                                        "TOML/JSON file); every stage is checked first")
    imp.add_argument("--sync", action="store_true",
                     help="update deals already stored from the file: changed fields and "
                          "stage moves are written (audited), edits made in the store since "
                          "the last sync are kept and reported, deals gone from the file are "
                          "reported, never deleted")
    imp.add_argument("--prefer", choices=("store", "export"), default="store",
                     help="with --sync, who wins for a deal edited in the store since the "
                          "last sync (default store)")
    imp.add_argument("--by", help="who to name in the audit trail (default import:<file name>)")
    imp.add_argument("--default-currency", dest="default_currency", metavar="CODE",
                     help="ISO 4217 currency of amounts when the file has no currency column")
    imp.add_argument("--encoding", help="text encoding of the file (default UTF-8; UTF-16 "
                                        "and byte-order marks are detected), e.g. gb18030, "
                                        "cp1252")
    imp.add_argument("--delimiter", type=_delimiter,
                     help="cell separator (default: ',' or, when the header says so, ';' or "
                          "tab); write tab as '\\t'")
    imp.add_argument("--zone", type=_zone, default=timezone.utc,
                     help="zone for dates/times in the file without an offset (default UTC)")
    imp.add_argument("--as-of", dest="as_of", metavar="DATE",
                     help="when the export was made (2026-10-29, in --zone, or with an "
                          "offset): dates rows that carry no date of their own")
    imp.set_defaults(handler=_lazy("cmd_import"))

    score = _command(commands, "score", "score the open deals in a store and rank them",
                     "oppcore score --db crm.db --top 10")
    score.add_argument("--db", required=True)
    score.add_argument("--pipeline", help="template name or pipeline file (default: the one "
                                          "the stored deals follow)")
    score.add_argument("--scorecard", help="scorecard TOML (default: the four built-in rules)")
    score.add_argument("--now", help="score as of this date or time (2026-10-29 or "
                                     "2026-10-29T09:30 in --zone, or with an offset; "
                                     "default: now)")
    score.add_argument("--zone", type=_zone, default=timezone.utc,
                       help="zone of a --now without an offset (default UTC)")
    score.add_argument("--calendar", help=_CALENDAR_HELP)
    score.add_argument("--top", type=int, default=20, help="how many to list (default 20)")
    score.add_argument("--save", action="store_true",
                       help="keep score and grade in each deal's custom fields (audited)")
    score.add_argument("--by", default="oppcore-cli", help="who to name in the audit trail "
                                                          "for --save (default oppcore-cli)")
    score.set_defaults(handler=_lazy("cmd_score"))

    report = _command(commands, "report", "report on the pipeline in a store",
                      "oppcore report --db crm.db --html report.html")
    report.add_argument("--db", required=True)
    report.add_argument("--pipeline", help="template name or pipeline file")
    report.add_argument("--scorecard", help="scorecard TOML for the top-deals ranking")
    report.add_argument("--html", metavar="OUT.html", help="also write a self-contained HTML "
                                                           "report")
    report.add_argument("--format", choices=("text", "json", "csv"),
                        help="what to print (default text; nothing with --html alone)")
    report.add_argument("--now", help="report as of this date or time (2026-10-29 or "
                                      "2026-10-29T09:30 in --zone, or with an offset; "
                                      "default: now)")
    report.add_argument("--zone", type=_zone, default=timezone.utc,
                        help="zone of a --now without an offset (default UTC)")
    report.add_argument("--calendar", help=_CALENDAR_HELP)
    report.add_argument("--top", type=int, default=10, help="top deals to list (default 10)")
    report.add_argument("--stale-after", dest="stale_after", type=_days, metavar="DAYS",
                        help="judge open deals stale after this long in a stage (90d, 12w) "
                             "where the pipeline sets no limit (the maven preset's "
                             "'simple' pipeline sets none)")
    report.set_defaults(handler=_lazy("cmd_report"))

    pipe = _command(commands, "pipeline", "validate or show a pipeline definition",
                    "oppcore pipeline show standard")
    pipe_commands = pipe.add_subparsers(dest="pipeline_command", metavar="ACTION")
    validate = _command(pipe_commands, "validate", "check a pipeline file; list every problem",
                        "oppcore pipeline validate my_pipeline.toml")
    validate.add_argument("file", help="TOML or JSON file, or a template name")
    validate.add_argument("--guard", action="append", default=[], metavar="NAME",
                          help="a custom guard your application registers (repeatable)")
    validate.set_defaults(handler=_lazy("cmd_pipeline_validate"))
    show = _command(pipe_commands, "show", "print a pipeline as a table and a Mermaid diagram",
                    "oppcore pipeline show my_pipeline.toml")
    show.add_argument("file", help="TOML or JSON file, or a template name")
    show.add_argument("--no-mermaid", action="store_true", help="table only")
    show.add_argument("--guard", action="append", default=[], metavar="NAME",
                      help="a custom guard your application registers (repeatable)")
    show.set_defaults(handler=_lazy("cmd_pipeline_show"))
    pipe.set_defaults(handler=None, subparser=pipe)

    mapping = _command(commands, "mapping", "show the built-in column mappings",
                       "oppcore mapping show salesforce > my_mapping.toml")
    mapping_commands = mapping.add_subparsers(dest="mapping_command", metavar="ACTION")
    mshow = _command(mapping_commands, "show", "print a preset as a mapping file to copy and "
                     "edit", "oppcore mapping show pipedrive")
    mshow.add_argument("name", choices=PRESET_NAMES, help="the preset")
    mshow.set_defaults(handler=_lazy("cmd_mapping_show"))
    mapping.set_defaults(handler=None, subparser=mapping)

    dedupe = _command(commands, "dedupe", "list probable duplicate records in a store",
                      "oppcore dedupe --db crm.db --threshold 0.6")
    dedupe.add_argument("--db", required=True)
    dedupe.add_argument("--threshold", type=_unit, default=0.5,
                        help="minimum match score, 0-1 (default 0.5)")
    dedupe.add_argument("--deals", action="store_true", help="also compare opportunities")
    dedupe.add_argument("--top", type=int, default=20, help="pairs to list (default 20)")
    dedupe.set_defaults(handler=_lazy("cmd_dedupe"))

    db = _command(commands, "db", "manage the tables of the SQL store (oppcore[sql])",
                  "oppcore db upgrade --url postgresql+psycopg://app@db/crm")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_upgrade = _command(db_commands, "upgrade",
                          "create or upgrade oppcore's tables in a database (harmless to "
                          "repeat; refuses a newer schema)",
                          "oppcore db upgrade --url postgresql+psycopg://app@db/crm")
    db_upgrade.add_argument("--url", required=True,
                            help="SQLAlchemy database URL (PostgreSQL or SQLite)")
    db_upgrade.add_argument("--schema", help="database schema for the tables (default: the "
                                             "default schema)")
    db_upgrade.add_argument("--table-prefix", dest="table_prefix", default="oppcore_",
                            help="prefix of the table names (default oppcore_)")
    db_upgrade.set_defaults(handler=_db_upgrade)
    db.set_defaults(handler=None, subparser=db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``oppcore`` command; return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help/--version, 2 for usage errors
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        (getattr(args, "subparser", None) or parser).print_help(sys.stderr)
        return EXIT_USAGE
    try:
        locale = normalize(args.locale or os.environ.get("OPPCORE_LOCALE"))
    except ConfigError as exc:
        error(exc.problems[0][1])
        return EXIT_USAGE
    try:
        with use(locale):
            return handler(args)
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except ConfigError as exc:
        # A configuration error (preset, pipeline, mapping, scorecard): one line per
        # problem, each naming its path; exit 2 like any other usage error.
        error(f"{exc.source}: {len(exc.problems)} problem(s)")
        for path, message in exc.problems:
            error(f"{exc.source}: {path or '<root>'}: {message}")
        return EXIT_USAGE
    except OppcoreError as exc:
        error(str(exc).replace("\n", "; "))
        return EXIT_DATA
    except OSError as exc:
        error(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        return EXIT_DATA
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
