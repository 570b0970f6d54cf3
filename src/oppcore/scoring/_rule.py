"""The scoring rule protocol, what a rule returns, and the adapter for plain functions.

A rule reads one record (an :class:`~oppcore.Opportunity`, or a :class:`~oppcore.Lead` where
the rule applies) and an injected :class:`ScoringContext` (the time, the host's currency, a
currency converter, host settings). It returns a :class:`RuleResult`: a sub-score in [0, 1]
or *unknown* (``None``: missing data is not zero), a confidence, and the reasons behind it.
"""

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import attrs

from oppcore._checks import SIGNED_UNIT, UNIT, aware, check_bounds, in_bounds
from oppcore._copying import builder_twin, register_builder
from oppcore._errors import ValidationError
from oppcore._frozenmap import EMPTY_MAP, FrozenMap
from oppcore._models import Lead, Opportunity
from oppcore._money import CURRENCY_MINOR_UNITS, Money

__all__ = [
    "CurrencyConverter",
    "Finding",
    "FunctionRule",
    "Reason",
    "RuleResult",
    "ScoringContext",
    "ScoringRule",
    "Subject",
    "checked_finding",
    "finder",
    "scoring_rule",
]

Subject = Opportunity | Lead
"""What a rule scores: an opportunity, or a lead for rules that apply to leads."""

CurrencyConverter = Callable[[Money, str], Money | None]
"""``convert(money, to_currency)``: the amount in ``to_currency``, or ``None`` if no rate."""

_set = object.__setattr__


def _is_number(v: object) -> bool:
    return type(v) is float or type(v) is int


@attrs.frozen(kw_only=True)
class Reason:
    """One reason behind a sub-score.

    Args:
        code: Stable, machine-readable code (``"budget_confirmed"``); hosts may translate it.
        message: Human-readable explanation.
        effect: Signed change this reason made to the sub-score. For the built-in rules the
            sub-score is ``0.5 + sum(effects)`` (a neutral start plus each reason's push).
    """

    code: str
    message: str
    effect: float = attrs.field(default=0.0, metadata=in_bounds(SIGNED_UNIT))

    def __attrs_post_init__(self) -> None:
        if type(self.code) is not str or not self.code:
            raise ValidationError("must be a non-empty string", model="Reason", field="code",
                                  value=self.code)
        if type(self.message) is not str:
            raise ValidationError("must be a string", model="Reason", field="message",
                                  value=self.message)
        check_bounds(self)  # an effect in [-1, 1], whatever numeric type it came as


_ReasonTwin = builder_twin(Reason)
_new = object.__new__


def _build_reason(code: str, message: str, effect: float) -> Reason:
    # The unchecked constructor (oppcore._copying.register_builder): every field, in order.
    self: Any = _new(_ReasonTwin)
    self.code = code
    self.message = message
    self.effect = effect
    self.__class__ = Reason
    return self  # type: ignore[no-any-return]


register_builder(Reason, _build_reason)


@attrs.frozen(kw_only=True)
class RuleResult:
    """What a rule says about one record.

    Args:
        value: Sub-score in [0, 1], or ``None`` when the rule cannot judge (missing data).
        confidence: How much the rule trusts its own value, in [0, 1] (reported, not used to
            weight points, so the total stays explainable).
        reasons: Why, each with a stable code, a message and a signed effect.
        veto: ``True`` for a hard disqualifier: the scorecard then forces the total to 0 and
            the grade to the lowest tier, and records which rule vetoed.

    Raises:
        ValidationError: If ``value`` is not ``None`` or a finite number in [0, 1] (a bool
            is refused), or ``confidence`` is outside [0, 1].
    """

    value: float | None = attrs.field(metadata=in_bounds(UNIT))
    confidence: float = attrs.field(default=1.0, metadata=in_bounds(UNIT))
    reasons: tuple[Reason, ...] = ()
    veto: bool = False

    def __attrs_post_init__(self) -> None:
        check_bounds(self)  # value None or in [0, 1], confidence in [0, 1], any numeric type
        if type(self.reasons) is not tuple:
            _set(self, "reasons", tuple(self.reasons))
        for r in self.reasons:
            if type(r) is not Reason:
                raise ValidationError(f"must hold Reason values, got {type(r).__name__}",
                                      model="RuleResult", field="reasons", value=r)
        if type(self.veto) is not bool:
            raise ValidationError("must be a bool", model="RuleResult", field="veto",
                                  value=self.veto)

    @classmethod
    def unknown(cls, code: str, message: str) -> "RuleResult":
        """Return an unknown result (missing data) with one reason saying what is missing."""
        return cls(value=None, confidence=0.0, reasons=(Reason(code=code, message=message),))


