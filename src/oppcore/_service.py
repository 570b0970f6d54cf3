"""The service layer: use cases over a store (the imperative shell around the pure core).

Every use case has the same shape: **load** the record(s), **check the policy** (a refusal
raises :class:`~oppcore.PermissionDeniedError` before anything is written, so the store and
the audit trail are unchanged), **call the pure core** (pipeline transitions, conversion,
scoring, merging), **save with the version it read** together with the audit entries in one
atomic batch, and **return the domain events** it produced.

Retry safety: when another writer got there first the store raises
:class:`~oppcore.VersionConflictError` and writes nothing; the service then reloads and runs
the use case again, up to ``retries`` times, re-checking the policy and the transition on
the fresh record. Use cases that would change nothing on a second run are idempotent and
return no events: moving to the current stage, logging an activity whose id is already
logged, converting a lead already converted, winning a won deal, losing a lost one, a
rescore that gives the same result. Merging is not idempotent: a repeated merge raises
:class:`~oppcore.NotFoundError` for the record already merged away (and changes nothing).
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from oppcore._errors import (
    ConfigError,
    PermissionDeniedError,
    ValidationError,
    VersionConflictError,
)
from oppcore._models import Lead, LeadStatus, Opportunity
from oppcore._money import Money
from oppcore._records import Activity
from oppcore.dedupe._merging import Prefer, merge_records
from oppcore.pipeline import Pipeline, StageKind, convert
from oppcore.scoring import Score, Scorecard
from oppcore.storage._audit import AuditEntry
from oppcore.storage._policy import AllowAll, Permission, Policy
from oppcore.storage._protocol import R, Store, Write, kind_name

__all__ = [
    "ActivityLogged",
    "Clock",
    "DomainEvent",
    "LeadConverted",
    "OpportunityCreated",
    "OpportunityLost",
    "OpportunityService",
    "OpportunityWon",
    "RecordsMerged",
    "Rescored",
    "StageChanged",
]

Clock = Callable[[], datetime]
"""A function returning the current time (timezone-aware)."""

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class OpportunityCreated:
    """A new opportunity was stored."""

    opportunity_id: str
    pipeline_id: str
    stage_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class LeadConverted:
    """A lead was converted into an opportunity."""

    lead_id: str
    opportunity_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class StageChanged:
    """An opportunity moved from one stage to another."""

    opportunity_id: str
    from_stage: str
    to_stage: str
    at: datetime
    by: str
    override: str | None = None


@attrs.frozen(kw_only=True)
class ActivityLogged:
    """An activity was added to an opportunity."""

    opportunity_id: str
    activity_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class Rescored:
    """An opportunity's score changed; ``score`` explains every point."""

    opportunity_id: str
    score: Score
    previous_grade: str | None
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class OpportunityWon:
    """An opportunity entered a won stage."""

    opportunity_id: str
    stage_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class OpportunityLost:
    """An opportunity entered a lost stage."""

    opportunity_id: str
    stage_id: str
    reason: str | None
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class RecordsMerged:
    """Duplicates were merged into a survivor; ``conflicts`` names the fields that differed."""

    kind: str
    survivor_id: str
    merged_ids: tuple[str, ...]
    conflicts: tuple[str, ...]
    at: datetime
    by: str


DomainEvent = (OpportunityCreated | LeadConverted | StageChanged | ActivityLogged | Rescored
               | OpportunityWon | OpportunityLost | RecordsMerged)
"""Any event a use case returns."""

Events = tuple[DomainEvent, ...]

# Where rescore keeps the latest result on the record (the models have no score field).
SCORE_FIELD = "score"
GRADE_FIELD = "score_grade"


def _entry(before: Lead | Opportunity | None, after: Lead | Opportunity | None, action: str,
           by: str, at: datetime, note: str | None = None) -> AuditEntry:
    return AuditEntry.for_change(before, after, action=action, by=by, at=at, note=note)


