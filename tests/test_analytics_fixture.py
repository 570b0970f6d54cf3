"""A small, explicit set of deals on the standard pipeline, shared by the analytics tests.

Every figure the analytics tests expect is computed by hand from this table (see the
comments in ``test_analytics.py``). Day offsets are from ``T0`` (2026-01-01 09:00 UTC).

====  =====  ========  =============  ======  ============================================
deal  owner  source    tags           amount  path (day)
====  =====  ========  =============  ======  ============================================
d1    alice  referral  crm            1000 USD I0 N2 S5 Q10 W20
d2    alice  online    crm, support    500 USD I0 N4 L6 (price)
d3    bob    online    erp            2000 USD I0 S3 (skip) Q8 (override) W30
d4    bob    event     erp             800 EUR I0 N1 S6, open, close 2026-03-15
d5    carol  referral  -               300 USD I0 L1 (no reason)
d6    carol  -         crm            -        I0, open
d7    alice  online    support        1200 USD I0 N2 S4 Q7, open, p=0.9, close 2026-02-05
d8    bob    event     -               400 EUR I0 N3 S5 N8 S12 L15 (competitor)
====  =====  ========  =============  ======  ============================================
"""

from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Channel,
    Contact,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    Quote,
    Source,
    StageChange,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=40)  # 2026-02-10 09:00 UTC

_STAGE = {"I": "identification", "N": "needs_analysis", "S": "solution",
          "Q": "quote_contract", "W": "won", "L": "lost"}

ACME = Account(id="acc-acme", name="Acme")
GLOBEX = Account(id="acc-globex", name="Globex")
INITECH = Account(id="acc-initech", name="Initech")
UMBRELLA = Account(id="acc-umbrella", name="Umbrella")


def day(n: float) -> datetime:
    """Return T0 plus ``n`` days."""
    return T0 + timedelta(days=n)


def history(path: str, *, override_at: int | None = None,
            reason: str | None = None) -> tuple[StageChange, ...]:
    """Build a history from ``"I0 N2 S5"`` (stage letter, day offset)."""
    changes = []
    previous = None
    for i, step in enumerate(path.split()):
        stage = _STAGE[step[0]]
        changes.append(StageChange(
            from_stage=previous, to_stage=stage, at=day(int(step[1:])), by="tester",
            override="approved by VP" if i == override_at else None,
            reason=reason if stage == "lost" else None,
        ))
        previous = stage
    return tuple(changes)


def deal(oid: str, path: str, **fields: Any) -> Opportunity:
    """Build a deal of the standard pipeline whose current stage ends ``path``."""
    override_at = fields.pop("override_at", None)
    changes = history(path, override_at=override_at, reason=fields.get("lost_reason"))
    return Opportunity(id=oid, name=f"Deal {oid}", pipeline_id="standard",
                       stage_id=changes[-1].to_stage, created_at=T0,
                       stage_history=changes, **fields)


def usd(amount: str) -> Money:
    """Return ``amount`` US dollars."""
    return Money.of(amount, "USD")


def eur(amount: str) -> Money:
    """Return ``amount`` euros."""
    return Money.of(amount, "EUR")


def src(channel: Channel) -> Source:
    """Return a source of ``channel``."""
    return Source(channel=channel)


def deals() -> list[Opportunity]:
    """Return the eight deals of the module docstring."""
    return [
        deal("d1", "I0 N2 S5 Q10 W20", owner="alice", source=src(Channel.REFERRAL),
             tags={"crm"}, amount=usd("1000"), account=ACME,
             contacts=(Contact(id="c1", name="No Channel"),)),
        deal("d2", "I0 N4 L6", owner="alice", source=src(Channel.ONLINE),
             tags={"crm", "support"}, amount=usd("500"), account=ACME, lost_reason="price"),
        deal("d3", "I0 S3 Q8 W30", owner="bob", source=src(Channel.ONLINE), tags={"erp"},
             amount=usd("2000"), account=GLOBEX, override_at=2),
        deal("d4", "I0 N1 S6", owner="bob", source=src(Channel.EVENT), tags={"erp"},
             amount=eur("800"), account=INITECH, expected_close=date(2026, 3, 15),
             activities=(Activity(id="a4", kind=ActivityKind.CALL, at=day(38), by="bob"),)),
        deal("d5", "I0 L1", owner="carol", source=src(Channel.REFERRAL), amount=usd("300"),
             account=UMBRELLA),
        deal("d6", "I0", owner="carol", tags={"crm"}),
        deal("d7", "I0 N2 S4 Q7", owner="alice", source=src(Channel.ONLINE),
             tags={"support"}, amount=usd("1200"), account=GLOBEX,
             expected_close=date(2026, 2, 5),
             expected_close_history=(date(2026, 1, 20), date(2026, 1, 31)),
             probability=Probability(value=0.9, source=ProbabilitySource.MANUAL),
             quotes=(Quote(id="q7", currency="EUR"),),
             activities=(Activity(id="a7", kind=ActivityKind.EMAIL, at=day(20), by="alice",
                                  next_step_due=date(2026, 1, 25)),)),
        deal("d8", "I0 N3 S5 N8 S12 L15", owner="bob", source=src(Channel.EVENT),
             amount=eur("400"), lost_reason="competitor"),
    ]


# --- a minimal stand-in pipeline: the attributes of analytics.PipelineLike, nothing more ---


@attrs.frozen
class FollowUpStandIn:
    """Follow-up rule of the stand-in."""

    max_days: int | None
    cadence: str | None = None


@attrs.frozen
class StageStandIn:
    """A stage of the stand-in pipeline."""

    id: str
    kind: str
    order: int
    probability: float
    forecast_category: str
    follow_up: FollowUpStandIn | None = None


@attrs.frozen
class PipelineStandIn:
    """A pipeline shaped like ``Pipeline.template("standard")``, with calendar-day staleness."""

    id: str
    stages: tuple[StageStandIn, ...]

    def is_stale(self, opp: Opportunity, *, now: datetime) -> bool:
        """Return whether ``opp`` has been in its stage longer than ``max_days``."""
        stage = next(s for s in self.stages if s.id == opp.stage_id)
        if stage.follow_up is None or stage.follow_up.max_days is None:
            return False
        entered = max((c.at for c in opp.stage_history if c.to_stage == opp.stage_id),
                      default=opp.created_at)
        return (now - entered).days > stage.follow_up.max_days


STAND_IN = PipelineStandIn(id="standard", stages=(
    StageStandIn("identification", "open", 0, 0.1, "pipeline", FollowUpStandIn(14)),
    StageStandIn("needs_analysis", "open", 1, 0.25, "pipeline", FollowUpStandIn(21)),
    StageStandIn("solution", "open", 2, 0.5, "best_case", FollowUpStandIn(30)),
    StageStandIn("quote_contract", "open", 3, 0.75, "commit", FollowUpStandIn(30)),
    StageStandIn("won", "won", 4, 1.0, "closed"),
    StageStandIn("lost", "lost", 5, 0.0, "omitted"),
))
