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

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from oppcore._errors import CalibrationError, ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity, Probability, ProbabilitySource
from oppcore._version import __version__

from ._rule import ScoringContext
from ._scorecard import Scorecard

__all__ = ["WIN_MODEL_FIELDS", "CalibrationReport", "FieldEffect", "ModelProvenance",
           "ReliabilityBin", "WeightFit", "WinEstimate", "WinModel", "fit_weights",
           "fit_win_model"]

MODEL_FORMAT: Final = "1"

FieldValue = str | tuple[str, ...] | None
Extractor = Callable[[Opportunity], FieldValue]


def _yes_no(v: bool | None) -> str | None:
    return None if v is None else ("yes" if v else "no")


_EXTRACTORS: Final[dict[str, Extractor]] = {
    "source": lambda o: o.source.channel.value if o.source is not None else None,
    "industry": lambda o: o.account.industry if o.account is not None else None,
    "size": lambda o: o.account.size.value if o.account is not None
    and o.account.size is not None else None,
    "region": lambda o: o.account.region if o.account is not None else None,
    "urgency": lambda o: u.level.value if (u := o.qualification.urgency) is not None
    and u.level is not None else None,
    "budget_confirmed": lambda o: _yes_no(b.confirmed) if (b := o.qualification.budget)
    is not None else None,
    "decision_maker_engaged": lambda o: _yes_no(d.decision_maker_engaged)
    if (d := o.qualification.decision) is not None else None,
    "incumbent": lambda o: _yes_no(c.incumbent is not None)
    if (c := o.qualification.competition) is not None else None,
    "tags": lambda o: tuple(sorted(o.tags)) or None,
}
WIN_MODEL_FIELDS: Final = tuple(_EXTRACTORS)
"""Fields the win model reads by default; ``custom:<name>`` reads a custom field."""


@attrs.frozen(kw_only=True)
class ModelProvenance:
    """Where a fitted model came from.

    Args:
        model: ``"naive_bayes"`` or ``"logistic_weights"``.
        version: Model format version.
        library_version: oppcore version that fitted it.
        fitted_at: The ``now`` passed to the fit.
        trained_from: Close time of the earliest training deal.
        trained_to: Close time of the latest training deal.
        n_won: Won deals in the training set.
        n_lost: Lost deals in the training set.
        features: The fields or rule ids it uses.
    """

    model: str
    version: str
    library_version: str
    fitted_at: datetime
    trained_from: datetime
    trained_to: datetime
    n_won: int
    n_lost: int
    features: tuple[str, ...]

    def note(self) -> str:
        """A one-line description, stored in :attr:`Probability.note <oppcore.Probability>`."""
        return (f"{self.model} v{self.version}, trained on {self.n_won} won / {self.n_lost} "
                f"lost closed {self.trained_from.date()}..{self.trained_to.date()}")


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


@attrs.frozen(kw_only=True)
class FieldEffect:
    """One field's part in a win estimate.

    Args:
        field: The field (``"stage"``, ``"source"``...).
        value: Its value on the deal.
        won: Training count of won deals with this value.
        lost: Training count of lost deals with this value.
        log_odds: What it adds to the log-odds of winning (positive helps).
    """

    field: str
    value: str
    won: int
    lost: int
    log_odds: float


@attrs.frozen(kw_only=True)
class WinEstimate:
    """An explained win probability.

    Args:
        probability: The estimate in (0, 1).
        prior_log_odds: Log-odds of winning before looking at the deal.
        effects: Each known field's contribution, largest first.
    """

    probability: float
    prior_log_odds: float
    effects: tuple[FieldEffect, ...]


def _apply(opp: Opportunity, value: float, provenance: ModelProvenance) -> Opportunity:
    p = Probability(value=value, source=ProbabilitySource.MODEL, note=provenance.note())
    if opp.probability is not None and opp.probability.source is ProbabilitySource.MANUAL:
        return opp.evolve(model_probability=p)
    return opp.evolve(probability=p, model_probability=p)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@attrs.frozen(kw_only=True)
