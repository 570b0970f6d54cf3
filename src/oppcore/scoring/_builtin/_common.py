"""What the built-in rules share: findings, reasons, the reason memo, parameter checks.

Every built-in rule starts from a neutral 0.5 and lets each finding push the sub-score up or
down; each push is a :class:`~oppcore.scoring.Reason` whose ``effect`` is that push, so a
sub-score is always ``0.5 + sum(reason.effect)`` (when the sum leaves [0, 1], a ``floor`` or
``ceiling`` reason records the correction). A rule with nothing to judge returns *unknown*.

Parameters are plain numbers and string-keyed mappings so a scorecard file can set them. A
rule validates all of its parameters at once and raises :class:`~oppcore.ConfigError` listing
every problem.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final

from oppcore._checks import Bounds, bounds_of, number
from oppcore._copying import trusted_values
from oppcore._errors import ConfigError, ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore.scoring._rule import Finding, Reason

__all__ = ["DAYS", "EFFECT", "MEMO_SIZE", "RATIO", "SHARE", "bounds_check", "fixed_reasons",
           "ids_check", "keep", "merged", "num", "raise_problems", "reason", "result",
           "table_check", "unit_check", "unknown"]


_new_tuple = tuple.__new__


reason: Final[Callable[[str, str, float], Reason]] = trusted_values(Reason)
"""``reason(code, message, effect)``: a Reason the rule made from its checked parameters and
the record's validated data, built without re-validation."""


def unknown(code: str, message: str) -> Finding:
    """Return an unknown finding with one reason saying what is missing.

    Built-in rules make theirs once, as module constants (one per distinct message): a
    finding is a pure value, so a constant is shared safely; a cache keyed by the code alone
    once made an explanation depend on which record a process scored first.
    """
    return Finding(None, 0.0, (Reason(code=code, message=message),), False)


def result(reasons: list[Reason], confidence: float, veto: bool = False) -> Finding:
    """Return a finding whose value is 0.5 + sum of the reasons' effects, within [0, 1]."""
    value = 0.5
    for r in reasons:
        value += r.effect
    if value > 1.0:
        reasons.append(reason("ceiling", "capped at the maximum sub-score", 1.0 - value))
        value = 1.0
    elif value < 0.0:
        reasons.append(reason("floor", "raised to the minimum sub-score", -value))
        value = 0.0
    # tuple.__new__ is how a named tuple makes itself (its _make): the same Finding, without
    # the generated __new__'s extra Python call on the scoring hot path.
    return _new_tuple(Finding, (value, confidence, tuple(reasons), veto))


MEMO_SIZE: Final = 4096


def keep(memo: dict[Any, Reason], key: Any, made: Reason) -> Reason:
    """Remember ``made`` under ``key`` in a rule's memo, and return it.

    A built-in reason is a pure function of a few small inputs (a number of days, a
    competitor's name...) and the rule's parameters, which never change (a changed copy
    of a rule is a new instance with an empty memo). The key holds every input the reason
    depends on besides those parameters; reasons are immutable, so one value serves every
    record with the same inputs. The memo is bounded: when full it starts over.
    """
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = made
    return made


def fixed_reasons(table: tuple[tuple[str, str, float], ...]) -> dict[str, Reason]:
    """Build a rule's fixed reasons once (they depend only on its parameters)."""
    return {code: Reason(code=code, message=msg, effect=effect) for code, msg, effect in table}


def num(v: Any) -> Any:
    """Converter: an int parameter becomes a float; anything else is left for the check."""
    return float(v) if type(v) is int else v


def merged(v: Any, defaults: Mapping[str, float]) -> Any:
    """A string-keyed table of scores, merged over ``defaults`` (ints become floats)."""
    if not isinstance(v, Mapping):
        return v
    return FrozenMap({**defaults, **{k: num(x) for k, x in v.items()}})


SHARE: Final = Bounds(0.0, 1.0)
"""A score, weight or penalty of a built-in rule: a number in [0, 1]."""
EFFECT: Final = Bounds(-0.5, 0.5)
"""A built-in rule's push for a yes/no finding: a number in [-0.5, 0.5]."""
RATIO: Final = Bounds(0.0, 1e6)
"""A budget/amount ratio."""
DAYS: Final = Bounds(1, 36500, integer=True, kind=int)
"""A horizon or norm in whole days."""


def bounds_check(problems: list[tuple[str, str]], rule: Any) -> None:
    """Record a problem for every parameter of ``rule`` outside its declared bounds.

    The one range check of the built-in rules' parameters: each numeric parameter declares
    its :class:`~oppcore._checks.Bounds` as field metadata, and an in-range value of another
    numeric type is normalised (an int or Decimal weight becomes a float).
    """
    model = type(rule).__name__
    for name, bounds, optional in bounds_of(type(rule)):
        value = getattr(rule, name)
        if value is None and optional:
            continue
        try:
            checked = number(value, bounds, name, model=model)
        except ValidationError as exc:
            problems.append((name, str(exc).removeprefix(f"{model}.{name}: ")))
            continue
        if checked is not value:
            object.__setattr__(rule, name, checked)


def unit_check(problems: list[tuple[str, str]], name: str, v: Any, low: float = 0.0,
               high: float = 1.0) -> None:
    """Record a problem unless ``v`` is a float in [low, high]."""
    if type(v) is not float or not low <= v <= high:
        problems.append((name, f"must be a number in [{low:g}, {high:g}], got {v!r}"))


def table_check(problems: list[tuple[str, str]], name: str, v: Any,
                keys: tuple[str, ...]) -> None:
    """Record the problems of a table of scores (unknown keys, values outside [0, 1])."""
    if not isinstance(v, Mapping):
        problems.append((name, f"must be a table of scores, got {type(v).__name__}"))
        return
    for k in v:
        if k not in keys:
            problems.append((f"{name}.{k}", f"unknown key; expected one of {', '.join(keys)}"))
        else:
            unit_check(problems, f"{name}.{k}", v[k])


def ids_check(problems: list[tuple[str, str]], rule: Any) -> None:
    """Record a problem for an empty or non-string ``rule_id`` or ``dimension``."""
    for name in ("rule_id", "dimension"):
        v = getattr(rule, name)
        if type(v) is not str or not v.strip():
            problems.append((name, f"must be a non-empty string, got {v!r}"))


def raise_problems(problems: list[tuple[str, str]], rule: Any) -> None:
    """Raise a ConfigError listing ``problems``, if any."""
    if problems:
        raise ConfigError(problems, source=f"{type(rule).__name__} {rule.rule_id!r}")
