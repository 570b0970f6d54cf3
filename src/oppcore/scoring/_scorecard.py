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

import enum
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from oppcore._errors import ConfigError, ScoringError, ValidationError
from oppcore._frozenmap import EMPTY_MAP, FrozenMap
from oppcore._models import Lead, Opportunity

from ._builtin import (
    BUILTIN_RULES,
    BudgetRule,
    CompetitionRule,
    DecisionCycleRule,
    Finding,
    UrgencyRule,
)
from ._rule import Reason, RuleResult, ScoringContext, ScoringRule, Subject, build

__all__ = ["Contribution", "ContributionStatus", "Factor", "MissingDataPolicy", "Score",
           "Scorecard"]

_set = object.__setattr__
# Points values (0.00 to 100.00, by their number of hundredths), each made once: building
# a Decimal per contribution is a measurable share of scoring a record. Bounded: at most
# 10,001 entries.
_POINTS: Final[dict[int, Decimal]] = {0: Decimal("0.00")}


def _points(cents: int) -> Decimal:
    """Return ``cents`` hundredths as a Decimal with two places (``1234`` -> ``12.34``)."""
    value = _POINTS.get(cents)
    if value is None:
        value = Decimal(cents).scaleb(-2)
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


@attrs.frozen(kw_only=True, slots=False)  # dict-backed: built in one step on the hot path
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
    weight: float
    status: ContributionStatus
    value: float | None
    confidence: float
    points: Decimal
    reasons: tuple[Reason, ...]
    capped: bool = False
    veto: bool = False
    error: str | None = None


_SCORED: Final = ContributionStatus.SCORED
_EXCLUDE: Final = MissingDataPolicy.EXCLUDE
_UNKNOWN: Final = ContributionStatus.UNKNOWN
_FAILED: Final = ContributionStatus.FAILED


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


@attrs.frozen(kw_only=True, slots=False)
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
    total: Decimal
    grade: str
    contributions: tuple[Contribution, ...]
    coverage: float
    vetoed_by: tuple[str, ...] = ()
    # The weight the points were spread over (the known weight, or every rule's under the
    # "value" policy); set when a scorecard builds the score, 0.0 when built by hand.
    _spread: float = attrs.field(init=False, eq=False, repr=False, default=0.0)

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


def _share_rounding(raw: list[float], cents: list[int], total_c: int) -> None:
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


_DEFAULT_GRADES: Final = (("A", 75.0), ("B", 50.0), ("C", 25.0), ("D", 0.0))


def _grades(v: Any) -> Any:
    if isinstance(v, Mapping):
        v = tuple(v.items())
    if isinstance(v, (list, tuple)):
        out = []
        for item in v:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                name, t = item
                out.append((name, float(t) if type(t) is int else t))
            else:
                out.append(item)
        return tuple(sorted(out, key=lambda g: -g[1] if isinstance(g, tuple)
                            and type(g[1]) is float else 0))
    return v


def _floats(v: Any) -> Any:
    if isinstance(v, Mapping):
        return FrozenMap({k: float(x) if type(x) is int else x for k, x in v.items()})
    return v


def _float(v: Any) -> Any:
    return float(v) if type(v) is int else v


