"""Funnel: where deals enter, advance and die, stage by stage."""

from collections.abc import Iterable
from typing import Any

import attrs

from oppcore._models import Opportunity

from ._common import PipelineLike, StageIndex, ratio
from ._results import Table, rows_to_records

__all__ = ["Funnel", "FunnelStage", "funnel"]

_STAGE_COLUMNS = (
    "stage", "entered", "reached", "in_order", "advanced", "lost_here", "open_here",
    "conversion", "drop_off", "strict_conversion", "strict_drop_off",
)


@attrs.frozen(kw_only=True)
class FunnelStage:
    """One step of the funnel (an open stage, or the won step at the end).

    Attributes:
        stage: Stage id (the won step lists every won stage id, joined by ``|``).
        entered: Deals that were ever in this stage.
        reached: Deals that got at least this far ("reached at least" mode): their furthest
            stage is this one or a later one, whether or not they passed through this one.
        in_order: Deals that went through every earlier stage and this one in pipeline
            order, without skipping (strict mode). Moving back and forth is allowed.
        advanced: Deals that entered this stage and later reached a further one.
        lost_here: Deals lost while this was their last open stage.
        open_here: Deals currently in this stage (won deals for the won step).
        conversion: ``reached`` of the next step divided by this one's (``None`` for the
            last step or when nobody reached this one).
        drop_off: ``1 - conversion``.
        strict_conversion: The same ratio with ``in_order`` counts.
        strict_drop_off: ``1 - strict_conversion``.
    """

    stage: str
    entered: int
    reached: int
    in_order: int
    advanced: int
    lost_here: int
    open_here: int
    conversion: float | None
    drop_off: float | None
    strict_conversion: float | None
    strict_drop_off: float | None


@attrs.frozen(kw_only=True)
class Funnel(Table):
    """The funnel of a set of deals through one pipeline.

    Attributes:
        pipeline_id: The pipeline the funnel follows.
        stages: One row per open stage in pipeline order, then the won step.
        deals: Deals counted.
        won: Deals in a won stage.
        lost: Deals in a lost stage.
        open: Deals in an open stage.
        unplaced_lost: Lost deals whose history shows no open stage (counted in ``lost``
            only).
    """

    title = "Funnel"
    columns = _STAGE_COLUMNS

    pipeline_id: str
    stages: tuple[FunnelStage, ...]
    deals: int
    won: int
    lost: int
    open: int
    unplaced_lost: int = 0

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per funnel step, in funnel order."""
        return rows_to_records(self.stages, _STAGE_COLUMNS)

    def _notes(self) -> list[str]:
        return [f"{self.deals} deal(s): {self.open} open, {self.won} won, {self.lost} lost"]


def funnel(opportunities: Iterable[Opportunity], pipeline: PipelineLike) -> Funnel:
    """Count, stage by stage, how many deals entered, advanced and were lost there.

    Each deal's path is read from its ``stage_history`` (plus its current stage when the
    history does not end there). Both funnel modes are computed in one pass: "reached at
    least" (``reached``, ``conversion``) and strict in-order (``in_order``,
    ``strict_conversion``). Both counts never increase down the funnel.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: The pipeline whose open stages and won stages form the funnel steps.

    Returns:
        The funnel, one row per open stage in order and a last row for the won step.

    Raises:
        ValidationError: If an item is not an opportunity, follows another pipeline, or
            names a stage the pipeline does not have.
    """
    index = StageIndex(pipeline)
    position = index.position
    n = len(index.open_ids)
    pipeline_id = pipeline.id
    # One counter per distinct path shape (mask, furthest, depth, lost_from, current): few
    # distinct shapes exist, so the per-deal work is one small tuple and one dict update.
    shapes: dict[tuple[int, int, int, int, int], int] = {}
    get = shapes.get
    with index.walk(opportunities) as walk:
        for o, _k in walk:
            sid = o.stage_id
            mask = 0
            furthest = last_open = -1
            depth = 0
            in_order = True
            history = o.stage_history
            for change in history:
                p = position[change.to_stage]
                if p >= 0:
                    mask |= 1 << p
                    if p > furthest:
                        furthest = p
                    if p < n:
                        last_open = p
                    if in_order:
                        if p == depth:
                            depth += 1
                        elif p > depth:
                            in_order = False
                else:
                    in_order = False
            current = position[sid]
            if current >= 0 and (not history or history[-1].to_stage != sid):
                mask |= 1 << current
                if current > furthest:
                    furthest = current
                if current < n:
                    last_open = current
                if in_order and current == depth:
                    depth += 1
            key = (mask, furthest, depth, last_open if current < 0 else -2, current)
            shapes[key] = get(key, 0) + 1
    return _build(index, n, shapes, pipeline_id)


def _build(
    index: StageIndex, n: int, shapes: dict[tuple[int, int, int, int, int], int],
    pipeline_id: str,
) -> Funnel:
    size = n + 1
    entered = [0] * size
    reached = [0] * size
    in_order = [0] * size
    advanced = [0] * size
    lost_here = [0] * size
    open_here = [0] * size
    deals = won = lost = unplaced = 0
    for (mask, furthest, depth, lost_from, current), count in shapes.items():
        deals += count
        if current == n:
            won += count
        elif current < 0:
            lost += count
            if lost_from >= 0:
                lost_here[lost_from] += count
            else:
                unplaced += count
        for i in range(size):
            if mask >> i & 1:
                entered[i] += count
                if furthest > i:
                    advanced[i] += count
            if furthest >= i:
                reached[i] += count
            if depth > i:
                in_order[i] += count
        if current >= 0:
            open_here[current] += count
    ids = [*index.open_ids, "|".join(index.won_ids) or "won"]
    rows = []
    for i in range(size):
        last = i == n
        conv = None if last else ratio(reached[i + 1], reached[i])
        strict = None if last else ratio(in_order[i + 1], in_order[i])
        rows.append(FunnelStage(
            stage=ids[i], entered=entered[i], reached=reached[i], in_order=in_order[i],
            advanced=advanced[i], lost_here=lost_here[i], open_here=open_here[i],
            conversion=conv, drop_off=None if conv is None else 1.0 - conv,
            strict_conversion=strict,
            strict_drop_off=None if strict is None else 1.0 - strict,
        ))
    return Funnel(pipeline_id=pipeline_id, stages=tuple(rows), deals=deals, won=won,
                  lost=lost, open=deals - won - lost, unplaced_lost=unplaced)