class Finding(NamedTuple):
    """What a rule finds, as a named tuple: the fields of a :class:`RuleResult`.

    The return type of a rule's optional fast method ``find(subject, context)`` (see
    :class:`ScoringRule`). A :class:`~oppcore.Scorecard` reads a finding without the
    :class:`RuleResult` that ``evaluate`` would build around it, and checks it as strictly
    as it checks a RuleResult: ``value`` is ``None`` or a number in [0, 1] (not a bool),
    ``confidence`` a number in [0, 1], ``reasons`` a tuple of :class:`Reason` and ``veto`` a
    bool. A finding that fails the check is a failed contribution, like a RuleResult would be.
    """

    value: float | None
    """Sub-score in [0, 1], or ``None`` when the rule cannot judge."""
    confidence: float
    """How much the rule trusts its value, in [0, 1]."""
    reasons: tuple[Reason, ...]
    """Why, each with a stable code, a message and a signed effect."""
    veto: bool
    """``True`` for a hard disqualifier."""

    def as_result(self) -> RuleResult:
        """Return this finding as a :class:`RuleResult` (validated like any other).

        Raises:
            ValidationError: If a field is invalid.
        """
        return RuleResult(value=self.value, confidence=self.confidence, reasons=self.reasons,
                          veto=self.veto)


def _bad(field: str, message: str, value: object) -> ValidationError:
    # The value's type only: formatting a foreign value could run its own (failing) code.
    return ValidationError(f"{field} {message}, got {type(value).__name__}", model="Finding",
                           field=field)


def checked_finding(found: object) -> Finding:
    """Return ``found`` if it is a valid :class:`Finding` (ints become floats), else raise.

    The one check a :class:`~oppcore.Scorecard` runs on every rule's finding, whoever made
    it: a RuleResult's fields are checked again here too, as a frozen value can still be
    changed with ``object.__setattr__``. Only exact types are compared (``type(v) is
    float``), so no code of a foreign value runs (no ``__le__`` or ``__bool__``).

    Raises:
        ValidationError: Naming the first invalid field.
    """
    # The common case first: a Finding of exact types, every field already in range, is
    # returned as it is. It accepts a subset of what the full check below accepts (and the
    # full check returns such a finding unchanged), so it only saves time on valid input;
    # tests/test_scoring_rules.py compares both on arbitrary findings.
    if type(found) is Finding:
        value, confidence, reasons, veto = found
        if (type(confidence) is float and 0.0 <= confidence <= 1.0 and type(veto) is bool
                and type(reasons) is tuple
                and (value is None or (type(value) is float and 0.0 <= value <= 1.0))):
            for r in reasons:
                if type(r) is not Reason:
                    break
            else:
                return found
    return _checked_in_full(found)


