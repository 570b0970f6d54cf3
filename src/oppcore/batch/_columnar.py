"""The columnar path: funnel, win rate and sales cycle from a pandas frame of export rows.

The object path (:func:`oppcore.batch.import_frame`: every row converted into a validated
:class:`~oppcore.Opportunity`, then ``oppcore.analytics``) stays the definition. This path
gives the same results and the same refusals, faster, in three steps:

1. **Screen.** Every rule that can refuse a cell is applied once per *distinct* cell
   (``pandas.factorize``, then broadcast by code) with the converter's own methods
   (:class:`~oppcore.io._rows.OpportunityRows`: ``stage_of``, ``amount_of``, its date
   parser); the two rules that span cells (a creation date to fall back on, a close date
   not before creation) are compared on integer microseconds. A row that fails any of
   them, or that holds text which could not be stored (a lone surrogate), is *suspect*.
2. **Suspect rows** go through the converter itself, one by one: their errors are the
   object path's errors (row, column, message) by construction, and a suspect row the
   converter accepts after all is tallied as a deal.
3. **Clean rows** are tallied from columns. Funnel and win-rate counts depend only on a
   deal's stage, its synthesised history (fixed by the stage) and the cells behind the
   grouping key, so the clean rows are grouped by those raw cells; one row per group is
   converted and tallied by the analytics' own tally, and the tally is scaled by the
   group's size (:func:`~oppcore.analytics._fold.scale_state`). The sales cycle's
   durations are computed on microseconds, which gives the same floats as
   ``timedelta.total_seconds() / 86400`` (both are correctly rounded divisions of exact
   integers), and counted into the same exact histograms.

The partials this produces merge with partials of the object path (and of other chunks),
so a file too big for memory is read in chunks (``pandas.read_csv(chunksize=...)``).
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from oppcore._checks import is_text
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.analytics import _cycle, _funnel, _winrate
from oppcore.analytics._common import LOST, OPEN, WON, StageIndex
from oppcore.analytics._fold import merge_state, scale_state
from oppcore.io import ColumnMapping, RowError
from oppcore.io._report import RowFailed
from oppcore.io._rows import OpportunityRows

from ._partial import Partial, _analysis, _options

__all__ = ["COLUMNAR_ANALYSES", "analyse_columns", "column_partials"]

COLUMNAR_ANALYSES = ("funnel", "win_rate", "sales_cycle")
"""The analyses the columnar path computes (others need the object path)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY = 86400.0
_MICRO = 1_000_000
_MICROSECOND = timedelta(microseconds=1)

# The cells a win-rate key is made of, per dimension (the converter builds the account
# from its name and id only, the source from one cell, tags from the tags and product).
_ACCOUNT = ("account", "account_id")
_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "owner": ("owner",), "stage": (), "source": ("source",), "channel": ("source",),
    "source_detail": ("source",), "account": _ACCOUNT, "account_id": _ACCOUNT,
    "segment": _ACCOUNT, "tier": _ACCOUNT, "industry": _ACCOUNT, "region": _ACCOUNT,
    "size": _ACCOUNT, "tag": ("tags", "product"), "tags": ("tags", "product"),
}
_DATES = ("created_at", "closed_at", "updated_at", "expected_close")


def _np() -> Any:
    import numpy  # optional dependency (with pandas), imported on use

    return numpy


def _pd() -> Any:
    from ._rows import _pandas  # one import rule for the frame forms

    return _pandas()


def _key_fields(by: object, mapping: ColumnMapping) -> tuple[str, ...]:
    if isinstance(by, str) and by in _KEY_FIELDS:
        return _KEY_FIELDS[by]
    if isinstance(by, str) and by.startswith("custom:") and len(by) > len("custom:"):
        name = by[len("custom:"):]
        return ("product", f"custom.{name}") if name in mapping.custom else ("product",)
    raise ValidationError(
        f"the columnar path groups win rates by a named dimension, not {by!r}; import the "
        "deals (batch.import_frame) and call analytics.win_rate for a key function",
        field="by", value=by)


