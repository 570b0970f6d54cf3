"""Entry requirements as data, the violations they produce, and named custom guards.

A requirement is a frozen value that says what must hold before a deal may enter a stage.
Evaluating it never runs anything from a configuration file: the only code that runs is
oppcore's own, plus guards the host registered by name in Python (:class:`GuardRegistry`).
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Account, Opportunity
from oppcore._qualification import PARTS
from oppcore._records import ActivityKind, QuoteStatus

if TYPE_CHECKING:
    from ._stage import Stage

__all__ = [
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
]


@attrs.frozen(kw_only=True)
class Violation:
    """One reason a move is refused.

    Args:
        code: Stable machine-readable code (``"missing_field"``, ``"skip_not_allowed"``...;
            the full list is in the reference).
        message: A sentence a salesperson can act on.
        stage_id: The stage the move was aimed at, when there is one.
        field: The deal field concerned, when there is one (``"amount"``).
        requirement: The entry requirement that is unmet (``None`` for policy violations).
        overridable: Whether a manager's override may bypass it (requirements: yes;
            illegal moves and structural problems: no).
    """

    code: str
    message: str
    stage_id: str | None = None
    field: str | None = None
    requirement: "Requirement | None" = None
    overridable: bool = False

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


Guard: TypeAlias = Callable[[Opportunity, "Stage", datetime], str | None]
"""A custom guard: given the deal, the target stage and the time of the move, return
``None`` to allow the move or a message saying why it is refused."""


def _empty_guards() -> FrozenMap[str, Guard]:
    return FrozenMap()


def _guard_map(value: Mapping[str, Guard]) -> FrozenMap[str, Guard]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@attrs.frozen(kw_only=True)
class GuardRegistry:
    """Custom guards by name, passed explicitly to the pipelines that use them.

    A registry is an immutable value: :meth:`with_guard` returns a new one. There is no
    global registry; a configuration file may only name guards of the registry given to
    the loader.

    Args:
        guards: Guard callables by name.

    Raises:
        ValidationError: If a name is not a non-empty string or a guard is not callable.

    Example:
        >>> def credit_ok(opp, stage, at):
        ...     return None if opp.custom.get("credit_checked") else "run the credit check"
        >>> registry = GuardRegistry(guards={"credit_ok": credit_ok})
    """

    guards: FrozenMap[str, Guard] = attrs.field(factory=_empty_guards, converter=_guard_map)

    def __attrs_post_init__(self) -> None:
        for name, fn in self.guards.items():
            if type(name) is not str or not name.strip():
                raise ValidationError(f"guard names must be non-empty strings, got {name!r}",
                                      model="GuardRegistry", field="guards", value=name)
            if not callable(fn):
                raise ValidationError(f"guard {name!r} is not callable",
                                      model="GuardRegistry", field="guards", value=fn)

    def with_guard(self, name: str, guard: Guard) -> "GuardRegistry":
        """Return a registry with ``guard`` registered (or replaced) under ``name``."""
        return GuardRegistry(guards={**self.guards, name: guard})

    def __contains__(self, name: object) -> bool:
        return name in self.guards

    def __iter__(self) -> Iterator[str]:
        return iter(self.guards)

    def __len__(self) -> int:
        return len(self.guards)

    def get(self, name: str) -> Guard | None:
        """Return the guard registered under ``name``, or ``None``."""
        return self.guards.get(name)


FIELD_NAMES: Final = frozenset({
    "amount", "expected_close", "account", "contacts", "owner", "source", "probability",
    "model_probability", "activities", "quotes", "tags", "external_key", "lead_id",
    "custom",
})
"""Deal fields a :class:`RequireFields` may name (plus ``custom.<key>`` and
``account.<field>``)."""

_ACCOUNT_FIELDS: Final = frozenset(a.name for a in attrs.fields(Account))


def field_problem(path: str) -> str | None:
    """Return why ``path`` cannot be a required field, or ``None`` if it can."""
    if type(path) is not str or not path.strip():
        return f"field names must be non-empty strings, got {path!r}"
    head, dot, rest = path.partition(".")
    if head not in FIELD_NAMES:
        return f"unknown deal field {path!r} (known: {', '.join(sorted(FIELD_NAMES))})"
    if dot:
        if head == "custom" and rest:
            return None
        if head == "account" and rest in _ACCOUNT_FIELDS:
            return None
        return f"cannot require {path!r}: only custom.<key> and account.<field> are nested"
    return None


_SIZED: Final = frozenset({str, tuple, frozenset, FrozenMap})


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, tuple, frozenset, Mapping)):
        return len(value) == 0 or (isinstance(value, str) and value.isspace())
    return False


def _read(opp: Opportunity, path: str) -> Any:
    head, _, rest = path.partition(".")
    value = getattr(opp, head)
    if not rest:
        return value
    if head == "custom":
        return value.get(rest)
    return None if value is None else getattr(value, rest)


def _names(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class RequireFields:
    """Deal fields that must be filled in (not ``None``, not empty).

    Args:
        fields: Field names of :class:`~oppcore.Opportunity` (``"amount"``,
            ``"expected_close"``...), ``custom.<key>`` or ``account.<field>``.
    """

    fields: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        for path in self.fields:
            problem = field_problem(path)
            if problem:
                raise ValidationError(problem, model="RequireFields", field="fields",
                                      value=path)


@attrs.frozen(kw_only=True)
class RequireQualification:
    """Parts of the qualification (the four evaluation criteria) that must be known.

    Args:
        parts: Any of ``"urgency"``, ``"budget"``, ``"decision"``, ``"competition"``.
        budget_confirmed: Also require the budget to be confirmed.
    """

    parts: tuple[str, ...] = attrs.field(converter=_names)
    budget_confirmed: bool = False

    def __attrs_post_init__(self) -> None:
        for part in self.parts:
            if part not in PARTS:
                raise ValidationError(f"unknown qualification part {part!r} (known: "
                                      f"{', '.join(PARTS)})", model="RequireQualification",
                                      field="parts", value=part)


@attrs.frozen(kw_only=True)
class RequireActivity:
    """A number of logged activities of one kind (a needs analysis, a demo...).

    Args:
        kind: The activity kind.
        min_count: How many are needed (>= 1).
    """

    kind: ActivityKind = attrs.field(converter=ActivityKind)
    min_count: int = 1

    def __attrs_post_init__(self) -> None:
        if type(self.min_count) is not int or not 1 <= self.min_count <= 1000:
            raise ValidationError(f"must be an integer in 1..1000, got {self.min_count!r}",
                                  model="RequireActivity", field="min_count",
                                  value=self.min_count)


def _statuses(value: Any) -> tuple[QuoteStatus, ...]:
    if isinstance(value, (str, QuoteStatus)):
        value = (value,)
    return tuple(QuoteStatus(v) for v in value)


@attrs.frozen(kw_only=True)
class RequireQuote:
    """At least one quote in one of the given statuses.

    Args:
        statuses: Accepted statuses (default: sent or accepted).
    """

    statuses: tuple[QuoteStatus, ...] = attrs.field(
        default=(QuoteStatus.SENT, QuoteStatus.ACCEPTED), converter=_statuses)

    def __attrs_post_init__(self) -> None:
        if not self.statuses:
            raise ValidationError("name at least one quote status", model="RequireQuote",
                                  field="statuses", value=self.statuses)


@attrs.frozen(kw_only=True)
class RequireLostReason:
    """A lost reason, from a fixed list when one is given (for lost stages).

    Args:
        reasons: The accepted reasons; empty accepts any non-blank reason.
    """

    reasons: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def __attrs_post_init__(self) -> None:
        for reason in self.reasons:
            if type(reason) is not str or not reason.strip():
                raise ValidationError(f"reasons must be non-empty strings, got {reason!r}",
                                      model="RequireLostReason", field="reasons",
                                      value=reason)


@attrs.frozen(kw_only=True)
class RequireGuard:
    """A custom guard, registered by name in a :class:`GuardRegistry`.

    Args:
        name: The registered guard's name.
    """

    name: str

    def __attrs_post_init__(self) -> None:
        if type(self.name) is not str or not self.name.strip():
            raise ValidationError(f"must be a non-empty string, got {self.name!r}",
                                  model="RequireGuard", field="name", value=self.name)


Requirement: TypeAlias = (RequireFields | RequireQualification | RequireActivity | RequireQuote
                          | RequireLostReason | RequireGuard)
"""Any entry requirement."""

REQUIREMENT_TYPES: Final = (RequireFields, RequireQualification, RequireActivity,
                            RequireQuote, RequireLostReason, RequireGuard)


def evaluate(req: Requirement, opp: Opportunity, stage: "Stage", at: datetime,
             reason: str | None, guards: GuardRegistry, found: list[Violation]) -> None:
    """Append to ``found`` every violation of ``req`` for moving ``opp`` into ``stage``.

    (Appending to the caller's list instead of yielding keeps the hot path cheap.)
    """
    sid = stage.id
    if type(req) is RequireFields:
        for path in req.fields:
            value = getattr(opp, path) if "." not in path else _read(opp, path)
            if value is None or (type(value) in _SIZED and _missing(value)):
                found.append(Violation(code="missing_field", stage_id=sid, field=path,
                                requirement=req, overridable=True,
                                message=f"fill in {path} before moving to {stage.label!r}"))
    elif type(req) is RequireQualification:
        qual = opp.qualification
        found.extend(Violation(code="missing_qualification", stage_id=sid,
                               field=f"qualification.{part}", requirement=req,
                               overridable=True, message=f"find out the customer's {part} "
                               f"before moving to {stage.label!r}")
                     for part in req.parts if getattr(qual, part) is None)
        if req.budget_confirmed and not (qual.budget is not None and qual.budget.confirmed):
            found.append(Violation(code="budget_not_confirmed", stage_id=sid,
                            field="qualification.budget", requirement=req, overridable=True,
                            message=f"get the budget confirmed before moving to "
                            f"{stage.label!r}"))
    elif type(req) is RequireActivity:
        count = sum(1 for a in opp.activities if a.kind is req.kind)
        if count < req.min_count:
            need = "a" if req.min_count == 1 else str(req.min_count)
            found.append(Violation(code="missing_activity", stage_id=sid, field="activities",
                            requirement=req, overridable=True,
                            message=f"log {need} {req.kind.value.replace('_', ' ')} activity "
                            f"(found {count}) before moving to {stage.label!r}"))
    elif type(req) is RequireQuote:
        if not any(q.status in req.statuses for q in opp.quotes):
            wanted = " or ".join(s.value for s in req.statuses)
            found.append(Violation(code="missing_quote", stage_id=sid, field="quotes",
                            requirement=req, overridable=True,
                            message=f"a quote must be {wanted} before moving to "
                            f"{stage.label!r}"))
    elif type(req) is RequireLostReason:
        given = reason if reason is not None else opp.lost_reason
        if given is None or not given.strip():
            listed = f" (one of: {', '.join(req.reasons)})" if req.reasons else ""
            found.append(Violation(code="missing_lost_reason", stage_id=sid, field="lost_reason",
                            requirement=req, overridable=True,
                            message=f"give a lost reason{listed}"))
        elif req.reasons and given not in req.reasons:
            found.append(Violation(code="invalid_lost_reason", stage_id=sid, field="lost_reason",
                            requirement=req, overridable=True,
                            message=f"lost reason {given!r} is not one of: "
                            f"{', '.join(req.reasons)}"))
    elif isinstance(req, RequireGuard):
        guard = guards.get(req.name)
        outcome: object = (f"guard {req.name!r} is not registered with this pipeline"
                           if guard is None else guard(opp, stage, at))
        if outcome is not None and outcome is not True:
            # A guard answers None (or True) to allow; a message (or False) to refuse.
            message = (outcome if isinstance(outcome, str) and outcome.strip()
                       else f"guard {req.name!r} refused the move to {stage.label!r}")
            found.append(Violation(code="guard_failed", stage_id=sid, requirement=req,
                            overridable=True, message=message))
