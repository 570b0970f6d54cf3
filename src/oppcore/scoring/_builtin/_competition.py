"""The competition rule: how many competitors, an incumbent, and our position."""

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs

from oppcore._checks import in_bounds
from oppcore._frozenmap import FrozenMap
from oppcore._qualification import CompetitivePosition
from oppcore.scoring._rule import Finding, Reason, RuleResult, ScoringContext, Subject

from ._common import (
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

__all__ = ["CompetitionRule"]

_POSITIONS: Final = tuple(p.value for p in CompetitivePosition)
_POSITION_ORDER: Final = ("trailing", "unknown", "even", "leading")
_POSITION_DEFAULTS: Final = {"leading": 0.8, "even": 0.5, "unknown": 0.4, "trailing": 0.2}
_UNKNOWN_POSITION: Final = CompetitivePosition.UNKNOWN
_UNKNOWN: Final = unknown("competition_unknown", "competition not assessed")


def _position_scores(v: Any) -> Any:
    return merged(v, _POSITION_DEFAULTS)


@attrs.frozen(kw_only=True)
class CompetitionRule:
    """Competition: how many competitors, whether an incumbent is in, and our position.

    With no competitors the sub-score is ``no_competitor_score``. Otherwise it starts from
    our position against the *strongest* competitor (``position_scores``, the lowest of our
    positions), loses ``per_extra_competitor`` for each competitor beyond the first (at most
    ``max_count_penalty``) and ``incumbent_penalty`` when an incumbent is in the deal.
    Unknown when the competition was not assessed.

    Promises: adding a competitor never raises the sub-score; improving our position against
    any competitor never lowers it; an incumbent never raises it.

    Args:
        rule_id: Rule id (default ``"competition"``).
        dimension: Dimension (default ``"competition"``).
        no_competitor_score: Sub-score with no competitor (default 0.9).
        position_scores: Score per position; defaults ``leading`` 0.8, ``even`` 0.5,
            ``unknown`` 0.4, ``trailing`` 0.2. Must not decrease from trailing through unknown
            and even to leading, nor exceed ``no_competitor_score``.
        per_extra_competitor: Cost of each competitor beyond the first (default 0.05).
        max_count_penalty: Most the number of competitors can cost (default 0.2).
        incumbent_penalty: Cost of an incumbent in the deal (default 0.15).
    """

    rule_type: ClassVar[str] = "competition"
    rule_id: str = "competition"
    dimension: str = "competition"
    no_competitor_score: float = attrs.field(default=0.9, converter=num,
                                          metadata=in_bounds(SHARE))
    position_scores: Mapping[str, float] = attrs.field(
        default=FrozenMap(_POSITION_DEFAULTS), converter=_position_scores)
    per_extra_competitor: float = attrs.field(default=0.05, converter=num,
                                           metadata=in_bounds(SHARE))
    max_count_penalty: float = attrs.field(default=0.2, converter=num,
                                        metadata=in_bounds(SHARE))
    incumbent_penalty: float = attrs.field(default=0.15, converter=num,
                                        metadata=in_bounds(SHARE))
    _by_position: dict[CompetitivePosition, float] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        ids_check(p, self)
        bounds_check(p, self)
        table_check(p, "position_scores", self.position_scores, _POSITIONS)
        if not p:
            s = [self.position_scores[k] for k in _POSITION_ORDER]
            if any(a > b for a, b in itertools.pairwise(s)):
                p.append(("position_scores", ("must not decrease from trailing, unknown, even "
                          "to leading")))
            if s[-1] > self.no_competitor_score:
                p.append(("position_scores.leading", "must not exceed no_competitor_score"))
        raise_problems(p, self)
        # Looked up by member on the hot path (an enum's .value is a slow property).
        self._by_position.update((m, self.position_scores[m.value]) for m in CompetitivePosition)

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the competitive situation of ``subject``."""
        return self.find(subject, context).as_result()

    def find(self, subject: Subject, context: ScoringContext) -> Finding:
        """Return :meth:`evaluate`'s judgement as a :class:`~oppcore.scoring.Finding` (fast).

        The documented fast method a :class:`~oppcore.Scorecard` calls instead of
        :meth:`evaluate` (see :class:`~oppcore.ScoringRule`).
        """
        c = subject.qualification.competition
        if c is None:
            return _UNKNOWN
        competitors = c.competitors
        memo = self._memo
        if not competitors:
            r = memo.get("none")
            if r is None:
                r = keep(memo, "none", reason("no_competition", "no competitor in the deal",
                                                self.no_competitor_score - 0.5))
            return result([r], 1.0)
        # One pass: our weakest position (the first, if several tie), the first incumbent,
        # and how many positions are known.
        by_position = self._by_position
        worst = competitors[0]
        score = by_position[worst.position]
        incumbent = None
        known = 0
        for x in competitors:
            position = x.position
            s = by_position[position]
            if s < score:
                worst, score = x, s
            if x.incumbent and incumbent is None:
                incumbent = x
            if position is not _UNKNOWN_POSITION:
                known += 1
        key: tuple[Any, ...] = ("position", worst.position, worst.name)
        r = memo.get(key)
        if r is None:
            value = worst.position.value
            r = keep(memo, key, reason(f"position_{value}", f"our position against "
                                         f"{worst.name}: {value}", score - 0.5))
        reasons = [r]
        extra = len(competitors) - 1
        if extra:
            key = ("count", extra)
            r = memo.get(key)
            if r is None:
                r = keep(memo, key, reason(
                    "many_competitors", f"{len(competitors)} competitors",
                    -min(extra * self.per_extra_competitor, self.max_count_penalty)))
            reasons.append(r)
        if incumbent is not None:
            key = ("incumbent", incumbent.name)
            r = memo.get(key)
            if r is None:
                r = keep(memo, key, reason("incumbent", f"incumbent {incumbent.name} is in "
                                             "the deal", -self.incumbent_penalty))
            reasons.append(r)
        return result(reasons, 0.5 + 0.5 * known / len(competitors))
