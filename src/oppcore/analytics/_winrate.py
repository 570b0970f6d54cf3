"""Win rate and deal counts by any dimension, with the closed-deal counts behind each rate."""

from collections.abc import Hashable, Iterable
from typing import Any

import attrs

from oppcore._charts import MAX_GROUPS, Chart
from oppcore._errors import ValidationError
from oppcore._models import Opportunity

from ._common import (
    LOST,
    WON,
    Dimension,
    PipelineLike,
    StageIndex,
    check_opportunity,
    dimension_keys,
    iterate,
    other_pipeline,
    ratio,
)
from ._fold import Tally
from ._results import Table

__all__ = ["WinRateRow", "WinRates", "win_rate"]

_COLUMNS = ("key", "deals", "open", "won", "lost", "closed", "win_rate")


@attrs.frozen(kw_only=True)
class WinRateRow:
    """Counts and win rate of one group.

    Attributes:
        key: The group's value of the dimension (``None`` when a deal has none).
        deals: Deals in the group.
        open: Deals still open.
        won: Deals won.
        lost: Deals lost.
        closed: ``won + lost``: the deals behind the rate.
        win_rate: ``won / closed``, in [0, 1]; ``None`` when no deal is closed.
    """

    key: Hashable
    deals: int
    open: int
    won: int
    lost: int
    closed: int
    win_rate: float | None


def _row(key: Hashable, open_: int, won: int, lost: int) -> WinRateRow:
    closed = won + lost
    return WinRateRow(key=key, deals=open_ + closed, open=open_, won=won, lost=lost,
                      closed=closed, win_rate=ratio(won, closed))


@attrs.frozen(kw_only=True)
class WinRates(Table):
    """Win rates of a set of deals, grouped by one dimension.

    Attributes:
        dimension: What the deals were grouped by (``"owner"``, ``"tag"``, a custom field).
        rows: One row per group, most closed deals first, then by key.
        overall: The same figures over all deals (each deal counted once, even when it
            falls in several tag groups).
    """

    title = "Win rate"
    row_type = WinRateRow
    columns = ("dimension", *_COLUMNS)

    dimension: str
    rows: tuple[WinRateRow, ...]
    overall: WinRateRow

    def chart(self, *, top: int = MAX_GROUPS) -> Chart:
        """Draw the win rate of each group (won / closed deals) as the report draws it.

        Args:
            top: Groups drawn, most closed deals first (the report draws 12).

        Returns:
            The chart: an SVG image a notebook shows inline; ``str(chart)`` is the SVG.

        Raises:
            ValidationError: For a ``top`` below 1.
        """
        from ._drawing import win_rate_chart  # its module imports this one

        return win_rate_chart(self, top)

    def get(self, key: Hashable) -> WinRateRow | None:
        """Return the row of the group ``key``, or ``None`` if no deal has it."""
        for row in self.rows:
            if row.key == key:
                return row
        return None

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per group (``dimension`` names the grouping)."""
        return [
            {"dimension": self.dimension, **{n: getattr(r, n) for n in _COLUMNS}}
            for r in self.rows
        ]

    def _notes(self) -> list[str]:
        o = self.overall
        rate = "-" if o.win_rate is None else f"{o.win_rate:.1%}"
        return [f"overall: {o.won} won / {o.closed} closed = {rate} ({o.open} open)"]


def win_rate(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, by: Dimension = "owner",
) -> WinRates:
    """Compute win rate and deal counts per group of ``by``.

    A deal is won or lost by the kind of its current stage. The win rate of a group is
    ``won / (won + lost)``; open deals are counted but do not enter the rate.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are won and lost.
        by: ``"owner"``, ``"source"`` (or ``"channel"``: the source channel),
            ``"source_detail"``, ``"account"`` (name), ``"account_id"``, ``"segment"``
            (or ``"tier"``: the account tier), ``"industry"``, ``"region"``, ``"size"``,
            ``"stage"``, ``"tag"`` (products, campaigns: a deal counts in each of its
            tags, or under ``None`` without any), ``"custom:<field>"`` (a custom field),
            or a function of the opportunity returning a hashable key.

    Returns:
        The rates per group, with the counts behind them and an overall row.

    Raises:
        ValidationError: For an unknown dimension, an item that is not an opportunity, a
            deal of another pipeline or a stage the pipeline does not have.
    """
    return _win_rate_result(_win_rate_tally(opportunities, pipeline, by=by), pipeline, by=by)


def _win_rate_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, by: Dimension = "owner",
) -> Tally:
    """Return win rate's mergeable state: open/won/lost counts per group and overall."""
    label, key = dimension_keys(by)
    index = StageIndex(pipeline)
    codes = {sid: (1 if kind == WON else 2 if kind == LOST else 0)
             for sid, kind in index.kind.items()}
    pipeline_id = pipeline.id
    groups: dict[Hashable, list[int]] = {}
    total = [0, 0, 0]
    get = groups.get
    o: Any = None
    try:
        for o in iterate(opportunities):
            if o.pipeline_id != pipeline_id:
                raise other_pipeline(o, pipeline_id)
            code = codes[o.stage_id]
            total[code] += 1
            if key is not None:
                k = key(o)
                counts = get(k)
                if counts is None:
                    counts = groups[k] = [0, 0, 0]
                counts[code] += 1
            else:
                for k in o.tags or (None,):
                    counts = get(k)
                    if counts is None:
                        counts = groups[k] = [0, 0, 0]
                    counts[code] += 1
    except KeyError as exc:
        check_opportunity(o)
        if exc.args and exc.args[0] == o.stage_id:
            raise index.unknown(o, o.stage_id) from None
        raise
    except AttributeError:
        check_opportunity(o)
        raise
    except TypeError as exc:  # an unhashable key, or a key function that failed
        check_opportunity(o)
        raise ValidationError(
            f"grouping opportunity {o.id!r} by {label!r} failed: {exc}", field="by", value=by,
        ) from exc
    return {"groups": groups, "total": total}


def _win_rate_result(
    tally: Tally, pipeline: PipelineLike, *, by: Dimension = "owner",
) -> WinRates:
    """Return the win rates of a state of :func:`_win_rate_tally`."""
    label, _key = dimension_keys(by)
    rows = [_row(k, *c) for k, c in tally["groups"].items()]
    # repr breaks the last ties (keys of one text, e.g. 1 and "1"): the order of the rows
    # never depends on the order the deals came in.
    rows.sort(key=lambda r: (-r.closed, r.key is None, str(r.key), repr(r.key)))
    return WinRates(dimension=label, rows=tuple(rows), overall=_row("(all)", *tally["total"]))
