"""Health: rotting deals, overdue follow-ups, slipped dates, and a weekly data-quality check."""

import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.dedupe import find_duplicates

from ._common import OPEN, PipelineLike, StageIndex
from ._fold import Tally
from ._results import Table, rows_to_records
from ._velocity import _check_now

__all__ = ["DataQualityReport", "Finding", "HealthReport", "data_quality", "health"]

_COLUMNS = ("opportunity_id", "name", "owner", "stage", "issue", "detail")
# Codes of violations about the move itself (not the stage's requirements): re-checking a
# deal against its own stage always reports "same_stage", which is not a data problem.
_POLICY_CODES = frozenset({
    "same_stage", "transition_not_allowed", "terminal_stage", "reopen_not_allowed",
    "skip_not_allowed", "backward_not_allowed", "out_of_order", "wrong_pipeline",
    "unknown_stage", "unknown_current_stage",
})


@attrs.frozen(kw_only=True)
class Finding:
    """One problem found on one deal.

    Attributes:
        opportunity_id: The deal's id.
        name: The deal's name.
        owner: Its owner.
        stage: Its current stage id.
        issue: Stable code of the problem (see the function that reports it).
        detail: A sentence saying what exactly is wrong.
    """

    opportunity_id: str
    name: str
    owner: str | None
    stage: str
    issue: str
    detail: str


def _finding(o: Opportunity, issue: str, detail: str) -> Finding:
    return Finding(opportunity_id=o.id, name=o.name, owner=o.owner, stage=o.stage_id,
                   issue=issue, detail=detail)


