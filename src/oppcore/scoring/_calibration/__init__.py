"""Learning from closed deals, in pure Python: a win-probability model and scorecard weights.

Two models, both validated on deals that closed *after* the ones they learn from:

* :func:`fit_win_model`: naive Bayes over won/lost frequency tables per field value, in the
  style of Odoo's predictive lead scoring (Laplace smoothing, a minimum count per value,
  and per-stage counting: a won deal counts for every stage, a lost deal for the stage it
  died in and every earlier one). Its estimate shows each field's contribution in log-odds.
* :func:`fit_weights`: L2-regularised logistic regression of the outcome on the scorecard's
  rule sub-scores (Newton's method), giving fitted weights and a probability.

Formulas: naive Bayes as in any textbook (log P(won | x) - log P(lost | x) = prior log-odds
+ sum of per-field log-likelihood ratios); AUC as the Mann-Whitney statistic with ties
counted half; Brier score as the mean squared error of the probability.
"""

from ._common import ModelProvenance
from ._metrics import CalibrationReport, ReliabilityBin
from ._weights import WeightFit, fit_weights
from ._win_model import WIN_MODEL_FIELDS, FieldEffect, WinEstimate, WinModel, fit_win_model

__all__ = ["WIN_MODEL_FIELDS", "CalibrationReport", "FieldEffect", "ModelProvenance",
           "ReliabilityBin", "WeightFit", "WinEstimate", "WinModel", "fit_weights",
           "fit_win_model"]
