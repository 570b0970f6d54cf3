"""How a model did on later deals: AUC, Brier score, reliability bins, the report."""

import math
from collections.abc import Sequence
from datetime import datetime

import attrs

__all__ = ["CalibrationReport", "ReliabilityBin", "auc", "brier", "report"]


@attrs.frozen(kw_only=True)
class ReliabilityBin:
    """One bin of a reliability table: predicted against actual win rate.

    Args:
        low: Lower bound of predicted probability (inclusive).
        high: Upper bound (exclusive, except 1.0).
        count: Predictions in the bin.
        predicted: Mean predicted probability.
        actual: Share actually won.
    """

    low: float
    high: float
    count: int
    predicted: float
    actual: float


@attrs.frozen(kw_only=True)
class CalibrationReport:
    """How a model did on the later deals it did not train on.

    Args:
        n_train: Training examples (for the win model, deal-stage pairs).
        n_validation: Validation examples.
        validated_from: Close time of the earliest validation deal.
        auc: Area under the ROC curve (``None`` if the validation set has one class only).
        brier: Brier score (mean squared error; lower is better).
        baseline_auc: AUC of the baseline (stage default or base rate).
        baseline_brier: Brier score of the baseline.
        baseline: What the baseline was.
        reliability: Predicted vs actual win rate in ten bins (empty bins left out).
        n_undated: Closed deals left out of training and validation because their close
            time is unknown (their history has no entry into their won or lost stage).
    """

    n_train: int
    n_validation: int
    validated_from: datetime | None
    auc: float | None
    brier: float
    baseline_auc: float | None
    baseline_brier: float
    baseline: str
    reliability: tuple[ReliabilityBin, ...]
    n_undated: int = 0


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """Return the area under the ROC curve (ties count half), or ``None`` for one class."""
    pairs = sorted(zip(scores, outcomes, strict=True), key=lambda t: t[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tied run
        rank_sum += mid * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def brier(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Return the Brier score: mean of (p - outcome)^2."""
    return math.fsum((p - y) ** 2 for p, y in zip(probabilities, outcomes, strict=True)) / max(
        1, len(outcomes))


def reliability(probs: Sequence[float], outcomes: Sequence[bool]) -> tuple[ReliabilityBin, ...]:
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(10)]
    for p, y in zip(probs, outcomes, strict=True):
        bins[min(9, int(p * 10))].append((p, y))
    return tuple(ReliabilityBin(low=i / 10, high=(i + 1) / 10, count=len(b),
                                predicted=math.fsum(p for p, _ in b) / len(b),
                                actual=sum(1 for _, y in b if y) / len(b))
                 for i, b in enumerate(bins) if b)


def report(n_train: int, probs: list[float], base: list[float], outcomes: list[bool],
            validated_from: datetime | None, baseline: str, undated: int) -> CalibrationReport:
    """Return the validation report of ``probs`` (and the baseline ``base``)."""
    return CalibrationReport(
        n_train=n_train, n_validation=len(outcomes), validated_from=validated_from,
        auc=auc(probs, outcomes), brier=brier(probs, outcomes),
        baseline_auc=auc(base, outcomes), baseline_brier=brier(base, outcomes),
        baseline=baseline, reliability=reliability(probs, outcomes), n_undated=undated)


