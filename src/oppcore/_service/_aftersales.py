"""Use cases after the win: log a satisfaction survey, complete an after-sales task, renew."""

from datetime import date

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import Money
from oppcore._records import Activity, ActivityKind, SurveyScale
from oppcore.aftersales import TaskStatus, plan, renew
from oppcore.storage import StoreWrite

from ._base import ServiceBase, entry
from ._events import (
    ActivityLogged,
    Events,
    OpportunityCreated,
    OpportunityRenewed,
    SurveyLogged,
    TaskCompleted,
)
from ._policy import Permission

__all__ = ["AfterSalesUseCases"]


class AfterSalesUseCases(ServiceBase):
    """Surveys, after-sales tasks and renewals of won deals."""

    def _append(self, opportunity_id: str, activity: Activity, by: str, action: str,
                note: str | None = None) -> tuple[Opportunity, Opportunity] | None:
        """Append ``activity`` (audited as ``action``); ``None`` if its id is logged."""
        opp = self._store.get(Opportunity, opportunity_id)
        self._authorise(by, Permission.EDIT, opp)
        if any(a.id == activity.id for a in opp.activities):
            return None
        new = opp.evolve(activities=(*opp.activities, activity),
                         updated_at=max(activity.at, opp.updated_at))
        self._store.save(new, audit=entry(opp, new, action, by, activity.at, note=note))
        return opp, new

    def log_survey(self, opportunity_id: str, *, activity_id: str, scale: SurveyScale,
                   score: int, by: str, summary: str = "",
                   task: str | None = None) -> Events:
        """Log a satisfaction survey (an activity of kind ``survey``) on a deal.

        The score is checked against its scale (CSAT 1-5, NPS 0-10). Idempotent: a survey
        whose ``activity_id`` is already logged returns no events.

        Args:
            opportunity_id: The deal surveyed.
            activity_id: The new activity's id.
            scale: CSAT or NPS.
            score: The answer, a whole number on ``scale``.
            by: Who records it.
            summary: The customer's comment.
            task: The after-sales task it completes, when it names one.

        Returns:
            :class:`ActivityLogged` and :class:`SurveyLogged`.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit``.
            ValidationError: A score outside the scale, or another bad field.
        """

        def attempt() -> Events:
            now = self._now()
            survey = Activity(id=activity_id, kind=ActivityKind.SURVEY, at=now, by=by,
                              summary=summary, scale=scale, score=score, task=task)
            done = self._append(opportunity_id, survey, by, "log_survey",
                                note=f"{scale.value} {score}")
            if done is None:
                return ()
            return (ActivityLogged(opportunity_id=opportunity_id, activity_id=activity_id,
                                   at=now, by=by),
                    SurveyLogged(opportunity_id=opportunity_id, activity_id=activity_id,
                                 scale=scale, score=score, at=now, by=by))

        self._check_actor(by)
        return self._retry(attempt)

    def complete_task(self, opportunity_id: str, task_id: str, *, activity_id: str,
                      by: str, summary: str = "",
                      kind: ActivityKind = ActivityKind.OTHER) -> Events:
        """Complete an after-sales task of a won deal by logging an activity naming it.

        Idempotent: a task already done (see :func:`oppcore.aftersales.plan`) returns no
        events and logs nothing.

        Args:
            opportunity_id: The won deal.
            task_id: A task id of its pipeline's after-sales plan.
            activity_id: The id of the activity to log.
            by: Who did it.
            summary: What was done.
            kind: The activity's kind (a survey task is completed by :meth:`log_survey`).

        Returns:
            :class:`ActivityLogged` and :class:`TaskCompleted`.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit``.
            ValidationError: The pipeline has no such task, the deal is not won, or
                ``kind`` is ``survey`` (log it with :meth:`log_survey`, which carries the
                score).
        """
        self._check_actor(by)
        if kind is ActivityKind.SURVEY:
            raise ValidationError("a survey carries a score: log it with log_survey(..., "
                                  "task=...)", field="kind", value=kind)

        def attempt() -> Events:
            opp = self._store.get(Opportunity, opportunity_id)
            self._authorise(by, Permission.EDIT, opp)
            now = self._now()
            pipeline = self._pipeline(opp.pipeline_id)
            schedule = pipeline.aftersales
            if schedule is None or schedule.task(task_id) is None:
                raise ValidationError(f"pipeline {pipeline.id!r} has no after-sales task "
                                      f"{task_id!r}", field="task_id", value=task_id)
            tasks = {t.task.id: t for t in plan(opp, pipeline, now=now)}
            if not tasks:
                raise ValidationError(f"opportunity {opp.id!r} is not won: it has no "
                                      "after-sales tasks", field="opportunity_id",
                                      value=opp.id)
            if tasks[task_id].status is TaskStatus.DONE:
                return ()
            activity = Activity(id=activity_id, kind=kind, at=now, by=by, summary=summary,
                                task=task_id)
            if self._append(opportunity_id, activity, by, "complete_task",
                            note=task_id) is None:
                return ()
            return (ActivityLogged(opportunity_id=opp.id, activity_id=activity_id, at=now,
                                   by=by),
                    TaskCompleted(opportunity_id=opp.id, task_id=task_id,
                                  activity_id=activity_id, at=now, by=by))

        return self._retry(attempt)

    def renew(self, opportunity_id: str, *, by: str, amount: Money | None = None,
              renewal_id: str | None = None, name: str | None = None,
              expected_close: date | None = None, locale: str | None = None) -> Events:
        """Create the renewal opportunity of a won deal; save both ends in one write.

        The original gets ``renewed_by``, the new deal ``renewal_of`` (see
        :func:`oppcore.aftersales.renew`); both records and their audit entries are
        written in one atomic :meth:`~oppcore.Store.apply`, so a link is never half-made.
        Idempotent: a deal already renewed returns no events. Without ``name``, the
        renewal is called ``"<deal name> (renewal)"`` in ``locale`` (``"zh-CN"``:
        ``"<deal name>（续约）"``).

        Returns:
            :class:`OpportunityCreated` and :class:`OpportunityRenewed`.

        Raises:
            NotFoundError: No such opportunity.
            PermissionDeniedError: The policy refuses ``edit`` on the deal or ``create``
                for the renewal.
            TransitionError: The deal is not won.
            DuplicateError: The renewal id is taken.
        """
        self._check_actor(by)

        def attempt() -> Events:
            opp = self._store.get(Opportunity, opportunity_id)
            self._authorise(by, Permission.EDIT, opp)
            if opp.renewed_by is not None:
                return ()
            now = self._now()
            done = renew(opp, at=now, by=by, pipeline=self._pipeline(opp.pipeline_id),
                         amount=amount, renewal_id=renewal_id, name=name,
                         expected_close=expected_close, locale=locale)
            new = done.renewal
            self._authorise(by, Permission.CREATE, new)
            self._store.apply(
                [StoreWrite.save(done.original), StoreWrite.add(new)],
                audit=[entry(opp, done.original, "renew", by, now, note=f"renewed by {new.id}"),
                       entry(None, new, "create", by, now, note=f"renewal of {opp.id}")])
            return (OpportunityCreated(opportunity_id=new.id, pipeline_id=new.pipeline_id,
                                       stage_id=new.stage_id, at=now, by=by),
                    OpportunityRenewed(opportunity_id=opp.id, renewal_id=new.id, at=now,
                                       by=by))

        return self._retry(attempt)