class _Findings(Table):
    __slots__ = ()
    columns = _COLUMNS
    row_type = Finding
    findings: tuple[Finding, ...]

    def count(self, issue: str) -> int:
        """Return how many findings have the code ``issue``."""
        return sum(1 for f in self.findings if f.issue == issue)

    def issues(self) -> dict[str, int]:
        """Return a new dict: issue code -> number of findings, most frequent first."""
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.issue] = counts.get(f.issue, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per finding."""
        return rows_to_records(self.findings, _COLUMNS)

    def _notes(self) -> list[str]:
        counts = self.issues()
        if not counts:
            return ["no findings"]
        return ["; ".join(f"{issue}: {n}" for issue, n in counts.items())]


@attrs.frozen(kw_only=True)
class HealthReport(_Findings):
    """Open deals that need attention.

    Attributes:
        as_of: The ``now`` the report was computed for.
        deals: Open deals examined.
        findings: One row per (deal, issue), in input order.
        stale_limits: Whether any open stage sets a stale limit (``follow_up.max_days``).
            Without one no deal can be ``stale``: the absence of ``stale`` findings then
            says nothing (give limits with ``Pipeline.with_stale_after``).
    """

    title = "Pipeline health"

    as_of: datetime
    deals: int
    findings: tuple[Finding, ...]
    stale_limits: bool = True

    def _notes(self) -> list[str]:
        lines = super()._notes()
        if not self.stale_limits:
            lines.append("the pipeline sets no stale limits: no deal was judged stale "
                         "(see Pipeline.with_stale_after)")
        return lines


def health(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    max_pushes: int = 2,
) -> HealthReport:
    """Find open deals that are rotting, overdue, past their close date or pushed too often.

    Issue codes:

    * ``stale``: in the current stage longer than its follow-up rule allows
      (``pipeline.is_stale``).
    * ``overdue_follow_up``: the stage's cadence says a follow-up was due before ``now``
      (``pipeline.next_follow_up``, when the pipeline offers it), or the latest activity's
      ``next_step_due`` is before today.
    * ``past_close_date``: ``expected_close`` is before today (the day of ``now``).
    * ``pushed``: the expected close date slipped more than ``max_pushes`` times.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Gives stage kinds and follow-up rules.
        now: The moment to judge at (timezone-aware).
        max_pushes: Pushes tolerated before a deal is flagged.

    Returns:
        The findings, one per (deal, issue).

    Raises:
        ValidationError: For a naive ``now``, a negative ``max_pushes``, an item that is not
            an opportunity, a deal of another pipeline or an unknown stage.
    """
    tally = _health_tally(opportunities, pipeline, now=now, max_pushes=max_pushes)
    return _health_result(tally, pipeline, now=now, max_pushes=max_pushes)


def _health_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    max_pushes: int = 2, part: int = 0,
) -> Tally:
    """Return health's mergeable state: open deals counted, findings with their place.

    Each finding is kept as ``((part, deal, n), finding)``: ``part`` is the place of this
    slice of the input (0 for one process; the partition number on an engine), so merged
    findings come out in input order.
    """
    _check_now(now)
    if now is None:
        raise ValidationError("'now' is required", field="now")
    if type(max_pushes) is not int or max_pushes < 0:
        raise ValidationError(f"max_pushes must be an integer >= 0, got {max_pushes!r}",
                              field="max_pushes", value=max_pushes)
    index = StageIndex(pipeline)
    today = now.date()
    next_follow_up = getattr(pipeline, "next_follow_up", None)
    found: list[tuple[tuple[int, int, int], Finding]] = []
    deals = 0
    with index.walk(opportunities) as walk:
        for i, (o, k) in enumerate(walk):
            if k != OPEN:
                continue
            deals += 1
            mine: list[Finding] = []
            if pipeline.is_stale(o, now=now):
                mine.append(_finding(o, "stale", f"in {o.stage_id!r} longer than the stage "
                                     "allows"))
            due = next_follow_up(o, now=now) if next_follow_up is not None else None
            if due is not None and due < now:
                mine.append(_finding(o, "overdue_follow_up",
                                     f"follow-up was due {due.date().isoformat()}"))
            elif o.activities:
                latest = max(o.activities, key=lambda a: a.at)
                step_due = latest.next_step_due
                if step_due is not None and step_due < today:
                    mine.append(_finding(o, "overdue_follow_up",
                                         f"next step was due {step_due.isoformat()}"))
            close = o.expected_close
            if close is not None and close < today:
                mine.append(_finding(o, "past_close_date",
                                     f"expected close {close.isoformat()} has passed"))
            pushes = o.close_date_pushes
            if pushes > max_pushes:
                mine.append(_finding(o, "pushed", f"close date pushed {pushes} times"))
            found.extend(((part, i, j), f) for j, f in enumerate(mine))
    return {"deals": deals, "findings": tuple(found)}


def _health_result(
    tally: Tally, pipeline: PipelineLike, *, now: datetime, max_pushes: int = 2,
) -> HealthReport:
    """Return the health report of a state of :func:`_health_tally`."""
    return HealthReport(as_of=now, deals=tally["deals"],
                        findings=tuple(f for _place, f in tally["findings"]),
                        stale_limits=stale_limits(StageIndex(pipeline)))


def stale_limits(index: StageIndex) -> bool:
    """Whether any open stage of the indexed pipeline sets ``follow_up.max_days``."""
    for sid in index.open_ids:
        follow = index.by_id[sid].follow_up
        if follow is not None and follow.max_days is not None:
            return True
    return False


@attrs.frozen(kw_only=True)
class DataQualityReport(_Findings):
    """Records that a team should fix (run it weekly).

    Attributes:
        as_of: The moment the stage requirements were checked at.
        deals: Deals examined.
        findings: One row per problem, in input order (duplicates at the end: one
            ``probable_duplicate`` finding per group, on its first deal).
        duplicates_checked: Whether probable duplicates were looked for.
        duplicate_groups: Ids of the deals that are probably one deal, one tuple per group
            (in input order; groups by their first deal).
    """

    title = "Data quality"

    as_of: datetime
    deals: int
    findings: tuple[Finding, ...]
    duplicates_checked: bool
    duplicate_groups: tuple[tuple[str, ...], ...] = ()


def data_quality(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    now: datetime | None = None, currency: str | None = None, duplicates: bool = True,
    duplicate_threshold: float = 0.5, at: datetime | None = None,
) -> DataQualityReport:
    """Check records for what a team should fix: a weekly data-quality run.

    Issue codes:

    * ``missing_requirement``: an open deal does not meet its own stage's entry
      requirements (``pipeline.check`` against the current stage, when the pipeline offers
      it; one finding per unmet requirement, move-policy violations ignored).
    * ``unreachable_contact``: a contact has neither e-mail nor phone.
    * ``currency_mismatch``: a quote is in another currency than the deal's amount, or the
      amount is not in ``currency`` when one is given.
    * ``probable_duplicate``: other deals are probably the same one
      (``oppcore.find_duplicates``, when ``duplicates`` is true): one finding per group
      of deals linked by probable-duplicate pairs, on the group's first deal. A customer's
      repeat orders are not duplicates (see :func:`oppcore.find_duplicates`).

    Args:
        opportunities: Any iterable of opportunities of ``pipeline``.
        pipeline: Gives each stage's requirements.
        now: The moment requirements are checked at (timezone-aware), as in
            :func:`health` and the other analytics.
        currency: The currency every amount should be in, if the team uses one.
        duplicates: Look for probable duplicates (keeps the deals in memory).
        duplicate_threshold: Minimum duplicate score reported, in [0, 1].
        at: The former name of ``now``: still accepted for one release, with a
            ``DeprecationWarning``.

    Returns:
        The findings.

    Raises:
        ValidationError: For a missing or naive ``now`` (or both ``now`` and ``at``), an
            item that is not an opportunity, a deal of another pipeline or an unknown stage.
    """
    if at is not None:
        if now is not None:
            raise ValidationError("give 'now' only ('at' is its former name)", field="at")
        warnings.warn("data_quality(at=...) is deprecated and goes in the next release; "
                      "use now=...", DeprecationWarning, stacklevel=2)
        now = at
    _check_now(now)
    if now is None:
        raise ValidationError("'now' is required", field="now")
    at = now
    index = StageIndex(pipeline)
    kind = index.kind
    check = getattr(pipeline, "check", None)
    found: list[Finding] = []
    kept: list[Opportunity] = []
    deals = 0
    with index.walk(opportunities) as walk:
        for o, _k in walk:
            deals += 1
            if duplicates:
                kept.append(o)
            if kind[o.stage_id] == OPEN and check is not None:
                found.extend(
                    _finding(o, "missing_requirement", str(getattr(v, "message", v)))
                    for v in check(o, o.stage_id, at=at, reason=o.lost_reason)
                    if getattr(v, "code", None) not in _POLICY_CODES
                )
            found.extend(
                _finding(o, "unreachable_contact", f"contact {c.name!r} has no e-mail or phone")
                for c in o.contacts if not c.reachable
            )
            amount = o.amount
            if amount is not None:
                if currency is not None and amount.currency != currency:
                    found.append(_finding(o, "currency_mismatch",
                                          f"amount is in {amount.currency}, not {currency}"))
                found.extend(
                    _finding(o, "currency_mismatch", f"quote {q.id!r} is in {q.currency}, "
                             f"the amount in {amount.currency}")
                    for q in o.quotes if q.currency != amount.currency
                )
    groups: tuple[tuple[str, ...], ...] = ()
    if duplicates:
        groups, found_groups = _duplicate_groups(kept, duplicate_threshold)
        found.extend(found_groups)
    return DataQualityReport(as_of=at, deals=deals, findings=tuple(found),
                             duplicates_checked=duplicates, duplicate_groups=groups)


def _duplicate_groups(
    kept: list[Opportunity], threshold: float,
) -> tuple[tuple[tuple[str, ...], ...], list[Finding]]:
    """Group probable-duplicate pairs into connected groups; one finding per group."""
    position = {x.id: i for i, x in enumerate(kept)}
    parent = list(range(len(kept)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    codes: dict[int, set[str]] = {}
    best: dict[int, float] = {}
    pairs = find_duplicates(kept, threshold=threshold)
    for cand in pairs:
        a, b = (root(position[x]) for x in cand.ids)
        if a != b:
            parent[max(a, b)] = min(a, b)
    for cand in pairs:
        r = root(position[cand.ids[0]])
        codes.setdefault(r, set()).update(cand.codes)
        best[r] = max(best.get(r, 0.0), cand.score)
    members: dict[int, list[int]] = {}
    for r in codes:
        members[r] = []
    for i in range(len(kept)):
        r = root(i)
        if r in members:
            members[r].append(i)
    groups = []
    found = []
    for r in sorted(members):
        ids = tuple(kept[i].id for i in members[r])
        groups.append(ids)
        others = ", ".join(repr(x) for x in ids[1:])
        found.append(_finding(
            kept[r], "probable_duplicate",
            f"probably the same deal as {others} (best score {best[r]:.2f}: "
            f"{', '.join(sorted(codes[r]))})"))
    return tuple(groups), found
