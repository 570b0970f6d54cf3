"""What a needs analysis captures about a deal: the four evaluation criteria.

Each part is optional and ``None`` means *unknown*, which is different from a negative
answer: ``Competition(competitors=())`` says "we know there are no competitors", while
``competition=None`` says "nobody asked yet". Scoring treats unknown as missing data, not
as zero.
"""

import enum
from datetime import date
from typing import Any, ClassVar, Final

import attrs

from ._check_table import Checks
from ._checks import COUNT, in_bounds
from ._copying import evolve
from ._money import Money

__all__ = [
    "UNKNOWN_QUALIFICATION",
    "Budget",
    "Competition",
    "CompetitivePosition",
    "Competitor",
    "DecisionProcess",
    "Qualification",
    "Urgency",
    "UrgencyLevel",
]

_NONE = type(None)


class UrgencyLevel(str, enum.Enum):
    """How pressing the customer says their need is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CompetitivePosition(str, enum.Enum):
    """Our standing against one competitor, as the account team judges it."""

    LEADING = "leading"
    """We are ahead of this competitor."""
    EVEN = "even"
    """Neither side is clearly ahead."""
    TRAILING = "trailing"
    """This competitor is ahead of us."""
    UNKNOWN = "unknown"
    """Not assessed."""


_URGENCY = Checks(optional_date=("deadline",), optional_text=("reason",),
                  instances=(("level", (UrgencyLevel, _NONE)),))


@attrs.frozen(kw_only=True)
class Urgency:
    """Urgency of the customer's need.

    Args:
        level: The stated urgency, or ``None`` if not stated.
        deadline: A date by which the customer must have a solution (go-live, budget year end).
        reason: Why it is urgent, in the customer's words.
    """

    level: UrgencyLevel | None = None
    deadline: date | None = None
    reason: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _URGENCY

    def __attrs_post_init__(self) -> None:
        _URGENCY.run(self)


_BUDGET = Checks(money=("amount",), bools=("confirmed",), optional_text=("note",))


@attrs.frozen(kw_only=True)
class Budget:
    """The customer's budget for this purchase.

    Args:
        amount: The budget, or ``None`` when the customer has not named one.
        confirmed: Whether the budget is approved (not merely estimated).
        note: Free text (source of the figure, fiscal year...).
    """

    amount: Money | None = None
    confirmed: bool = False
    note: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _BUDGET

    def __attrs_post_init__(self) -> None:
        _BUDGET.run(self)


_DECISION = Checks(
    optional_date=("expected_decision",),
    optional_counts=("cycle_days",),
    bools=("decision_maker_identified", "decision_maker_engaged"),
    optional=frozenset({"decision_maker_identified", "decision_maker_engaged"}),
)


@attrs.frozen(kw_only=True)
class DecisionProcess:
    """How and when the customer decides.

    Args:
        expected_decision: When the decision is expected.
        cycle_days: Typical length of the customer's buying cycle, in days.
        decision_maker_identified: Whether we know who signs (``None``: not assessed).
        decision_maker_engaged: Whether we have met / talked to that person.
    """

    expected_decision: date | None = None
    cycle_days: int | None = attrs.field(metadata=in_bounds(COUNT), default=None)
    decision_maker_identified: bool | None = None
    decision_maker_engaged: bool | None = None

    __oppcore_checks__: ClassVar[Checks] = _DECISION

    def __attrs_post_init__(self) -> None:
        _DECISION.run(self)


_COMPETITOR = Checks(text=("name",), instances=(("position", (CompetitivePosition,)),),
                     bools=("incumbent",), optional_text=("note",))


@attrs.frozen(kw_only=True)
class Competitor:
    """One competitor in the deal.

    Args:
        name: The competitor's name.
        position: Our position against them.
        incumbent: Whether they are the customer's current supplier.
        note: Free text (their offer, their price...).
    """

    name: str
    position: CompetitivePosition = CompetitivePosition.UNKNOWN
    incumbent: bool = False
    note: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _COMPETITOR

    def __attrs_post_init__(self) -> None:
        _COMPETITOR.run(self)


_COMPETITION = Checks(tuples=(("competitors", (Competitor,)),))


@attrs.frozen(kw_only=True)
class Competition:
    """The competitive situation; an empty tuple means "known: no competitors"."""

    competitors: tuple[Competitor, ...] = ()

    __oppcore_checks__: ClassVar[Checks] = _COMPETITION

    def __attrs_post_init__(self) -> None:
        _COMPETITION.run(self)

    @property
    def incumbent(self) -> Competitor | None:
        """The incumbent competitor, if one is in the deal."""
        return next((c for c in self.competitors if c.incumbent), None)


_QUALIFICATION = Checks(instances=(
    ("urgency", (Urgency, _NONE)),
    ("budget", (Budget, _NONE)),
    ("decision", (DecisionProcess, _NONE)),
    ("competition", (Competition, _NONE)),
))

PARTS: Final = ("urgency", "budget", "decision", "competition")


@attrs.frozen(kw_only=True)
class Qualification:
    """The four evaluation criteria of a deal; every part may be unknown (``None``).

    Args:
        urgency: Urgency of the customer's need.
        budget: The customer's budget.
        decision: The decision process (date or cycle length, decision maker).
        competition: Competitors and our position against them.
    """

    __oppcore_checks__: ClassVar[Checks] = _QUALIFICATION

    urgency: Urgency | None = None
    budget: Budget | None = None
    decision: DecisionProcess | None = None
    competition: Competition | None = None

    def __attrs_post_init__(self) -> None:
        _QUALIFICATION.run(self)

    def known_parts(self) -> tuple[str, ...]:
        """Names of the parts that are filled in (``"urgency"``, ``"budget"``...)."""
        return tuple(name for name in PARTS if getattr(self, name) is not None)

    def evolve(self, **changes: Any) -> "Qualification":
        """Return a copy with ``changes`` applied, validated again."""
        return evolve(self, changes)


UNKNOWN_QUALIFICATION: Final = Qualification()
"""A qualification with every part unknown (one shared value: values are immutable)."""
