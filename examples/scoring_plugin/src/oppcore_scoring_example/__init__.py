"""An example oppcore scoring plugin: engagement from recently logged activities."""

from datetime import timedelta

import attrs

from oppcore import Opportunity, Reason, RuleResult, ScoringContext

__all__ = ["EngagementRule"]

__version__ = "0.1.0"


@attrs.frozen(kw_only=True)
class EngagementRule:
    """Score a deal by the customer touches logged in the last ``window_days`` days.

    ``target`` touches or more score 1.0; none scores 0.0; linear in between. Unknown for a
    lead (leads carry no activities).

    Args:
        rule_id: Rule id (default ``"engagement"``).
        dimension: Dimension (default ``"engagement"``).
        window_days: How far back a touch counts (default 30).
        target: Touches in the window that earn the full score (default 4).
    """

    rule_id: str = "engagement"
    dimension: str = "engagement"
    window_days: int = 30
    target: int = 4

    def __attrs_post_init__(self) -> None:
        if type(self.window_days) is not int or self.window_days <= 0:
            raise ValueError(f"window_days must be a positive int, got {self.window_days!r}")
        if type(self.target) is not int or self.target <= 0:
            raise ValueError(f"target must be a positive int, got {self.target!r}")

    def evaluate(self, subject: object, context: ScoringContext) -> RuleResult:
        """Count the touches since ``context.now - window_days``."""
        if not isinstance(subject, Opportunity):
            return RuleResult.unknown("not_applicable", "leads carry no activities")
        since = context.now - timedelta(days=self.window_days)
        touches = sum(1 for a in subject.activities if since <= a.at <= context.now)
        value = min(1.0, touches / self.target)
        return RuleResult(value=value, reasons=(Reason(
            code="recent_touches" if touches else "no_recent_touches",
            message=f"{touches} customer touch(es) in the last {self.window_days} days",
            effect=value - 0.5),))
