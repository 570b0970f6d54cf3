"""When a deal closed has one answer: analytics and calibration agree."""

from datetime import datetime, timedelta, timezone

import pytest

from oppcore import (
    Budget,
    CalibrationError,
    Opportunity,
    Pipeline,
    Qualification,
    Scorecard,
    StageChange,
    fit_weights,
    fit_win_model,
    stage_entered_at,
)
from oppcore.analytics._common import closed_at
from oppcore.scoring._calibration._common import closed_deals, split

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
PIPE = Pipeline.template("standard")
FIRST = PIPE.open_stages[0].id


def _qualification(i: int, won: bool) -> Qualification:
    # a confirmed budget mostly goes with a win: something for fit_weights to learn
    return Qualification(budget=Budget(confirmed=won if i % 5 else not won))


def closed(i: int, won: bool, at: datetime) -> Opportunity:
    end = "won" if won else "lost"
    history = (StageChange(from_stage=None, to_stage=FIRST, at=at - timedelta(days=5), by="r"),
               StageChange(from_stage=FIRST, to_stage=end, at=at, by="r"))
    return Opportunity(id=f"o{i}", name="d", pipeline_id="standard", stage_id=end,
                       created_at=at - timedelta(days=5), stage_history=history,
                       qualification=_qualification(i, won))


def odd(i: int, won: bool, entered: datetime, last: datetime) -> Opportunity:
    """A closed deal whose history's last entry is not its entry into its stage.

    The history (as imported, or overridden by hand) enters the closed stage at ``entered``
    and then lists an entry dated ``last`` into another stage: ``stage_id`` says where the
    deal is, and it entered that stage at ``entered``.
    """
    end = "won" if won else "lost"
    history = (StageChange(from_stage=None, to_stage=FIRST, at=entered - timedelta(days=5),
                           by="r"),
               StageChange(from_stage=FIRST, to_stage=end, at=entered, by="r"),
               StageChange(from_stage=end, to_stage=FIRST, at=last, by="r",
                           override="reopened in the old CRM"))
    return Opportunity(id=f"x{i}", name="d", pipeline_id="standard", stage_id=end,
                       created_at=entered - timedelta(days=5), stage_history=history,
                       qualification=_qualification(i, won))


def history() -> list[Opportunity]:
    deals = [closed(i, i % 3 != 0, T0 + timedelta(days=i)) for i in range(60)]
    # Entered their closed stage last of all, but their last history entries are the
    # earliest: by "last entry" they would train; by their close they validate.
    deals += [odd(k, k % 2 == 0, T0 + timedelta(days=500 + k), T0 - timedelta(days=50 + k))
              for k in range(4)]
    return deals


def test_analytics_close_time_is_the_entry_into_the_current_stage() -> None:
    deal = odd(0, True, T0 + timedelta(days=10), T0 - timedelta(days=3))
    assert closed_at(deal) == stage_entered_at(deal) == T0 + timedelta(days=10)
    assert closed_at(deal) != deal.stage_history[-1].at


def test_calibration_splits_by_the_close_time_analytics_report() -> None:
    deals = history()
    found = closed_deals(deals, ("won",), ("lost",))
    assert found.undated == 0
    assert [(t.closed_at, t.opp.id) for t in found.deals] == sorted(
        ((closed_at(o), o.id) for o in deals), key=lambda p: p[0])
    train, valid = split(found, 0.25, 5)
    # the odd deals closed last: every one of them is in the validation period
    assert {t.opp.id for t in valid} >= {f"x{k}" for k in range(4)}
    cut = min(t.closed_at for t in valid)
    assert all(closed_at(t.opp) < cut for t in train)
    model = fit_win_model(deals, now=NOW, pipeline=PIPE, min_outcomes=5)
    assert model.provenance.trained_from == T0
    assert model.report.validated_from == cut
    weights = fit_weights(Scorecard.default(), deals, now=NOW, pipeline=PIPE, min_outcomes=5)
    assert weights.provenance.trained_from == T0
    assert weights.report.validated_from == cut


def test_a_closed_deal_without_a_known_close_is_left_out_and_counted() -> None:
    undated = [Opportunity(id=f"u{i}", name="d", pipeline_id="standard", stage_id="won",
                           created_at=T0) for i in range(3)]
    deals = history() + undated
    assert all(closed_at(o) is None for o in undated)
    model = fit_win_model(deals, now=NOW, pipeline=PIPE, min_outcomes=5)
    assert model.report.n_undated == 3
    assert model.provenance.n_won + model.provenance.n_lost + sum(
        1 for o in history() if closed_at(o) >= model.report.validated_from) == len(history())
    with pytest.raises(CalibrationError, match="3 more without a known close time"):
        fit_win_model(undated + history()[:8], now=NOW, pipeline=PIPE, min_outcomes=5)