def _checked_in_full(found: object) -> Finding:
    if type(found) is not Finding and not isinstance(found, Finding):
        raise ValidationError(f"expected a Finding, got {type(found).__name__}")
    value, confidence, reasons, veto = found
    ok = True
    if value is not None:
        if type(value) is not float:
            if type(value) is not int:
                raise _bad("value", "must be None or a number in [0, 1]", value)
            value, ok = float(value), False
        if not 0.0 <= value <= 1.0:  # NaN fails this comparison too
            raise ValidationError(f"value must be within [0, 1], got {value!r}",
                                  model="Finding", field="value")
    if type(confidence) is not float:
        if type(confidence) is not int:
            raise _bad("confidence", "must be a number in [0, 1]", confidence)
        confidence, ok = float(confidence), False
    if not 0.0 <= confidence <= 1.0:
        raise ValidationError(f"confidence must be within [0, 1], got {confidence!r}",
                              model="Finding", field="confidence")
    if type(reasons) is not tuple:
        raise _bad("reasons", "must be a tuple of Reason", reasons)
    for r in reasons:
        if type(r) is not Reason:
            raise _bad("reasons", "must hold Reason values only", r)
    if type(veto) is not bool:
        raise _bad("veto", "must be a bool", veto)
    return found if ok else Finding(value, confidence, reasons, veto)


def finder(rule: object) -> "Callable[[Subject, ScoringContext], Finding] | None":
    """Return ``rule``'s fast method ``find`` if a scorecard should call it, else ``None``.

    Dispatch on behaviour: a rule whose class (or a base) defines a callable ``find`` is read
    through it, unless its class overrides ``evaluate`` *below* the class that defines
    ``find`` (a subclass that changes ``evaluate`` only must have its ``evaluate`` called).
    A ``find`` set on the instance rather than its class is not used.
    """
    mro = type(rule).__mro__
    where_find = where_evaluate = None
    for depth, cls in enumerate(mro):
        own = vars(cls)
        if where_find is None and "find" in own:
            where_find = depth
        if where_evaluate is None and "evaluate" in own:
            where_evaluate = depth
    if where_find is None or (where_evaluate is not None and where_evaluate < where_find):
        return None
    method = getattr(rule, "find", None)
    return method if callable(method) else None


@attrs.frozen(kw_only=True)
class ScoringContext:
    """Everything a rule may read besides the record: injected, never global.

    Args:
        now: The moment of scoring (timezone-aware); rules derive "today" from it.
        currency: The host's reporting currency (ISO 4217), if it has one.
        convert: A currency converter ``convert(money, to_currency) -> Money | None``. Without
            one, rules never compare amounts in different currencies.
        settings: Host settings (read-only mapping) that rules may consult.

    Attributes:
        today: ``now.date()`` in ``now``'s own timezone.

    Raises:
        ValidationError: If ``now`` is naive or not a datetime, or the currency is unknown.
    """

    now: datetime
    currency: str | None = None
    convert: CurrencyConverter | None = attrs.field(default=None, eq=False)
    settings: Mapping[str, Any] = EMPTY_MAP
    today: date = attrs.field(init=False, default=date.min)

    def __attrs_post_init__(self) -> None:
        now = self.now
        aware(now, "now", model="ScoringContext")
        if self.currency is not None and self.currency not in CURRENCY_MINOR_UNITS:
            raise ValidationError(f"unknown ISO 4217 currency code {self.currency!r}",
                                  model="ScoringContext", field="currency",
                                  value=self.currency)
        if self.convert is not None and not callable(self.convert):
            raise ValidationError("must be callable", model="ScoringContext", field="convert",
                                  value=self.convert)
        if not isinstance(self.settings, Mapping):
            raise ValidationError("must be a mapping", model="ScoringContext",
                                  field="settings", value=self.settings)
        if type(self.settings) is not FrozenMap:
            _set(self, "settings", FrozenMap(self.settings))
        _set(self, "today", now.date())


