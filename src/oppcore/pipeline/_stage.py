"""Stages: kinds, forecast categories, guidance, follow-up rules, and the Stage value."""

import enum
import math
from collections.abc import Iterable
from typing import Any

import attrs

from oppcore._checks import COUNT, UNIT, Bounds, in_bounds
from oppcore._errors import UnknownStageError, ValidationError

from ._cadence import cadence_parts
from ._requirements import Requirement, requirement_problem

__all__ = ["FollowUp", "ForecastCategory", "Guidance", "Stage", "StageKind", "UnknownStageError"]


DAYS = Bounds(1, 36500, integer=True, kind=int)
"""A stale limit in whole days (up to a hundred years)."""


class StageKind(str, enum.Enum):
    """Whether a stage is still open, or closes the deal as won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class ForecastCategory(str, enum.Enum):
    """How deals in a stage count in a forecast."""

    PIPELINE = "pipeline"
    """Early: counted in the pipeline, not in the forecast."""
    BEST_CASE = "best_case"
    """Could close this period if things go well."""
    COMMIT = "commit"
    """The owner commits to closing it this period."""
    CLOSED = "closed"
    """Won."""
    OMITTED = "omitted"
    """Left out of the forecast (lost deals)."""


def _str_tuple(value: Any, field: str) -> tuple[str, ...]:
    """Return ``value`` as a tuple (one string counts as one item)."""
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError as exc:
        raise ValidationError(f"must be a string or a sequence of strings, got "
                              f"{type(value).__name__}", model="Guidance", field=field,
                              value=value) from exc


# Named converters, one per field (the attrs mypy plugin reads named functions only).
def _actions(value: Any) -> tuple[str, ...]:
    return _str_tuple(value, "actions")


def _documents(value: Any) -> tuple[str, ...]:
    return _str_tuple(value, "documents")


def _key_fields(value: Any) -> tuple[str, ...]:
    return _str_tuple(value, "key_fields")


def _check_strings(inst: Any, name: str, values: tuple[Any, ...]) -> None:
    for v in values:
        if type(v) is not str or not v.strip():
            raise ValidationError(f"items must be non-empty strings, got {v!r}",
                                  model=type(inst).__name__, field=name, value=v)


@attrs.frozen(kw_only=True)
class Guidance:
    """The sales manual's advice for a stage.

    Args:
        summary: What the stage is about and what to achieve, in a sentence or two.
        actions: What to do in the stage.
        documents: Which documents to prepare (proposal, quote, contract...).
        key_fields: The deal fields to fill in while in the stage (advice shown to people;
            entry requirements are what a move checks).

    Raises:
        ValidationError: If ``summary`` is not a string or an item of the lists is not a
            non-empty string.
    """

    summary: str = ""
    actions: tuple[str, ...] = attrs.field(default=(), converter=_actions)
    documents: tuple[str, ...] = attrs.field(default=(), converter=_documents)
    key_fields: tuple[str, ...] = attrs.field(default=(), converter=_key_fields)

    def __attrs_post_init__(self) -> None:
        if type(self.summary) is not str:
            raise ValidationError("must be a string", model="Guidance", field="summary",
                                  value=self.summary)
        for name in ("actions", "documents", "key_fields"):
            _check_strings(self, name, getattr(self, name))

    def __bool__(self) -> bool:
        return bool(self.summary or self.actions or self.documents or self.key_fields)


@attrs.frozen(kw_only=True)
class FollowUp:
    """When a deal in a stage needs attention.

    Args:
        max_days: Days in the stage after which the deal counts as stale ("rotting"), a
            whole number in 1..36500; ``None`` for no limit.
        cadence: How often to follow up, e.g. ``"every 7 days"``, ``"every 2 weeks"``,
            ``"monthly"``; ``None`` for no cadence.
        business_days: Count weekdays only (Saturday and Sunday excluded) for ``max_days``
            and for day-based cadences; other cadences landing on a weekend move to Monday.

    Raises:
        ValidationError: If ``max_days`` is not a whole number in 1..36500, the cadence
            cannot be read or ``business_days`` is not a bool.
    """

    max_days: int | None = attrs.field(default=None, metadata=in_bounds(DAYS))
    cadence: str | None = None
    business_days: bool = False
    _parts: tuple[int, str] | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.max_days is not None and (type(self.max_days) is not int
                                          or not 1 <= self.max_days <= 36500):
            raise ValidationError(f"must be a whole number of days in 1..36500, got "
                                  f"{self.max_days!r}", model="FollowUp", field="max_days",
                                  value=self.max_days)
        if type(self.business_days) is not bool:
            raise ValidationError("must be True or False", model="FollowUp",
                                  field="business_days", value=self.business_days)
        parts = None
        if self.cadence is not None:
            try:
                parts = cadence_parts(self.cadence)
            except ValueError as exc:
                raise ValidationError(str(exc), model="FollowUp", field="cadence",
                                      value=self.cadence) from exc
        object.__setattr__(self, "_parts", parts)

    @property
    def cadence_parts(self) -> tuple[int, str] | None:
        """The parsed cadence as ``(count, unit)``, or ``None`` without a cadence."""
        return self._parts


def _requirements(value: Iterable[Requirement]) -> tuple[Requirement, ...]:
    if isinstance(value, tuple):
        return value
    try:
        return tuple(value)
    except TypeError as exc:
        raise ValidationError(f"must be a sequence of requirements, got "
                              f"{type(value).__name__}", model="Stage", field="requirements",
                              value=value) from exc


def _probability(value: Any) -> Any:
    return float(value) if type(value) is int else value


@attrs.frozen(kw_only=True)
class Stage:
    """One step of a sales process.

    Args:
        id: Stable identifier, used in history and by code (never shown to users).
        label: Display name.
        kind: Open, won or lost.
        probability: Default win probability of deals in the stage, in [0, 1]. A
            :class:`Pipeline` requires 1 for won stages and 0 for lost stages.
        forecast_category: How deals in the stage count in a forecast. A
            :class:`Pipeline` requires ``CLOSED`` for won stages (and only for them) and
            ``OMITTED`` for lost stages.
        order: Position in the pipeline (0-based; set by :class:`Pipeline` loaders).
        guidance: The sales manual's advice for the stage.
        requirements: Entry requirements, all checked on every move into the stage: the
            built-in kinds or any object implementing :class:`~oppcore.Requirement`.
        follow_up: Stale threshold and follow-up cadence, or ``None``.

    Raises:
        ValidationError: If a field has the wrong type or is out of range, or a
            requirement cannot evaluate itself.
    """

    id: str
    label: str
    kind: StageKind = StageKind.OPEN
    probability: float = attrs.field(default=0.0, converter=_probability,
                                     metadata=in_bounds(UNIT))
    forecast_category: ForecastCategory = ForecastCategory.PIPELINE
    order: int = attrs.field(default=0, metadata=in_bounds(COUNT))
    guidance: Guidance = Guidance()
    requirements: tuple[Requirement, ...] = attrs.field(default=(), converter=_requirements)
    follow_up: FollowUp | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("id", "label"):
            value = getattr(self, name)
            if type(value) is not str or not value.strip():
                raise ValidationError(f"must be a non-empty string, got {value!r}",
                                      model="Stage", field=name, value=value)
        checks: tuple[tuple[str, type], ...] = (
            ("kind", StageKind), ("forecast_category", ForecastCategory),
            ("guidance", Guidance))
        for name, cls in checks:
            if not isinstance(getattr(self, name), cls):
                raise ValidationError(f"must be a {cls.__name__}", model="Stage", field=name,
                                      value=getattr(self, name))
        p = self.probability
        if type(p) is not float or math.isnan(p) or not 0.0 <= p <= 1.0:
            raise ValidationError(f"must be a number in [0, 1], got {p!r}", model="Stage",
                                  field="probability", value=p)
        if type(self.order) is not int or self.order < 0:
            raise ValidationError(f"must be an integer >= 0, got {self.order!r}",
                                  model="Stage", field="order", value=self.order)
        if self.follow_up is not None and not isinstance(self.follow_up, FollowUp):
            raise ValidationError("must be a FollowUp or None", model="Stage",
                                  field="follow_up", value=self.follow_up)
        for j, req in enumerate(self.requirements):
            # Refused here, not at the first move: a requirement that cannot evaluate
            # itself would otherwise let every deal through.
            problem = requirement_problem(req)
            if problem is not None:
                raise ValidationError(f"item {j} is {problem}", model="Stage",
                                      field="requirements", value=req)

    @property
    def is_open(self) -> bool:
        """Whether deals in the stage are still open."""
        return self.kind is StageKind.OPEN

    @property
    def is_closed(self) -> bool:
        """Whether the stage closes a deal (won or lost)."""
        return self.kind is not StageKind.OPEN
