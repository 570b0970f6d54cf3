"""Row-local work on one partition: import export rows, score deals, as records or frames.

The import goes through the same converter as :func:`oppcore.io.read_csv` (one mapping,
one set of parsing rules and refusals); a bad row becomes a :class:`~oppcore.io.RowError`
value, never an exception. pandas is imported only by the frame forms.
"""

import importlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any, NamedTuple

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.io import ColumnMapping, RowError
from oppcore.io._report import RowFailed
from oppcore.io._rows import OpportunityRows
from oppcore.scoring import Scorecard

__all__ = [
    "ERROR_COLUMNS",
    "SCORE_COLUMNS",
    "ScoreRow",
    "errors_to_frame",
    "frame_rows",
    "import_frame",
    "import_rows",
    "score_frame",
    "score_records",
    "scores_to_frame",
]

SCORE_COLUMNS = ("id", "total", "grade", "coverage", "reasons")
"""Columns of a frame of scores."""

ERROR_COLUMNS = ("row", "column", "message")
"""Columns of a frame of row errors."""

_TOP = 3


class ScoreRow(NamedTuple):
    """One deal's score, flat (a row of a frame of scores).

    Attributes:
        id: The deal's id.
        total: Its total, 0-100 (a float; the exact ``Decimal`` is ``Score.total``).
        grade: Its grade.
        coverage: Share of the weight whose rules were known, in [0, 1].
        reasons: The messages of the (at most three) reasons that raised the total most,
            joined by ``"; "``.
    """

    id: str
    total: float
    grade: str
    coverage: float
    reasons: str


def score_records(
    records: Iterable[Opportunity], *, scorecard: Scorecard, now: datetime,
) -> list[ScoreRow]:
    """Score deals into flat rows (the per-partition scoring step).

    Args:
        records: The deals (any iterable of opportunities).
        scorecard: The scorecard to score with.
        now: The moment of scoring (timezone-aware), one value for every partition.

    Returns:
        One :class:`ScoreRow` per deal, in input order.

    Raises:
        ValidationError: For something that is not a scorecard, a naive ``now`` or an
            item that is not an opportunity or lead.
    """
    if not isinstance(scorecard, Scorecard):
        raise ValidationError(f"scorecard must be a Scorecard, got {type(scorecard).__name__}",
                              field="scorecard", value=scorecard)
    return [
        ScoreRow(id=s.subject_id, total=float(s.total), grade=s.grade, coverage=s.coverage,
                 reasons="; ".join(f.message for f in s.top_positive(_TOP)))
        for s in scorecard.score_many(records, now=now)
    ]


def import_rows(
    header: Sequence[str], rows: Iterable[tuple[int, list[str]]], *, mapping: ColumnMapping,
    zone: tzinfo | None = None, as_of: datetime | None = None,
) -> tuple[list[Opportunity], list[RowError]]:
    """Convert export rows into deals through ``mapping``; keep bad rows as errors.

    Args:
        header: The export's column names.
        rows: ``(row number, cells)`` pairs, cells as the strings read from the file.
        mapping: How columns map to fields.
        zone: The time zone of naive dates (default UTC).
        as_of: When the export was taken (see :func:`oppcore.io.read_csv`).

    Returns:
        The deals of the good rows in input order, and one error per problem of a bad row.

    Raises:
        ImportDataError: When a column the mapping needs is missing (a problem of the
            whole export, not of a row).
    """
    convert = OpportunityRows(mapping, tuple(header), zone=zone or timezone.utc, as_of=as_of)
    deals: list[Opportunity] = []
    errors: list[RowError] = []
    for number, cells in rows:
        try:
            deals.append(convert(number, cells))
        except RowFailed as failed:  # noqa: PERF203 - every bad row is kept, not raised
            errors.extend(failed.errors)
    return deals, errors


def frame_rows(frame: Any, first_row: int = 2) -> list[tuple[int, list[str]]]:
    """Return a pandas frame's rows as ``(row number, cells)``, missing cells as ``""``.

    A row's number is its position plus ``first_row`` (2: the header is row 1, as a
    spreadsheet shows a CSV file).
    """
    values = frame.astype(object).where(frame.notna(), "").to_numpy().tolist()
    return [(first_row + i, [str(c) for c in cells]) for i, cells in enumerate(values)]


def import_frame(
    frame: Any, *, mapping: ColumnMapping, zone: tzinfo | None = None,
    as_of: datetime | None = None, first_row: int = 2,
) -> tuple[list[Opportunity], list[RowError]]:
    """Convert a pandas frame of export rows (strings) into deals and row errors.

    Read the frame with ``dtype=str, keep_default_na=False``: pandas' default NA handling
    rewrites cells such as ``"NaN"`` or ``"null"`` as missing, which the file import would
    refuse or read differently. Missing cells (``NaN``) are read as empty cells.
    """
    return import_rows(tuple(str(c) for c in frame.columns), frame_rows(frame, first_row),
                       mapping=mapping, zone=zone, as_of=as_of)


def score_frame(
    frame: Any, *, mapping: ColumnMapping, scorecard: Scorecard, now: datetime,
    zone: tzinfo | None = None, as_of: datetime | None = None, first_row: int = 2,
) -> tuple[Any, Any]:
    """Import a pandas frame of export rows through ``mapping`` and score every good row.

    Args:
        frame: Export rows as read from the file
            (``pandas.read_csv(..., dtype=str, keep_default_na=False)``).
        mapping: How columns map to fields.
        scorecard: The scorecard to score with.
        now: The moment of scoring (timezone-aware).
        zone: The time zone of naive dates (default UTC).
        as_of: When the export was taken (see :func:`oppcore.io.read_csv`).
        first_row: The row number of the frame's first row (2 for a whole file: the
            header is row 1).

    Returns:
        ``(scores, errors)``: a frame with :data:`SCORE_COLUMNS`, one row per good row, and
        a frame with :data:`ERROR_COLUMNS`, one row per problem of a bad row.

    Raises:
        ImportDataError: When a column the mapping needs is missing.
        ValidationError: For a bad scorecard or ``now``.
    """
    deals, errors = import_frame(frame, mapping=mapping, zone=zone, as_of=as_of,
                                 first_row=first_row)
    return scores_to_frame(score_records(deals, scorecard=scorecard, now=now)), \
        errors_to_frame(errors)


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")  # optional dependency, imported on use
    except ImportError as exc:
        raise ModuleNotFoundError("frames of scores and errors need pandas: "
                                  "pip install 'oppcore[pandas]'", name="pandas") from exc


def scores_to_frame(rows: list[ScoreRow]) -> Any:
    """Return score rows as a frame with :data:`SCORE_COLUMNS` and fixed dtypes."""
    pd = _pandas()
    data: dict[str, Any] = {c: [getattr(r, c) for r in rows] for c in SCORE_COLUMNS}
    return pd.DataFrame(data, columns=list(SCORE_COLUMNS)).astype(
        {"id": object, "total": "float64", "grade": object, "coverage": "float64",
         "reasons": object})


def errors_to_frame(errors: list[RowError]) -> Any:
    """Return row errors as a frame with :data:`ERROR_COLUMNS` and fixed dtypes."""
    pd = _pandas()
    data = {"row": [e.row for e in errors], "column": [e.column for e in errors],
            "message": [e.message for e in errors]}
    return pd.DataFrame(data, columns=list(ERROR_COLUMNS)).astype(
        {"row": "int64", "column": object, "message": object})