def _tuple(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _policy(v: Any) -> Any:
    try:
        return MissingDataPolicy(v)
    except ValueError:
        return v


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
    missing_value: float = attrs.field(default=0.5, converter=_float)
    name: str = "default"
    _plan: tuple[Any, ...] = attrs.field(init=False, eq=False, repr=False, default=())
    _all_weight: float = attrs.field(init=False, eq=False, repr=False, default=0.0)
    _templates: tuple[dict[str, Any], ...] = attrs.field(init=False, eq=False, repr=False,
                                                         default=())

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError(problems, source=f"scorecard {self.name!r}")
        # Per rule: (id, dimension, weight, what to call, whether it returns a Finding). A
        # built-in rule's finding is read directly (exact types only: a subclass may
        # override evaluate); any other rule's evaluate is called and its result checked.
        _set(self, "_plan", tuple(
            (r.rule_id, r.dimension, self.weights[r.rule_id], r._find, True)
            if isinstance(r, BUILTIN_RULES) and type(r) in BUILTIN_RULES else
            (r.rule_id, r.dimension, self.weights[r.rule_id], r.evaluate, False)
            for r in self.rules))
        _set(self, "_all_weight", sum(entry[2] for entry in self._plan))
        # A contribution's fields before the record is known: an unknown rule's (copied per
        # record, never handed out).
        _set(self, "_templates", tuple(
            {"rule_id": rule_id, "dimension": dimension, "weight": weight, "status": _UNKNOWN,
             "value": None, "confidence": 0.0, "points": _POINTS[0], "reasons": (),
             "capped": False, "veto": False, "error": None}
            for rule_id, dimension, weight, _, _ in self._plan))

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
        # One pass runs the rules: ``found`` holds each rule's finding, None if it failed.
        found: list[Finding | None] = []
        errors: dict[int, str] | None = None
        known_w = 0.0
        vetoes: list[str] | None = None
        for rule_id, _, weight, evaluate, builtin in self._plan:
            try:
                if builtin:
                    finding = evaluate(subject, ctx)
                    v = finding[0]
                else:
                    res = evaluate(subject, ctx)
                    if type(res) is not RuleResult:
                        raise ValidationError(f"returned {type(res).__name__}, "
                                              f"expected RuleResult")
                    v = res.value
                    if v is not None and not 0.0 <= v <= 1.0:
                        raise ValidationError(f"returned sub-score {v!r}, outside [0, 1]")
                    finding = (v, res.confidence, res.reasons, res.veto)
            except Exception as exc:
                if strict:
                    raise ScoringError(rule_id, f"failed on {subject.id!r}: {exc}") from exc
                if errors is None:
                    errors = {}
                errors[len(found)] = f"{type(exc).__name__}: {exc}"
                found.append(None)
                continue
            found.append(finding)
            if v is not None:
                known_w += weight
                if finding[3]:
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
        for entry, f in zip(self._plan, found, strict=True):
            v = None if f is None else f[0]
            if v is None:
                if fill is None:
                    raw.append(0.0)
                    cents.append(0)
                    continue
                v = fill
            x = scale * entry[2] * v
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
            _share_rounding(raw, cents, total_c)
        contributions = []
        points_of = _POINTS.get
        # Each contribution starts as a copy of its rule's template (the fields that do not
        # depend on the record), which is cheaper than building the whole mapping.
        for i, (template, f, c) in enumerate(zip(self._templates, found, cents, strict=True)):
            points = points_of(c)
            if points is None:
                points = _points(c)
            fields = template.copy()
            fields["points"] = points
            if f is None:
                assert errors is not None
                fields["status"] = _FAILED
                fields["error"] = errors[i]
            else:
                v, confidence, reasons, veto = f
                if v is not None:
                    fields["status"] = _SCORED
                    fields["value"] = v
                    if veto:
                        fields["veto"] = True
                fields["confidence"] = confidence
                fields["reasons"] = reasons
                if capped is not None and i in capped:
                    fields["capped"] = True
            contributions.append(build(Contribution, fields))
        total_d = points_of(total_c)
        if total_d is None:
            total_d = _points(total_c)
        return build(Score, {
            "subject_id": subject.id, "scorecard": self.name, "scored_at": ctx.now,
            "total": total_d, "grade": self._grade(total_c / 100, vetoes is not None),
            "contributions": tuple(contributions),
            "coverage": known_w / all_w if all_w > 0 else 0.0,
            "vetoed_by": tuple(vetoes) if vetoes else (), "_spread": denom})

    def _apply_caps(self, raw: list[float]) -> set[int]:
        capped: set[int] = set()
        plan = self._plan
        for dimension, cap in self.caps.items():
            idx = [i for i, r in enumerate(plan) if r[1] == dimension]
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


def _problems(card: Any) -> list[tuple[str, str]]:
    # ``Any``: the fields may hold anything a caller passed; this is where it is checked.
    p: list[tuple[str, str]] = []
    if type(card.name) is not str or not card.name.strip():
        p.append(("name", f"must be a non-empty string, got {card.name!r}"))
    ids: set[str] = set()
    dims: set[str] = set()
    if not isinstance(card.rules, tuple) or not card.rules:
        p.append(("rules", "must be a non-empty sequence of rules"))
    else:
        for i, r in enumerate(card.rules):
            rid = getattr(r, "rule_id", None)
            if type(rid) is not str or not rid or not callable(getattr(r, "evaluate", None)) \
                    or type(getattr(r, "dimension", None)) is not str:
                p.append((f"rules[{i}]", (f"{r!r} is not a ScoringRule (needs rule_id, "
                          "dimension and evaluate)")))
                continue
            if rid in ids:
                p.append((f"rules[{i}]", f"duplicate rule id {rid!r}"))
            ids.add(rid)
            dims.add(r.dimension)
    if not isinstance(card.weights, Mapping):
        p.append(("weights", "must be a mapping of rule id to weight"))
    else:
        p.extend((f"weights.{rid}", "missing: every rule needs a weight")
                 for rid in sorted(ids - set(card.weights)))
        for rid, w in card.weights.items():
            if rid not in ids:
                p.append((f"weights.{rid}", "no rule with this id in the scorecard"))
            elif type(w) is not float or not 0.0 <= w < math.inf:
                p.append((f"weights.{rid}", f"must be a finite number >= 0, got {w!r}"))
        if ids and all(type(w) is float and w == 0.0 for w in card.weights.values()):
            p.append(("weights", "at least one weight must be positive"))
    if not isinstance(card.caps, Mapping):
        p.append(("caps", "must be a mapping of dimension to points"))
    else:
        for dim, cap in card.caps.items():
            if dim not in dims:
                p.append((f"caps.{dim}", f"no rule has dimension {dim!r}"))
            if type(cap) is not float or not 0.0 <= cap <= 100.0:
                p.append((f"caps.{dim}", (f"must be a number of points in [0, 100], got "
                          f"{cap!r}")))
    g = card.grades
    if not isinstance(g, tuple) or not g or not all(
            isinstance(x, tuple) and len(x) == 2 and type(x[0]) is str and x[0]
            and type(x[1]) is float for x in g):
        p.append(("grades", ("must be (grade name, threshold) pairs, e.g. {A = 75, B = 50, "
                  "C = 25, D = 0}")))
    else:
        names = [x[0] for x in g]
        if len(set(names)) != len(names):
            p.append(("grades", "grade names must be unique"))
        for name, t in g:
            if not 0.0 <= t <= 100.0:
                p.append((f"grades.{name}", f"threshold must be in [0, 100], got {t!r}"))
        if g[-1][1] != 0.0:
            p.append(("grades", ("the lowest grade's threshold must be 0 so every total "
                      "gets a grade")))
    if not isinstance(card.missing, MissingDataPolicy):
        p.append(("missing", f"must be 'exclude' or 'value', got {card.missing!r}"))
    mv = card.missing_value
    if type(mv) is not float or not 0.0 <= mv <= 1.0:
        p.append(("missing_value", f"must be a number in [0, 1], got {mv!r}"))
    return p
