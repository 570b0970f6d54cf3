"""Explainable scoring: rules, scorecards, plugins and calibration (re-exported by oppcore)."""

from ._builtin import BudgetRule, CompetitionRule, DecisionCycleRule, UrgencyRule
from ._rule import (
    CurrencyConverter,
    FunctionRule,
    Reason,
    RuleResult,
    ScoringContext,
    ScoringRule,
    Subject,
    scoring_rule,
)
from ._scorecard import (
    Contribution,
    ContributionStatus,
    Factor,
    MissingDataPolicy,
    Score,
    Scorecard,
)

__all__ = [
    "BudgetRule",
    "CompetitionRule",
    "Contribution",
    "ContributionStatus",
    "CurrencyConverter",
    "DecisionCycleRule",
    "Factor",
    "FunctionRule",
    "MissingDataPolicy",
    "Reason",
    "RuleResult",
    "Score",
    "Scorecard",
    "ScoringContext",
    "ScoringRule",
    "Subject",
    "UrgencyRule",
    "scoring_rule",
]
