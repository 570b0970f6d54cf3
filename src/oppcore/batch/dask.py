"""Dask, first-class: the analytics and scoring of oppcore on a Dask DataFrame of raw exports.

Needs the ``dask`` extra (``pip install 'oppcore[dask]'``: ``dask[dataframe]`` and
``distributed``). Dask does the scheduling; oppcore only gives it per-partition functions
(import, partial, score) and the merge of two partials. Everything sent to the workers is
plain picklable data: the pipeline, the column mapping, the scorecard and the analysis'
options; plugin rules are loaded *on the workers* by entry-point name.

Example:
    >>> import dask.dataframe as dd                                     # doctest: +SKIP
    >>> from oppcore.batch import dask as odask
    >>> frame = dd.read_csv("exports/*.csv", dtype=str, keep_default_na=False)
    >>> odask.analyse(frame, "win_rate", mapping=mapping, pipeline=pipeline, by="owner")
"""

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import attrs

from oppcore._errors import ImportDataError, ValidationError
from oppcore.io import ColumnMapping
from oppcore.scoring import Scorecard, load_plugins

from ._partial import Partial, _analysis, _options, merge, partial
from ._rows import (
    errors_to_frame,
    import_frame,
    score_records,
    scores_to_frame,
)

__all__ = ["Request", "analyse", "analyse_many", "import_errors", "partials", "score"]

_SPLIT_EVERY = 8
"""Partitions' partials merged per task in the merge tree."""


def _dask() -> Any:
    try:
        return importlib.import_module("dask")  # optional dependency, imported on use
    except ImportError as exc:
        raise ModuleNotFoundError("oppcore.batch.dask needs dask: pip install 'oppcore[dask]'",
                                  name="dask") from exc


def _import(frame: Any, part: int, mapping: ColumnMapping, zone: tzinfo | None,
            as_of: datetime | None) -> Any:
    """Import one partition; raise its first bad rows as one error naming the partition."""
    deals, errors = import_frame(frame, mapping=mapping, zone=zone, as_of=as_of)
    if errors:
        raise ImportDataError([
            attrs.evolve(e, message=f"(partition {part}) {e.message}") for e in errors])
    return deals


Request = tuple[str, Mapping[str, Any]]
"""One analysis to run: its name and its keyword options."""


def _partials_of(frame: Any, part: int, requests: tuple[Request, ...],
                 mapping: ColumnMapping, pipeline: Any, zone: tzinfo | None,
                 as_of: datetime | None) -> tuple[Partial, ...]:
    deals = _import(frame, part, mapping, zone, as_of)  # imported once for every analysis
    return tuple(partial(name, deals, pipeline, part=part, **options)
                 for name, options in requests)


def _merge_rows(*rows: tuple[Partial, ...]) -> tuple[Partial, ...]:
    return tuple(merge(column) for column in zip(*rows, strict=True))


def partials(
    frame: Any, analyses: Sequence[Request], *, mapping: ColumnMapping, pipeline: Any,
    zone: tzinfo | None = None, as_of: datetime | None = None,
) -> Any:
    """Return the lazy merged partials of several analyses over one Dask DataFrame.

    One task per partition imports its rows once and makes a partial per analysis; tasks
    of up to eight partitions' partials merge them, in a tree, down to one. Compute the
    returned ``dask.delayed`` object to get one :class:`~oppcore.batch.Partial` per
    analysis, in the order asked.

    Args:
        frame: A Dask DataFrame of export rows as strings.
        analyses: ``(name, options)`` pairs, e.g. ``[("funnel", {}), ("win_rate",
            {"by": "owner"})]``.
        mapping: How the export's columns map to fields.
        pipeline: The pipeline the deals follow.
        zone: The time zone of naive dates in the export (default UTC).
        as_of: When the export was taken (see :func:`oppcore.io.read_csv`).

    Raises:
        ValidationError: For an unknown analysis or options (before anything runs).
    """
    dask = _dask()
    requests = tuple((name, dict(options)) for name, options in analyses)
    for name, options in requests:
        _options(name, _analysis(name), options)  # refuse bad names and options up front
    if not requests:
        raise ValidationError("no analysis asked for", field="analyses")
    delayed = dask.delayed
    level = [delayed(_partials_of)(p, i, requests, mapping, pipeline, zone, as_of)
             for i, p in enumerate(frame.to_delayed())]
    if not level:
        raise ValidationError("the frame has no partitions", field="frame")
    while len(level) > 1:
        level = [delayed(_merge_rows)(*level[i:i + _SPLIT_EVERY])
                 for i in range(0, len(level), _SPLIT_EVERY)]
    return level[0]


def analyse_many(
    frame: Any, analyses: Sequence[Request], *, mapping: ColumnMapping, pipeline: Any,
    zone: tzinfo | None = None, as_of: datetime | None = None,
) -> list[Any]:
    """Run several analyses in one pass over a Dask DataFrame (each row imported once).

    Returns:
        One result per ``(name, options)`` of ``analyses``, in that order (see
        :func:`analyse`).

    Raises:
        ImportDataError: As :func:`analyse`.
        ValidationError: As :func:`analyse`.
    """
    merged: tuple[Partial, ...] = partials(frame, analyses, mapping=mapping,
                                           pipeline=pipeline, zone=zone,
                                           as_of=as_of).compute()
    return [p.finalize() for p in merged]


