"""Use cases on deals: stage moves, winning and losing, activities, scoring."""

from collections.abc import Iterable
from typing import Any

from oppcore._errors import (
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    VersionConflictError,
)
from oppcore._models import Opportunity
from oppcore._records import Activity
from oppcore.pipeline import StageKind
from oppcore.scoring import Scorecard

from ._base import ServiceBase, entry
from ._events import (
    ActivityLogged,
    DomainEvent,
    Events,
    OpportunityLost,
    OpportunityWon,
    RecordFailure,
    Rescored,
    RescoreSummary,
    StageChanged,
)
from ._policy import Permission

__all__ = ["GRADE_FIELD", "SCORE_FIELD", "DealUseCases"]

# Where rescore keeps the latest result on the record (the models have no score field).
SCORE_FIELD = "score"
GRADE_FIELD = "score_grade"

_PAGE = 500


class DealUseCases(ServiceBase):
    """Move, win, lose, log activities on and score opportunities."""

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
        self._store.save(moved, audit=entry(opp, moved, action, by, now, note=reason))
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
            self._store.save(new, audit=entry(opp, new, "log_activity", by, now))
            return (ActivityLogged(opportunity_id=opp.id, activity_id=activity.id, at=now,
                                   by=by),)

        return self._retry(attempt)

    # --- scoring -------------------------------------------------------------------------

    def _card(self, use_case: str) -> Scorecard:
        if self._scorecard is None:
            raise ConfigError([("scorecard", f"{use_case} needs a scorecard")],
                              source="OpportunityService")
        return self._scorecard

    def _rescore(self, opportunity_id: str, by: str, card: Scorecard) -> Events:
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
        self._store.save(new, audit=entry(opp, new, "rescore", by, now,
                                          note=f"scorecard {score.scorecard}"))
        return (Rescored(opportunity_id=opp.id, score=score,
                         previous_grade=previous if isinstance(previous, str) else None,
                         at=now, by=by),)

    def rescore(self, opportunity_id: str, *, by: str) -> Events:
        """Score an opportunity with the service's scorecard and keep the result on it.

        The total and grade are kept in ``custom["score"]`` (a decimal string) and
        ``custom["score_grade"]``, and ``updated_at`` moves to the service clock's time
        (never backwards), so a rescored deal shows up in ``query(updated_since=...)``.
        The returned :class:`Rescored` event carries the full explained
        :class:`~oppcore.Score`. Idempotent: an unchanged result returns no events and
        writes nothing.

        Raises:
            ConfigError: The service has no scorecard.
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit``.
        """
        return self._rescore_retried(opportunity_id, by, self._card("rescore"))

    def _rescore_retried(self, opportunity_id: str, by: str, card: Scorecard) -> Events:
        return self._retry(lambda: self._rescore(opportunity_id, by, card))

    def rescore_many(self, opportunity_ids: Iterable[str] | None = None, *,
                     by: str) -> RescoreSummary:
        """Rescore many opportunities, each as :meth:`rescore` does (its own write and retry).

        Each opportunity is loaded, authorised, scored and saved on its own, with its own
        retries on a version conflict, so one busy deal delays only itself and a failure
        leaves the others done. The failures a batch expects (a deal deleted meanwhile, one
        the policy refuses, one still conflicting after every retry) are collected in the
        summary rather than raised.

        Args:
            opportunity_ids: The deals to rescore, in order; ``None`` for every deal in an
                open stage of the service's pipelines (queried page by page).
            by: The actor named in every audit entry and event.

        Returns:
            What was rescored (one :class:`Rescored` event each), what was already up to
            date, and what failed and why.

        Raises:
            ConfigError: The service has no scorecard.
            ValidationError: A blank actor, or a single id string instead of an iterable.
        """
        card = self._card("rescore_many")
        self._check_actor(by)
        if isinstance(opportunity_ids, str):
            raise ValidationError("opportunity_ids must be an iterable of ids, not one id",
                                  field="opportunity_ids", value=opportunity_ids)
        ids = self._open_deal_ids() if opportunity_ids is None else opportunity_ids
        rescored: list[Rescored] = []
        unchanged: list[str] = []
        failed: list[RecordFailure] = []
        for opportunity_id in ids:
            try:
                events = self._rescore_retried(opportunity_id, by, card)
            except (NotFoundError, PermissionDeniedError, VersionConflictError) as exc:
                failed.append(RecordFailure(opportunity_id, exc))
                continue
            if events:
                rescored.extend(e for e in events if isinstance(e, Rescored))
            else:
                unchanged.append(opportunity_id)
        return RescoreSummary(rescored=tuple(rescored), unchanged=tuple(unchanged),
                              failed=tuple(failed))

    def _open_deal_ids(self) -> list[str]:
        """Return the ids of every deal in an open stage of the service's pipelines."""
        ids: list[str] = []
        for pipeline in self._pipelines.values():
            open_ids = {s.id for s in pipeline.open_stages}
            after: str | None = None
            while True:
                page = self._store.query(Opportunity, pipeline=pipeline.id, after=after,
                                         limit=_PAGE)
                ids += [o.id for o in page.items if o.stage_id in open_ids]
                if page.next_after is None:
                    break
                after = page.next_after
        return ids
