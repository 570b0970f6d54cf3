"""Entry requirements as data: the built-in kinds and the violations they produce.

Each kind is a frozen value that says what must hold before a deal may enter a stage and
evaluates itself (the :class:`Requirement` protocol). Evaluating one never runs anything
from a configuration file: the only code that runs is oppcore's own, the host's own
requirement classes, and guards the host registered by name in Python
(:class:`GuardRegistry`).
"""

import inspect
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from oppcore._checks import Bounds, in_bounds
from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._qualification import PARTS
from oppcore._records import ActivityKind, QuoteStatus

from ._contract import Requirement, Violation
from ._fields import FIELD_NAMES, SIZED, field_problem, is_missing, read_path
from ._guards import Guard, GuardRegistry

if TYPE_CHECKING:
    from ._stage import Stage

__all__ = [
    "BUILTIN_REQUIREMENTS",
    "FIELD_NAMES",
    "Guard",
    "GuardRegistry",
    "RequireActivity",
    "RequireFields",
    "RequireGuard",
    "RequireLostReason",
    "RequireQualification",
    "RequireQuote",
    "Requirement",
    "Violation",
    "field_problem",
    "requirement_problem",
]


def _names(value: Any, model: str, field: str) -> tuple[Any, ...]:
    """Return ``value`` as a tuple of items (one string counts as one item)."""
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError as exc:
        raise ValidationError(f"must be a string or a sequence of strings, got "
                              f"{type(value).__name__}", model=model, field=field,
                              value=value) from exc


# Named converters, one per field (the attrs mypy plugin reads named functions only).
def _field_names(value: Any) -> tuple[str, ...]:
    return _names(value, "RequireFields", "fields")


def _part_names(value: Any) -> tuple[str, ...]:
    return _names(value, "RequireQualification", "parts")


def _reason_names(value: Any) -> tuple[str, ...]:
    return _names(value, "RequireLostReason", "reasons")


def _enum(cls: Any, model: str, field: str, value: Any) -> Any:
    try:
        return cls(value)
    except (ValueError, TypeError) as exc:
        known = ", ".join(repr(m.value) for m in cls)
        raise ValidationError(f"unknown value {value!r} (expected one of: {known})",
                              model=model, field=field, value=value) from exc


