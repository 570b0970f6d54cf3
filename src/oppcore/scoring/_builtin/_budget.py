"""The budget rule: known, confirmed, and large enough for the deal."""

import math
from decimal import ROUND_HALF_EVEN, Context, DivisionByZero, InvalidOperation, Overflow
from typing import ClassVar, Final

import attrs

from oppcore._checks import in_bounds
from oppcore._models import Opportunity
from oppcore.scoring._rule import Finding, Reason, RuleResult, ScoringContext, Subject

from ._common import (
    EFFECT,
    RATIO,
    SHARE,
    bounds_check,
    fixed_reasons,
    ids_check,
    num,
    raise_problems,
    reason,
    result,
    unknown,
)

__all__ = ["BudgetRule"]

_UNKNOWN: Final = unknown("budget_unknown", "no budget information")
# The budget/amount ratio is divided in this fixed context, not the caller's thread-wide
# decimal context: a score must not depend on how the host set decimal precision.
_RATIO: Final = Context(prec=28, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999,
                        traps=[InvalidOperation, DivisionByZero, Overflow])


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
    min_ratio: float = attrs.field(default=0.5, converter=num,
                                metadata=in_bounds(RATIO))
    full_ratio: float = attrs.field(default=1.0, converter=num,
                                 metadata=in_bounds(RATIO))
    ratio_weight: float = attrs.field(default=0.6, converter=num,
                                   metadata=in_bounds(SHARE))
    confirmed_effect: float = attrs.field(default=0.2, converter=num,
                                       metadata=in_bounds(EFFECT))
    unconfirmed_effect: float = attrs.field(default=-0.1, converter=num,
                                         metadata=in_bounds(EFFECT))
    no_figure_effect: float = attrs.field(default=-0.1, converter=num,
                                       metadata=in_bounds(EFFECT))
    veto_below_ratio: float | None = attrs.field(default=None, converter=num,
                                              metadata=in_bounds(RATIO))
    _reasons: dict[str, Reason] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        p: list[tuple[str, str]] = []
        ids_check(p, self)
        bounds_check(p, self)
        if not p and self.full_ratio <= self.min_ratio:
            p.append(("full_ratio", "must be greater than min_ratio"))
        if not p and self.confirmed_effect < self.unconfirmed_effect:
            p.append(("confirmed_effect", ("must be >= unconfirmed_effect (confirming a "
                      "budget must never lower the score)")))
        raise_problems(p, self)
        object.__setattr__(self, "_reasons", fixed_reasons((
            ("budget_confirmed", "budget is confirmed", self.confirmed_effect),
            ("budget_unconfirmed", "budget is not confirmed", self.unconfirmed_effect),
            ("budget_no_figure", "customer named no budget figure", self.no_figure_effect),
            ("deal_amount_unknown", "deal amount unknown: budget ratio not assessed", 0.0),
        )))

    def evaluate(self, subject: Subject, context: ScoringContext) -> RuleResult:
        """Score the budget of ``subject``."""
        return self.find(subject, context).as_result()

    def find(self, subject: Subject, context: ScoringContext) -> Finding:
        """Return :meth:`evaluate`'s judgement as a :class:`~oppcore.scoring.Finding` (fast).

        The documented fast method a :class:`~oppcore.Scorecard` calls instead of
        :meth:`evaluate` (see :class:`~oppcore.ScoringRule`).
        """
        b = subject.qualification.budget
        if b is None:
            return _UNKNOWN
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
                    reasons.append(reason(
                        code, f"budget in {budget.currency}, deal in {amount.currency}: "
                        "ratio not assessed (no conversion)", 0.0))
                    return result(reasons, confidence)
                budget = converted
            ratio = (math.inf if amount.amount == 0
                     else float(_RATIO.divide(budget.amount, amount.amount)))
            score = min(1.0, max(0.0, (ratio - self.min_ratio)
                                 / (self.full_ratio - self.min_ratio)))
            shown = "all" if ratio == math.inf else f"{ratio:.0%}"
            reasons.append(reason(
                "budget_covers" if score >= 0.5 else "budget_short",
                f"budget covers {shown} of the deal amount",
                self.ratio_weight * (score - 0.5)))
            confidence = 1.0
            if (self.veto_below_ratio is not None and b.confirmed
                    and ratio < self.veto_below_ratio):
                veto = True
                reasons.append(reason("budget_veto", f"confirmed budget covers {shown} of "
                                       f"the deal, below the {self.veto_below_ratio:.0%} limit",
                                       0.0))
        return result(reasons, confidence, veto)
