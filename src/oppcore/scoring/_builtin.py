"""The four built-in rules, one per evaluation criterion, with documented parameters.

Every built-in rule starts from a neutral 0.5 and lets each finding push the sub-score up or
down; each push is a :class:`~oppcore.scoring.Reason` whose ``effect`` is that push, so a
sub-score is always ``0.5 + sum(reason.effect)`` (when the sum leaves [0, 1], a ``floor`` or
``ceiling`` reason records the correction). A rule with nothing to judge returns *unknown*.

Parameters are plain numbers and string-keyed mappings so a scorecard file can set them. A
rule validates all of its parameters at once and raises :class:`~oppcore.ConfigError` listing
every problem.
"""

import itertools
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeAlias

import attrs

from oppcore._errors import ConfigError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._qualification import CompetitivePosition, UrgencyLevel

from ._rule import Reason, RuleResult, ScoringContext, Subject, build

__all__ = ["BUILTIN_RULES", "BudgetRule", "CompetitionRule", "DecisionCycleRule", "Finding",
           "UrgencyRule", "as_result"]

_set = object.__setattr__


def _reason(code: str, message: str, effect: float) -> Reason:
    # Built-in rules build already-valid reasons on the hot path: skip re-validation.
    return build(Reason, {"code": code, "message": message, "effect": effect})


Finding: TypeAlias = tuple[float | None, float, tuple[Reason, ...], bool]
"""What a built-in rule finds: ``(value, confidence, reasons, veto)``, the fields of a
:class:`RuleResult`. Built-in rules compute findings; their public ``evaluate`` wraps one in
a RuleResult, while a :class:`Scorecard` reads the finding directly (one object fewer per
rule and record, on the hot path of scoring a pipeline)."""


def as_result(finding: Finding) -> RuleResult:
    """Return ``finding`` (already valid: a built-in rule made it) as a RuleResult."""
    value, confidence, reasons, veto = finding
    return build(RuleResult, {"value": value, "confidence": confidence, "reasons": reasons,
                              "veto": veto})


def _result(reasons: list[Reason], confidence: float, veto: bool = False) -> Finding:
    """Return a finding whose value is 0.5 + sum of the reasons' effects, within [0, 1]."""
    value = 0.5
    for r in reasons:
        value += r.effect
    if value > 1.0:
        reasons.append(_reason("ceiling", "capped at the maximum sub-score", 1.0 - value))
        value = 1.0
    elif value < 0.0:
        reasons.append(_reason("floor", "raised to the minimum sub-score", -value))
        value = 0.0
    return (value, confidence, tuple(reasons), veto)


_MEMO_SIZE: Final = 4096


def _keep(memo: dict[Any, Reason], key: Any, reason: Reason) -> Reason:
    """Remember ``reason`` under ``key`` in a rule's memo, and return it.

    A built-in reason is a pure function of a few small inputs (a number of days, a
    competitor's name...) and the rule's parameters, which never change; reasons are
    immutable, so one value serves every record with the same inputs. The memo is bounded:
    when full it starts over.
    """
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = reason
    return reason


_UNKNOWN: dict[str, Finding] = {}


def _unknown(code: str, message: str) -> Finding:
    # Findings are immutable, so one shared value per code serves every record.
    found = _UNKNOWN.get(code)
    if found is None:
        found = _UNKNOWN[code] = (None, 0.0, (Reason(code=code, message=message),), False)
    return found


def _static(rule: Any, table: tuple[tuple[str, str, float], ...]) -> None:
    """Build the rule's fixed reasons once (they depend only on its parameters)."""
    _set(rule, "_reasons", {code: Reason(code=code, message=msg, effect=effect)
                            for code, msg, effect in table})


def _num(v: Any) -> Any:
    """Converter: an int parameter becomes a float; anything else is left for the check."""
    return float(v) if type(v) is int else v


_LEVELS: Final = tuple(level.value for level in UrgencyLevel)
_LEVEL_DEFAULTS: Final = {"low": 0.2, "medium": 0.5, "high": 0.8, "critical": 1.0}
_POSITIONS: Final = tuple(p.value for p in CompetitivePosition)
_POSITION_ORDER: Final = ("trailing", "unknown", "even", "leading")
_POSITION_DEFAULTS: Final = {"leading": 0.8, "even": 0.5, "unknown": 0.4, "trailing": 0.2}
_UNKNOWN_POSITION: Final = CompetitivePosition.UNKNOWN


