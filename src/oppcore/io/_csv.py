"""oppcore's flat CSV format: its columns, spreadsheet safety, and the writers.

One row per opportunity or lead, plus a stage-history file with one row per history entry.
Tags and custom fields are written as compact JSON in one cell each, so a round trip is
lossless for every flat field; nested data (contacts, activities, quotes, qualification,
account details) needs the JSON format. The readers are in ``_flat_read``; foreign exports
(other CRMs' CSV through a column mapping) in ``_foreign``. The argument checks and the
row counter every CSV reader shares live here too.
"""

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone, tzinfo
from itertools import chain
from typing import IO, Any

from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity

from ._mapping import ColumnMapping
from ._report import DEFAULT_LIMITS, Limits
from ._source import OutputTarget, check_encoding, open_dest

__all__ = [
    "HISTORY_COLUMNS",
    "LEAD_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "write_leads_csv",
    "write_opportunities_csv",
    "write_stage_history_csv",
]

UTC = timezone.utc

OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "id", "name", "pipeline_id", "stage_id", "created_at", "updated_at", "owner",
    "account_id", "account_name", "amount", "currency", "expected_close", "probability",
    "probability_source", "probability_note", "source_channel", "source_detail",
    "lost_reason", "lead_id", "external_key", "tags", "custom", "version",
    "source_referrer", "contract_start", "contract_end", "renewal_of", "renewed_by",
)
"""Header of oppcore's flat opportunity CSV."""

LEAD_COLUMNS: tuple[str, ...] = (
    "id", "name", "captured_at", "updated_at", "email", "phone", "title", "company",
    "industry", "size", "region", "source_channel", "source_detail", "owner", "status",
    "disqualified_reason", "opportunity_id", "notes", "tags", "custom", "external_key",
    "version", "source_referrer",
)
"""Header of oppcore's flat lead CSV."""

HISTORY_COLUMNS: tuple[str, ...] = (
    "opportunity_id", "from_stage", "to_stage", "at", "by", "reason", "override",
)
"""Header of oppcore's stage-history CSV (one row per entry, oldest first per deal)."""

# OWASP "CSV injection": a spreadsheet treats a cell starting with one of these as a
# formula. Prefixing a single quote makes it display as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(cell: str) -> bool:
    """Whether a spreadsheet-safe export prefixes ``cell`` with a quote.

    Cells of the form ``'*<formula char>...`` are prefixed, including those that already
    start with quotes: the reader strips exactly one quote from ``'+<formula char>...``,
    so a value such as ``'=x`` survives a round trip instead of losing its own quote.
    """
    return cell.lstrip("'").startswith(_FORMULA_START) if cell else False


class _Stats:
    rows_read = 0



def _check_args(mapping: object, zone: object, encoding: str) -> str:
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        raise TypeError(f"mapping must be a ColumnMapping (see oppcore.io.preset), got "
                        f"{type(mapping).__name__}")
    if not isinstance(zone, tzinfo):
        raise TypeError(f"zone must be a tzinfo such as ZoneInfo('Asia/Shanghai'), got "
                        f"{type(zone).__name__}")
    return check_encoding(encoding)



# --------------------------------------------------------------------- writers


def _safe(cell: str) -> str:
    return "'" + cell if _needs_quote(cell) else cell


# Python 3.10's csv writer refuses a NUL character ("need to escape, but no escapechar
# set") where 3.11+ writes it as an ordinary character. oppcore writes NUL the 3.11 way on
# every version, so a record a store accepts (a note pasted from a PDF may carry one) stays
# exportable and the file is the same whichever Python wrote it; CsvRows reads it back.
_WRITER_REFUSES_NUL = sys.version_info < (3, 11)


def _row_with_nul(row: list[str]) -> str:
    """Format one row as ``csv.writer`` on Python 3.11+ does, NUL characters included.

    Each NUL is swapped for a private-use character absent from the row, the row is
    formatted by the csv module, and the swap is undone in the formatted text.
    """
    for code in chain(range(0xE000, 0xF900), range(0xF0000, 0x10FFFE)):
        stand_in = chr(code)
        if not any(stand_in in cell for cell in row):
            break
    else:  # pragma: no cover - a row holding all 137,000 private-use characters
        raise ValueError("cannot write a NUL character in a row that uses every "
                         "private-use character")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [cell.replace("\0", stand_in) for cell in row])
    return buffer.getvalue().replace(stand_in, "\0")


def write_row(writer: Any, stream: IO[str], cells: list[str]) -> None:
    """Write ``cells`` with ``writer`` (on ``stream``), NUL characters included, on every Python.

    The one place oppcore writes a CSV row: the flat exports and the report's CSV use it.
    """
    if _WRITER_REFUSES_NUL and any("\0" in c for c in cells):
        stream.write(_row_with_nul(cells))
    else:
        writer.writerow(cells)


def _too_long(model: str, header: tuple[str, ...], cells: list[str], limit: int
              ) -> ValidationError:
    column, cell = next((h, c) for h, c in zip(header, cells, strict=True) if len(c) > limit)
    return ValidationError(
        f"record {cells[0]!r}: a cell of {len(cell)} characters is longer than the "
        f"{limit} the readers accept (Limits.max_field_size); pass a larger limits= to "
        "both the writer and the reader, or export as JSON", model=model, field=column,
        value=cells[0])