class WinModel:
    """A fitted naive-Bayes win model (see :func:`fit_win_model`).

    Args:
        fields: The fields it reads.
        stage_order: Open stage ids in pipeline order.
        tables: ``field -> value -> (won, lost)`` training counts (values below the
            minimum count left out); the ``"stage"`` table uses per-stage counting.
        n_won: Won training deals.
        n_lost: Lost training deals.
        smoothing: Laplace smoothing added to every count.
        provenance: Where it came from.
        report: Validation on later deals.
    """

    fields: tuple[str, ...]
    stage_order: tuple[str, ...]
    tables: Mapping[str, Mapping[str, tuple[int, int]]]
    n_won: int
    n_lost: int
    smoothing: float
    provenance: ModelProvenance
    report: CalibrationReport
    _extractors: Mapping[str, Extractor] = attrs.field(eq=False, repr=False)
    _log: Mapping[str, Mapping[str, float]] = attrs.field(init=False, eq=False, repr=False,
                                                          factory=dict)

    def __attrs_post_init__(self) -> None:
        a = self.smoothing
        log: dict[str, dict[str, float]] = {}
        for name, table in self.tables.items():
            k = len(table)
            tw = sum(w for w, _ in table.values()) + a * k
            tl = sum(x for _, x in table.values()) + a * k
            log[name] = {v: math.log((w + a) / tw) - math.log((x + a) / tl)
                         for v, (w, x) in table.items()}
        object.__setattr__(self, "_log", log)

    def estimate(self, opp: Opportunity, *, stage: str | None = None) -> WinEstimate:
        """Estimate the win probability of ``opp`` and show each field's contribution.

        Args:
            opp: The deal (open, usually).
            stage: Estimate as if the deal were in this stage (default: its own).
        """
        prior = math.log(self.n_won / self.n_lost)
        effects = []
        values: list[tuple[str, FieldValue]] = [("stage", stage or opp.stage_id)]
        values += [(f, self._extractors[f](opp)) for f in self.fields]
        for name, raw in values:
            for v in (raw if isinstance(raw, tuple) else (raw,)):
                if v is None:
                    continue
                lo = self._log.get(name, {}).get(str(v))
                if lo is None:
                    continue  # unseen or too rare in training: no evidence either way
                won, lost = self.tables[name][str(v)]
                effects.append(FieldEffect(field=name, value=str(v), won=won, lost=lost,
                                           log_odds=lo))
        effects.sort(key=lambda e: -abs(e.log_odds))
        z = prior + math.fsum(e.log_odds for e in effects)
        return WinEstimate(probability=_sigmoid(z), prior_log_odds=prior,
                           effects=tuple(effects))

    def apply(self, opp: Opportunity) -> Opportunity:
        """Return ``opp`` with the model's probability, provenance ``MODEL``.

        A manual probability is never overridden: only ``model_probability`` is set then.
        """
        return _apply(opp, self.estimate(opp).probability, self.provenance)


def _custom(key: str) -> Extractor:
    def extract(opp: Opportunity) -> FieldValue:
        v = opp.custom.get(key)
        return None if v is None else str(v)

    return extract


def _outcome(opp: Opportunity, won: Collection[str], lost: Collection[str]) -> bool | None:
    if opp.stage_id in won:
        return True
    if opp.stage_id in lost:
        return False
    return None


def _closed_at(opp: Opportunity) -> datetime:
    return opp.stage_history[-1].at if opp.stage_history else opp.updated_at


