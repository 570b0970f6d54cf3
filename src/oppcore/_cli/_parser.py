"""The argument parser of the ``oppcore`` command, its words in the active locale.

:func:`build_parser` runs inside :func:`oppcore.locale.use` (``main`` reads ``--locale``
first), so every help string below is translated as the parser is built; argparse's own
words come from the same catalog (see ``_language``).
"""

import argparse
from datetime import timedelta, timezone, tzinfo
from typing import TypeAlias

from oppcore._version import __version__
from oppcore.io._presets import PRESET_NAMES
from oppcore.locale._catalog import DEFAULT, _, active

from ._language import LOCALE_OPTION, WideHelpFormatter

__all__ = ["build_parser"]

_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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
        raise argparse.ArgumentTypeError(_("unknown time zone {text!r}").format(text=text))
    return zone


def _days(text: str) -> int:
    """Parse ``--stale-after``: ``90d``, ``90`` (days) or ``12w`` (weeks)."""
    raw = text.strip().lower()
    unit = 7 if raw.endswith("w") else 1
    digits = raw[:-1] if raw[-1:] in ("d", "w") else raw
    if not digits.isdigit() or not 1 <= int(digits) * unit <= 36500:
        raise argparse.ArgumentTypeError(
            _("expected a number of days such as 90d (or weeks: 12w), 1 to 36500 days; "
              "got {text!r}").format(text=text))
    return int(digits) * unit


def _delimiter(text: str) -> str:
    """Parse ``--delimiter``: one character; ``\\t`` or ``tab`` for a tab."""
    value = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(value) != 1 or value in "\r\n\"":
        raise argparse.ArgumentTypeError(
            _("expected one character (or \\t), got {text!r}").format(text=text))
    return value


def _unit(text: str) -> float:
    """Parse a number in [0, 1] (``--threshold``)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            _("expected a number from 0 to 1, got {text!r}").format(text=text))
    return value


def _formatter() -> type[argparse.HelpFormatter]:
    """argparse's layout in English (unchanged); a layout for wide characters otherwise."""
    if active() == DEFAULT:
        return argparse.RawDescriptionHelpFormatter
    return WideHelpFormatter


def _command(commands: _Commands, name: str, summary: str, example: str
             ) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary,
                               epilog=_("Example:") + f"\n  {example}",
                               formatter_class=_formatter())


def _now_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--now``, ``--zone`` and ``--calendar``, as score and report take them."""
    parser.add_argument("--now", metavar=_("NOW"), help=verb)
    parser.add_argument("--zone", type=_zone, default=timezone.utc, metavar=_("ZONE"),
                        help=_("zone of a --now without an offset (default UTC)"))
    parser.add_argument("--calendar", metavar=_("CALENDAR"),
                        help=_("business calendar for stale deals and follow-ups: weekends, "
                               "CN, or a TOML calendar file (default: the pipeline's)"))


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``oppcore`` command, in the active locale."""
    parser = argparse.ArgumentParser(
        prog="oppcore",
        description=_("Opportunity management toolkit: demo, import, score, report, dedupe, "
                      "db."),
        epilog=_("Exit codes: 0 ok, 1 data problems found, 2 usage or configuration errors.")
        + "\n" + _("Example: {command}").format(command="oppcore demo"),
        formatter_class=_formatter(),
    )
    parser.add_argument("--version", action="version", version=f"oppcore {__version__}",
                        help=_("show program's version number and exit"))
    parser.add_argument(LOCALE_OPTION, metavar=_("LOCALE"),
                        help=_("language of the output: en (default) or zh-CN "
                               "(default: $OPPCORE_LOCALE)"))
    commands = parser.add_subparsers(dest="command", metavar=_("COMMAND"))
    _store_commands(commands)
    _config_commands(commands)
    return parser