def _write(
    dest: OutputTarget, header: tuple[str, ...],
    rows: Iterable[list[str]], *, spreadsheet_safe: bool, encoding: str, limits: Limits,
    model: str,
) -> int:
    limit = limits.max_field_size
    with open_dest(dest, encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for row in rows:
            cells = [_safe(c) for c in row] if spreadsheet_safe else row
            if max(map(len, cells)) > limit:  # refused before the row is written
                raise _too_long(model, header, cells, limit)
            write_row(writer, stream, cells)
            count += 1
        return count


def _iso(value: datetime | date | None) -> str:
    return "" if value is None else value.isoformat()


def _json_cell(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, frozenset):
        return json.dumps(sorted(value), ensure_ascii=False)
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True)


def _opportunity_row(o: Opportunity) -> list[str]:
    return [
        o.id, o.name, o.pipeline_id, o.stage_id, _iso(o.created_at), _iso(o.updated_at),
        o.owner or "", o.account.id if o.account else "", o.account.name if o.account else "",
        str(o.amount.amount) if o.amount else "", o.amount.currency if o.amount else "",
        _iso(o.expected_close), repr(o.probability.value) if o.probability else "",
        o.probability.source.value if o.probability else "",
        (o.probability.note or "") if o.probability else "",
        o.source.channel.value if o.source else "", (o.source.detail or "") if o.source else "",
        o.lost_reason or "", o.lead_id or "", o.external_key or "", _json_cell(o.tags),
        _json_cell(o.custom), str(o.version),
        (o.source.referrer or "") if o.source else "", _iso(o.contract_start),
        _iso(o.contract_end), o.renewal_of or "", o.renewed_by or "",
    ]


def write_opportunities_csv(
    opportunities: Iterable[Opportunity],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write opportunities as flat CSV (:data:`OPPORTUNITY_COLUMNS`), one row each, streaming.

    Args:
        opportunities: Any iterable; consumed one record at a time.
        dest: A path (created/overwritten) or a text file opened with ``newline=""``.
        spreadsheet_safe: Prefix a single quote to every cell starting with ``=``, ``+``,
            ``-``, ``@``, tab or carriage return, so spreadsheets show it as text instead of
            running it as a formula (OWASP CSV injection); a cell whose text after its
            own leading quotes starts so is prefixed too, so the round trip is exact.
            Pass ``False`` for machine consumers; the oppcore readers undo the prefix
            when given the same flag.
        encoding: Encoding when ``dest`` is a path (``"utf-8-sig"`` helps Excel).
        limits: The limits the file will be read with: a cell longer than
            ``limits.max_field_size`` is refused here, so every file written reads back
            with the same limits (the defaults hold fields of up to 16 Mi characters).

    Returns:
        The number of rows written (header excluded).

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``, naming the
            record and the field, before its row is written (rows before it are written).
    """
    return _write(dest, OPPORTUNITY_COLUMNS, map(_opportunity_row, opportunities),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="Opportunity")


def _lead_row(x: Lead) -> list[str]:
    return [
        x.id, x.name, _iso(x.captured_at), _iso(x.updated_at), x.email or "", x.phone or "",
        x.title or "", x.company or "", x.industry or "", x.size.value if x.size else "",
        x.region or "", x.source.channel.value if x.source else "",
        (x.source.detail or "") if x.source else "", x.owner or "", x.status.value,
        x.disqualified_reason or "", x.opportunity_id or "", x.notes, _json_cell(x.tags),
        _json_cell(x.custom), x.external_key or "", str(x.version),
        (x.source.referrer or "") if x.source else "",
    ]


def write_leads_csv(
    leads: Iterable[Lead],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write leads as flat CSV (:data:`LEAD_COLUMNS`), streaming.

    The lead's qualification is not part of the flat format (use JSON). See
    :func:`write_opportunities_csv` for ``spreadsheet_safe``, ``encoding`` and ``limits``.

    Returns:
        The number of rows written.

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``.
    """
    return _write(dest, LEAD_COLUMNS, map(_lead_row, leads),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="Lead")


def _history_rows(opportunities: Iterable[Opportunity]) -> Iterator[list[str]]:
    for o in opportunities:
        for c in o.stage_history:
            yield [o.id, c.from_stage or "", c.to_stage, _iso(c.at), c.by, c.reason or "",
                   c.override or ""]


def write_stage_history_csv(
    opportunities: Iterable[Opportunity],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write every stage-history entry as a row of :data:`HISTORY_COLUMNS`, streaming.

    Rows are grouped by deal in the order of ``opportunities`` and oldest first, the order
    :func:`read_opportunities_csv` expects for its ``history`` file. See
    :func:`write_opportunities_csv` for ``spreadsheet_safe``, ``encoding`` and ``limits``.

    Returns:
        The number of history rows written.

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``.
    """
    return _write(dest, HISTORY_COLUMNS, _history_rows(opportunities),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="StageChange")
