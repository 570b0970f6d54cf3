"""Score a small pipeline, read the score cards, tune a weight from TOML, calibrate.

Run: python examples/score_pipeline.py
"""

import itertools
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from oppcore import (
    Budget,
    Channel,
    Competition,
    CompetitivePosition,
    Competitor,
    DecisionProcess,
    Money,
    Opportunity,
    Pipeline,
    Qualification,
    Scorecard,
    Source,
    StageChange,
    Urgency,
    UrgencyLevel,
    fit_win_model,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()


def eur(x: int) -> Money:
    return Money(amount=Decimal(x), currency="EUR")


deals = [
    Opportunity(
        id="opp-1", name="ERP rollout, Hangzhou plant", pipeline_id="standard",
        stage_id="solution", created_at=NOW - timedelta(days=40), amount=eur(120_000),
        expected_close=TODAY + timedelta(days=30),
        qualification=Qualification(
            urgency=Urgency(level=UrgencyLevel.HIGH, deadline=TODAY + timedelta(days=45)),
            budget=Budget(amount=eur(130_000), confirmed=True),
            decision=DecisionProcess(expected_decision=TODAY + timedelta(days=20),
                                     decision_maker_identified=True,
                                     decision_maker_engaged=True),
            competition=Competition(competitors=(
                Competitor(name="Rival AG", position=CompetitivePosition.LEADING),)))),
    Opportunity(
        id="opp-2", name="CRM pilot", pipeline_id="standard", stage_id="needs_analysis",
        created_at=NOW - timedelta(days=90), amount=eur(40_000),
        expected_close=TODAY + timedelta(days=120),
        expected_close_history=(TODAY - timedelta(days=20), TODAY + timedelta(days=60)),
        qualification=Qualification(
            budget=Budget(amount=eur(15_000)),
            competition=Competition(competitors=(
                Competitor(name="Incumbent Ltd", position=CompetitivePosition.TRAILING,
                           incumbent=True),
                Competitor(name="Other Inc", position=CompetitivePosition.EVEN))))),
]

card = Scorecard.default()
print("== Score cards (default scorecard)")
for score in card.score_many(deals, now=NOW):
    print(f"{score.subject_id}: {score.total} points, grade {score.grade}, "
          f"coverage {score.coverage:.0%}")
    for c in score.contributions:
        shown = "unknown" if c.value is None else f"{c.value:.2f}"
        print(f"   {c.rule_id:<15} sub-score {shown:<8} {c.points:>6} points")
    for f in score.top_positive(2):
        print(f"   + {f.points:+.1f}  {f.message}")
    for f in score.top_negative(2):
        print(f"   - {f.points:+.1f}  {f.message}")

print("== Tuned in TOML: budget counts double, competition capped at 10 points")
tuned = Scorecard.from_toml("""
name = "tuned"
[caps]
competition = 10
[rules.urgency]
weight = 25
[rules.budget]
weight = 60
[rules.decision_cycle]
weight = 25
[rules.competition]
weight = 20
""")
for score in tuned.score_many(deals, now=NOW):
    print(f"{score.subject_id}: {score.total} points, grade {score.grade}")

print("== Calibrated on 600 synthetic closed deals")
rng = random.Random(42)
pipeline = Pipeline.template("standard")
stages = [s.id for s in pipeline.open_stages]
history = []
for i in range(600):
    channel = rng.choice([Channel.REFERRAL, Channel.EVENT, Channel.ONLINE])
    won = rng.random() < {Channel.REFERRAL: 0.6, Channel.EVENT: 0.35, Channel.ONLINE: 0.15}[
        channel]
    closed = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(hours=12 * i)
    reached = stages if won else stages[:rng.randrange(1, len(stages) + 1)]
    changes = [StageChange(from_stage=None, to_stage=reached[0], by="rep",
                           at=closed - timedelta(days=30))]
    changes += [StageChange(from_stage=a, to_stage=b, by="rep", at=closed - timedelta(days=20))
                for a, b in itertools.pairwise(reached)]
    changes.append(StageChange(from_stage=reached[-1], to_stage="won" if won else "lost",
                               by="rep", at=closed))
    history.append(Opportunity(id=f"h{i}", name="past deal", pipeline_id="standard",
                               stage_id="won" if won else "lost",
                               created_at=closed - timedelta(days=30),
                               source=Source(channel=channel), stage_history=tuple(changes)))
model = fit_win_model(history, now=NOW, pipeline=pipeline, fields=("source",))
r = model.report
print(f"validation on {r.n_validation} later deal-stages: AUC {r.auc:.2f} "
      f"(stage default {r.baseline_auc:.2f}), Brier {r.brier:.3f} "
      f"(stage default {r.baseline_brier:.3f})")
new = deals[0].evolve(source=Source(channel=Channel.REFERRAL))
estimate = model.estimate(new)
print(f"opp-1 from a referral: win probability {estimate.probability:.0%}")
for e in estimate.effects:
    print(f"   {e.field}={e.value}: {e.log_odds:+.2f} log-odds ({e.won} won / {e.lost} lost)")
applied = model.apply(new)
print(f"applied: {applied.probability.value:.2f} from {applied.probability.source.value}")