class _Frame:
    """One frame's cells, factorised per column, and the converter of its rows."""

    def __init__(self, frame: Any, mapping: ColumnMapping, zone: tzinfo | None,
                 as_of: datetime | None, first_row: int) -> None:
        self.np = _np()
        self.frame = frame
        self.first_row = first_row
        self.header = tuple(str(c) for c in frame.columns)
        self.convert = OpportunityRows(mapping, self.header, zone=zone or timezone.utc,
                                       as_of=as_of)
        self.n = len(frame)
        self._codes: dict[int, tuple[Any, list[str]]] = {}

    def codes(self, field: str) -> tuple[Any, list[str]]:
        """Return ``(codes, stripped distinct cells)`` of a field's column (``""`` if none)."""
        i = self.convert.idx.get(field)
        if i is None:
            return self.np.zeros(self.n, dtype=self.np.int64), [""]
        if i not in self._codes:
            codes, uniques = _pd().factorize(self.frame.iloc[:, i], use_na_sentinel=True)
            cells = ["" if u is None or u != u else str(u).strip() for u in uniques]
            codes = self.np.asarray(codes, dtype=self.np.int64)
            if (codes < 0).any() or not cells:  # a missing cell (NaN) reads as empty
                codes = self.np.where(codes < 0, len(cells), codes)
                cells.append("")
            self._codes[i] = (codes, cells)
        return self._codes[i]

    def each(self, field: str, rule: Callable[[str], Any]) -> tuple[Any, list[Any]]:
        """Apply ``rule`` once per distinct cell of a field; return codes and results."""
        codes, cells = self.codes(field)
        return codes, [rule(c) for c in cells]

    def rows(self, positions: list[int]) -> list[tuple[int, list[str]]]:
        """Return rows as the object path reads them: ``(row number, cells)``."""
        from ._rows import frame_rows  # the object path's own reading of a frame

        return [(self.first_row + p, cells) for p, (_n, cells) in
                zip(positions, frame_rows(self.frame.iloc[positions]), strict=True)]


def _storable(frame: _Frame) -> Any:
    """Return a mask of rows whose every cell is text the models can store."""
    np, pd = frame.np, _pd()
    ok = np.ones(frame.n, dtype=bool)
    for i in range(len(frame.header)):
        column = frame.frame.iloc[:, i]
        try:
            ascii_ = np.asarray(column.str.isascii().fillna(True), dtype=bool)
        except (AttributeError, TypeError):  # older pandas, or a non-text column
            ascii_ = np.asarray(pd.Series(column).map(
                lambda c: not isinstance(c, str) or c.isascii()), dtype=bool)
        if ascii_.all():
            continue
        others = np.flatnonzero(~ascii_)
        ok[others] &= [not isinstance(c, str) or not c.strip() or is_text(c.strip())
                       for c in column.iloc[others]]
    return ok


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