class OpportunityService:
    """Use cases over a store: convert, move, log, rescore, win, lose, merge.

    Args:
        store: Any :class:`~oppcore.Store`.
        pipelines: The pipeline, or several; an opportunity follows the one named by its
            ``pipeline_id``. Conversions use the first unless told otherwise.
        clock: Returns the current time (timezone-aware); called once per attempt.
        scorecard: Needed by :meth:`rescore` only.
        policy: Decides who may do what; default :class:`~oppcore.AllowAll`.
        retries: How many times a use case is re-run after a version conflict.

    Raises:
        ValidationError: Bad arguments.
    """

    def __init__(
        self,
        store: Store,
        *,
        pipelines: Pipeline | Iterable[Pipeline],
        clock: Clock,
        scorecard: Scorecard | None = None,
        policy: Policy | None = None,
        retries: int = 3,
    ) -> None:
        listed = (pipelines,) if isinstance(pipelines, Pipeline) else tuple(pipelines)
        if not listed or not all(isinstance(p, Pipeline) for p in listed):
            raise ValidationError("pipelines must be a Pipeline or a non-empty sequence of them",
                                  field="pipelines", value=pipelines)
        if not callable(clock):
            raise ValidationError("clock must be a callable returning the current time",
                                  field="clock", value=clock)
        if type(retries) is not int or not 0 <= retries <= 100:
            raise ValidationError("retries must be an int in [0, 100]", field="retries",
                                  value=retries)
        self._store = store
        self._pipelines = {p.id: p for p in listed}
        self._default = listed[0]
        self._clock = clock
        self._scorecard = scorecard
        self._policy: Policy = policy if policy is not None else AllowAll()
        self._retries = retries

    # --- plumbing ------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValidationError("the clock must return a timezone-aware datetime",
                                  field="clock", value=now)
        return now

    def _retry(self, attempt: Callable[[], _T]) -> _T:
        for remaining in range(self._retries, -1, -1):
            try:
                return attempt()
            except VersionConflictError:  # noqa: PERF203 - retrying on conflict is the point
                if remaining == 0:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _authorise(self, actor: str, action: Permission, record: Lead | Opportunity) -> None:
        if type(actor) is not str or not actor.strip():
            raise ValidationError(f"the actor must be a non-blank user id, got {actor!r}",
                                  field="by", value=actor)
        if not self._policy.allows(actor, action, record):
            raise PermissionDeniedError(actor, action.value, record.id)

    def _pipeline(self, pipeline_id: str) -> Pipeline:
        try:
            return self._pipelines[pipeline_id]
        except KeyError:
            raise ConfigError([("pipeline_id", f"the service has no pipeline {pipeline_id!r}")],
                              source="OpportunityService") from None

    # --- use cases -----------------------------------------------------------------------

    def get(self, opportunity_id: str, *, by: str) -> Opportunity:
        """Return an opportunity if ``by`` may read it.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``read``.
        """
        opp = self._store.get(Opportunity, opportunity_id)
        self._authorise(by, Permission.READ, opp)
        return opp

    def convert(
        self,
        lead_id: str,
        *,
        by: str,
        pipeline_id: str | None = None,
        opportunity_id: str | None = None,
        amount: Money | None = None,
        expected_close: date | None = None,
    ) -> Events:
        """Convert a qualified lead into a new opportunity (lead and deal saved together).

        Idempotent: a lead already converted returns no events.

        Raises:
            NotFoundError: No such lead.
            PermissionDeniedError: The policy refuses ``edit`` on the lead.
            TransitionError: The lead is not qualified.
            DuplicateError: The opportunity id or its external key is taken.
        """
        pipeline = self._pipeline(pipeline_id) if pipeline_id else self._default

        def attempt() -> Events:
            lead = self._store.get(Lead, lead_id)
            self._authorise(by, Permission.EDIT, lead)
            if lead.status is LeadStatus.CONVERTED and lead.opportunity_id:
                return ()
            now = self._now()
            done = convert(lead, pipeline=pipeline, at=now, by=by,
                           opportunity_id=opportunity_id, amount=amount,
                           expected_close=expected_close)
            opp = done.opportunity
            self._store.apply(
                [Write.save(done.lead), Write.add(opp)],
                audit=[_entry(lead, done.lead, "convert", by, now, note=f"into {opp.id}"),
                       _entry(None, opp, "create", by, now, note=f"from lead {lead.id}")])
            return (OpportunityCreated(opportunity_id=opp.id, pipeline_id=opp.pipeline_id,
                                       stage_id=opp.stage_id, at=now, by=by),
                    LeadConverted(lead_id=lead.id, opportunity_id=opp.id, at=now, by=by))

        return self._retry(attempt)

    def move_stage(
        self,
        opportunity_id: str,
        to_stage: str,
        *,
        by: str,
        reason: str | None = None,
        override: str | None = None,
    ) -> Events:
        """Move an opportunity to another stage through the pipeline's checks.

        Idempotent: moving to the current stage returns no events. A move into a won or
        lost stage also returns :class:`OpportunityWon` / :class:`OpportunityLost`.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``move``.
            TransitionError: The pipeline refuses the move (``.violations`` says why).
        """
        return self._retry(lambda: self._move(opportunity_id, by, to_stage, reason, override))

    def _move(self, opportunity_id: str, by: str, to_stage: str | None, reason: str | None,
              override: str | None, closing: StageKind | None = None,
              stage: str | None = None) -> Events:
        opp = self._store.get(Opportunity, opportunity_id)
        self._authorise(by, Permission.MOVE, opp)
        pipeline = self._pipeline(opp.pipeline_id)
        current = pipeline.stage(opp.stage_id)
        if closing is not None:
            if current.kind is closing:
                return ()
            now = self._now()
            if closing is StageKind.WON:
                moved = pipeline.mark_won(opp, at=now, by=by, stage=stage, reason=reason,
                                          override=override)
            else:
                moved = pipeline.mark_lost(opp, at=now, by=by, reason=reason or "",
                                           stage=stage, override=override)
        else:
            if to_stage == opp.stage_id:
                return ()
            now = self._now()
            moved = pipeline.advance(opp, str(to_stage), at=now, by=by, reason=reason,
                                     override=override)
        target = pipeline.stage(moved.stage_id)
        action = {StageKind.WON: "win", StageKind.LOST: "lose"}.get(target.kind, "move")
        self._store.save(moved, audit=_entry(opp, moved, action, by, now, note=reason))
        events: list[DomainEvent] = [StageChanged(
            opportunity_id=opp.id, from_stage=opp.stage_id, to_stage=moved.stage_id, at=now,
            by=by, override=override)]
        if target.kind is StageKind.WON:
            events.append(OpportunityWon(opportunity_id=opp.id, stage_id=target.id, at=now,
                                         by=by))
        elif target.kind is StageKind.LOST:
            events.append(OpportunityLost(opportunity_id=opp.id, stage_id=target.id,
                                          reason=moved.lost_reason, at=now, by=by))
        return tuple(events)

    def mark_won(self, opportunity_id: str, *, by: str, stage: str | None = None,
                 reason: str | None = None, override: str | None = None) -> Events:
        """Move an opportunity to its pipeline's won stage.

        Idempotent: a deal already in a won stage returns no events.

        Raises:
            NotFoundError, PermissionDeniedError, TransitionError: As :meth:`move_stage`.
        """
        return self._retry(lambda: self._move(opportunity_id, by, None, reason, override,
                                              StageKind.WON, stage))

    def mark_lost(self, opportunity_id: str, *, by: str, reason: str,
                  stage: str | None = None, override: str | None = None) -> Events:
        """Move an opportunity to its pipeline's lost stage with a lost reason.

        Idempotent: a deal already in a lost stage returns no events.

        Raises:
            NotFoundError, PermissionDeniedError, TransitionError: As :meth:`move_stage`.
        """
        return self._retry(lambda: self._move(opportunity_id, by, None, reason, override,
                                              StageKind.LOST, stage))

    def log_activity(self, opportunity_id: str, activity: Activity, *, by: str) -> Events:
        """Append an activity to an opportunity.

        Idempotent: an activity whose id is already logged returns no events.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit``.
            ValidationError: ``activity`` is not an :class:`~oppcore.Activity`.
        """
        if not isinstance(activity, Activity):
            raise ValidationError(f"expected an Activity, got {type(activity).__name__}",
                                  field="activity", value=activity)

        def attempt() -> Events:
            opp = self._store.get(Opportunity, opportunity_id)
            self._authorise(by, Permission.EDIT, opp)
            if any(a.id == activity.id for a in opp.activities):
                return ()
            now = self._now()
            new = opp.evolve(activities=(*opp.activities, activity),
                             updated_at=max(now, opp.updated_at))
            self._store.save(new, audit=_entry(opp, new, "log_activity", by, now))
            return (ActivityLogged(opportunity_id=opp.id, activity_id=activity.id, at=now,
                                   by=by),)

        return self._retry(attempt)

    def rescore(self, opportunity_id: str, *, by: str) -> Events:
        """Score an opportunity with the service's scorecard and keep the result on it.

        The total and grade are kept in ``custom["score"]`` (a decimal string) and
        ``custom["score_grade"]``; the returned :class:`Rescored` event carries the full
        explained :class:`~oppcore.Score`. Idempotent: an unchanged result returns no
        events and writes nothing.

        Raises:
            ConfigError: The service has no scorecard.
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit``.
        """
        card = self._scorecard
        if card is None:
            raise ConfigError([("scorecard", "rescore needs a scorecard")],
                              source="OpportunityService")

        def attempt() -> Events:
            opp = self._store.get(Opportunity, opportunity_id)
            self._authorise(by, Permission.EDIT, opp)
            now = self._now()
            score = card.score(opp, now=now)
            custom: dict[str, Any] = dict(opp.custom)
            previous = custom.get(GRADE_FIELD)
            if custom.get(SCORE_FIELD) == str(score.total) and previous == score.grade:
                return ()
            custom[SCORE_FIELD] = str(score.total)
            custom[GRADE_FIELD] = score.grade
            new = opp.evolve(custom=custom, updated_at=max(now, opp.updated_at))
            self._store.save(new, audit=_entry(opp, new, "rescore", by, now,
                                               note=f"scorecard {score.scorecard}"))
            return (Rescored(opportunity_id=opp.id, score=score,
                             previous_grade=previous if isinstance(previous, str) else None,
                             at=now, by=by),)

        return self._retry(attempt)

    def merge_duplicates(
        self,
        kind: type[R],
        first_id: str,
        second_id: str,
        *,
        by: str,
        prefer: Prefer = "older",
    ) -> Events:
        """Merge two duplicate records: save the merged survivor, delete the other.

        Both writes and their audit entries are one atomic batch. The survivor's audit
        entry lists every changed field; its note names the merged record and every value
        the merge did not keep, so no value is lost silently.

        Raises:
            NotFoundError: Either record is missing (e.g. already merged).
            PermissionDeniedError: The policy refuses ``edit`` on the survivor or
                ``delete`` on the other.
            ValidationError: Both ids are the same.
        """
        if first_id == second_id:
            raise ValidationError("cannot merge a record with itself", field="second_id",
                                  value=second_id)

        def attempt() -> Events:
            a = self._store.get(kind, first_id)
            b = self._store.get(kind, second_id)
            for record in (a, b):
                self._authorise(by, Permission.EDIT, record)
            now = self._now()
            result = merge_records(a, b, prefer=prefer, at=now, by=by)
            survivor = a if result.survivor_id == a.id else b
            other = b if survivor is a else a
            self._authorise(by, Permission.DELETE, other)
            merged = result.record
            assert isinstance(merged, (Lead, Opportunity))
            lost = "; ".join(f"{c.field}: kept {c.kept!r}, dropped {list(c.dropped)!r}"
                             for c in result.conflicts)
            note = f"merged {other.id}" + (f" ({lost})" if lost else "")
            self._store.apply(
                # delete first: the survivor may take over the other's uniqueness keys
                [Write.delete(kind, other.id, version=other.version), Write.save(merged)],
                audit=[_entry(other, None, "merge", by, now, note=f"merged into {survivor.id}"),
                       _entry(survivor, merged, "merge", by, now, note=note)])
            return (RecordsMerged(kind=kind_name(kind),
                                  survivor_id=survivor.id, merged_ids=(other.id,),
                                  conflicts=tuple(c.field for c in result.conflicts),
                                  at=now, by=by),)

        return self._retry(attempt)

