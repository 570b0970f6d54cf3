"""Calibration: naive-Bayes win model and logistic weight fit on synthetic history."""

import math
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Budget,
    CalibrationError,
    Channel,
    Competition,
    CompetitivePosition,
    Competitor,
    DecisionProcess,
    Money,
    Opportunity,
    Pipeline,
    Probability,
    ProbabilitySource,
    Qualification,
    Scorecard,
    ScoringContext,
    Source,
    StageChange,
    Urgency,
    UrgencyLevel,
    ValidationError,
    fit_weights,
    fit_win_model,
)
from oppcore.scoring._calibration._common import sigmoid as _sigmoid
from oppcore.scoring._calibration._metrics import auc, brier
from oppcore.scoring._calibration._weights import _features

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
PIPE = Pipeline.template("standard")
OPEN = [s.id for s in PIPE.open_stages]
CHANNEL_EFFECT = {Channel.REFERRAL: 1.5, Channel.EVENT: 0.5, Channel.ONLINE: -0.5,
                  Channel.DIRECT: -1.0}
INDUSTRY_EFFECT = {"manufacturing": 0.8, "retail": 0.0, "services": -0.8}


def closed_deal(i: int, won: bool, died_at: int, closed: datetime, **kw: object) -> Opportunity:
    path = OPEN if won else OPEN[:died_at + 1]
    start = closed - timedelta(days=10 * (len(path) + 1))
    history = [StageChange(from_stage=None, to_stage=path[0], at=start, by="rep")]
    history += [StageChange(from_stage=path[k - 1], to_stage=path[k],
                            at=start + timedelta(days=10 * k), by="rep")
                for k in range(1, len(path))]
    history.append(StageChange(from_stage=path[-1], to_stage="won" if won else "lost",
                               at=closed, by="rep"))
    return Opportunity(id=f"o{i}", name=f"Deal {i}", pipeline_id="standard",
                       stage_id="won" if won else "lost", created_at=start,
                       stage_history=tuple(history), **kw)  # type: ignore[arg-type]


def nb_history(n: int, seed: int = 7) -> list[Opportunity]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ch = rng.choice(list(CHANNEL_EFFECT))
        ind = rng.choice(list(INDUSTRY_EFFECT))
        p = _sigmoid(-0.7 + CHANNEL_EFFECT[ch] + INDUSTRY_EFFECT[ind])
        won = rng.random() < p
        out.append(closed_deal(i, won, rng.randrange(len(OPEN)), T0 + timedelta(hours=12 * i),
                               source=Source(channel=ch),
                               account=Account(id=f"a{i}", name="Co", industry=ind)))
    return out


def test_win_model_beats_stage_default_and_explains() -> None:
    model = fit_win_model(nb_history(1200), now=NOW, pipeline=PIPE,
                          fields=("source", "industry"))
    r = model.report
    assert r.auc is not None and r.baseline_auc is not None
    assert r.brier < r.baseline_brier
    assert r.auc > r.baseline_auc
    assert r.auc > 0.7
    assert r.baseline == "stage default probability"
    assert sum(b.count for b in r.reliability) == r.n_validation
    assert model.provenance.trained_to <= r.validated_from  # type: ignore[operator]
    # the learnt evidence points the way the generating model does
    src = model.tables["source"]
    assert src["referral"][0] / sum(src["referral"]) > src["direct"][0] / sum(src["direct"])
    opp = Opportunity(id="new", name="n", pipeline_id="standard", stage_id="solution",
                      created_at=NOW, source=Source(channel=Channel.REFERRAL),
                      account=Account(id="a", name="Co", industry="manufacturing"))
    est = model.estimate(opp)
    assert {e.field for e in est.effects} == {"stage", "source", "industry"}
    z = est.prior_log_odds + math.fsum(e.log_odds for e in est.effects)
    assert est.probability == pytest.approx(1 / (1 + math.exp(-z)))
    worse = model.estimate(opp.evolve(source=Source(channel=Channel.DIRECT)))
    assert worse.probability < est.probability
    # per-stage counting: later stages have fewer lost deals, so higher odds
    early = model.estimate(opp, stage=OPEN[0]).probability
    late = model.estimate(opp, stage=OPEN[-1]).probability
    assert late > early


def test_apply_sets_model_probability_but_keeps_manual() -> None:
    model = fit_win_model(nb_history(300), now=NOW, pipeline=PIPE, fields=("source",))
    opp = Opportunity(id="x", name="x", pipeline_id="standard", stage_id="solution",
                      created_at=NOW, source=Source(channel=Channel.EVENT),
                      probability=Probability(value=0.5, source=ProbabilitySource.STAGE))
    applied = model.apply(opp)
    assert applied.probability is not None
    assert applied.probability.source is ProbabilitySource.MODEL
    assert applied.probability == applied.model_probability
    assert "naive_bayes v1" in (applied.probability.note or "")
    manual = opp.evolve(probability=Probability(value=0.9, source=ProbabilitySource.MANUAL))
    kept = model.apply(manual)
    assert kept.probability == manual.probability
    assert kept.model_probability is not None
    assert kept.model_probability.source is ProbabilitySource.MODEL


