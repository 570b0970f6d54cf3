"""The explained score of one record: contributions, factors, and exact points.

How a total is made is documented in :mod:`oppcore.scoring._scorecard`; this module holds the
values a scorecard returns and the two pure helpers it uses to make exact points.
"""

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from oppcore._checks import UNIT, Bounds, check_bounds, in_bounds
from oppcore._copying import builder_twin, register_builder

from ._rule import Reason

__all__ = ["Contribution", "ContributionStatus", "Factor", "MissingDataPolicy", "Score",
           "points", "share_rounding"]

WEIGHT: Final = Bounds(0.0, 1e12)
"""A rule's weight in a scorecard: a finite number >= 0 (only ratios matter)."""
POINTS: Final = Bounds(0, 100, kind=Decimal)
"""Points of a total: exact hundredths in [0, 100]."""

# Points values (0.00 to 100.00, by their number of hundredths), each made once: building
# a Decimal per contribution is a measurable share of scoring a record. Shared by every
# scorecard, and correct to share: a value depends on its key (the number of hundredths)
# alone. It is built from its digits (``Decimal((sign, digits, -2))``), which is exact and
# ignores the caller's decimal context, so no context can leave its rounding in the table.
# Bounded: at most 10,001 entries.
_POINTS: Final[dict[int, Decimal]] = {0: Decimal("0.00")}


def points(cents: int) -> Decimal:
    """Return ``cents`` hundredths as a Decimal with two places (``1234`` -> ``12.34``)."""
    value = _POINTS.get(cents)
    if value is None:
        value = Decimal((1 if cents < 0 else 0, tuple(map(int, str(abs(cents)))), -2))
        if 0 < cents <= 10_000:
            _POINTS[cents] = value
    return value


class MissingDataPolicy(str, enum.Enum):
    """What a scorecard does with a rule whose sub-score is unknown."""

    EXCLUDE = "exclude"
    """Leave it out and renormalise over the known weight; ``coverage`` reports the share."""
    VALUE = "value"
    """Count it as the scorecard's ``missing_value``."""


class ContributionStatus(str, enum.Enum):
    """How a rule's contribution came about."""

    SCORED = "scored"
    """The rule gave a sub-score."""
    UNKNOWN = "unknown"
    """The rule lacked data (its reasons say what is missing)."""
    FAILED = "failed"
    """The rule raised or returned something invalid (``error`` says what)."""


@attrs.frozen(kw_only=True)
class Contribution:
    """One rule's part in a score.

    Args:
        rule_id: The rule.
        dimension: The rule's dimension.
        weight: Its weight in the scorecard.
        status: Scored, unknown or failed.
        value: The sub-score in [0, 1], or ``None`` when unknown or failed.
        confidence: The rule's confidence in its value.
        points: Points given to the total (hundredths, exact).
        reasons: The rule's reasons.
        capped: Whether the dimension cap reduced the points.
        veto: Whether this rule vetoed the score.
        error: For a failed rule, what went wrong.
    """

    rule_id: str
    dimension: str
    weight: float = attrs.field(metadata=in_bounds(WEIGHT))
    status: ContributionStatus
    value: float | None = attrs.field(metadata=in_bounds(UNIT))
    confidence: float = attrs.field(metadata=in_bounds(UNIT))
    points: Decimal = attrs.field(metadata=in_bounds(POINTS))
    reasons: tuple[Reason, ...]
    capped: bool = False
    veto: bool = False
    error: str | None = None

    def __attrs_post_init__(self) -> None:
        # Built by hand, a contribution is checked; a scorecard builds its own unchecked
        # (oppcore._copying.trusted_values) from values it has just checked.
        check_bounds(self)


_new: Final = object.__new__
_ContributionTwin: Final = builder_twin(Contribution)


def _build_contribution(rule_id: str, dimension: str, weight: float,
                        status: ContributionStatus, value: float | None, confidence: float,
                        points: Decimal, reasons: tuple[Reason, ...], capped: bool, veto: bool,
                        error: str | None) -> Contribution:
    # The unchecked constructor (oppcore._copying.register_builder): every field, in order.
    self: Any = _new(_ContributionTwin)
    self.rule_id = rule_id
    self.dimension = dimension
    self.weight = weight
    self.status = status
    self.value = value
    self.confidence = confidence
    self.points = points
    self.reasons = reasons
    self.capped = capped
    self.veto = veto
    self.error = error
    self.__class__ = Contribution
    return self  # type: ignore[no-any-return]


register_builder(Contribution, _build_contribution)


@attrs.frozen(kw_only=True)
class Factor:
    """One reason, weighed: how many points it moved the total.

    Args:
        rule_id: The rule that gave the reason.
        code: The reason's code.
        message: The reason's message.
        points: The reason's effect in points of the total (signed).
    """

    rule_id: str
    code: str
    message: str
    points: float


