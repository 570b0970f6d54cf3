"""What both calibration models share: closed deals in close order, the split, provenance.

A closed deal's close time is :func:`oppcore.stage_entered_at`: when it entered the won or
lost stage it is in, the same moment the analytics report as its close. A closed deal whose
history has no entry into its current stage has no known close time: it cannot be placed
before or after another deal, so it is left out of the fit (never guessed from
``updated_at``) and counted in :attr:`CalibrationReport.n_undated
<oppcore.CalibrationReport.n_undated>`.
"""

import math
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Final, NamedTuple

import attrs

from oppcore._errors import CalibrationError, ValidationError
from oppcore._models import Opportunity, Probability, ProbabilitySource
from oppcore.pipeline._history import stage_entered_at

__all__ = ["MODEL_FORMAT", "ClosedDeal", "ClosedDeals", "ModelProvenance", "apply_probability",
           "closed_deals", "pipeline_parts", "sigmoid", "split"]

MODEL_FORMAT: Final = "1"


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


def apply_probability(opp: Opportunity, value: float,
                      provenance: ModelProvenance) -> Opportunity:
    """Return ``opp`` with a model probability (a manual probability is never overridden)."""
    p = Probability(value=value, source=ProbabilitySource.MODEL, note=provenance.note())
    if opp.probability is not None and opp.probability.source is ProbabilitySource.MANUAL:
        return opp.evolve(model_probability=p)
    return opp.evolve(probability=p, model_probability=p)


def sigmoid(z: float) -> float:
    """The logistic function, without overflow for large ``|z|``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class ClosedDeal(NamedTuple):
    """A closed deal with its close time and outcome."""

    closed_at: datetime
    opp: Opportunity
    won: bool


class ClosedDeals(NamedTuple):
    """The closed deals of a history in close order, and how many had no close time."""

    deals: list[ClosedDeal]
    undated: int


def _outcome(opp: Opportunity, won: Collection[str], lost: Collection[str]) -> bool | None:
    if opp.stage_id in won:
        return True
    if opp.stage_id in lost:
        return False
    return None


def closed_deals(history: Iterable[Opportunity], won: Collection[str],
                 lost: Collection[str]) -> ClosedDeals:
    """Return the won and lost deals of ``history`` sorted by close time.

    Raises:
        ValidationError: If ``history`` is not an iterable of opportunities.
    """
    if isinstance(history, (Opportunity, str, bytes)) or not isinstance(history, Iterable):
        raise ValidationError(f"history must be an iterable of opportunities, got "
                              f"{type(history).__name__}", field="history", value=history)
    out = []
    undated = 0
    for i, opp in enumerate(history):
        if not isinstance(opp, Opportunity):
            raise ValidationError(f"history[{i}] is a {type(opp).__name__}, not an "
                                  "Opportunity", value=opp)
        result = _outcome(opp, won, lost)
        if result is None:
            continue
        closed_at = stage_entered_at(opp)
        if closed_at is None:
            undated += 1
        else:
            out.append(ClosedDeal(closed_at, opp, result))
    out.sort(key=lambda t: t.closed_at)
    return ClosedDeals(out, undated)


def split(closed: ClosedDeals, share: float,
          min_outcomes: int) -> tuple[list[ClosedDeal], list[ClosedDeal]]:
    """Split closed deals into training (earlier) and validation (the latest ``share``).

    Raises:
        ValidationError: Bad ``share`` or ``min_outcomes``.
        CalibrationError: Too few won or lost deals in the training period.
    """
    if type(share) not in (int, float) or not 0.0 <= share < 1.0:  # NaN fails too
        raise ValidationError(f"validation_share must be a number in [0, 1), got {share!r}",
                              field="validation_share", value=share)
    if type(min_outcomes) is not int or min_outcomes < 1:
        # At least one won and one lost deal: the fit needs both outcomes to train on.
        raise ValidationError(f"min_outcomes must be an int >= 1, got {min_outcomes!r}",
                              field="min_outcomes", value=min_outcomes)
    deals = closed.deals
    cut = len(deals) - int(len(deals) * share)
    train, valid = deals[:cut], deals[cut:]
    n_won = sum(1 for t in train if t.won)
    n_lost = len(train) - n_won
    if n_won < min_outcomes or n_lost < min_outcomes:
        undated = (f"; {closed.undated} more without a known close time were left out"
                   if closed.undated else "")
        raise CalibrationError(
            f"too few closed deals to calibrate: the training period has {n_won} won and "
            f"{n_lost} lost; at least {min_outcomes} of each are needed ("
            f"{len(deals)} closed deal(s) in total{undated})")
    return train, valid


def pipeline_parts(pipeline: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...],
                                           dict[str, float]]:
    """Return a pipeline's open stage order, won and lost stages, and open stage probabilities.

    Raises:
        ValidationError: If ``pipeline`` is not an oppcore Pipeline.
    """
    try:
        order = tuple(s.id for s in pipeline.open_stages)
        won = tuple(s.id for s in pipeline.won_stages)
        lost = tuple(s.id for s in pipeline.lost_stages)
        probs = {s.id: float(s.probability) for s in pipeline.open_stages}
    except AttributeError as exc:
        raise ValidationError(f"pipeline must be an oppcore Pipeline, got "
                              f"{type(pipeline).__name__}", value=pipeline) from exc
    return order, won, lost, probs


