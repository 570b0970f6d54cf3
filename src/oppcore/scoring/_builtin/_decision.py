"""The decision-cycle rule: when the customer decides, and whether we reach who signs."""

from typing import Any, ClassVar, Final

import attrs

from oppcore._checks import in_bounds
from oppcore.scoring._rule import Finding, Reason, RuleResult, ScoringContext, Subject

from ._common import (
    DAYS,
    EFFECT,
    SHARE,
    bounds_check,
    fixed_reasons,
    ids_check,
    keep,
    num,
    raise_problems,
    reason,
    result,
    unknown,
)

__all__ = ["DecisionCycleRule"]

# Two different unknowns, two constants: no process information at all, and a process
# recorded without a single fact in it.
_NO_PROCESS: Final = unknown("decision_unknown", "no decision process information")
_NO_FACTS: Final = unknown("decision_unknown",
                           "no decision date, cycle or decision maker information")


@attrs.frozen(kw_only=True)
class DecisionCycleRule:
    """The decision process: when the customer decides, and whether we reach who signs.

    Timing: days until the expected decision date (or, without one, the customer's typical
    cycle length) scores 1.0 at 0 days, 0.5 at ``norm_days`` and 0.0 at twice that; an
    expected decision already past scores ``overdue_score``. It pushes the sub-score by
    ``timing_weight * (score - 0.5)``. A decision maker identified / not identified, engaged /
    not engaged add their effects. Unknown when nothing about the decision is known.

    Promises: a sooner future decision never lowers the sub-score; identifying or engaging
    the decision maker never lowers it.

    Args:
        rule_id: Rule id (default ``"decision_cycle"``).
        dimension: Dimension (default ``"decision"``).
        norm_days: The normal cycle length in days (default 90).
        overdue_score: Timing score of a decision date already past (default 0.3).
        timing_weight: How far timing can push the sub-score (default 0.5, so +-0.25).
        identified_effect: Push when the decision maker is known (default +0.1).
        unidentified_effect: Push when they are known to be unknown (default -0.15).
        engaged_effect: Push when we engage them (default +0.15).
        not_engaged_effect: Push when we do not (default -0.05).
    """

    rule_type: ClassVar[str] = "decision_cycle"
    rule_id: str = "decision_cycle"
    dimension: str = "decision"
    norm_days: int = attrs.field(default=90, metadata=in_bounds(DAYS))
    overdue_score: float = attrs.field(default=0.3, converter=num,
                                    metadata=in_bounds(SHARE))
    timing_weight: float = attrs.field(default=0.5, converter=num,
                                    metadata=in_bounds(SHARE))
    identified_effect: float = attrs.field(default=0.1, converter=num,
                                        metadata=in_bounds(EFFECT))
    unidentified_effect: float = attrs.field(default=-0.15, converter=num,
                                          metadata=in_bounds(EFFECT))
    engaged_effect: float = attrs.field(default=0.15, converter=num,
                                     metadata=in_bounds(EFFECT))
    not_engaged_effect: float = attrs.field(default=-0.05, converter=num,
                                         metadata=in_bounds(EFFECT))
    _reasons: dict[str, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        ids_check(p, self)
        bounds_check(p, self)
        if not p and self.identified_effect < self.unidentified_effect:
            p.append(("identified_effect", "must be >= unidentified_effect"))
        if not p and self.engaged_effect < self.not_engaged_effect:
            p.append(("engaged_effect", "must be >= not_engaged_effect"))
        raise_problems(p, self)
        object.__setattr__(self, "_reasons", fixed_reasons((
            ("decision_maker_identified", "decision maker identified", self.identified_effect),
            ("decision_maker_unidentified", "decision maker not identified",
             self.unidentified_effect),
            ("decision_maker_engaged", "decision maker engaged", self.engaged_effect),
            ("decision_maker_not_engaged", "decision maker not engaged",
             self.not_engaged_effect),
        )))

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the decision process of ``subject`` as of ``context.today``."""
        return self.find(subject, context).as_result()

    def find(self, subject: Subject, context: ScoringContext) -> Finding:
        """Return :meth:`evaluate`'s judgement as a :class:`~oppcore.scoring.Finding` (fast).

        The documented fast method a :class:`~oppcore.Scorecard` calls instead of
        :meth:`evaluate` (see :class:`~oppcore.ScoringRule`).
        """
        d = subject.qualification.decision
        if d is None:
            return _NO_PROCESS
        reasons: list[Reason] = []
        known = 0
        days: int | None = None
        if d.expected_decision is not None:
            days = (d.expected_decision - context.today).days
            what = "expected decision"
        elif d.cycle_days is not None:
            days = d.cycle_days
            what = "customer's buying cycle"
        if days is not None:
            known += 1
            key = (days, what)
            r = self._memo.get(key)
            if r is None:
                if days < 0:
                    r = reason("decision_overdue", f"expected decision passed {-days} day(s) "
                                "ago", self.timing_weight * (self.overdue_score - 0.5))
                else:
                    score = max(0.0, 1.0 - days / (2 * self.norm_days))
                    code = "decision_soon" if days <= self.norm_days else "decision_slow"
                    message = (f"decision in {days} day(s)" if what == "expected decision"
                               else f"buying cycle of {days} day(s)")
                    r = reason(code, f"{message} (norm {self.norm_days})",
                                self.timing_weight * (score - 0.5))
                keep(self._memo, key, r)
            reasons.append(r)
        fixed = self._reasons
        if d.decision_maker_identified is not None:
            known += 1
            reasons.append(fixed["decision_maker_identified" if d.decision_maker_identified
                                 else "decision_maker_unidentified"])
        if d.decision_maker_engaged is not None:
            known += 1
            reasons.append(fixed["decision_maker_engaged" if d.decision_maker_engaged
                                 else "decision_maker_not_engaged"])
        if not known:
            return _NO_FACTS
        return result(reasons, known / 3)
