"""Every public function that takes a time refuses a naive one with ``ValidationError``.

One definition of "aware" (``oppcore._checks.is_aware``: ``utcoffset()`` is not ``None``)
holds at every boundary: a naive datetime, one whose tzinfo gives no offset and one whose
tzinfo raises are refused with ``ValidationError`` naming the argument, never a raw
``TypeError`` from comparing naive and aware times. The table is complete: a discovery over
every public namespace finds each function or method with a ``datetime`` parameter, and the
test fails if one is missing from the table.
"""

import importlib
import inspect
import typing
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

import oppcore
from oppcore import (
    AuditEntry,
    Budget,
    Competition,
    CompetitivePosition,
    Competitor,
    DecisionProcess,
    InMemoryStore,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Pipeline,
    Qualification,
    Scorecard,
    StageChange,
    TransitionPolicy,
    Urgency,
    UrgencyLevel,
    ValidationError,
    aftersales,
    analytics,
    io,
)
from oppcore.storage import query_all
from oppcore.testing.strategies import naive_datetimes

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


PIPELINE = Pipeline.template("standard")
LEAD = Lead(id="l1", name="Li", company="Acme", captured_at=T0, status=LeadStatus.QUALIFIED)
SKIPPING = attrs.evolve(PIPELINE, policy=TransitionPolicy(allow_skip=True))
DEAL = oppcore.convert_lead(LEAD, pipeline=PIPELINE, at=T0, by="u",
                       amount=Money.of("100", "CNY")).opportunity
CARD = Scorecard.default()


WINNING = Qualification(urgency=Urgency(level=UrgencyLevel.CRITICAL),
                        budget=Budget(confirmed=True),
                        decision=DecisionProcess(decision_maker_engaged=True),
                        competition=Competition())
LOSING = Qualification(urgency=Urgency(level=UrgencyLevel.LOW), budget=Budget(confirmed=False),
                       decision=DecisionProcess(decision_maker_engaged=False),
                       competition=Competition(competitors=(Competitor(
                           name="Rival", position=CompetitivePosition.TRAILING),)))


def _closed_history() -> list[Opportunity]:
    deals = []
    for i in range(48):
        stage = "won" if i % 2 else "lost"
        created, closed = T0 + timedelta(days=i), T0 + timedelta(days=i + 5)
        deals.append(Opportunity(
            id=f"h{i}", name="x", pipeline_id=PIPELINE.id, stage_id=stage, created_at=created,
            lost_reason=None if i % 2 else "price", updated_at=closed,
            qualification=WINNING if i % 2 else LOSING,
            stage_history=(StageChange(from_stage=None, to_stage="identification",
                                       at=created, by="u"),
                           StageChange(from_stage="identification", to_stage=stage,
                                       at=closed, by="u", override="history"))))
    return deals


HISTORY = _closed_history()


def _fit() -> oppcore.WeightFit:
    return oppcore.fit_weights(CARD, HISTORY, now=T0 + timedelta(days=30), pipeline=PIPELINE)


def _csv(tmp: Path) -> Path:
    path = tmp / "deals.csv"
    path.write_text("opportunity_id,sales_agent,product,account,deal_stage,engage_date,"
                    "close_date,close_value\n1,ann,GTX,Acme,Prospecting,,,\n", encoding="utf-8")
    return path


WON = SKIPPING.mark_won(DEAL, at=T0, by="u", override="signed early")