def _closed(history: Iterable[Opportunity], won: Collection[str], lost: Collection[str]
            ) -> list[tuple[datetime, Opportunity, bool]]:
    if isinstance(history, (Opportunity, str, bytes)) or not isinstance(history, Iterable):
        raise ValidationError(f"history must be an iterable of opportunities, got "
                              f"{type(history).__name__}", field="history", value=history)
    out = []
    for i, opp in enumerate(history):
        if not isinstance(opp, Opportunity):
            raise ValidationError(f"history[{i}] is a {type(opp).__name__}, not an "
                                  "Opportunity", value=opp)
        result = _outcome(opp, won, lost)
        if result is not None:
            out.append((_closed_at(opp), opp, result))
    out.sort(key=lambda t: t[0])
    return out


def _split(closed: list[tuple[datetime, Opportunity, bool]], share: float,
           min_outcomes: int) -> tuple[list[Any], list[Any]]:
    if type(share) not in (int, float) or not 0.0 <= share < 1.0:  # NaN fails too
        raise ValidationError(f"validation_share must be a number in [0, 1), got {share!r}",
                              field="validation_share", value=share)
    if type(min_outcomes) is not int or min_outcomes < 1:
        # At least one won and one lost deal: the fit needs both outcomes to train on.
        raise ValidationError(f"min_outcomes must be an int >= 1, got {min_outcomes!r}",
                              field="min_outcomes", value=min_outcomes)
    cut = len(closed) - int(len(closed) * share)
    train, valid = closed[:cut], closed[cut:]
    n_won = sum(1 for t in train if t[2])
    n_lost = len(train) - n_won
    if n_won < min_outcomes or n_lost < min_outcomes:
        raise CalibrationError(
            f"too few closed deals to calibrate: the training period has {n_won} won and "
            f"{n_lost} lost; at least {min_outcomes} of each are needed ("
            f"{len(closed)} closed deal(s) in total)")
    return train, valid


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


def _reliability(probs: Sequence[float], outcomes: Sequence[bool]) -> tuple[ReliabilityBin, ...]:
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(10)]
    for p, y in zip(probs, outcomes, strict=True):
        bins[min(9, int(p * 10))].append((p, y))
    return tuple(ReliabilityBin(low=i / 10, high=(i + 1) / 10, count=len(b),
                                predicted=math.fsum(p for p, _ in b) / len(b),
                                actual=sum(1 for _, y in b if y) / len(b))
                 for i, b in enumerate(bins) if b)


def _report(n_train: int, probs: list[float], base: list[float], outcomes: list[bool],
            validated_from: datetime | None, baseline: str) -> CalibrationReport:
    return CalibrationReport(
        n_train=n_train, n_validation=len(outcomes), validated_from=validated_from,
        auc=auc(probs, outcomes), brier=brier(probs, outcomes),
        baseline_auc=auc(base, outcomes), baseline_brier=brier(base, outcomes),
        baseline=baseline, reliability=_reliability(probs, outcomes))


def _stages_reached(opp: Opportunity, won: bool, order: Sequence[str],
                    index: Mapping[str, int]) -> Sequence[str]:
    """Stages a closed deal counts for: all if won, up to where it died if lost."""
    if won:
        return order
    reached = 0
    for change in opp.stage_history:
        for s in (change.from_stage, change.to_stage):
            if s is not None and s in index:
                reached = max(reached, index[s])
    return order[:reached + 1]


def _pipeline_parts(pipeline: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...],
                                            dict[str, float]]:
    try:
        order = tuple(s.id for s in pipeline.open_stages)
        won = tuple(s.id for s in pipeline.won_stages)
        lost = tuple(s.id for s in pipeline.lost_stages)
        probs = {s.id: float(s.probability) for s in pipeline.open_stages}
    except AttributeError as exc:
        raise ValidationError(f"pipeline must be an oppcore Pipeline, got "
                              f"{type(pipeline).__name__}", value=pipeline) from exc
    return order, won, lost, probs


