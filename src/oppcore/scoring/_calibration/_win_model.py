"""The naive-Bayes win model: per-field won/lost frequency tables, explained estimates."""

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity
from oppcore._version import __version__

from ._common import (
    MODEL_FORMAT,
    ModelProvenance,
    apply_probability,
    closed_deals,
    pipeline_parts,
    sigmoid,
    split,
)
from ._metrics import CalibrationReport, report

__all__ = ["WIN_MODEL_FIELDS", "Extractor", "FieldEffect", "WinEstimate", "WinModel",
           "fit_win_model"]

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
        return WinEstimate(probability=sigmoid(z), prior_log_odds=prior,
                           effects=tuple(effects))

    def apply(self, opp: Opportunity) -> Opportunity:
        """Return ``opp`` with the model's probability, provenance ``MODEL``.

        A manual probability is never overridden: only ``model_probability`` is set then.
        """
        return apply_probability(opp, self.estimate(opp).probability, self.provenance)


def _custom(key: str) -> Extractor:
    def extract(opp: Opportunity) -> FieldValue:
        v = opp.custom.get(key)
        return None if v is None else str(v)

    return extract


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
    aware(now, "now")
    if not (type(smoothing) in (int, float) and 0 < smoothing < math.inf):
        raise ValidationError(f"smoothing must be a positive number, got {smoothing!r}")
    if type(min_count) is not int or min_count < 1:
        raise ValidationError(f"min_count must be an int >= 1, got {min_count!r}")
    base_probs: dict[str, float] = dict(stage_probabilities or {})
    if pipeline is not None:
        order, won_ids, lost_ids, base_probs = pipeline_parts(pipeline)
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
    closed = closed_deals(history, won_ids, lost_ids)
    train, valid = split(closed, validation_share, min_outcomes)
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
        fitted_at=now, trained_from=train[0].closed_at,
        trained_to=train[-1].closed_at, n_won=n_won,
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
    result = report(n_train, probs, base, outcomes, valid[0].closed_at if valid else None,
                    "stage default probability" if base_probs else "training win rate",
                    closed.undated)
    return attrs.evolve(model, report=result)