def _store_commands(commands: _Commands) -> None:
    """demo, import, score, report: the commands that write or read a store."""
    db_meta = _("DB")
    demo = _command(commands, "demo", _("run the end-to-end demo on a sample pipeline"),
                    "oppcore demo --db demo.db")
    demo.add_argument("--db", metavar=db_meta,
                      help=_("SQLite file to write (default: a temporary directory)"))
    demo.set_defaults(handler="run_demo")

    imp = _command(commands, "import",
                   _("import (or re-import with --sync) a CSV, XLSX, JSON or JSON Lines file "
                     "into an SQLite store"),
                   "oppcore import export.csv --db crm.db --preset maven\n"
                   "  oppcore import export-week2.csv --db crm.db --preset maven --sync")
    # TRANSLATORS: the name of the file argument in usage lines ("oppcore import file").
    imp.add_argument("file", metavar=_("file"),
                     help=_("the file (.csv, .tsv, .txt, .xlsx, .json or .jsonl)"))
    imp.add_argument("--db", required=True, metavar=db_meta,
                     help=_("SQLite file (created if missing)"))
    imp.add_argument("--mapping", metavar=_("MAPPING"),
                     help=_("column mapping TOML for a foreign CSV export (may say "
                            "extends = \"<preset>\")"))
    imp.add_argument("--preset", metavar=_("PRESET"),
                     help=_("a built-in mapping: {presets} (see 'oppcore mapping show NAME')"
                            ).format(presets=_(", ").join(PRESET_NAMES)))
    imp.add_argument("--pipeline", metavar=_("PIPELINE"),
                     help=_("the pipeline deals follow (template name or TOML/JSON file); "
                            "every stage is checked first"))
    imp.add_argument("--sync", action="store_true",
                     help=_("update deals already stored from the file: changed fields and "
                            "stage moves are written (audited), edits made in the store "
                            "since the last sync are kept and reported, deals gone from the "
                            "file are reported, never deleted"))
    imp.add_argument("--prefer", choices=("store", "export"), default="store",
                     help=_("with --sync, who wins for a deal edited in the store since the "
                            "last sync (default store)"))
    imp.add_argument("--by", metavar=_("BY"),
                     help=_("who to name in the audit trail (default import:<file name>)"))
    imp.add_argument("--default-currency", dest="default_currency", metavar=_("CODE"),
                     help=_("ISO 4217 currency of amounts when the file has no currency "
                            "column"))
    imp.add_argument("--encoding", metavar=_("ENCODING"),
                     help=_("text encoding of the file (default UTF-8; UTF-16 and "
                            "byte-order marks are detected), e.g. gb18030, cp1252"))
    imp.add_argument("--delimiter", type=_delimiter, metavar=_("DELIMITER"),
                     help=_("cell separator (default: ',' or, when the header says so, ';' "
                            "or tab); write tab as '\\t'"))
    imp.add_argument("--zone", type=_zone, default=timezone.utc, metavar=_("ZONE"),
                     help=_("zone for dates/times in the file without an offset "
                            "(default UTC)"))
    imp.add_argument("--as-of", dest="as_of", metavar=_("DATE"),
                     help=_("when the export was made (2026-10-29, in --zone, or with an "
                            "offset): dates rows that carry no date of their own"))
    imp.set_defaults(handler="cmd_import")

    score = _command(commands, "score", _("score the open deals in a store and rank them"),
                     "oppcore score --db crm.db --top 10")
    score.add_argument("--db", required=True, metavar=db_meta)
    score.add_argument("--pipeline", metavar=_("PIPELINE"),
                       help=_("template name or pipeline file (default: the one the stored "
                              "deals follow)"))
    score.add_argument("--scorecard", metavar=_("SCORECARD"),
                       help=_("scorecard TOML (default: the four built-in rules)"))
    _now_options(score, _("score as of this date or time (2026-10-29 or 2026-10-29T09:30 "
                          "in --zone, or with an offset; default: now)"))
    score.add_argument("--top", type=int, default=20, metavar=_("TOP"),
                       help=_("how many to list (default 20)"))
    score.add_argument("--save", action="store_true",
                       help=_("keep score and grade in each deal's custom fields (audited)"))
    score.add_argument("--by", default="oppcore-cli", metavar=_("BY"),
                       help=_("who to name in the audit trail for --save (default "
                              "oppcore-cli)"))
    score.set_defaults(handler="cmd_score")

    report = _command(commands, "report", _("report on the pipeline in a store"),
                      "oppcore report --db crm.db --html report.html")
    report.add_argument("--db", required=True, metavar=db_meta)
    report.add_argument("--pipeline", metavar=_("PIPELINE"),
                        help=_("template name or pipeline file"))
    report.add_argument("--scorecard", metavar=_("SCORECARD"),
                        help=_("scorecard TOML for the top-deals ranking"))
    report.add_argument("--html", metavar="OUT.html",
                        help=_("also write a self-contained HTML report"))
    report.add_argument("--format", choices=("text", "json", "csv"),
                        help=_("what to print (default text; nothing with --html alone)"))
    _now_options(report, _("report as of this date or time (2026-10-29 or 2026-10-29T09:30 "
                           "in --zone, or with an offset; default: now)"))
    report.add_argument("--top", type=int, default=10, metavar=_("TOP"),
                        help=_("top deals to list (default 10)"))
    report.add_argument("--stale-after", dest="stale_after", type=_days, metavar=_("DAYS"),
                        help=_("judge open deals stale after this long in a stage (90d, 12w) "
                               "where the pipeline sets no limit (the maven preset's "
                               "'simple' pipeline sets none)"))
    report.set_defaults(handler="cmd_report")


