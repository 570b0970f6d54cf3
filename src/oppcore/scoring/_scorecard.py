"""Scorecards (weighted rules as data) and the explained score they give each record.

How a total is made (documented in the reference, tested as properties):

1. Every rule gives a sub-score in [0, 1] or *unknown*; a rule that raises or returns
   something invalid is a *failed* contribution and counts as unknown.
2. Each rule's share of 100 points is ``100 * weight / W``. With the missing-data policy
   ``exclude``, ``W`` is the weight of the rules that are known (the total is renormalised
   over what is known, and ``coverage`` says how much of the weight that was); with
   ``value``, ``W`` is the weight of all rules and an unknown rule scores
   ``missing_value``.
3. A per-dimension cap limits the points a dimension can give; capped rules are scaled
   down together and marked ``capped``.
4. Points are rounded to hundredths so that they add up exactly to the correctly rounded
   total (largest-remainder rounding): ``total == sum(c.points for c in contributions)``,
   always, in any order (``Decimal``).
5. A veto forces every contribution's points, and so the total, to 0 and the grade to the
   lowest tier; the sub-scores and reasons stay visible and ``vetoed_by`` names the rules.
"""

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from oppcore._checks import UNIT, in_bounds
from oppcore._copying import trusted_values
from oppcore._errors import ConfigError, ScoringError, ValidationError
from oppcore._frozenmap import EMPTY_MAP
from oppcore._models import Lead, Opportunity

from ._builtin import BudgetRule, CompetitionRule, DecisionCycleRule, UrgencyRule
from ._rule import (
    Finding,
    Reason,
    RuleResult,
    ScoringContext,
    ScoringRule,
    Subject,
    checked_finding,
    finder,
)
from ._score import (
    _POINTS,
    Contribution,
    ContributionStatus,
    MissingDataPolicy,
    Score,
    points,
    share_rounding,
)
from ._scorecard_checks import DEFAULT_GRADES as _DEFAULT_GRADES
from ._scorecard_checks import floats as _floats
from ._scorecard_checks import grades as _grades
from ._scorecard_checks import number as _float
from ._scorecard_checks import policy as _policy
from ._scorecard_checks import problems as _problems
from ._scorecard_checks import tuple_of as _tuple

__all__ = ["Scorecard", "describe"]

_set = object.__setattr__
_SCORED: Final = ContributionStatus.SCORED
_EXCLUDE: Final = MissingDataPolicy.EXCLUDE
_UNKNOWN: Final = ContributionStatus.UNKNOWN
_FAILED: Final = ContributionStatus.FAILED
# Unchecked constructors (``trusted_values``): every field they are given was checked
# (a finding by ``checked_finding``) or computed by the scorecard itself.
_contribution: Final = trusted_values(Contribution)
_score: Final = trusted_values(Score)


# How a scorecard runs one of its rules, worked out once when the card is built:
# ``(rule_id, dimension, weight, call, finds)``, where ``call`` is the rule's fast method
# ``find`` when it has one (see :func:`finder`), else its ``evaluate``, and ``finds`` says
# which. A plain tuple, not a named one: the hot loop unpacks it once per rule per record,
# and CPython unpacks an exact tuple in one step but a tuple subclass through an iterator.
_RulePlan = tuple[str, str, float, Callable[[Subject, ScoringContext], object], bool]


def describe(exc: BaseException) -> str:
    """Return ``"TypeName: message"`` for ``exc``, even when its ``__str__`` raises.

    A plugin's exception is foreign code: formatting it may fail too, and that failure must
    not escape a non-strict score.
    """
    try:
        name = type(exc).__name__
    except Exception:  # pragma: no cover - a class whose __name__ fails is hard to make
        name = "Exception"
    try:
        text = str(exc)
    except Exception as inner:
        text = f"<message unavailable: its __str__ raised {type(inner).__name__}>"
    return f"{name}: {text}" if text else name