def analyse(
    frame: Any, name: str, *, mapping: ColumnMapping, pipeline: Any,
    zone: tzinfo | None = None, as_of: datetime | None = None, **options: Any,
) -> Any:
    """Run one analysis over a Dask DataFrame of raw export rows; return its result.

    The result equals importing the whole export with :func:`oppcore.io.import_csv` and
    calling ``oppcore.analytics.<name>(deals, pipeline, **options)`` in one process.

    Args:
        frame: A Dask DataFrame of export rows as strings, e.g.
            ``dask.dataframe.read_csv("exports/*.csv", dtype=str, keep_default_na=False)``.
        name: The analysis (see :data:`oppcore.batch.ANALYSES`).
        mapping: How the export's columns map to fields.
        pipeline: The pipeline the deals follow.
        zone: The time zone of naive dates in the export (default UTC).
        as_of: When the export was taken (see :func:`oppcore.io.read_csv`).
        **options: The analysis' keyword options (``by=``, ``now=``...).

    Returns:
        The result of the analysis (``WinRates``, ``Funnel``...).

    Raises:
        ImportDataError: For bad rows (as ``import_csv`` does by default); rows are
            numbered from the start of their partition, and each message names it.
        ValidationError: For an unknown analysis or options, or deals the analysis refuses.
    """
    return analyse_many(frame, [(name, options)], mapping=mapping, pipeline=pipeline,
                        zone=zone, as_of=as_of)[0]


@attrs.frozen
class _ScorecardRecipe:
    """A scorecard as it travels: its dict form and the plugins to load where it lands."""

    document: Mapping[str, Any]
    plugins: tuple[str, ...]

    def build(self) -> Scorecard:
        rules = load_plugins(names=self.plugins).rules if self.plugins else ()
        return Scorecard.from_dict(self.document, rules=rules)


def _score_partition(frame: Any, mapping: ColumnMapping, card: Scorecard | _ScorecardRecipe,
                     now: datetime, zone: tzinfo | None, as_of: datetime | None) -> Any:
    scorecard = card.build() if isinstance(card, _ScorecardRecipe) else card
    deals, _errors = import_frame(frame, mapping=mapping, zone=zone, as_of=as_of)
    return scores_to_frame(score_records(deals, scorecard=scorecard, now=now))


def score(
    frame: Any, *, mapping: ColumnMapping, scorecard: Scorecard, now: datetime,
    zone: tzinfo | None = None, as_of: datetime | None = None, plugins: Sequence[str] = (),
) -> Any:
    """Score every good row of a Dask DataFrame of raw export rows, lazily.

    Args:
        frame: A Dask DataFrame of export rows as strings.
        mapping: How the export's columns map to fields.
        scorecard: The scorecard (built-in rules and rules of installed packages travel
            as they are).
        now: The moment of scoring (timezone-aware), the same on every worker.
        zone: The time zone of naive dates in the export (default UTC).
        as_of: When the export was taken.
        plugins: Entry-point names of plugin rules the scorecard uses: the scorecard then
            travels in its dict form and each worker loads these plugins and rebuilds it.

    Returns:
        A Dask DataFrame with the columns of :data:`oppcore.batch.SCORE_COLUMNS` (declared
        ``meta``): one row per good row; bad rows are in :func:`import_errors`.

    Raises:
        ValidationError: For something that is not a scorecard.
    """
    if not isinstance(scorecard, Scorecard):
        raise ValidationError(f"scorecard must be a Scorecard, got {type(scorecard).__name__}",
                              field="scorecard", value=scorecard)
    card: Scorecard | _ScorecardRecipe = scorecard
    if plugins:
        card = _ScorecardRecipe(scorecard.to_dict(), tuple(plugins))
    return frame.map_partitions(_score_partition, mapping, card, now, zone, as_of,
                                meta=scores_to_frame([]))


def _errors_partition(frame: Any, mapping: ColumnMapping, zone: tzinfo | None,
                      as_of: datetime | None, partition_info: Any = None) -> Any:
    _deals, errors = import_frame(frame, mapping=mapping, zone=zone, as_of=as_of)
    out = errors_to_frame(errors)
    part = partition_info["number"] if partition_info else 0
    out.insert(0, "partition", [part] * len(errors))
    return out.astype({"partition": "int64"})


def import_errors(
    frame: Any, *, mapping: ColumnMapping, zone: tzinfo | None = None,
    as_of: datetime | None = None,
) -> Any:
    """Return the row errors of a Dask DataFrame of raw export rows, lazily.

    Returns:
        A Dask DataFrame with a ``partition`` column and the columns of
        :data:`oppcore.batch.ERROR_COLUMNS`; ``row`` counts from the start of the
        partition (2 for its first row, as in a file with a header).
    """
    meta = errors_to_frame([])
    meta.insert(0, "partition", [])
    meta = meta.astype({"partition": "int64"})
    return frame.map_partitions(_errors_partition, mapping, zone, as_of, meta=meta)


