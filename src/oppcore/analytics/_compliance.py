"""Process compliance: how closely each owner follows the standard process."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity

from ._common import LOST, OPEN, PipelineLike, StageIndex, ratio
from ._fold import Tally
from ._results import Table, rows_to_records
from ._velocity import _check_now

__all__ = ["Compliance", "ComplianceRow", "compliance"]

_COLUMNS = (
    "owner", "deals", "open", "lost", "skipped", "skipped_share", "overrides",
    "override_share", "inactive", "inactive_share", "no_lost_reason", "no_lost_reason_share",
)


@attrs.frozen(kw_only=True)
class ComplianceRow:
    """Process figures of one owner (or of everyone, for the total row).

    Attributes:
        owner: The owner (``None`` for deals without one; ``"(all)"`` in the total row).
        deals: Deals owned.
        open: Of which open.
        lost: Of which lost.
        skipped: Deals with at least one forward move that jumped over an open stage.
        skipped_share: ``skipped / deals``.
        overrides: Deals with at least one move made with a manager's override (entry
            requirements not met).
        override_share: ``overrides / deals``.
        inactive: Open deals without an activity within the cadence.
        inactive_share: ``inactive / open``.
        no_lost_reason: Lost deals without a lost reason.
        no_lost_reason_share: ``no_lost_reason / lost``.
    """

    owner: str | None
    deals: int
    open: int
    lost: int
    skipped: int
    skipped_share: float | None
    overrides: int
    override_share: float | None
    inactive: int
    inactive_share: float | None
    no_lost_reason: int
    no_lost_reason_share: float | None


def _row(owner: str | None, c: list[int]) -> ComplianceRow:
    deals, open_, lost, skipped, overrides, inactive, no_reason = c
    return ComplianceRow(
        owner=owner, deals=deals, open=open_, lost=lost, skipped=skipped,
        skipped_share=ratio(skipped, deals), overrides=overrides,
        override_share=ratio(overrides, deals), inactive=inactive,
        inactive_share=ratio(inactive, open_), no_lost_reason=no_reason,
        no_lost_reason_share=ratio(no_reason, lost),
    )


@attrs.frozen(kw_only=True)
class Compliance(Table):
    """Process compliance per owner.

    Attributes:
        as_of: The ``now`` the activity cadence was judged at.
        rows: One row per owner, by owner (deals without an owner last).
        total: The same figures over all deals.
    """

    title = "Process compliance"
    row_type = ComplianceRow
    columns = _COLUMNS

    as_of: datetime
    rows: tuple[ComplianceRow, ...]
    total: ComplianceRow

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per owner."""
        return rows_to_records(self.rows, _COLUMNS)

    def _notes(self) -> list[str]:
        t = self.total

        def pct(x: float | None) -> str:
            return "-" if x is None else f"{x:.0%}"

        line = (f"all owners: {t.deals} deal(s); skipped stages {pct(t.skipped_share)}, "
                f"overrides {pct(t.override_share)}, inactive {pct(t.inactive_share)}, "
                f"no lost reason {pct(t.no_lost_reason_share)}")
        return [line]


def compliance(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    cadence_days: int | None = None,
) -> Compliance:
    """Measure, per owner, how often deals leave the standard process.

    * Skipped stages: a recorded move (not the creation entry) went forward past at least
      one open stage (the won stages count as the step after the last open stage; moves
      to lost stages never count).
    * Overrides: a move's history entry carries an override note.
    * No activity within the cadence: with ``cadence_days``, an open deal whose latest
      activity (or creation, without any) is more than that many days before ``now``;
      without it, the pipeline's own cadence (``pipeline.next_follow_up`` before ``now``).
    * No lost reason: a lost deal with a blank ``lost_reason``.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Gives stage order, kinds and cadences.
        now: The moment the cadence is judged at (timezone-aware).
        cadence_days: One activity window for every stage, in days (> 0), if given.

    Returns:
        One row per owner and a total row.

    Raises:
        ValidationError: For a naive ``now``, a bad ``cadence_days``, an item that is not an
            opportunity, a deal of another pipeline or an unknown stage.
    """
    tally = _compliance_tally(opportunities, pipeline, now=now, cadence_days=cadence_days)
    return _compliance_result(tally, pipeline, now=now, cadence_days=cadence_days)


def _compliance_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    cadence_days: int | None = None,
) -> Tally:
    """Return compliance's mergeable state: seven counts per owner."""
    _check_now(now)
    if now is None:
        raise ValidationError("'now' is required", field="now")
    if cadence_days is not None and (type(cadence_days) is not int or cadence_days <= 0):
        raise ValidationError(f"cadence_days must be a positive integer, got "
                              f"{cadence_days!r}", field="cadence_days", value=cadence_days)
    window = None if cadence_days is None else timedelta(days=cadence_days)
    index = StageIndex(pipeline)
    position = index.position
    next_follow_up = getattr(pipeline, "next_follow_up", None)
    owners: dict[str | None, list[int]] = {}
    with index.walk(opportunities) as walk:
        for o, k in walk:
            skipped = overridden = False
            for change in o.stage_history:
                if change.override is not None:
                    overridden = True
                src = change.from_stage
                if src is not None:
                    a, b = position[src], position[change.to_stage]
                    if a >= 0 and b - a > 1:
                        skipped = True
            inactive = no_reason = False
            if k == OPEN:
                if window is not None:
                    last = max((a.at for a in o.activities), default=o.created_at)
                    inactive = now - last > window
                elif next_follow_up is not None:
                    due = next_follow_up(o, now=now)
                    inactive = due is not None and due < now
            elif k == LOST:
                reason = o.lost_reason
                no_reason = reason is None or not reason.strip()
            c = owners.get(o.owner)
            if c is None:
                c = owners[o.owner] = [0, 0, 0, 0, 0, 0, 0]
            c[0] += 1
            c[1] += k == OPEN
            c[2] += k == LOST
            c[3] += skipped
            c[4] += overridden
            c[5] += inactive
            c[6] += no_reason
    return {"owners": owners}


def _compliance_result(
    tally: Tally, pipeline: PipelineLike, *, now: datetime, cadence_days: int | None = None,
) -> Compliance:
    """Return the compliance table of a state of :func:`_compliance_tally`."""
    owners = tally["owners"]
    total = [sum(col) for col in zip(*owners.values(), strict=True)] or [0] * 7
    rows = tuple(_row(owner, owners[owner])
                 for owner in sorted(owners, key=lambda x: (x is None, x or "")))
    return Compliance(as_of=now, rows=rows, total=_row("(all)", total))
