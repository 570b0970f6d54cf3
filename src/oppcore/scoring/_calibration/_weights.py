"""Scorecard weights fitted to won/lost outcomes (L2-regularised logistic regression)."""

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from oppcore._checks import aware
from oppcore._errors import CalibrationError, ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._version import __version__
from oppcore.scoring._rule import ScoringContext
from oppcore.scoring._scorecard import Scorecard

from ._common import (
    MODEL_FORMAT,
    ClosedDeal,
    ModelProvenance,
    apply_probability,
    closed_deals,
    pipeline_parts,
    sigmoid,
    split,
)
from ._metrics import CalibrationReport, report

__all__ = ["WeightFit", "fit_weights"]


@attrs.frozen(kw_only=True)
class WeightFit:
    """Scorecard weights fitted to outcomes (see :func:`fit_weights`).

    Args:
        scorecard: The input scorecard with the fitted weights (summing to 100).
        intercept: The logistic model's intercept.
        coefficients: ``rule_id -> coefficient`` on the sub-score (log-odds per unit).
        dropped: Rules whose coefficient came out negative (weight set to 0).
        l2: The regularisation strength used.
        provenance: Where it came from.
        report: Validation on later deals.
    """

    scorecard: Scorecard
    intercept: float
    coefficients: Mapping[str, float]
    dropped: tuple[str, ...]
    l2: float
    provenance: ModelProvenance
    report: CalibrationReport

    def probability(self, opp: Opportunity, *, now: datetime) -> float:
        """Return the fitted win probability of ``opp`` scored at ``now``."""
        x = _features(self.scorecard, opp, ScoringContext(now=now))
        return sigmoid(self.intercept + math.fsum(
            self.coefficients[r.rule_id] * v for r, v in zip(self.scorecard.rules, x,
                                                            strict=True)))

    def apply(self, opp: Opportunity, *, now: datetime) -> Opportunity:
        """Return ``opp`` with the fitted probability, provenance ``MODEL``.

        A manual probability is never overridden: only ``model_probability`` is set then.
        """
        return apply_probability(opp, self.probability(opp, now=now), self.provenance)


def _features(card: Scorecard, opp: Opportunity, ctx: ScoringContext) -> list[float]:
    score = card.score(opp, context=ctx)
    fill = card.missing_value
    return [c.value if c.value is not None else fill for c in score.contributions]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve ``a x = b`` by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[piv][col]) < 1e-12:
            raise CalibrationError("the sub-scores are collinear: the weights cannot be "
                                   "separated (try a larger l2)")
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _logistic(rows: list[list[float]], ys: list[bool], l2: float) -> list[float]:
    """L2-regularised logistic regression by Newton's method; rows start with 1.0."""
    k = len(rows[0])
    beta = [0.0] * k
    for _ in range(50):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for x, y in zip(rows, ys, strict=True):
            z = 0.0
            for j in range(k):
                z += beta[j] * x[j]
            p = sigmoid(z)
            err = p - y
            w = p * (1.0 - p)
            for i in range(k):
                xi = x[i]
                grad[i] += err * xi
                wi = w * xi
                hrow = hess[i]
                for j in range(i, k):
                    hrow[j] += wi * x[j]
        for i in range(k):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i:  # the intercept is not penalised
                grad[i] += l2 * beta[i]
                hess[i][i] += l2
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return beta


def fit_weights(
    scorecard: Scorecard,
    history: Iterable[Opportunity],
    *,
    now: datetime,
    won_stages: Collection[str] = ("won",),
    lost_stages: Collection[str] = ("lost",),
    pipeline: Any = None,
    l2: float = 1.0,
    validation_share: float = 0.25,
    min_outcomes: int = 10,
    as_of: Callable[[Opportunity], datetime] | None = None,
) -> WeightFit:
    """Fit the scorecard's weights to won/lost outcomes (L2-regularised logistic regression).

    Each closed deal is scored with ``scorecard`` as of ``as_of(deal)`` (default: when it
    closed); an unknown sub-score counts as the scorecard's ``missing_value``. The outcome is
    regressed on the sub-scores; positive coefficients become the new weights, scaled to sum
    to 100 (negative ones become 0 and are listed in ``dropped``).

    Args:
        scorecard: The scorecard whose rules give the features.
        history: Deals; those in a won or lost stage are used.
        now: When the fit happens (recorded in the provenance).
        won_stages: Won stage ids (ignored when ``pipeline`` is given).
        lost_stages: Lost stage ids (ignored when ``pipeline`` is given).
        pipeline: An :class:`oppcore.Pipeline` supplying the won and lost stages.
        l2: Regularisation strength (>= 0) on the coefficients, not the intercept.
        validation_share: Share of the latest-closing deals kept for validation.
        min_outcomes: Least number of won and of lost deals needed for training (>= 1).
        as_of: When to score each deal (default: its close time).

    Returns:
        The fitted weights, coefficients, provenance and validation report (baseline: the
        training win rate).

    Raises:
        CalibrationError: Too few won or lost deals, collinear sub-scores, or every
            coefficient negative.
        ValidationError: Bad arguments.
    """
    aware(now, "now")
    if not (type(l2) in (int, float) and 0 <= l2 < math.inf):
        raise ValidationError(f"l2 must be a number >= 0, got {l2!r}")
    if pipeline is not None:
        _, won_stages, lost_stages, _ = pipeline_parts(pipeline)
    closed = closed_deals(history, won_stages, lost_stages)
    train, valid = split(closed, validation_share, min_outcomes)

    def rows(part: list[ClosedDeal]) -> list[list[float]]:
        # Scored as of the close time the split used, unless the caller says otherwise.
        return [[1.0, *_features(scorecard, t.opp, ScoringContext(
            now=t.closed_at if as_of is None else as_of(t.opp)))] for t in part]

    beta = _logistic(rows(train), [y for _, _, y in train], float(l2))
    ids = [r.rule_id for r in scorecard.rules]
    coefs = dict(zip(ids, beta[1:], strict=True))
    positive = {r: max(0.0, c) for r, c in coefs.items()}
    total = sum(positive.values())
    if total <= 0:
        raise CalibrationError("every rule's coefficient is <= 0: the sub-scores do not "
                               "predict winning on this history")
    weights = {r: round(100 * c / total, 2) for r, c in positive.items()}
    n_won = sum(1 for t in train if t.won)
    provenance = ModelProvenance(
        model="logistic_weights", version=MODEL_FORMAT, library_version=__version__,
        fitted_at=now, trained_from=train[0].closed_at,
        trained_to=train[-1].closed_at, n_won=n_won,
        n_lost=len(train) - n_won, features=tuple(ids))
    vrows = rows(valid)
    probs = [sigmoid(math.fsum(b * x for b, x in zip(beta, row, strict=True)))
             for row in vrows]
    outcomes = [y for _, _, y in valid]
    rate = n_won / len(train)
    result = report(len(train), probs, [rate] * len(outcomes), outcomes,
                    valid[0].closed_at if valid else None, "training win rate", closed.undated)
    return WeightFit(scorecard=scorecard.with_weights(weights), intercept=beta[0],
                     coefficients=FrozenMap(coefs),
                     dropped=tuple(r for r, c in coefs.items() if c <= 0), l2=float(l2),
                     provenance=provenance, report=result)