def _merged(v: Any, defaults: Mapping[str, float]) -> Any:
    """A string-keyed table of scores, merged over ``defaults`` (ints become floats)."""
    if not isinstance(v, Mapping):
        return v
    return FrozenMap({**defaults, **{k: _num(x) for k, x in v.items()}})


def _level_scores(v: Any) -> Any:
    return _merged(v, _LEVEL_DEFAULTS)


def _position_scores(v: Any) -> Any:
    return _merged(v, _POSITION_DEFAULTS)


def _unit(problems: list[tuple[str, str]], name: str, v: Any, low: float = 0.0,
          high: float = 1.0) -> None:
    if type(v) is not float or not low <= v <= high:
        problems.append((name, f"must be a number in [{low:g}, {high:g}], got {v!r}"))


def _days(problems: list[tuple[str, str]], name: str, v: Any) -> None:
    if type(v) is not int or v <= 0:
        problems.append((name, f"must be a positive whole number of days, got {v!r}"))


def _table(problems: list[tuple[str, str]], name: str, v: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(v, Mapping):
        problems.append((name, f"must be a table of scores, got {type(v).__name__}"))
        return
    for k in v:
        if k not in keys:
            problems.append((f"{name}.{k}", f"unknown key; expected one of {', '.join(keys)}"))
        else:
            _unit(problems, f"{name}.{k}", v[k])


def _ids(problems: list[tuple[str, str]], rule: Any) -> None:
    for name in ("rule_id", "dimension"):
        v = getattr(rule, name)
        if type(v) is not str or not v.strip():
            problems.append((name, f"must be a non-empty string, got {v!r}"))


def _raise(problems: list[tuple[str, str]], rule: Any) -> None:
    if problems:
        raise ConfigError(problems, source=f"{type(rule).__name__} {rule.rule_id!r}")




@attrs.frozen(kw_only=True)
class UrgencyRule:
    """Urgency of the customer's need.

    Three findings, each scored in [0, 1] and averaged by weight over those that are known:
    the stated urgency level (``level_scores``), a customer deadline (1.0 today, falling
    linearly to 0.0 at ``deadline_horizon_days`` away), and the days until the expected close
    (1.0 today, 0.0 at ``close_horizon_days``; a close date already past scores
    ``overdue_close_score``). Each time the expected close slipped later costs
    ``push_penalty``, at most ``max_push_penalty``. Unknown when none of this is known.

    Promises: a higher stated level never lowers the sub-score; a nearer future deadline or
    close date never lowers it; another slip never raises it.

    Args:
        rule_id: Rule id (default ``"urgency"``).
        dimension: Dimension (default ``"urgency"``).
        level_scores: Score per level; defaults ``low`` 0.2, ``medium`` 0.5, ``high`` 0.8,
            ``critical`` 1.0 (a partial table is merged over these).
        deadline_horizon_days: Days at which a deadline stops adding urgency (default 90).
        close_horizon_days: Days at which the expected close stops adding urgency (180).
        overdue_close_score: Score of an expected close date already past (default 0.3).
        level_weight: Weight of the stated level (default 0.5).
        deadline_weight: Weight of the deadline (default 0.3).
        close_weight: Weight of the expected close (default 0.2).
        push_penalty: Sub-score lost per slipped close date (default 0.1).
        max_push_penalty: Most that slips can cost (default 0.3).
    """

    rule_type: ClassVar[str] = "urgency"
    rule_id: str = "urgency"
    dimension: str = "urgency"
    level_scores: Mapping[str, float] = attrs.field(
        default=FrozenMap(_LEVEL_DEFAULTS), converter=_level_scores)
    deadline_horizon_days: int = 90
    close_horizon_days: int = 180
    overdue_close_score: float = attrs.field(default=0.3, converter=_num)
    level_weight: float = attrs.field(default=0.5, converter=_num)
    deadline_weight: float = attrs.field(default=0.3, converter=_num)
    close_weight: float = attrs.field(default=0.2, converter=_num)
    push_penalty: float = attrs.field(default=0.1, converter=_num)
    max_push_penalty: float = attrs.field(default=0.3, converter=_num)
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        _ids(p, self)
        _table(p, "level_scores", self.level_scores, _LEVELS)
        if isinstance(self.level_scores, Mapping) and not p:
            s = [self.level_scores[k] for k in _LEVELS]
            if any(a > b for a, b in itertools.pairwise(s)):
                p.append(("level_scores", "must not decrease from low to critical"))
        _days(p, "deadline_horizon_days", self.deadline_horizon_days)
        _days(p, "close_horizon_days", self.close_horizon_days)
        for name in ("overdue_close_score", "level_weight", "deadline_weight", "close_weight",
                     "push_penalty", "max_push_penalty"):
            _unit(p, name, getattr(self, name))
        _raise(p, self)

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the urgency of ``subject`` as of ``context.today``."""
        return as_result(self._find(subject, context))

    def _find(self, subject: Subject, context: ScoringContext) -> Finding:
        """:meth:`evaluate`'s finding as a plain tuple (what a Scorecard reads)."""
        u = subject.qualification.urgency
        level = deadline = close = None
        if u is not None:
            level = u.level
            deadline = u.deadline
        is_opp = type(subject) is Opportunity
        if is_opp:
            close = subject.expected_close  # type: ignore[union-attr]
        # The findings are averaged by weight over those that are known.
        known = total_w = 0.0
        if level is not None:
            known += 1
            total_w += self.level_weight
        if deadline is not None:
            known += 1
            total_w += self.deadline_weight
        if close is not None:
            known += 1
            total_w += self.close_weight
        if not known:
            return _unknown("urgency_unknown",
                            "no urgency level, deadline or expected close date known")
        total_w = total_w or 1.0
        reasons = []
        today = context.today
        memo = self._memo
        if level is not None:
            key: tuple[Any, ...] = ("level", level, total_w)
            r = memo.get(key)
            if r is None:
                name = level.value
                r = _keep(memo, key, _reason(
                    f"urgency_{name}", f"customer states {name} urgency",
                    self.level_weight / total_w * (self.level_scores[name] - 0.5)))
            reasons.append(r)
        if deadline is not None:
            days = (deadline - today).days
            key = ("deadline", days, total_w)
            r = memo.get(key)
            if r is None:
                if days < 0:
                    r = _reason("deadline_passed",
                                f"customer deadline passed {-days} day(s) ago", 0.0)
                else:
                    score = max(0.0, 1.0 - days / self.deadline_horizon_days)
                    r = _reason("customer_deadline", f"customer deadline in {days} day(s)",
                                self.deadline_weight / total_w * (score - 0.5))
                _keep(memo, key, r)
            reasons.append(r)
        if close is not None:
            days = (close - today).days
            key = ("close", days, total_w)
            r = memo.get(key)
            if r is None:
                w = self.close_weight / total_w
                if days < 0:
                    r = _reason("close_overdue", f"expected close date passed {-days} day(s) "
                                "ago", w * (self.overdue_close_score - 0.5))
                else:
                    score = max(0.0, 1.0 - days / self.close_horizon_days)
                    r = _reason("close_soon" if score >= 0.5 else "close_far",
                                f"expected close in {days} day(s)", w * (score - 0.5))
                _keep(memo, key, r)
            reasons.append(r)
        if is_opp:
            pushes = subject.close_date_pushes  # type: ignore[union-attr]
            if pushes:
                cost = min(pushes * self.push_penalty, self.max_push_penalty)
                reasons.append(_reason("close_slipped",
                                       f"expected close date slipped {pushes} time(s)", -cost))
        return _result(reasons, known / 3)


@attrs.frozen(kw_only=True)
class BudgetRule:
    """The customer's budget: known, confirmed, and large enough for the deal.

    The ratio of budget to deal amount scores 0.0 at or below ``min_ratio`` and 1.0 at or
    above ``full_ratio`` (linear between), and pushes the sub-score by
    ``ratio_weight * (score - 0.5)``. A confirmed budget adds ``confirmed_effect``, an
    unconfirmed one ``unconfirmed_effect``; a budget with no figure adds
    ``no_figure_effect``. Unknown when the deal has no budget information at all.

    Currencies: a budget in another currency than the deal is converted with
    ``context.convert`` when the host supplies one; otherwise (or when the converter has no
    rate) the ratio is left out with a ``currency_mismatch`` / ``no_exchange_rate`` reason.
    Different currencies are never compared silently.

    Promises: a larger budget never lowers the sub-score; confirming a budget never lowers it.

    Args:
        rule_id: Rule id (default ``"budget"``).
        dimension: Dimension (default ``"budget"``).
        min_ratio: Budget/amount ratio scoring 0 (default 0.5).
        full_ratio: Budget/amount ratio scoring 1 (default 1.0).
        ratio_weight: How far the ratio can push the sub-score, in [0, 1] (default 0.6, so
            at most +-0.3).
        confirmed_effect: Push for a confirmed budget (default +0.2).
        unconfirmed_effect: Push for an unconfirmed budget (default -0.1).
        no_figure_effect: Push for a budget without a figure (default -0.1).
        veto_below_ratio: If set, a *confirmed* budget covering less than this share of the
            deal vetoes the whole score (default ``None``: never veto).
    """

    rule_type: ClassVar[str] = "budget"
    rule_id: str = "budget"
    dimension: str = "budget"
    min_ratio: float = attrs.field(default=0.5, converter=_num)
    full_ratio: float = attrs.field(default=1.0, converter=_num)
    ratio_weight: float = attrs.field(default=0.6, converter=_num)
    confirmed_effect: float = attrs.field(default=0.2, converter=_num)
    unconfirmed_effect: float = attrs.field(default=-0.1, converter=_num)
    no_figure_effect: float = attrs.field(default=-0.1, converter=_num)
    veto_below_ratio: float | None = attrs.field(default=None, converter=_num)
    _reasons: dict[str, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        _ids(p, self)
        _unit(p, "min_ratio", self.min_ratio, 0.0, 1e6)
        _unit(p, "full_ratio", self.full_ratio, 0.0, 1e6)
        if not p and self.full_ratio <= self.min_ratio:
            p.append(("full_ratio", "must be greater than min_ratio"))
        _unit(p, "ratio_weight", self.ratio_weight)
        for name in ("confirmed_effect", "unconfirmed_effect", "no_figure_effect"):
            _unit(p, name, getattr(self, name), -0.5, 0.5)
        if not p and self.confirmed_effect < self.unconfirmed_effect:
            p.append(("confirmed_effect", ("must be >= unconfirmed_effect (confirming a "
                      "budget must never lower the score)")))
        if self.veto_below_ratio is not None:
            _unit(p, "veto_below_ratio", self.veto_below_ratio, 0.0, 1e6)
        _raise(p, self)
        _static(self, (
            ("budget_confirmed", "budget is confirmed", self.confirmed_effect),
            ("budget_unconfirmed", "budget is not confirmed", self.unconfirmed_effect),
            ("budget_no_figure", "customer named no budget figure", self.no_figure_effect),
            ("deal_amount_unknown", "deal amount unknown: budget ratio not assessed", 0.0),
        ))

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the budget of ``subject``."""
        return as_result(self._find(subject, context))

    def _find(self, subject: Subject, context: ScoringContext) -> Finding:
        """:meth:`evaluate`'s finding as a plain tuple (what a Scorecard reads)."""
        b = subject.qualification.budget
        if b is None:
            return _unknown("budget_unknown", "no budget information")
        fixed = self._reasons
        reasons = [fixed["budget_confirmed" if b.confirmed else "budget_unconfirmed"]]
        veto = False
        confidence = 0.5
        amount = subject.amount if type(subject) is Opportunity else None
        if b.amount is None:
            reasons.append(fixed["budget_no_figure"])
        elif amount is None:
            reasons.append(fixed["deal_amount_unknown"])
        else:
            budget = b.amount
            if budget.currency != amount.currency:
                converted = (context.convert(budget, amount.currency)
                             if context.convert is not None else None)
                if converted is None or converted.currency != amount.currency:
                    code = "currency_mismatch" if context.convert is None else "no_exchange_rate"
                    reasons.append(_reason(
                        code, f"budget in {budget.currency}, deal in {amount.currency}: "
                        "ratio not assessed (no conversion)", 0.0))
                    return _result(reasons, confidence)
                budget = converted
            ratio = math.inf if amount.amount == 0 else float(budget.amount / amount.amount)
            score = min(1.0, max(0.0, (ratio - self.min_ratio)
                                 / (self.full_ratio - self.min_ratio)))
            shown = "all" if ratio == math.inf else f"{ratio:.0%}"
            reasons.append(_reason(
                "budget_covers" if score >= 0.5 else "budget_short",
                f"budget covers {shown} of the deal amount",
                self.ratio_weight * (score - 0.5)))
            confidence = 1.0
            if (self.veto_below_ratio is not None and b.confirmed
                    and ratio < self.veto_below_ratio):
                veto = True
                reasons.append(_reason("budget_veto", f"confirmed budget covers {shown} of "
                                       f"the deal, below the {self.veto_below_ratio:.0%} limit",
                                       0.0))
        return _result(reasons, confidence, veto)


@attrs.frozen(kw_only=True)
class DecisionCycleRule:
    """The decision process: when the customer decides, and whether we reach who signs.

    Timing: days until the expected decision date (or, without one, the customer's typical
    cycle length) scores 1.0 at 0 days, 0.5 at ``norm_days`` and 0.0 at twice that; an
    expected decision already past scores ``overdue_score``. It pushes the sub-score by
    ``timing_weight * (score - 0.5)``. A decision maker identified / not identified, engaged /
    not engaged add their effects. Unknown when nothing about the decision is known.

    Promises: a sooner future decision never lowers the sub-score; identifying or engaging
    the decision maker never lowers it.

    Args:
        rule_id: Rule id (default ``"decision_cycle"``).
        dimension: Dimension (default ``"decision"``).
        norm_days: The normal cycle length in days (default 90).
        overdue_score: Timing score of a decision date already past (default 0.3).
        timing_weight: How far timing can push the sub-score (default 0.5, so +-0.25).
        identified_effect: Push when the decision maker is known (default +0.1).
        unidentified_effect: Push when they are known to be unknown (default -0.15).
        engaged_effect: Push when we engage them (default +0.15).
        not_engaged_effect: Push when we do not (default -0.05).
    """

    rule_type: ClassVar[str] = "decision_cycle"
    rule_id: str = "decision_cycle"
    dimension: str = "decision"
    norm_days: int = 90
    overdue_score: float = attrs.field(default=0.3, converter=_num)
    timing_weight: float = attrs.field(default=0.5, converter=_num)
    identified_effect: float = attrs.field(default=0.1, converter=_num)
    unidentified_effect: float = attrs.field(default=-0.15, converter=_num)
    engaged_effect: float = attrs.field(default=0.15, converter=_num)
    not_engaged_effect: float = attrs.field(default=-0.05, converter=_num)
    _reasons: dict[str, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        _ids(p, self)
        _days(p, "norm_days", self.norm_days)
        _unit(p, "overdue_score", self.overdue_score)
        _unit(p, "timing_weight", self.timing_weight)
        for name in ("identified_effect", "unidentified_effect", "engaged_effect",
                     "not_engaged_effect"):
            _unit(p, name, getattr(self, name), -0.5, 0.5)
        if not p and self.identified_effect < self.unidentified_effect:
            p.append(("identified_effect", "must be >= unidentified_effect"))
        if not p and self.engaged_effect < self.not_engaged_effect:
            p.append(("engaged_effect", "must be >= not_engaged_effect"))
        _raise(p, self)
        _static(self, (
            ("decision_maker_identified", "decision maker identified", self.identified_effect),
            ("decision_maker_unidentified", "decision maker not identified",
             self.unidentified_effect),
            ("decision_maker_engaged", "decision maker engaged", self.engaged_effect),
            ("decision_maker_not_engaged", "decision maker not engaged",
             self.not_engaged_effect),
        ))

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the decision process of ``subject`` as of ``context.today``."""
        return as_result(self._find(subject, context))

    def _find(self, subject: Subject, context: ScoringContext) -> Finding:
        """:meth:`evaluate`'s finding as a plain tuple (what a Scorecard reads)."""
        d = subject.qualification.decision
        if d is None:
            return _unknown("decision_unknown", "no decision process information")
        reasons: list[Reason] = []
        known = 0
        days: int | None = None
        if d.expected_decision is not None:
            days = (d.expected_decision - context.today).days
            what = "expected decision"
        elif d.cycle_days is not None:
            days = d.cycle_days
            what = "customer's buying cycle"
        if days is not None:
            known += 1
            key = (days, what)
            r = self._memo.get(key)
            if r is None:
                if days < 0:
                    r = _reason("decision_overdue", f"expected decision passed {-days} day(s) "
                                "ago", self.timing_weight * (self.overdue_score - 0.5))
                else:
                    score = max(0.0, 1.0 - days / (2 * self.norm_days))
                    code = "decision_soon" if days <= self.norm_days else "decision_slow"
                    message = (f"decision in {days} day(s)" if what == "expected decision"
                               else f"buying cycle of {days} day(s)")
                    r = _reason(code, f"{message} (norm {self.norm_days})",
                                self.timing_weight * (score - 0.5))
                _keep(self._memo, key, r)
            reasons.append(r)
        fixed = self._reasons
        if d.decision_maker_identified is not None:
            known += 1
            reasons.append(fixed["decision_maker_identified" if d.decision_maker_identified
                                 else "decision_maker_unidentified"])
        if d.decision_maker_engaged is not None:
            known += 1
            reasons.append(fixed["decision_maker_engaged" if d.decision_maker_engaged
                                 else "decision_maker_not_engaged"])
        if not known:
            return _unknown("decision_unknown", "no decision date, cycle or decision maker "
                            "information")
        return _result(reasons, known / 3)




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
    no_competitor_score: float = attrs.field(default=0.9, converter=_num)
    position_scores: Mapping[str, float] = attrs.field(
        default=FrozenMap(_POSITION_DEFAULTS), converter=_position_scores)
    per_extra_competitor: float = attrs.field(default=0.05, converter=_num)
    max_count_penalty: float = attrs.field(default=0.2, converter=_num)
    incumbent_penalty: float = attrs.field(default=0.15, converter=_num)
    _by_position: dict[CompetitivePosition, float] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    _memo: dict[Any, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        _ids(p, self)
        _unit(p, "no_competitor_score", self.no_competitor_score)
        _table(p, "position_scores", self.position_scores, _POSITIONS)
        if not p:
            s = [self.position_scores[k] for k in _POSITION_ORDER]
            if any(a > b for a, b in itertools.pairwise(s)):
                p.append(("position_scores", ("must not decrease from trailing, unknown, even "
                          "to leading")))
            if s[-1] > self.no_competitor_score:
                p.append(("position_scores.leading", "must not exceed no_competitor_score"))
        for name in ("per_extra_competitor", "max_count_penalty", "incumbent_penalty"):
            _unit(p, name, getattr(self, name))
        _raise(p, self)
        # Looked up by member on the hot path (an enum's .value is a slow property).
        self._by_position.update((m, self.position_scores[m.value]) for m in CompetitivePosition)

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the competitive situation of ``subject``."""
        return as_result(self._find(subject, context))

    def _find(self, subject: Subject, context: ScoringContext) -> Finding:
        """:meth:`evaluate`'s finding as a plain tuple (what a Scorecard reads)."""
        c = subject.qualification.competition
        if c is None:
            return _unknown("competition_unknown", "competition not assessed")
        competitors = c.competitors
        memo = self._memo
        if not competitors:
            r = memo.get("none")
            if r is None:
                r = _keep(memo, "none", _reason("no_competition", "no competitor in the deal",
                                                self.no_competitor_score - 0.5))
            return _result([r], 1.0)
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
            r = _keep(memo, key, _reason(f"position_{value}", f"our position against "
                                         f"{worst.name}: {value}", score - 0.5))
        reasons = [r]
        extra = len(competitors) - 1
        if extra:
            key = ("count", extra)
            r = memo.get(key)
            if r is None:
                r = _keep(memo, key, _reason(
                    "many_competitors", f"{len(competitors)} competitors",
                    -min(extra * self.per_extra_competitor, self.max_count_penalty)))
            reasons.append(r)
        if incumbent is not None:
            key = ("incumbent", incumbent.name)
            r = memo.get(key)
            if r is None:
                r = _keep(memo, key, _reason("incumbent", f"incumbent {incumbent.name} is in "
                                             "the deal", -self.incumbent_penalty))
            reasons.append(r)
        return _result(reasons, 0.5 + 0.5 * known / len(competitors))


BUILTIN_RULES: Final = (UrgencyRule, BudgetRule, DecisionCycleRule, CompetitionRule)
"""The built-in rule classes: a Scorecard reads their findings directly (see Finding)."""