class _Screened:
    """The screen's verdict per row, and the columns the tallies read."""

    def __init__(self, frame: _Frame, as_of: datetime | None) -> None:
        np = frame.np
        convert = frame.convert
        ok = _storable(frame)
        codes, stages = frame.each("stage", convert.stage_of)
        self.stage_codes = codes
        self.stage_ids = [s for s, _problem in stages]
        ok &= np.asarray([p is None for _s, p in stages], dtype=bool)[codes]
        if convert.idx.get("status") is not None and convert.m.status_values:
            ok[:] = False  # the status column moves stages: left to the object path
        ok &= self._amounts(frame)
        dates: dict[str, tuple[Any, Any]] = {}
        for field in _DATES:
            codes, values = frame.each(field, lambda c: _parsed(convert.parse, c))
            good = np.asarray([v is not False for v in values], dtype=bool)
            has = np.asarray([type(v) is int for v in values], dtype=bool)
            micros = np.asarray([v if type(v) is int else 0 for v in values],
                                dtype=np.int64)
            ok &= good[codes]
            dates[field] = (has[codes], micros[codes])
        created_has, created = dates["created_at"]
        closed_has, closed = dates["closed_at"]
        expected_has, expected = dates["expected_close"]
        fallback = np.where(closed_has, closed, 0 if as_of is None else _micros(as_of))
        if as_of is None:
            ok &= created_has | closed_has
        created = np.where(created_has, created, fallback)
        closing = np.where(closed_has, closed, np.where(expected_has, expected, created))
        closed_stage = convert.closed
        two = np.asarray([convert.m.closed_from_stage is not None and s in closed_stage
                          for s in self.stage_ids], dtype=bool)[self.stage_codes]
        ok &= ~two | (closing >= created)
        self.ok = ok
        self.created = created
        self.end = np.where(two, closing, created)  # when the history enters the stage

    @staticmethod
    def _amounts(frame: _Frame) -> Any:
        np = frame.np
        if frame.convert.idx.get("amount") is None:
            return np.ones(frame.n, dtype=bool)
        amount, amounts = frame.codes("amount")
        currency, currencies = frame.codes("currency")
        inverse, pairs = _pd().factorize(amount * len(currencies) + currency)
        good = [not frame.convert.amount_of(amounts[p // len(currencies)],
                                            currencies[p % len(currencies)])[1]
                for p in pairs.tolist()]
        return np.asarray(good, dtype=bool)[inverse]


def _parsed(parse: Callable[[str], datetime], cell: str) -> int | bool | None:
    """Return a date cell as microseconds since the epoch, ``None`` if empty, ``False`` if bad."""
    if not cell:
        return None
    try:
        return _micros(parse(cell))
    except ValueError:
        return False


def _grouped_tally(frame: _Frame, screened: _Screened, fields: tuple[str, ...],
                   tally: Callable[[list[Opportunity]], Any]) -> Any:
    """Tally the clean rows by converting one row per group of equal cells and scaling."""
    np, pd = frame.np, _pd()
    key = screened.stage_codes.copy()
    for field in fields:
        codes, cells = frame.codes(field)
        if int(key.max(initial=0)) + 1 > 2**62 // len(cells):  # keep the codes in int64
            key = np.asarray(pd.factorize(key)[0], dtype=np.int64)
        key = key * len(cells) + codes
    clean = np.flatnonzero(screened.ok)
    # Hashing, not sorting: group codes in order of first appearance, so the first row of
    # each group is where its code first occurs.
    codes = pd.factorize(key[clean])[0]
    counts = np.bincount(codes)
    first = pd.Series(codes).drop_duplicates().index
    groups = list(zip(first.tolist(), counts.tolist(), strict=True))
    # One pandas take for every group's row: a take per row costs milliseconds on Arrow.
    rows = frame.rows([int(clean[at]) for at, _count in groups])
    state: Any = None
    for (number, cells), (_at, count) in zip(rows, groups, strict=True):
        one = scale_state(tally([frame.convert(number, cells)]), count)
        state = one if state is None else merge_state(state, one)
    return state


def _cycle_tally(frame: _Frame, screened: _Screened, pipeline: Any,
                 options: Mapping[str, Any]) -> Any:
    np = frame.np
    state = _cycle._sales_cycle_tally([], pipeline, **options)  # checks options first
    # One deal per stage through the tally itself: a deal of another pipeline or a stage
    # the pipeline lacks is refused with the object path's error.
    _grouped_tally(frame, screened, (),
                   lambda d: _cycle._sales_cycle_tally(d, pipeline, **options))
    kinds = StageIndex(pipeline).kind
    clean = screened.ok
    stage_of_row = np.asarray([kinds.get(s) for s in screened.stage_ids],
                              dtype=object)[screened.stage_codes]
    days = (screened.end - screened.created).astype(np.float64) / _MICRO / _DAY
    for kind in (WON, LOST):
        chosen = days[clean & (stage_of_row == kind)]
        state["unmeasured"] += int((chosen < 0).sum())
        _count(state[kind], chosen[chosen >= 0], np)
    now = options.get("now")
    if options.get("include_open") and now is not None:
        ages = (_micros(now) - screened.created).astype(np.float64) / _MICRO / _DAY
        chosen = ages[clean & (stage_of_row == OPEN)]
        _count(state["open"], chosen[chosen >= 0], np)
    return state


def _count(histogram: dict[float, int], values: Any, np: Any) -> None:
    distinct, counts = np.unique(values, return_counts=True)
    for value, count in zip(distinct.tolist(), counts.tolist(), strict=True):
        histogram[value] = histogram.get(value, 0) + count


def column_partials(
    frame: Any, analyses: Sequence[tuple[str, Mapping[str, Any]]], *,
    mapping: ColumnMapping, pipeline: Any, zone: tzinfo | None = None,
    as_of: datetime | None = None, first_row: int = 2,
) -> tuple[tuple[Partial, ...], list[RowError]]:
    """Return the partials of some analyses over a pandas frame of export rows, and its errors.

    The columnar form of :func:`oppcore.batch.import_frame` + :func:`oppcore.batch.partial`:
    the same partials and the same row errors, computed from columns (see the module).
    Partials of several chunks of one file merge with :func:`oppcore.batch.merge`.

    Args:
        frame: Export rows as read from the file
            (``pandas.read_csv(..., dtype=str, keep_default_na=False)``).
        analyses: ``(name, options)`` pairs; names in :data:`COLUMNAR_ANALYSES`.
        mapping: How columns map to fields.
        pipeline: The pipeline the deals follow.
        zone: The time zone of naive dates (default UTC).
        as_of: When the export was taken (see :func:`oppcore.io.read_csv`).
        first_row: The row number of the frame's first row (2 for a whole file).

    Returns:
        One partial per analysis, in the order asked, and one error per problem of a bad
        row (the rows the object path refuses, with its messages), in row order.

    Raises:
        ImportDataError: When a column the mapping needs is missing.
        ValidationError: For an analysis this path does not compute, unknown options, a
            win-rate key function, or deals the analysis refuses.
    """
    if not (hasattr(frame, "columns") and hasattr(frame, "iloc")):
        raise ValidationError(f"frame must be a pandas DataFrame, got {type(frame).__name__}",
                              field="frame", value=frame)
    if type(first_row) is not int or first_row < 1:
        raise ValidationError(f"first_row must be an integer >= 1, got {first_row!r}",
                              field="first_row", value=first_row)
    requests = [(name, _options(name, _analysis(name), dict(options)))
                for name, options in analyses]
    for name, _o in requests:
        if name not in COLUMNAR_ANALYSES:
            raise ValidationError(
                f"the columnar path computes {', '.join(COLUMNAR_ANALYSES)}, not {name!r}: "
                "import the deals (batch.import_frame) and use batch.partial", field="name",
                value=name)
    data = _Frame(frame, mapping, zone, as_of, first_row)
    screened = _Screened(data, as_of)
    errors: list[RowError] = []
    extra: list[Opportunity] = []  # suspect rows the converter accepts after all
    for number, cells in data.rows(data.np.flatnonzero(~screened.ok).tolist()):
        try:
            extra.append(data.convert(number, cells))
        except RowFailed as failed:  # noqa: PERF203 - every bad row is kept, not raised
            errors.extend(failed.errors)
    out: list[Partial] = []
    for name, options in requests:
        if name == "funnel":
            state = _grouped_tally(data, screened, (),
                                   lambda d: _funnel._funnel_tally(d, pipeline))
            plain = _funnel._funnel_tally(extra, pipeline)
        elif name == "win_rate":
            fields = _key_fields(options["by"], mapping)
            state = _grouped_tally(data, screened, fields,
                                   functools.partial(_winrate._win_rate_tally,
                                                     pipeline=pipeline, **options))
            plain = _winrate._win_rate_tally(extra, pipeline, **options)
        else:
            state = _cycle_tally(data, screened, pipeline, options)
            plain = _cycle._sales_cycle_tally(extra, pipeline, **options)
        state = plain if state is None else merge_state(state, plain)
        out.append(Partial(name=name, pipeline=pipeline,
                           options=tuple(sorted(options.items())), tally=state))
    return tuple(out), errors


def analyse_columns(
    frame: Any, analyses: Sequence[tuple[str, Mapping[str, Any]]], *,
    mapping: ColumnMapping, pipeline: Any, zone: tzinfo | None = None,
    as_of: datetime | None = None, first_row: int = 2,
) -> tuple[list[Any], list[RowError]]:
    """Run funnel, win rate or sales cycle over a pandas frame of export rows, columnar.

    Gives what importing the frame (:func:`oppcore.batch.import_frame`) and calling
    ``oppcore.analytics.<name>(deals, pipeline, **options)`` gives: the same results over
    the good rows and the same row errors, at a small fraction of the time (see the
    module :mod:`oppcore.batch` and the Dask guide).

    Returns:
        One result per ``(name, options)``, in that order, and the row errors.

    Raises:
        ImportDataError: When a column the mapping needs is missing.
        ValidationError: As :func:`column_partials`.
    """
    partials, errors = column_partials(frame, analyses, mapping=mapping, pipeline=pipeline,
                                       zone=zone, as_of=as_of, first_row=first_row)
    return [p.finalize() for p in partials], errors

