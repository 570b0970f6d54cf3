"""The urgency rule: stated level, customer deadline, expected close and its slips."""

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs

from oppcore._checks import in_bounds
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._qualification import UrgencyLevel
from oppcore.scoring._rule import Finding, Reason, RuleResult, ScoringContext, Subject

from ._common import (
    DAYS,
    SHARE,
    bounds_check,
    ids_check,
    keep,
    merged,
    num,
    raise_problems,
    reason,
    result,
    table_check,
    unknown,
)

__all__ = ["UrgencyRule"]

_LEVELS: Final = tuple(level.value for level in UrgencyLevel)
_LEVEL_DEFAULTS: Final = {"low": 0.2, "medium": 0.5, "high": 0.8, "critical": 1.0}
_UNKNOWN: Final = unknown("urgency_unknown",
                          "no urgency level, deadline or expected close date known")


def _level_scores(v: Any) -> Any:
    return merged(v, _LEVEL_DEFAULTS)


@attrs.frozen(kw_only=True)
class UrgencyRule:
    """Urgency of the customer's need.

    Three findings, each scored in [0, 1] and averaged by weight over those that are known:
    the stated urgency level (``level_scores``), a customer deadline (1.0 today, falling
    linearly to 0.0 at ``deadline_horizon_days`` away), and the days until the expected close
    (1.0 today, 0.0 at ``close_horizon_days``; a close date already past scores
    ``overdue_close_score``). Each time the expected close slipped later costs
    ``push_penalty``, at most ``max_push_penalty``. Unknown when none of this is known.

    Promises: a higher stated level never lowers the sub-score; a nearer future deadline or
    close date never lowers it; another slip never raises it.

    Args:
        rule_id: Rule id (default ``"urgency"``).
        dimension: Dimension (default ``"urgency"``).
        level_scores: Score per level; defaults ``low`` 0.2, ``medium`` 0.5, ``high`` 0.8,
            ``critical`` 1.0 (a partial table is merged over these).
        deadline_horizon_days: Days at which a deadline stops adding urgency (default 90).
        close_horizon_days: Days at which the expected close stops adding urgency (180).
        overdue_close_score: Score of an expected close date already past (default 0.3).
        level_weight: Weight of the stated level (default 0.5).
        deadline_weight: Weight of the deadline (default 0.3).
        close_weight: Weight of the expected close (default 0.2).
        push_penalty: Sub-score lost per slipped close date (default 0.1).
        max_push_penalty: Most that slips can cost (default 0.3).
    """

    rule_type: ClassVar[str] = "urgency"
    rule_id: str = "urgency"
    dimension: str = "urgency"
    level_scores: Mapping[str, float] = attrs.field(
        default=FrozenMap(_LEVEL_DEFAULTS), converter=_level_scores)
    deadline_horizon_days: int = attrs.field(default=90, metadata=in_bounds(DAYS))
    close_horizon_days: int = attrs.field(default=180, metadata=in_bounds(DAYS))
    overdue_close_score: float = attrs.field(default=0.3, converter=num,
                                          metadata=in_bounds(SHARE))
    level_weight: float = attrs.field(default=0.5, converter=num,
                                   metadata=in_bounds(SHARE))
    deadline_weight: float = attrs.field(default=0.3, converter=num,
                                      metadata=in_bounds(SHARE))
    close_weight: float = attrs.field(default=0.2, converter=num,
                                   metadata=in_bounds(SHARE))
    push_penalty: float = attrs.field(default=0.1, converter=num,
                                   metadata=in_bounds(SHARE))
    max_push_penalty: float = attrs.field(default=0.3, converter=num,
                                       metadata=in_bounds(SHARE))
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        ids_check(p, self)
        bounds_check(p, self)
        table: list[tuple[str, str]] = []
        table_check(table, "level_scores", self.level_scores, _LEVELS)
        p += table
        if isinstance(self.level_scores, Mapping) and not table:
            s = [self.level_scores[k] for k in _LEVELS]
            if any(a > b for a, b in itertools.pairwise(s)):
                p.append(("level_scores", "must not decrease from low to critical"))
        raise_problems(p, self)

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the urgency of ``subject`` as of ``context.today``."""
        return self.find(subject, context).as_result()

    def find(self, subject: Subject, context: ScoringContext) -> Finding:
        """Return :meth:`evaluate`'s judgement as a :class:`~oppcore.scoring.Finding` (fast).

        The documented fast method a :class:`~oppcore.Scorecard` calls instead of
        :meth:`evaluate` (see :class:`~oppcore.ScoringRule`).
        """
        u = subject.qualification.urgency
        level = deadline = close = None
        if u is not None:
            level = u.level
            deadline = u.deadline
        is_opp = type(subject) is Opportunity
        if is_opp:
            close = subject.expected_close  # type: ignore[union-attr]
        # The findings are averaged by weight over those that are known.
        known = total_w = 0.0
        if level is not None:
            known += 1
            total_w += self.level_weight
        if deadline is not None:
            known += 1
            total_w += self.deadline_weight
        if close is not None:
            known += 1
            total_w += self.close_weight
        if not known:
            return _UNKNOWN
        total_w = total_w or 1.0
        reasons = []
        today = context.today
        memo = self._memo
        if level is not None:
            key: tuple[Any, ...] = ("level", level, total_w)
            r = memo.get(key)
            if r is None:
                name = level.value
                r = keep(memo, key, reason(
                    f"urgency_{name}", f"customer states {name} urgency",
                    self.level_weight / total_w * (self.level_scores[name] - 0.5)))
            reasons.append(r)
        if deadline is not None:
            days = (deadline - today).days
            key = ("deadline", days, total_w)
            r = memo.get(key)
            if r is None:
                if days < 0:
                    r = reason("deadline_passed",
                                f"customer deadline passed {-days} day(s) ago", 0.0)
                else:
                    score = max(0.0, 1.0 - days / self.deadline_horizon_days)
                    r = reason("customer_deadline", f"customer deadline in {days} day(s)",
                                self.deadline_weight / total_w * (score - 0.5))
                keep(memo, key, r)
            reasons.append(r)
        if close is not None:
            days = (close - today).days
            key = ("close", days, total_w)
            r = memo.get(key)
            if r is None:
                w = self.close_weight / total_w
                if days < 0:
                    r = reason("close_overdue", f"expected close date passed {-days} day(s) "
                                "ago", w * (self.overdue_close_score - 0.5))
                else:
                    score = max(0.0, 1.0 - days / self.close_horizon_days)
                    r = reason("close_soon" if score >= 0.5 else "close_far",
                                f"expected close in {days} day(s)", w * (score - 0.5))
                keep(memo, key, r)
            reasons.append(r)
        if is_opp:
            pushes = subject.close_date_pushes  # type: ignore[union-attr]
            if pushes:
                cost = min(pushes * self.push_penalty, self.max_push_penalty)
                reasons.append(reason("close_slipped",
                                       f"expected close date slipped {pushes} time(s)", -cost))
        return result(reasons, known / 3)
