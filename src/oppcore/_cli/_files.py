"""Reading the files people have for ``oppcore import``: checks before anything is created,
byte-order marks and delimiters, presets recognised from a header, ``.xlsx`` workbooks.

Everything here runs before the database is opened, so a file that cannot be read never
leaves an empty database behind.
"""

import argparse
import csv
import io
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any

import attrs

from oppcore import io as oio
from oppcore._errors import ImportDataError
from oppcore.io._rows import OpportunityRows
from oppcore.io._source import CsvRows, check_encoding, open_source, sniff_encoding
from oppcore.locale._catalog import N_, _

from ._common import UsageError

__all__ = ["Source", "mapping_of", "open_file", "recognised_preset"]

# User-facing messages, marked with N_() and shown as _(NAME): translated when shown.
NO_FILE = N_("no such file: {file!r}")
IS_DIR = N_("{file!r} is a directory, not an export file")
EMPTY = N_("{file!r} is empty")
NO_XLSX = N_("{file!r} is an Excel workbook: save it as CSV (UTF-8) or install oppcore[xlsx] "
           "to read it directly")
BAD_XLSX = N_("{file!r} cannot be read as an Excel workbook: {reason}")
NO_MAPPING_FILE = N_("no mapping file at {file!r}")
BOTH = N_("give --mapping or --preset, not both")
LOOKS_LIKE = N_("{file!r} looks like a {preset} export: add --preset {preset} (or give a "
              "mapping with --mapping)")
DELIMITER_NOTE = N_("note: {file} is {label}-separated; reading it so (override with --delimiter)")
_SNIFF_BYTES = 64 * 1024


class Source:
    """The file to import, checked: a path, or the text of a converted workbook."""

    def __init__(self, path: Path, text: str | None, encoding: str, delimiter: str) -> None:
        self.path = path
        self.text = text
        self.encoding = encoding
        self.delimiter = delimiter

    def stream(self) -> str | IO[str]:
        """What the readers take: the path, or the converted text."""
        return str(self.path) if self.text is None else io.StringIO(self.text)


def _first_line(path: Path, encoding: str) -> str:
    with open(path, "rb") as raw:
        encoding = sniff_encoding(raw, False, encoding)
        head = raw.read(_SNIFF_BYTES)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    return text.splitlines()[0] if text else ""


def _delimiter(first_line: str) -> str | None:
    """The separator of a header line when it is not a comma (``;`` or a tab), else None."""
    if len(next(csv.reader([first_line]), [])) > 1:
        return None
    for sep in (";", "\t", "|"):
        if len(next(csv.reader([first_line], delimiter=sep), [])) > 1:
            return sep
    return None


def _xlsx_text(path: Path) -> str:
    """The first sheet of a workbook as CSV text (dates as ISO 8601)."""
    try:
        import openpyxl  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise UsageError(_(NO_XLSX).format(file=str(path))) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, XML and key errors alike
        raise UsageError(_(BAD_XLSX).format(file=str(path), reason=exc)) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            writer.writerow([_cell(v) for v in row])
    finally:
        book.close()
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == datetime.min.time()
                else value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def open_file(args: argparse.Namespace) -> Source:
    """Check the file and settle its encoding and delimiter (nothing is created)."""
    path = Path(args.file)
    if not path.exists():
        raise UsageError(_(NO_FILE).format(file=args.file))
    if path.is_dir():
        raise UsageError(_(IS_DIR).format(file=args.file))
    if path.stat().st_size == 0:
        raise UsageError(_(EMPTY).format(file=args.file))
    encoding = check_encoding(args.encoding or "utf-8-sig")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return Source(path, _xlsx_text(path), encoding, args.delimiter or ",")
    delimiter = args.delimiter
    if delimiter is None and path.suffix.lower() not in (".json", ".jsonl"):
        delimiter = _delimiter(_first_line(path, encoding))
        if delimiter is not None:
            label = {";": "';'", "\t": "tab", "|": "'|'"}[delimiter]
            print(_(DELIMITER_NOTE).format(file=path.name, label=label))
    return Source(path, None, encoding, delimiter or ",")


def mapping_of(args: argparse.Namespace) -> oio.ColumnMapping | None:
    """The mapping named by --mapping/--preset (with --default-currency), or None."""
    if args.mapping and args.preset:
        raise UsageError(_(BOTH))
    if args.mapping:
        mapping_path = Path(args.mapping)
        if not mapping_path.is_file():
            raise UsageError(_(NO_MAPPING_FILE).format(file=args.mapping))
        mapping = oio.ColumnMapping.from_toml(mapping_path.read_text(encoding="utf-8"),
                                              source=str(mapping_path))
        # Reference files are named relative to the mapping file.
        folder = mapping_path.resolve().parent
        mapping = mapping.evolve(references=[
            attrs.evolve(r, file=str(folder / r.file)) for r in mapping.references])
    elif args.preset:
        mapping = oio.preset(args.preset)
    else:
        return None
    if args.default_currency:
        mapping = mapping.evolve(default_currency=args.default_currency.upper())
    return mapping


def _header(source: Source) -> tuple[str, ...]:
    stream = source.stream()
    with open_source(stream) as (raw, is_text):
        return CsvRows(raw, is_text=is_text,
                       encoding=sniff_encoding(raw, is_text, source.encoding),
                       limits=oio.Limits(), delimiter=source.delimiter).header


def recognised_preset(source: Source) -> str | None:
    """The preset whose columns a CSV header has, when it is not oppcore's flat format."""
    try:
        header = _header(source)
    except ImportDataError:
        return None  # the reader will report it
    if {"id", "stage_id"} <= set(header):
        return None
    for name in oio.PRESET_NAMES:
        try:
            OpportunityRows(oio.preset(name, default_currency="USD"), header,
                            zone=timezone.utc, as_of=None)
        except ImportDataError:
            continue
        return name
    return None
