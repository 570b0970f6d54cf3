"""The ``oppcore`` command.

Exit codes: **0** success, **1** data errors found (bad rows, duplicates, invalid pipeline
file, incomplete scores), **2** usage errors (bad arguments, missing files). Errors go to
stderr, one readable line each.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta, timezone, tzinfo

from oppcore._errors import ConfigError, OppcoreError
from oppcore._version import __version__

from ._common import UsageError, error

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2

_RAW = argparse.RawDescriptionHelpFormatter


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
        epilog="Exit codes: 0 ok, 1 data errors found, 2 usage errors.\n"
               "Example: oppcore demo",
        formatter_class=_RAW,
    )
    parser.add_argument("--version", action="version", version=f"oppcore {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = _command(commands, "demo", "run the end-to-end demo on a sample pipeline",
                    "oppcore demo --db demo.db")
    demo.add_argument("--db", help="SQLite file to write (default: a temporary directory)")
    demo.set_defaults(handler=_run_demo)

    imp = _command(commands, "import",
                   "import a CSV, JSON or JSON Lines file into an SQLite store",
                   "oppcore import export.csv --db crm.db --preset maven")
    imp.add_argument("file", help="the file (.csv, .json or .jsonl)")
    imp.add_argument("--db", required=True, help="SQLite file (created if missing)")
    imp.add_argument("--mapping", help="column mapping TOML for a foreign CSV export")
    imp.add_argument("--preset", help="a built-in mapping: salesforce, hubspot, odoo, maven")
    imp.add_argument("--pipeline", help="check stages against this pipeline "
                                        "(template name or TOML/JSON file)")
    imp.add_argument("--zone", type=_zone, default=timezone.utc,
                     help="zone for naive dates/times in the file (default UTC)")
    imp.add_argument("--as-of", dest="as_of", metavar="DATETIME",
                     help="when the export was made (ISO 8601 with offset): dates rows that "
                          "carry no date of their own")
    imp.set_defaults(handler=_lazy("cmd_import"))

    score = _command(commands, "score", "score the open deals in a store and rank them",
                     "oppcore score --db crm.db --top 10")
    score.add_argument("--db", required=True)
    score.add_argument("--pipeline", help="template name or pipeline file (default: the one "
                                          "the stored deals follow)")
    score.add_argument("--scorecard", help="scorecard TOML (default: the four built-in rules)")
    score.add_argument("--now", help="score as of this ISO 8601 time (default: now)")
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
    report.add_argument("--now", help="report as of this ISO 8601 time (default: now)")
    report.add_argument("--top", type=int, default=10, help="top deals to list (default 10)")
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

    dedupe = _command(commands, "dedupe", "list probable duplicate records in a store",
                      "oppcore dedupe --db crm.db --threshold 0.6")
    dedupe.add_argument("--db", required=True)
    dedupe.add_argument("--threshold", type=float, default=0.5,
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
        return handler(args)
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except ConfigError as exc:
        # One line per problem, each naming its path.
        error(f"{exc.source}: {len(exc.problems)} problem(s)")
        for path, message in exc.problems:
            error(f"{exc.source}: {path or '<root>'}: {message}")
        return EXIT_DATA
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