@attrs.frozen(kw_only=True)
class Score:
    """The explained score of one record.

    Args:
        subject_id: Id of the opportunity or lead.
        scorecard: Name of the scorecard used.
        scored_at: The ``now`` it was scored at.
        total: 0-100, exactly the sum of the contributions' points.
        grade: Priority tier (``"A"`` ... ``"D"`` by default).
        contributions: One per rule, in scorecard order.
        coverage: Share of the total weight whose rules were known, in [0, 1].
        vetoed_by: Ids of the rules that vetoed (empty if none).
    """

    subject_id: str
    scorecard: str
    scored_at: datetime
    total: Decimal = attrs.field(metadata=in_bounds(POINTS))
    grade: str
    contributions: tuple[Contribution, ...]
    coverage: float = attrs.field(metadata=in_bounds(UNIT))
    vetoed_by: tuple[str, ...] = ()
    # The weight the points were spread over (the known weight, or every rule's under the
    # "value" policy); set when a scorecard builds the score, 0.0 when built by hand.
    _spread: float = attrs.field(init=False, eq=False, repr=False, default=0.0)

    def __attrs_post_init__(self) -> None:
        check_bounds(self)  # built by hand; a scorecard's own are built unchecked

    @property
    def failures(self) -> tuple[Contribution, ...]:
        """The contributions whose rule failed."""
        return tuple(c for c in self.contributions if c.status is ContributionStatus.FAILED)

    @property
    def complete(self) -> bool:
        """Whether every rule ran without failing (unknown data is not a failure)."""
        return all(c.status is not ContributionStatus.FAILED for c in self.contributions)

    @property
    def vetoed(self) -> bool:
        """Whether a rule vetoed the score."""
        return bool(self.vetoed_by)

    def contribution(self, rule_id: str) -> Contribution:
        """Return the contribution of ``rule_id``.

        Raises:
            KeyError: If the scorecard has no such rule.
        """
        for c in self.contributions:
            if c.rule_id == rule_id:
                return c
        raise KeyError(f"score of {self.subject_id!r} has no rule {rule_id!r}")

    def factors(self) -> tuple[Factor, ...]:
        """Every reason of the scored rules, weighed in points, largest effect first."""
        out: list[Factor] = []
        for c in self.contributions:
            if c.status is not ContributionStatus.SCORED or c.value is None:
                continue
            # The rule's points are its share times the sub-score; a reason moved the
            # sub-score by its effect, so it moved the points by share * effect.
            share = float(c.points) / c.value if c.value else self._share(c)
            out.extend(Factor(rule_id=c.rule_id, code=r.code, message=r.message,
                              points=round(share * r.effect, 2))
                       for r in c.reasons if r.effect)
        out.sort(key=lambda f: -abs(f.points))
        return tuple(out)

    def _share(self, c: Contribution) -> float:
        """Points a sub-score of 1 would have given ``c`` (used when its value is 0)."""
        if self.vetoed:
            return 0.0
        spread = self._spread or sum(x.weight for x in self.contributions
                                     if x.status is ContributionStatus.SCORED)
        return 100.0 * c.weight / spread if spread else 0.0

    def top_positive(self, n: int = 3) -> tuple[Factor, ...]:
        """The ``n`` reasons that raised the total most."""
        return tuple(f for f in self.factors() if f.points > 0)[:n]

    def top_negative(self, n: int = 3) -> tuple[Factor, ...]:
        """The ``n`` reasons that lowered the total most."""
        return tuple(f for f in self.factors() if f.points < 0)[:n]


_ScoreTwin: Final = builder_twin(Score)


def _build_score(subject_id: str, scorecard: str, scored_at: datetime, total: Decimal,
                 grade: str, contributions: tuple[Contribution, ...], coverage: float,
                 vetoed_by: tuple[str, ...], spread: float) -> Score:
    # The unchecked constructor (oppcore._copying.register_builder), as for Contribution.
    self: Any = _new(_ScoreTwin)
    self.subject_id = subject_id
    self.scorecard = scorecard
    self.scored_at = scored_at
    self.total = total
    self.grade = grade
    self.contributions = contributions
    self.coverage = coverage
    self.vetoed_by = vetoed_by
    self._spread = spread
    self.__class__ = Score
    return self  # type: ignore[no-any-return]


register_builder(Score, _build_score)


def share_rounding(raw: list[float], cents: list[int], total_c: int) -> None:
    """Adjust ``cents`` (``raw`` points rounded to hundredths) to sum to ``total_c``.

    Largest remainder: the missing hundredths go to the entries rounded down the most (a
    surplus is taken from those rounded up the most), so the total is exactly the sum of
    the contributions and each moves by at most 0.01.
    """
    diff = total_c - sum(cents)
    order = sorted(range(len(raw)), key=lambda i: raw[i] * 100 - cents[i], reverse=diff > 0)
    step = 1 if diff > 0 else -1
    for i in order[:abs(diff)]:
        cents[i] += step