def _as_finding(out: object) -> Finding:
    """Return the fields of ``evaluate``'s result as a Finding (checked next); raise if none."""
    if type(out) is not RuleResult and not isinstance(out, RuleResult):
        raise ValidationError(f"returned {type(out).__name__}, expected RuleResult")
    return Finding(out.value, out.confidence, out.reasons, out.veto)


@attrs.frozen(kw_only=True)
class Scorecard:
    """Weighted rules, caps, grade thresholds and a missing-data policy: scoring as data.

    Args:
        rules: The rules, each with a unique ``rule_id``.
        weights: ``rule_id -> weight`` (>= 0); every rule needs one. Only ratios matter:
            each rule's share of the 100 points is its weight over the total weight.
        caps: ``dimension -> most points`` that dimension may give (0-100).
        grades: ``(grade, threshold)`` pairs (or a mapping); a total at or above a threshold
            gets that grade, the highest first. The lowest threshold must be 0. Default
            A >= 75, B >= 50, C >= 25, D below.
        missing: The missing-data policy (``"exclude"`` or ``"value"``).
        missing_value: The sub-score an unknown rule counts as under ``"value"``.
        name: Name shown in scores and reports.

    Raises:
        ConfigError: Listing every problem (duplicate rule ids, missing or negative weights,
            caps for unknown dimensions, bad thresholds...).
    """

    rules: tuple[ScoringRule, ...] = attrs.field(converter=_tuple)
    weights: Mapping[str, float] = attrs.field(converter=_floats)
    caps: Mapping[str, float] = attrs.field(default=EMPTY_MAP, converter=_floats)
    grades: tuple[tuple[str, float], ...] = attrs.field(default=_DEFAULT_GRADES,
                                                        converter=_grades)
    missing: MissingDataPolicy = attrs.field(default=MissingDataPolicy.EXCLUDE,
                                             converter=_policy)
    missing_value: float = attrs.field(default=0.5, converter=_float,
                                       metadata=in_bounds(UNIT))
    name: str = "default"
    _plan: tuple[_RulePlan, ...] = attrs.field(init=False, eq=False, repr=False, default=())
    _all_weight: float = attrs.field(init=False, eq=False, repr=False, default=0.0)

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError(problems, source=f"scorecard {self.name!r}")
        # Per rule: what to call. A rule with the documented fast method ``find`` (and no
        # ``evaluate`` overriding it in a subclass) is read through it; any other rule's
        # ``evaluate`` is called. Either way the result is checked in full (``_finding_of``).
        plan = []
        for r in self.rules:
            find = finder(r)
            step: _RulePlan = (r.rule_id, r.dimension, self.weights[r.rule_id],
                               r.evaluate if find is None else find, find is not None)
            plan.append(step)
        _set(self, "_plan", tuple(plan))
        _set(self, "_all_weight", sum(step[2] for step in plan))

    @classmethod
    def default(cls) -> "Scorecard":
        """Return the default scorecard: the four built-in rules.

        Weights: urgency 25, budget 30, decision_cycle 25, competition 20; no caps; grades
        A >= 75, B >= 50, C >= 25, D below; unknown rules excluded (coverage reported).
        """
        return cls(rules=(UrgencyRule(), BudgetRule(), DecisionCycleRule(), CompetitionRule()),
                   weights={"urgency": 25.0, "budget": 30.0, "decision_cycle": 25.0,
                            "competition": 20.0})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, rules: Iterable[ScoringRule] = (),
                  source: str = "scorecard") -> "Scorecard":
        """Build a scorecard from its dict form (rules by id, weights, caps, grades...).

        Args:
            data: The document (see :doc:`/reference/scoring` for the format).
            rules: Extra rules the document may refer to by id (e.g. loaded plugins).
            source: Named in error messages (a file name).

        Raises:
            ConfigError: Listing every problem found, each with its path.
        """
        from ._config import scorecard_from_dict

        return scorecard_from_dict(data, rules=rules, source=source)

    @classmethod
    def from_toml(cls, text: str, *, rules: Iterable[ScoringRule] = (),
                  source: str = "scorecard.toml") -> "Scorecard":
        """Build a scorecard from TOML text (same shape as :meth:`from_dict`).

        Raises:
            ConfigError: If the TOML does not parse, or listing every problem in it.
        """
        from ._config import scorecard_from_toml

        return scorecard_from_toml(text, rules=rules, source=source)

    def to_dict(self) -> dict[str, Any]:
        """Return the dict form; parameters equal to the defaults are left out."""
        from ._config import scorecard_to_dict

        return scorecard_to_dict(self)

    def to_toml(self) -> str:
        """Return the scorecard as TOML text that :meth:`from_toml` reads back."""
        from ._config import scorecard_to_toml

        return scorecard_to_toml(self)

    def rule(self, rule_id: str) -> ScoringRule:
        """Return the rule with ``rule_id``.

        Raises:
            KeyError: If there is none.
        """
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(f"scorecard {self.name!r} has no rule {rule_id!r}")

    def with_weights(self, weights: Mapping[str, float]) -> "Scorecard":
        """Return a copy with some weights replaced (the others kept).

        Raises:
            ConfigError: If a weight is invalid or names an unknown rule.
        """
        return attrs.evolve(self, weights={**self.weights, **weights})

    def score(self, subject: Subject, *, now: datetime | None = None,
              context: ScoringContext | None = None, strict: bool = False) -> Score:
        """Score one opportunity (or lead) and explain every point.

        Args:
            subject: The opportunity or lead.
            now: The moment of scoring; shorthand for ``context=ScoringContext(now=now)``.
            context: The full scoring context (currency, converter, host settings).
            strict: Raise instead of recording a failed rule.

        Returns:
            The score with its contributions.

        Raises:
            ValidationError: If ``subject`` is not an opportunity or lead, or the context is
                missing or invalid.
            ScoringError: In strict mode, when a rule raises or returns an invalid result.
        """
        return self._score(subject, _context(now, context), strict)

    def score_many(self, subjects: Iterable[Subject], *, now: datetime | None = None,
                   context: ScoringContext | None = None,
                   strict: bool = False) -> Iterator[Score]:
        """Score records one by one, lazily (a generator in, results out, constant memory).

        Args:
            subjects: Any iterable of opportunities or leads (a generator is fine).
            now: The moment of scoring (one value for the whole batch).
            context: The full scoring context instead of ``now``.
            strict: Raise instead of recording a failed rule.

        Yields:
            One :class:`Score` per record, in input order.

        Raises:
            ValidationError: As :meth:`score`, when the offending record is reached.
            ScoringError: As :meth:`score`.
        """
        ctx = _context(now, context)
        for subject in subjects:
            yield self._score(subject, ctx, strict)

    def _score(self, subject: Subject, ctx: ScoringContext, strict: bool) -> Score:
        cls = type(subject)
        if cls is not Opportunity and cls is not Lead and not isinstance(
                subject, (Opportunity, Lead)):
            raise ValidationError(f"can only score an Opportunity or a Lead, got "
                                  f"{cls.__name__}", value=subject)
        # One pass runs the rules: ``found`` holds each rule's checked finding, None if it
        # failed. Anything a rule raises, or returns that fails the check, is caught here:
        # past this loop every value is a valid float, so nothing below can raise.
        found: list[tuple[float | None, float, tuple[Reason, ...], bool] | None] = []
        errors: dict[int, str] | None = None
        known_w = 0.0
        vetoes: list[str] | None = None
        check = checked_finding
        for rule_id, _, weight, call, finds in self._plan:
            try:
                out = call(subject, ctx)
                # Kept as an exact tuple (see _RulePlan): the loops below unpack it again.
                v, confidence, reasons, veto = check(out if finds else _as_finding(out))
            except Exception as exc:
                if strict:
                    raise ScoringError(rule_id, f"failed on {subject.id!r}: "
                                       f"{describe(exc)}") from exc
                if errors is None:
                    errors = {}
                errors[len(found)] = describe(exc)
                found.append(None)
                continue
            found.append((v, confidence, reasons, veto))
            if v is not None:
                known_w += weight
                if veto:
                    if vetoes is None:
                        vetoes = []
                    vetoes.append(rule_id)
        all_w = self._all_weight
        # Points: each known rule's share of 100 (``scale * weight * value``) and the same
        # rounded to hundredths, in one pass; an unknown or failed rule gets nothing under
        # "exclude" and the configured value under "value".
        if self.missing is _EXCLUDE:
            denom = known_w
            fill = None
        else:
            denom = all_w
            fill = self.missing_value
        scale = 100.0 / denom if denom > 0 else 0.0
        raw: list[float] = []
        cents: list[int] = []
        for (_, _, weight, _, _), f in zip(self._plan, found, strict=True):
            v = None if f is None else f[0]  # the finding's value
            if v is None:
                if fill is None:
                    raw.append(0.0)
                    cents.append(0)
                    continue
                v = fill
            x = scale * weight * v
            raw.append(x)
            cents.append(round(x * 100))
        capped = None
        if self.caps or vetoes:
            if self.caps:
                capped = self._apply_caps(raw)
            if vetoes:
                raw = [0.0] * len(raw)
            cents = [round(x * 100) for x in raw]
        total_c = round(math.fsum(raw) * 100)
        if total_c != sum(cents):
            share_rounding(raw, cents, total_c)
        contributions = []
        points_of = _POINTS.get
        # Contributions are made unchecked (``_contribution``): every field was checked
        # above (the finding by ``checked_finding``) or computed here.
        for i, ((rule_id, dimension, weight, _, _), f, c) in enumerate(
                zip(self._plan, found, cents, strict=True)):
            pts = points_of(c)
            if pts is None:
                pts = points(c)
            if f is None:
                assert errors is not None
                contributions.append(_contribution(
                    rule_id, dimension, weight, _FAILED, None, 0.0, pts, (), False, False,
                    errors[i]))
            else:
                v, confidence, reasons, veto = f
                contributions.append(_contribution(
                    rule_id, dimension, weight, _UNKNOWN if v is None else _SCORED, v,
                    confidence, pts, reasons, capped is not None and i in capped,
                    veto and v is not None, None))
        total = points_of(total_c)
        if total is None:
            total = points(total_c)
        return _score(subject.id, self.name, ctx.now, total,
                      self._grade(total_c / 100, vetoes is not None), tuple(contributions),
                      known_w / all_w if all_w > 0 else 0.0,
                      tuple(vetoes) if vetoes else (), denom)

    def _apply_caps(self, raw: list[float]) -> set[int]:
        capped: set[int] = set()
        plan = self._plan
        for dimension, cap in self.caps.items():
            idx = [i for i, step in enumerate(plan) if step[1] == dimension]
            got = sum(raw[i] for i in idx)
            if got > cap:
                factor = cap / got
                for i in idx:
                    if raw[i] > 0:
                        raw[i] *= factor
                        capped.add(i)
        return capped

    def _grade(self, t: float, vetoed: bool) -> str:
        grades = self.grades
        if vetoed:
            return grades[-1][0]
        for name, threshold in grades:
            if t >= threshold:
                return name
        return grades[-1][0]



def _context(now: datetime | None, context: ScoringContext | None) -> ScoringContext:
    if context is not None:
        if now is not None:
            raise ValidationError("pass either now or context, not both", field="now")
        if type(context) is not ScoringContext:
            raise ValidationError(f"context must be a ScoringContext, got "
                                  f"{type(context).__name__}", value=context)
        return context
    if now is None:
        raise ValidationError("scoring needs the time: pass now=<aware datetime> or a "
                              "context", field="now")
    return ScoringContext(now=now)