@attrs.frozen(kw_only=True)
class RequireFields:
    """Deal fields that must be filled in (not ``None``, not empty).

    Args:
        fields: Field names of :class:`~oppcore.Opportunity` (``"amount"``,
            ``"expected_close"``...), ``custom.<key>`` or ``account.<field>``.

    Raises:
        ValidationError: If a name is not one of those.
    """

    requirement_type: ClassVar[str] = "fields"
    """This kind's ``type`` in a pipeline configuration."""

    fields: tuple[str, ...] = attrs.field(converter=_field_names)

    def __attrs_post_init__(self) -> None:
        for path in self.fields:
            problem = field_problem(path)
            if problem:
                raise ValidationError(problem, model="RequireFields", field="fields",
                                      value=path)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return a ``missing_field`` violation per empty field (see :class:`Requirement`)."""
        found: list[Violation] | None = None
        for path in self.fields:
            value = getattr(opp, path) if "." not in path else read_path(opp, path)
            if value is None or (type(value) in SIZED and is_missing(value)):
                if found is None:
                    found = []
                found.append(Violation(code="missing_field", stage_id=stage.id, field=path,
                                       requirement=self, overridable=True,
                                       message=f"fill in {path} before moving to "
                                       f"{stage.label!r}"))
        return () if found is None else found


@attrs.frozen(kw_only=True)
class RequireQualification:
    """Parts of the qualification (the four evaluation criteria) that must be known.

    Args:
        parts: Any of ``"urgency"``, ``"budget"``, ``"decision"``, ``"competition"``.
        budget_confirmed: Also require the budget to be confirmed (``True`` or ``False``).

    Raises:
        ValidationError: For an unknown part or a ``budget_confirmed`` that is not a bool.
    """

    requirement_type: ClassVar[str] = "qualification"
    """This kind's ``type`` in a pipeline configuration."""

    parts: tuple[str, ...] = attrs.field(converter=_part_names)
    budget_confirmed: bool = False

    def __attrs_post_init__(self) -> None:
        for part in self.parts:
            if part not in PARTS:
                raise ValidationError(f"unknown qualification part {part!r} (known: "
                                      f"{', '.join(PARTS)})", model="RequireQualification",
                                      field="parts", value=part)
        if type(self.budget_confirmed) is not bool:
            raise ValidationError("must be True or False", model="RequireQualification",
                                  field="budget_confirmed", value=self.budget_confirmed)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return ``missing_qualification`` per unknown part and ``budget_not_confirmed``."""
        qual = opp.qualification
        found = [Violation(code="missing_qualification", stage_id=stage.id,
                           field=f"qualification.{part}", requirement=self, overridable=True,
                           message=f"find out the customer's {part} before moving to "
                           f"{stage.label!r}")
                 for part in self.parts if getattr(qual, part) is None]
        if self.budget_confirmed and not (qual.budget is not None and qual.budget.confirmed):
            found.append(Violation(code="budget_not_confirmed", stage_id=stage.id,
                                   field="qualification.budget", requirement=self,
                                   overridable=True, message=f"get the budget confirmed "
                                   f"before moving to {stage.label!r}"))
        return found or ()


def _activity_kind(value: Any) -> ActivityKind:
    result: ActivityKind = _enum(ActivityKind, "RequireActivity", "kind", value)
    return result


@attrs.frozen(kw_only=True)
class RequireActivity:
    """A number of logged activities of one kind (a needs analysis, a demo...).

    Args:
        kind: The activity kind.
        min_count: How many are needed (an integer in 1..1000).

    Raises:
        ValidationError: For an unknown kind or a count out of range.
    """

    requirement_type: ClassVar[str] = "activity"
    """This kind's ``type`` in a pipeline configuration."""

    kind: ActivityKind = attrs.field(converter=_activity_kind)
    min_count: int = attrs.field(default=1, metadata=in_bounds(Bounds(1, 1000, integer=True,
                                                                       kind=int)))

    def __attrs_post_init__(self) -> None:
        if type(self.min_count) is not int or not 1 <= self.min_count <= 1000:
            raise ValidationError(f"must be an integer in 1..1000, got {self.min_count!r}",
                                  model="RequireActivity", field="min_count",
                                  value=self.min_count)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return ``missing_activity`` when too few activities of the kind are logged."""
        kind = self.kind
        count = sum(1 for a in opp.activities if a.kind is kind)
        if count >= self.min_count:
            return ()
        need = "a" if self.min_count == 1 else str(self.min_count)
        return (Violation(code="missing_activity", stage_id=stage.id, field="activities",
                          requirement=self, overridable=True,
                          message=f"log {need} {kind.value.replace('_', ' ')} activity "
                          f"(found {count}) before moving to {stage.label!r}"),)


def _statuses(value: Any) -> tuple[QuoteStatus, ...]:
    if isinstance(value, (str, QuoteStatus)):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError as exc:
        raise ValidationError(f"must be a quote status or a sequence of them, got "
                              f"{type(value).__name__}", model="RequireQuote",
                              field="statuses", value=value) from exc
    return tuple(_enum(QuoteStatus, "RequireQuote", "statuses", v) for v in items)


@attrs.frozen(kw_only=True)
class RequireQuote:
    """At least one quote in one of the given statuses.

    Args:
        statuses: Accepted statuses (default: sent or accepted); at least one.

    Raises:
        ValidationError: For an unknown status or an empty list.
    """

    requirement_type: ClassVar[str] = "quote"
    """This kind's ``type`` in a pipeline configuration."""

    statuses: tuple[QuoteStatus, ...] = attrs.field(
        default=(QuoteStatus.SENT, QuoteStatus.ACCEPTED), converter=_statuses)

    def __attrs_post_init__(self) -> None:
        if not self.statuses:
            raise ValidationError("name at least one quote status", model="RequireQuote",
                                  field="statuses", value=self.statuses)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return ``missing_quote`` when no quote is in an accepted status."""
        statuses = self.statuses
        if any(q.status in statuses for q in opp.quotes):
            return ()
        wanted = " or ".join(s.value for s in statuses)
        return (Violation(code="missing_quote", stage_id=stage.id, field="quotes",
                          requirement=self, overridable=True,
                          message=f"a quote must be {wanted} before moving to "
                          f"{stage.label!r}"),)


@attrs.frozen(kw_only=True)
class RequireLostReason:
    """A lost reason, from a fixed list when one is given (for lost stages).

    Args:
        reasons: The accepted reasons (non-empty strings); empty accepts any non-blank
            reason.

    Raises:
        ValidationError: If a reason is not a non-empty string.
    """

    requirement_type: ClassVar[str] = "lost_reason"
    """This kind's ``type`` in a pipeline configuration."""

    reasons: tuple[str, ...] = attrs.field(default=(), converter=_reason_names)

    def __attrs_post_init__(self) -> None:
        for item in self.reasons:
            if type(item) is not str or not item.strip():
                raise ValidationError(f"reasons must be non-empty strings, got {item!r}",
                                      model="RequireLostReason", field="reasons",
                                      value=item)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Return ``missing_lost_reason`` or ``invalid_lost_reason`` when it applies.

        The reason is the one given for the move, else the deal's ``lost_reason``.
        """
        given = reason if reason is not None else opp.lost_reason
        if given is None or not given.strip():
            listed = f" (one of: {', '.join(self.reasons)})" if self.reasons else ""
            return (Violation(code="missing_lost_reason", stage_id=stage.id,
                              field="lost_reason", requirement=self, overridable=True,
                              message=f"give a lost reason{listed}"),)
        if self.reasons and given not in self.reasons:
            return (Violation(code="invalid_lost_reason", stage_id=stage.id,
                              field="lost_reason", requirement=self, overridable=True,
                              message=f"lost reason {given!r} is not one of: "
                              f"{', '.join(self.reasons)}"),)
        return ()


@attrs.frozen(kw_only=True)
class RequireGuard:
    """A custom guard, registered by name in a :class:`GuardRegistry`.

    Args:
        name: The registered guard's name (a non-empty string).

    Raises:
        ValidationError: If ``name`` is not a non-empty string.
    """

    requirement_type: ClassVar[str] = "guard"
    """This kind's ``type`` in a pipeline configuration."""

    name: str

    def __attrs_post_init__(self) -> None:
        if type(self.name) is not str or not self.name.strip():
            raise ValidationError(f"must be a non-empty string, got {self.name!r}",
                                  model="RequireGuard", field="name", value=self.name)

    def violations(self, opp: Opportunity, stage: "Stage", *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        """Call the guard registered under ``name``; ``guard_failed`` if it refuses.

        A guard answers ``None`` (or ``True``) to allow, a message (or ``False``) to
        refuse. A name missing from ``guards`` refuses too (pipelines refuse such names
        when built, so this only happens when the method is called directly).
        """
        guard = guards.get(self.name)
        outcome: object = (f"guard {self.name!r} is not registered with this pipeline"
                           if guard is None else guard(opp, stage, at))
        if outcome is None or outcome is True:
            return ()
        message = (outcome if isinstance(outcome, str) and outcome.strip()
                   else f"guard {self.name!r} refused the move to {stage.label!r}")
        return (Violation(code="guard_failed", stage_id=stage.id, requirement=self,
                          overridable=True, message=message),)


BUILTIN_REQUIREMENTS: Final[Mapping[str, type[Requirement]]] = FrozenMap(
    (cls.requirement_type, cls) for cls in (RequireFields, RequireQualification,
                                            RequireActivity, RequireQuote,
                                            RequireLostReason, RequireGuard))
"""The built-in requirement kinds by their configuration ``type``."""

_BUILTIN_TYPES: Final = frozenset(BUILTIN_REQUIREMENTS.values())


def requirement_problem(req: object) -> str | None:
    """Return why ``req`` cannot be an entry requirement, or ``None`` if it can.

    A requirement needs a callable ``violations`` that accepts ``(opp, stage, *, at=...,
    reason=..., guards=...)``; the built-in kinds always do.
    """
    if type(req) in _BUILTIN_TYPES:
        return None
    method = getattr(req, "violations", None)
    name = type(req).__qualname__
    if not callable(method):
        return (f"not a requirement: {name} has no violations(opp, stage, *, at, reason, "
                f"guards) method")
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):  # no signature to read (a C callable): trust it
        return None
    try:
        signature.bind(None, None, at=None, reason=None, guards=None)
    except TypeError as exc:
        return (f"not a requirement: {name}.violations{signature} cannot be called as "
                f"violations(opp, stage, *, at, reason, guards) ({exc})")
    return None