def _config_commands(commands: _Commands) -> None:
    """pipeline, mapping, dedupe, db."""
    pipe = _command(commands, "pipeline", _("validate or show a pipeline definition"),
                    "oppcore pipeline show standard")
    pipe_commands = pipe.add_subparsers(dest="pipeline_command", metavar=_("ACTION"))
    file_help = _("TOML or JSON file, or a template name")
    guard_help = _("a custom guard your application registers (repeatable)")
    validate = _command(pipe_commands, "validate",
                        _("check a pipeline file; list every problem"),
                        "oppcore pipeline validate my_pipeline.toml")
    validate.add_argument("file", metavar=_("file"), help=file_help)
    validate.add_argument("--guard", action="append", default=[], metavar=_("NAME"),
                          help=guard_help)
    validate.set_defaults(handler="cmd_pipeline_validate")
    show = _command(pipe_commands, "show",
                    _("print a pipeline as a table and a Mermaid diagram"),
                    "oppcore pipeline show my_pipeline.toml")
    show.add_argument("file", metavar=_("file"), help=file_help)
    show.add_argument("--no-mermaid", action="store_true", help=_("table only"))
    show.add_argument("--guard", action="append", default=[], metavar=_("NAME"),
                      help=guard_help)
    show.set_defaults(handler="cmd_pipeline_show")
    pipe.set_defaults(handler=None, subparser=pipe)

    mapping = _command(commands, "mapping", _("show the built-in column mappings"),
                       "oppcore mapping show salesforce > my_mapping.toml")
    mapping_commands = mapping.add_subparsers(dest="mapping_command", metavar=_("ACTION"))
    mshow = _command(mapping_commands, "show",
                     _("print a preset as a mapping file to copy and edit"),
                     "oppcore mapping show pipedrive")
    mshow.add_argument("name", choices=PRESET_NAMES, help=_("the preset"))
    mshow.set_defaults(handler="cmd_mapping_show")
    mapping.set_defaults(handler=None, subparser=mapping)

    dedupe = _command(commands, "dedupe", _("list probable duplicate records in a store"),
                      "oppcore dedupe --db crm.db --threshold 0.6")
    dedupe.add_argument("--db", required=True, metavar=_("DB"))
    dedupe.add_argument("--threshold", type=_unit, default=0.5, metavar=_("THRESHOLD"),
                        help=_("minimum match score, 0-1 (default 0.5)"))
    dedupe.add_argument("--deals", action="store_true", help=_("also compare opportunities"))
    dedupe.add_argument("--top", type=int, default=20, metavar=_("TOP"),
                        help=_("pairs to list (default 20)"))
    dedupe.set_defaults(handler="cmd_dedupe")

    db = _command(commands, "db", _("manage the tables of the SQL store (oppcore[sql])"),
                  "oppcore db upgrade --url postgresql+psycopg://app@db/crm")
    db_commands = db.add_subparsers(dest="db_command", metavar=_("ACTION"))
    db_upgrade = _command(db_commands, "upgrade",
                          _("create or upgrade oppcore's tables in a database (harmless to "
                            "repeat; refuses a newer schema)"),
                          "oppcore db upgrade --url postgresql+psycopg://app@db/crm")
    db_upgrade.add_argument("--url", required=True, metavar="URL",
                            help=_("SQLAlchemy database URL (PostgreSQL or SQLite)"))
    db_upgrade.add_argument("--schema", metavar=_("SCHEMA"),
                            help=_("database schema for the tables (default: the default "
                                   "schema)"))
    db_upgrade.add_argument("--table-prefix", dest="table_prefix", default="oppcore_",
                            metavar=_("TABLE_PREFIX"),
                            help=_("prefix of the table names (default oppcore_)"))
    db_upgrade.set_defaults(handler="db_upgrade")
    db.set_defaults(handler=None, subparser=db)