# name -> call(bad_time, tmp_path); each call passes valid values for everything else.
CALLS: dict[str, Callable[[datetime, Path], Any]] = {
    "oppcore.Pipeline.check": lambda t, _: PIPELINE.check(DEAL, "needs_analysis", at=t),
    "oppcore.Pipeline.advance": lambda t, _: PIPELINE.advance(DEAL, "needs_analysis", at=t,
                                                              by="u"),
    "oppcore.Pipeline.mark_won": lambda t, _: SKIPPING.mark_won(DEAL, at=t, by="u",
                                                                override="signed early"),
    "oppcore.Pipeline.mark_lost": lambda t, _: PIPELINE.mark_lost(DEAL, at=t, by="u",
                                                                  reason="price"),
    "oppcore.Pipeline.is_stale": lambda t, _: PIPELINE.is_stale(DEAL, now=t),
    "oppcore.Pipeline.next_follow_up": lambda t, _: PIPELINE.next_follow_up(DEAL, now=t),
    "oppcore.convert_lead": lambda t, _: oppcore.convert_lead(LEAD, pipeline=PIPELINE, at=t,
                                                              by="u"),
    "oppcore.disqualify": lambda t, _: oppcore.disqualify(LEAD, at=t, reason="no"),
    "oppcore.mark_contacted": lambda t, _: oppcore.mark_contacted(
        Lead(id="n", name="n", captured_at=T0), at=t),
    "oppcore.qualify": lambda t, _: oppcore.qualify(
        Lead(id="n", name="n", captured_at=T0, status=LeadStatus.CONTACTED), at=t),
    "oppcore.time_in_stage": lambda t, _: oppcore.time_in_stage(DEAL, now=t),
    "oppcore.Scorecard.score": lambda t, _: CARD.score(DEAL, now=t),
    "oppcore.Scorecard.score_many": lambda t, _: list(CARD.score_many([DEAL], now=t)),
    "oppcore.fit_win_model": lambda t, _: oppcore.fit_win_model(HISTORY, now=t,
                                                                pipeline=PIPELINE),
    "oppcore.fit_weights": lambda t, _: oppcore.fit_weights(CARD, HISTORY, now=t,
                                                            pipeline=PIPELINE),
    "oppcore.WeightFit.probability": lambda t, _: _fit().probability(DEAL, now=t),
    "oppcore.WeightFit.apply": lambda t, _: _fit().apply(DEAL, now=t),
    "oppcore.merge_records": lambda t, _: oppcore.merge_records(
        LEAD, Lead(id="l2", name="Li", captured_at=T0), at=t, by="u"),
    "oppcore.AuditEntry.for_change": lambda t, _: AuditEntry.for_change(
        None, DEAL, action="create", by="u", at=t),
    "oppcore.storage.BaseStore.query": lambda t, _: InMemoryStore().query(
        Opportunity, updated_since=t),
    "oppcore.analytics.stage_durations": lambda t, _: analytics.stage_durations(
        [DEAL], PIPELINE, now=t),
    "oppcore.analytics.health": lambda t, _: analytics.health([DEAL], PIPELINE, now=t),
    "oppcore.analytics.data_quality": lambda t, _: analytics.data_quality(
        [DEAL], PIPELINE, now=t),
    "oppcore.analytics.deals_frame": lambda t, _: analytics.deals_frame([DEAL], PIPELINE,
                                                                        now=t),
    "oppcore.analytics.forecast": lambda t, _: analytics.forecast([DEAL], PIPELINE, now=t),
    "oppcore.analytics.sales_cycle": lambda t, _: analytics.sales_cycle(
        [DEAL], PIPELINE, include_open=True, now=t),
    "oppcore.analytics.compliance": lambda t, _: analytics.compliance([DEAL], PIPELINE, now=t),
    "oppcore.analytics.satisfaction": lambda t, _: analytics.satisfaction(
        [WON], PIPELINE, now=t),
    "oppcore.analytics.renewals": lambda t, _: analytics.renewals([WON], PIPELINE, now=t),
    "oppcore.analytics.customer_segments": lambda t, _: analytics.customer_segments(
        [WON], PIPELINE, now=t),
    "oppcore.aftersales.plan": lambda t, _: aftersales.plan(WON, PIPELINE, now=t),
    "oppcore.aftersales.renew": lambda t, _: aftersales.renew(WON, at=t, by="u",
                                                              pipeline=PIPELINE),
    "oppcore.io.read_csv": lambda t, tmp: list(io.read_csv(
        _csv(tmp), io.preset("maven"), as_of=t)),
    "oppcore.io.import_csv": lambda t, tmp: io.import_csv(
        _csv(tmp), io.preset("maven"), as_of=t),
    "oppcore.io.sync": lambda t, _: io.sync(InMemoryStore(), [DEAL], by="u", at=t),
    "oppcore.storage.query_all": lambda t, _: query_all(InMemoryStore(), Opportunity,
                                                        updated_since=t),
}

# Protocols describe what hosts implement; their concrete implementations are in CALLS.
PROTOCOL_MEMBERS = {"oppcore.Store.query", "oppcore.analytics.PipelineLike.is_stale"}

NAMESPACES = ("oppcore", "oppcore.pipeline", "oppcore.scoring", "oppcore.storage",
              "oppcore.analytics", "oppcore.io", "oppcore.dedupe", "oppcore.serde",
              "oppcore.aftersales")


def _time_parameters(fn: Callable[..., Any]) -> list[str]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation a test cannot resolve is not a time
        return []
    return [n for n, t in hints.items() if n != "return"
            and (t is datetime or datetime in typing.get_args(t))]


def _discover() -> set[str]:
    found: set[str] = set()
    seen: set[int] = set()
    for ns in NAMESPACES:
        module = importlib.import_module(ns)
        for name in module.__all__:
            obj = getattr(module, name)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj) and _time_parameters(obj):
                found.add(f"{ns}.{name}")
            elif inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if member.startswith("_"):
                        continue
                    fn = value.__func__ if isinstance(value, (classmethod, staticmethod)) \
                        else value
                    if inspect.isfunction(fn) and _time_parameters(fn):
                        found.add(f"{ns}.{name}.{member}")
    return found


def test_every_public_function_taking_a_time_is_in_the_table() -> None:
    missing = _discover() - set(CALLS) - PROTOCOL_MEMBERS
    assert not missing, f"add these to CALLS: {sorted(missing)}"
    assert set(CALLS) <= _discover() | {"oppcore.storage.BaseStore.query"}


@pytest.mark.parametrize("target", sorted(CALLS))
def test_the_call_works_with_an_aware_time(target: str, tmp_path: Path) -> None:
    CALLS[target](T0 + timedelta(days=40), tmp_path)


@pytest.mark.parametrize("target", sorted(CALLS))
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=naive_datetimes())
def test_a_naive_time_is_a_validation_error(target: str, bad: datetime, tmp_path: Path) -> None:
    # Plain naive, a tzinfo without offset, a tzinfo that raises: ValidationError, never a
    # raw TypeError from comparing naive and aware times.
    with pytest.raises(ValidationError):
        CALLS[target](bad, tmp_path)
