"""Funnel: where deals enter, advance and die, stage by stage."""

from collections.abc import Iterable
from typing import Any

import attrs

from oppcore._charts import Chart
from oppcore._models import Opportunity

from ._common import PipelineLike, StageIndex, ratio
from ._fold import Tally
from ._results import Table, rows_to_records

__all__ = ["Funnel", "FunnelStage", "funnel"]

_STAGE_COLUMNS = (
    "stage", "entered", "reached", "in_order", "advanced", "lost_here", "open_here",
    "won_here", "still_open", "left", "conversion", "left_conversion", "still_open_share",
    "drop_off", "strict_conversion", "strict_drop_off", "arrived",
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
        open_here: Open deals currently in this stage (0 for the won step: won deals are
            not open; see ``won_here``).
        won_here: Won deals (the won step only; 0 for open stages).
        still_open: Open deals whose furthest stage is this one: they reached it and have
            not (yet) gone further, so they are neither converted nor lost. 0 for the won
            step.
        left: ``reached - still_open``: deals that reached this stage and have since moved
            on or closed, the deals whose outcome at this stage is known.
        conversion: ``reached`` of the next step divided by this one's (``None`` for the
            last step or when nobody reached this one). Still-open deals count as not
            converted, so a young pipeline looks worse than it is; see
            ``left_conversion``.
        left_conversion: ``reached`` of the next step divided by ``left``: conversion
            among the deals that have left this stage (``None`` for the last step or when
            none has left).
        still_open_share: ``still_open / reached``: the share still undecided here
            (``None`` for the last step or when nobody reached this one).
        drop_off: ``1 - conversion``.
        strict_conversion: The same ratio as ``conversion`` with ``in_order`` counts.
        strict_drop_off: ``1 - strict_conversion``.
        arrived: Deals whose history records a move into this stage from an earlier open
            stage (not created here). A history synthesised from creation and close dates
            records none between open stages, so ``in_order`` cannot be known there (see
            :attr:`Funnel.unseen_stages`).
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
    won_here: int = 0
    still_open: int = 0
    left: int = 0
    left_conversion: float | None = None
    still_open_share: float | None = None
    arrived: int = 0


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
        stage_moves: Deals whose history records at least one move between two open
            stages.
        unseen_stages: Open stages after the first that deals entered but that no deal's
            history shows arriving at from an earlier stage: every deal there was created
            there (or its history skips), so which earlier stages it passed through, and
            the ``in_order`` counts from here on, are unknown rather than zero.
    """

    title = "Funnel"
    row_type = FunnelStage
    columns = _STAGE_COLUMNS

    pipeline_id: str
    stages: tuple[FunnelStage, ...]
    deals: int
    won: int
    lost: int
    open: int
    unplaced_lost: int = 0
    stage_moves: int = 0
    unseen_stages: tuple[str, ...] = ()

    @property
    def history_synthesised(self) -> bool:
        """Whether the histories look synthesised from creation and close dates only.

        True when no deal records a move between open stages while some open stage after
        the first was entered without anyone arriving from an earlier one (an export that
        dates only creation and close, such as the Maven sample).
        """
        return self.stage_moves == 0 and bool(self.unseen_stages)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per funnel step, in funnel order."""
        return rows_to_records(self.stages, _STAGE_COLUMNS)

    def chart(self, kind: str = "funnel", *, pipeline: PipelineLike | None = None) -> Chart:
        """Draw the funnel, or the conversion between its steps, as the report draws it.

        Args:
            kind: ``"funnel"`` (deals that reached each step) or ``"conversion"`` (of
                all that reached a step and of those that have left it, the share that
                reached the next one; and how many are still open there).
            pipeline: Gives the stages' labels (``oppcore.Pipeline``); without it the
                stage ids are shown.

        Returns:
            The chart: an SVG image a notebook shows inline; ``str(chart)`` is the SVG.

        Raises:
            ValidationError: For another ``kind``.
        """
        from ._drawing import funnel_chart  # its module imports this one

        return funnel_chart(self, kind, pipeline)

    def _notes(self) -> list[str]:
        lines = [f"{self.deals} deal(s): {self.open} open, {self.won} won, {self.lost} lost"]
        if self.unseen_stages:
            lines.append(
                ("history synthesised from creation and close dates: " if
                 self.history_synthesised else "")
                + "no deal is recorded arriving at " + ", ".join(self.unseen_stages)
                + " from an earlier stage; in_order there is unknown, not zero")
        return lines


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
    return _funnel_result(_funnel_tally(opportunities, pipeline), pipeline)