def test_too_few_outcomes_refused() -> None:
    history = [closed_deal(i, True, 0, T0 + timedelta(days=i)) for i in range(40)]
    history += [closed_deal(100 + i, False, 0, T0 + timedelta(days=i)) for i in range(3)]
    with pytest.raises(CalibrationError, match="3 lost"):
        fit_win_model(history, now=NOW, pipeline=PIPE)
    with pytest.raises(CalibrationError):
        fit_weights(Scorecard.default(), history, now=NOW)


def lr_history(n: int, card: Scorecard, beta: dict[str, float], b0: float,
               seed: int = 3) -> list[Opportunity]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        closed = T0 + timedelta(hours=6 * i)
        day = closed.date()
        q = Qualification(
            urgency=Urgency(level=rng.choice(list(UrgencyLevel)),
                            deadline=day + timedelta(days=rng.randrange(0, 120))),
            budget=Budget(amount=Money(amount=Decimal(rng.randrange(0, 150_000)),
                                       currency="EUR"), confirmed=rng.random() < 0.5),
            decision=DecisionProcess(expected_decision=day + timedelta(
                days=rng.randrange(0, 200)), decision_maker_identified=rng.random() < 0.5),
            competition=Competition(competitors=tuple(
                Competitor(name=f"c{k}", position=rng.choice(list(CompetitivePosition)),
                           incumbent=rng.random() < 0.2) for k in range(rng.randrange(0, 3)))),
        )
        amount = Money(amount=Decimal(100_000), currency="EUR")
        probe = Opportunity(id="p", name="p", pipeline_id="standard", stage_id="won",
                            created_at=T0, qualification=q, amount=amount)
        x = _features(card, probe, ScoringContext(now=closed))
        p = _sigmoid(b0 + sum(beta[r.rule_id] * v for r, v in zip(card.rules, x, strict=True)))
        won = rng.random() < p
        out.append(closed_deal(i, won, rng.randrange(len(OPEN)), closed, qualification=q,
                               amount=amount))
    return out


def test_weight_fit_recovers_known_weights() -> None:
    card = Scorecard.default()
    beta = {"urgency": 2.0, "budget": 4.0, "decision_cycle": 1.0, "competition": 3.0}
    history = lr_history(2400, card, beta, b0=-5.0)
    fit = fit_weights(card, history, now=NOW, l2=0.01, pipeline=PIPE)
    for rule_id, true in beta.items():
        assert fit.coefficients[rule_id] == pytest.approx(true, abs=1.0), fit.coefficients
    assert fit.intercept == pytest.approx(-5.0, abs=1.2)
    w = fit.scorecard.weights
    assert sum(w.values()) == pytest.approx(100, abs=0.05)
    assert w["budget"] > w["decision_cycle"]
    assert fit.dropped == ()
    r = fit.report
    assert r.auc is not None and r.auc > 0.6
    assert r.brier < r.baseline_brier
    assert fit.provenance.model == "logistic_weights"
    opp = history[-1].evolve(stage_id="solution")
    assert 0 < fit.probability(opp, now=NOW) < 1
    assert fit.apply(opp, now=NOW).probability.source is ProbabilitySource.MODEL  # type: ignore[union-attr]


@given(scores=st.lists(st.floats(0, 1), min_size=1, max_size=30), data=st.data())
def test_auc_and_brier_properties(scores: list[float], data: st.DataObject) -> None:
    ys = data.draw(st.lists(st.booleans(), min_size=len(scores), max_size=len(scores)))
    a = auc(scores, ys)
    if all(ys) or not any(ys):
        assert a is None
    else:
        assert a is not None and 0.0 <= a <= 1.0
        flipped = auc([-s for s in scores], ys)
        assert flipped == pytest.approx(1 - a)
        assert auc([0.5] * len(ys), ys) == 0.5
    assert 0.0 <= brier(scores, ys) <= 1.0


def test_hostile_calibration_inputs() -> None:
    from oppcore import ValidationError

    with pytest.raises(ValidationError):
        fit_win_model(nb_history(50), now=datetime(2026, 1, 1), pipeline=PIPE)  # naive
    with pytest.raises(ValidationError):
        fit_win_model(nb_history(50), now=NOW, pipeline=PIPE, fields=("shoe_size",))
    with pytest.raises(ValidationError):
        fit_win_model(["not a deal"], now=NOW, pipeline=PIPE)  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        fit_weights(Scorecard.default(), [], now=NOW, l2=-1)


@pytest.mark.parametrize("bad", [
    {"min_outcomes": 0}, {"min_outcomes": -1}, {"min_outcomes": 1.5},
    {"min_outcomes": True}, {"validation_share": "0.2"}, {"validation_share": math.nan},
])
def test_bad_split_arguments_are_refused_not_crashes(bad: dict[str, object]) -> None:
    # min_outcomes=0 used to let an empty training period through to an IndexError.
    name = next(iter(bad))
    with pytest.raises(ValidationError, match=name) as info:
        fit_win_model([], now=NOW, pipeline=PIPE, **bad)  # type: ignore[arg-type]
    assert info.value.field == name
    with pytest.raises(ValidationError, match=name):
        fit_weights(Scorecard.default(), [], now=NOW, pipeline=PIPE,
                    **bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [None, 5, "deals"])
def test_history_must_be_an_iterable_of_deals(history: object) -> None:
    with pytest.raises(ValidationError, match="history"):
        fit_win_model(history, now=NOW, pipeline=PIPE)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="history"):
        fit_weights(Scorecard.default(), history, now=NOW)  # type: ignore[arg-type]
