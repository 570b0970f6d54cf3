"""Explainable scoring: rules, scorecards, plugins and calibration.

Every public name here is also importable from :mod:`oppcore`; the implementation lives in
private modules: ``_rule`` (the rule protocol and findings), ``_builtin/`` (one module
per built-in rule), ``_score`` and ``_scorecard`` (scores and scorecards), ``_config``,
``_plugins`` and ``_calibration/`` (win model, weight fit, metrics).
"""

from oppcore._public import publish as _publish

from ._builtin import BudgetRule, CompetitionRule, DecisionCycleRule, UrgencyRule
from ._calibration import (
    WIN_MODEL_FIELDS,
    CalibrationReport,
    FieldEffect,
    ModelProvenance,
    ReliabilityBin,
    WeightFit,
    WinEstimate,
    WinModel,
    fit_weights,
    fit_win_model,
)
from ._plugins import ENTRY_POINT_GROUP, LoadedPlugins, PluginInfo, load_plugins
from ._rule import (
    CurrencyConverter,
    Finding,
    FunctionRule,
    Reason,
    RuleResult,
    ScoringContext,
    ScoringRule,
    Subject,
    scoring_rule,
)
from ._score import Contribution, ContributionStatus, Factor, MissingDataPolicy, Score
from ._scorecard import Scorecard

__all__ = [
    # rules
    "CurrencyConverter",
    "Finding",
    "FunctionRule",
    "Reason",
    "RuleResult",
    "ScoringContext",
    "ScoringRule",
    "Subject",
    "scoring_rule",
    "BudgetRule",
    "CompetitionRule",
    "DecisionCycleRule",
    "UrgencyRule",
    # scorecards and scores
    "Contribution",
    "ContributionStatus",
    "Factor",
    "MissingDataPolicy",
    "Score",
    "Scorecard",
    # plugins
    "ENTRY_POINT_GROUP",
    "LoadedPlugins",
    "PluginInfo",
    "load_plugins",
    # calibration
    "WIN_MODEL_FIELDS",
    "CalibrationReport",
    "FieldEffect",
    "ModelProvenance",
    "ReliabilityBin",
    "WeightFit",
    "WinEstimate",
    "WinModel",
    "fit_weights",
    "fit_win_model",
]

_publish(__name__, globals(), __all__)