def _funnel_tally(opportunities: Iterable[Opportunity], pipeline: PipelineLike) -> Tally:
    """Return the funnel's mergeable state: a count per distinct path shape."""
    index = StageIndex(pipeline)
    position = index.position
    n = len(index.open_ids)
    # One counter per distinct path shape (mask, furthest, depth, lost_from, current,
    # arrived): few distinct shapes exist, so the per-deal work is one small tuple and one
    # dict update.
    shapes: dict[tuple[int, int, int, int, int, int], int] = {}
    get = shapes.get
    with index.walk(opportunities) as walk:
        for o, _k in walk:
            sid = o.stage_id
            mask = 0
            furthest = last_open = -1
            depth = 0
            in_order = True
            arrived = 0
            history = o.stage_history
            for change in history:
                p = position[change.to_stage]
                if p >= 0:
                    mask |= 1 << p
                    came = change.from_stage
                    if came is not None and -1 < position.get(came, -1) < p:
                        arrived |= 1 << p
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
            key = (mask, furthest, depth, last_open if current < 0 else -2, current, arrived)
            shapes[key] = get(key, 0) + 1
    return {"shapes": shapes}


def _funnel_result(tally: Tally, pipeline: PipelineLike) -> Funnel:
    """Return the funnel of a state of :func:`_funnel_tally`."""
    index = StageIndex(pipeline)
    return _build(index, len(index.open_ids), tally["shapes"], pipeline.id)


def _build(
    index: StageIndex, n: int, shapes: dict[tuple[int, int, int, int, int, int], int],
    pipeline_id: str,
) -> Funnel:
    size = n + 1
    entered = [0] * size
    reached = [0] * size
    in_order = [0] * size
    advanced = [0] * size
    lost_here = [0] * size
    open_here = [0] * size
    still_open = [0] * size
    arrived_at = [0] * size
    deals = won = lost = unplaced = moves = 0
    for (mask, furthest, depth, lost_from, current, arrived), count in shapes.items():
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
            if arrived >> i & 1:
                arrived_at[i] += count
        if arrived & ((1 << n) - 1):
            moves += count
        if 0 <= current < n:
            open_here[current] += count
            if furthest < n:  # undecided at its furthest stage (moved back: still there)
                still_open[furthest] += count
    ids = [*index.open_ids, "|".join(index.won_ids) or "won"]
    rows = []
    for i in range(size):
        last = i == n
        left = reached[i] - still_open[i]
        conv = None if last else ratio(reached[i + 1], reached[i])
        strict = None if last else ratio(in_order[i + 1], in_order[i])
        rows.append(FunnelStage(
            stage=ids[i], entered=entered[i], reached=reached[i], in_order=in_order[i],
            advanced=advanced[i], lost_here=lost_here[i], open_here=open_here[i],
            won_here=won if last else 0, still_open=still_open[i], left=left,
            conversion=conv, drop_off=None if conv is None else 1.0 - conv,
            left_conversion=None if last else ratio(reached[i + 1], left),
            still_open_share=None if last else ratio(still_open[i], reached[i]),
            strict_conversion=strict,
            strict_drop_off=None if strict is None else 1.0 - strict,
            arrived=arrived_at[i],
        ))
    unseen = tuple(ids[i] for i in range(1, n) if entered[i] and not arrived_at[i])
    return Funnel(pipeline_id=pipeline_id, stages=tuple(rows), deals=deals, won=won,
                  lost=lost, open=deals - won - lost, unplaced_lost=unplaced,
                  stage_moves=moves, unseen_stages=unseen)
