"""The example plugin's own tests: the rule alone, then inside a scorecard."""

from datetime import datetime, timedelta, timezone

from oppcore_scoring_example import EngagementRule

from oppcore import Activity, ActivityKind, Lead, Opportunity, Scorecard, ScoringContext

NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
CTX = ScoringContext(now=NOW)


def _opp(days_ago: list[int]) -> Opportunity:
    acts = tuple(Activity(id=f"a{i}", kind=ActivityKind.CALL, at=NOW - timedelta(days=d),
                          by="rep") for i, d in enumerate(days_ago))
    return Opportunity(id="o1", name="Deal", pipeline_id="standard",
                       stage_id="identification", created_at=NOW - timedelta(days=90),
                       activities=acts)


def test_counts_only_recent_touches() -> None:
    result = EngagementRule().evaluate(_opp([1, 5, 40, 60]), CTX)
    assert result.value == 0.5
    assert result.reasons[0].code == "recent_touches"


def test_target_reached_scores_one() -> None:
    assert EngagementRule(target=2).evaluate(_opp([1, 2, 3]), CTX).value == 1.0


def test_lead_is_unknown() -> None:
    lead = Lead(id="l1", name="Li Wei", captured_at=NOW)
    assert EngagementRule().evaluate(lead, CTX).value is None


def test_works_in_a_scorecard() -> None:
    card = Scorecard(rules=(EngagementRule(),), weights={"engagement": 1})
    score = card.score(_opp([1, 2]), now=NOW)
    assert score.total == 50
    assert score.contributions[0].rule_id == "engagement"