@runtime_checkable
class ScoringRule(Protocol):
    """A rule a :class:`~oppcore.Scorecard` can weigh.

    Any object with these members is a rule (no base class needed); an attrs class or a
    frozen dataclass is the usual shape.

    **Optional fast method.** A rule may also define
    ``find(subject, context) -> Finding`` on its class: the same judgement as ``evaluate``,
    returned as a :class:`~oppcore.scoring.Finding` (a named tuple) instead of a
    :class:`RuleResult`. A scorecard then calls ``find`` and skips building a RuleResult per
    record. The contract: ``find`` and ``evaluate`` agree field for field
    (``rule.evaluate(s, c) == rule.find(s, c).as_result()``); usually ``evaluate`` is
    ``return self.find(subject, context).as_result()``. The scorecard checks a finding as
    strictly as a RuleResult, so a wrong finding is a failed contribution, never a wrong
    score. A subclass that overrides ``evaluate`` but not ``find`` is called through its
    ``evaluate``. The four built-in rules implement ``find``.
    """

    @property
    def rule_id(self) -> str:
        """Stable id; scorecards, configs and results refer to the rule by it."""
        ...

    @property
    def dimension(self) -> str:
        """The criterion it measures (``"urgency"``...); scorecards cap points by it."""
        ...

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Judge ``subject`` (an opportunity, or a lead where the rule applies)."""
        ...


def _coerce(rule_id: str, out: object) -> RuleResult:
    if type(out) is RuleResult:
        return out
    if out is None:
        return RuleResult.unknown("no_value", f"{rule_id} returned no value")
    if _is_number(out) and math.isfinite(out):  # type: ignore[arg-type]
        return RuleResult(value=float(out))  # type: ignore[arg-type]
    raise ValidationError(f"rule {rule_id!r} returned {out!r}; expected a number in [0, 1], "
                          "None or a RuleResult", value=out)


@attrs.frozen(kw_only=True)
class FunctionRule:
    """A plain function used as a rule (see :func:`scoring_rule`).

    Args:
        rule_id: Stable id of the rule.
        dimension: The criterion it measures; defaults to ``rule_id``.
        function: ``function(subject, context)`` returning a number in [0, 1], ``None``
            (unknown) or a :class:`RuleResult`.
    """

    rule_type: ClassVar[str] = "function"
    rule_id: str
    function: Callable[[Subject, ScoringContext], "float | RuleResult | None"] = attrs.field(
        eq=False)
    dimension: str = attrs.field(
        default=attrs.Factory(lambda self: self.rule_id, takes_self=True))

    def __attrs_post_init__(self) -> None:
        for name in ("rule_id", "dimension"):
            value = getattr(self, name)
            if type(value) is not str or not value:
                raise ValidationError("must be a non-empty string", model="FunctionRule",
                                      field=name, value=value)
        if not callable(self.function):
            raise ValidationError("must be callable", model="FunctionRule", field="function",
                                  value=self.function)

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Call the function and turn what it returns into a :class:`RuleResult`.

        Raises:
            ValidationError: If the function returns anything else than a number in [0, 1],
                ``None`` or a :class:`RuleResult` (a scorecard records this as a failure).
        """
        return _coerce(self.rule_id, self.function(subject, context))


def scoring_rule(
    rule_id: str, *, dimension: str | None = None
) -> Callable[[Callable[[Subject, ScoringContext], "float | RuleResult | None"]], FunctionRule]:
    """Turn a plain function into a rule; use as a decorator.

    Args:
        rule_id: Stable id of the rule.
        dimension: The criterion it measures; defaults to ``rule_id``.

    Returns:
        A decorator returning a :class:`FunctionRule`.

    Example::

        @scoring_rule("has_champion", dimension="decision")
        def has_champion(opp, context):
            return 1.0 if any(c.role == ContactRole.CHAMPION for c in opp.contacts) else 0.3
    """

    def wrap(
        function: Callable[[Subject, ScoringContext], "float | RuleResult | None"],
    ) -> FunctionRule:
        return FunctionRule(rule_id=rule_id, function=function,
                            dimension=dimension if dimension is not None else rule_id)

    return wrap