def fit_win_model(
    history: Iterable[Opportunity],
    *,
    now: datetime,
    pipeline: Any = None,
    stage_order: Sequence[str] = (),
    won_stages: Collection[str] = ("won",),
    lost_stages: Collection[str] = ("lost",),
    stage_probabilities: Mapping[str, float] | None = None,
    fields: Sequence[str] = WIN_MODEL_FIELDS,
    extractors: Mapping[str, Extractor] | None = None,
    smoothing: float = 1.0,
    min_count: int = 3,
    validation_share: float = 0.25,
    min_outcomes: int = 10,
) -> WinModel:
    """Fit a naive-Bayes win model on closed deals and validate it on later ones.

    Args:
        history: Deals; those in a won or lost stage are used, open ones ignored.
        now: When the fit happens (recorded in the provenance).
        pipeline: An :class:`oppcore.Pipeline`; supplies the stage order, the won and lost
            stages and the stage-default probabilities (the baseline).
        stage_order: Open stage ids in order, when no pipeline is given.
        won_stages: Won stage ids, when no pipeline is given.
        lost_stages: Lost stage ids, when no pipeline is given.
        stage_probabilities: Stage-default probabilities for the baseline, when no pipeline
            is given (default: the training win rate for every stage).
        fields: Fields to learn from (:data:`WIN_MODEL_FIELDS`, ``custom:<name>``, or names
            in ``extractors``).
        extractors: Host-defined fields: ``name -> function(opp) -> str | tuple | None``.
        smoothing: Laplace smoothing added to every count (> 0).
        min_count: Values seen on fewer closed deals are ignored (too little evidence).
        validation_share: Share of the latest-closing deals kept for validation.
        min_outcomes: Least number of won and of lost deals needed for training (>= 1).

    Returns:
        The fitted model with its provenance and validation report.

    Raises:
        CalibrationError: Too few won or lost deals in the training period.
        ValidationError: Bad arguments (unknown field, naive ``now``, bad pipeline...).
    """
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValidationError("now must be a timezone-aware datetime", field="now", value=now)
    if not (type(smoothing) in (int, float) and 0 < smoothing < math.inf):
        raise ValidationError(f"smoothing must be a positive number, got {smoothing!r}")
    if type(min_count) is not int or min_count < 1:
        raise ValidationError(f"min_count must be an int >= 1, got {min_count!r}")
    base_probs: dict[str, float] = dict(stage_probabilities or {})
    if pipeline is not None:
        order, won_ids, lost_ids, base_probs = _pipeline_parts(pipeline)
    else:
        order, won_ids, lost_ids = tuple(stage_order), tuple(won_stages), tuple(lost_stages)
    if not order:
        raise ValidationError("the stage order is empty: pass pipeline= or stage_order=")
    get: dict[str, Extractor] = {}
    for f in fields:
        if extractors and f in extractors:
            get[f] = extractors[f]
        elif f in _EXTRACTORS:
            get[f] = _EXTRACTORS[f]
        elif f.startswith("custom:") and len(f) > 7:
            get[f] = _custom(f[7:])
        else:
            raise ValidationError(f"unknown field {f!r}; use one of {', '.join(_EXTRACTORS)}, "
                                  "custom:<name> or pass an extractor")
    closed = _closed(history, won_ids, lost_ids)
    train, valid = _split(closed, validation_share, min_outcomes)
    index = {s: i for i, s in enumerate(order)}
    counts: dict[str, dict[str, list[int]]] = {"stage": {}, **{f: {} for f in get}}
    n_won = 0
    for _, opp, won in train:
        n_won += won
        col = 0 if won else 1
        for s in _stages_reached(opp, won, order, index):
            counts["stage"].setdefault(s, [0, 0])[col] += 1
        for f, extract in get.items():
            raw = extract(opp)
            for v in (raw if isinstance(raw, tuple) else (raw,)):
                if v is not None:
                    counts[f].setdefault(str(v), [0, 0])[col] += 1
    tables = FrozenMap({f: FrozenMap({v: (w, x) for v, (w, x) in t.items()
                                      if f == "stage" or w + x >= min_count})
                        for f, t in counts.items()})
    provenance = ModelProvenance(
        model="naive_bayes", version=MODEL_FORMAT, library_version=__version__,
        fitted_at=now, trained_from=train[0][0], trained_to=train[-1][0], n_won=n_won,
        n_lost=len(train) - n_won, features=("stage", *get))
    rate = n_won / len(train)
    empty = CalibrationReport(n_train=0, n_validation=0, validated_from=None, auc=None,
                              brier=0.0, baseline_auc=None, baseline_brier=0.0, baseline="",
                              reliability=())
    model = WinModel(fields=tuple(get), stage_order=order, tables=tables, n_won=n_won,
                     n_lost=len(train) - n_won, smoothing=float(smoothing),
                     provenance=provenance, report=empty, extractors=FrozenMap(get))
    probs: list[float] = []
    base: list[float] = []
    outcomes: list[bool] = []
    for _, opp, won in valid:
        for s in _stages_reached(opp, won, order, index):
            probs.append(model.estimate(opp, stage=s).probability)
            base.append(base_probs.get(s, rate))
            outcomes.append(won)
    n_train = sum(len(_stages_reached(o, w, order, index)) for _, o, w in train)
    report = _report(n_train, probs, base, outcomes, valid[0][0] if valid else None,
                     "stage default probability" if base_probs else "training win rate")
    return attrs.evolve(model, report=report)


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
        return _sigmoid(self.intercept + math.fsum(
            self.coefficients[r.rule_id] * v for r, v in zip(self.scorecard.rules, x,
                                                            strict=True)))

    def apply(self, opp: Opportunity, *, now: datetime) -> Opportunity:
        """Return ``opp`` with the fitted probability, provenance ``MODEL``.

        A manual probability is never overridden: only ``model_probability`` is set then.
        """
        return _apply(opp, self.probability(opp, now=now), self.provenance)


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
            p = _sigmoid(z)
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
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValidationError("now must be a timezone-aware datetime", field="now", value=now)
    if not (type(l2) in (int, float) and 0 <= l2 < math.inf):
        raise ValidationError(f"l2 must be a number >= 0, got {l2!r}")
    if pipeline is not None:
        _, won_stages, lost_stages, _ = _pipeline_parts(pipeline)
    closed = _closed(history, won_stages, lost_stages)
    train, valid = _split(closed, validation_share, min_outcomes)
    when = as_of or _closed_at

    def rows(part: list[Any]) -> list[list[float]]:
        return [[1.0, *_features(scorecard, o, ScoringContext(now=when(o)))]
                for _, o, _ in part]

    beta = _logistic(rows(train), [y for _, _, y in train], float(l2))
    ids = [r.rule_id for r in scorecard.rules]
    coefs = dict(zip(ids, beta[1:], strict=True))
    positive = {r: max(0.0, c) for r, c in coefs.items()}
    total = sum(positive.values())
    if total <= 0:
        raise CalibrationError("every rule's coefficient is <= 0: the sub-scores do not "
                               "predict winning on this history")
    weights = {r: round(100 * c / total, 2) for r, c in positive.items()}
    n_won = sum(1 for t in train if t[2])
    provenance = ModelProvenance(
        model="logistic_weights", version=MODEL_FORMAT, library_version=__version__,
        fitted_at=now, trained_from=train[0][0], trained_to=train[-1][0], n_won=n_won,
        n_lost=len(train) - n_won, features=tuple(ids))
    vrows = rows(valid)
    probs = [_sigmoid(math.fsum(b * x for b, x in zip(beta, row, strict=True)))
             for row in vrows]
    outcomes = [y for _, _, y in valid]
    rate = n_won / len(train)
    report = _report(len(train), probs, [rate] * len(outcomes), outcomes,
                     valid[0][0] if valid else None, "training win rate")
    return WeightFit(scorecard=scorecard.with_weights(weights), intercept=beta[0],
                     coefficients=FrozenMap(coefs),
                     dropped=tuple(r for r, c in coefs.items() if c <= 0), l2=float(l2),
                     provenance=provenance, report=report)
