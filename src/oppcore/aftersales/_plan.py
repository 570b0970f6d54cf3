"""One deal's after-sales plan: each task's due date and whether it is done or overdue."""

import enum
from collections.abc import Sequence
from datetime import date, datetime

import attrs

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._records import Activity, ActivityKind
from oppcore.pipeline import Pipeline, StageKind, stage_entered_at
from oppcore.pipeline._aftersales import Anchor, PlanTask
from oppcore.pipeline._cadence import add_business_days

__all__ = ["PlannedTask", "TaskStatus", "check_deal", "first_good_survey", "plan", "won_at"]


class TaskStatus(str, enum.Enum):
    """Where one after-sales task of one deal stands."""

    DONE = "done"
    """A matching activity was logged (see :func:`plan`)."""
    OVERDUE = "overdue"
    """Not done, and its due date is before ``now``'s date."""
    OPEN = "open"
    """Not done, due today or later."""
    WAITING = "waiting"
    """Its anchor is not known yet (no contract dates, no good survey yet): no due date."""


@attrs.frozen(kw_only=True)
class PlannedTask:
    """One task of a deal's after-sales plan, as of ``now``.

    Attributes:
        opportunity_id: The deal.
        task: The plan's task.
        due: When it is due (``None`` while it is waiting for its anchor).
        status: Done, overdue, open or waiting.
        done_at: When the activity that completed it happened.
        activity_id: That activity's id.
        days_overdue: Calendar days past due, for an overdue task.
    """

    opportunity_id: str
    task: PlanTask
    due: date | None
    status: TaskStatus
    done_at: datetime | None = None
    activity_id: str | None = None
    days_overdue: int | None = None


def won_at(deal: Opportunity, pipeline: Pipeline) -> datetime | None:
    """Return when ``deal`` was won, or ``None`` when it is not in a won stage of
    ``pipeline`` (or its history does not say when it entered it)."""
    if deal.stage_id not in pipeline or pipeline.stage(deal.stage_id).kind is not StageKind.WON:
        return None
    return stage_entered_at(deal)


def first_good_survey(activities: Sequence[Activity], *, since: datetime,
                      now: datetime) -> Activity | None:
    """Return the first survey in ``[since, now]`` with a good score (CSAT 4-5, NPS 9-10)."""
    good = [a for a in activities
            if a.kind is ActivityKind.SURVEY and since <= a.at <= now
            and a.scale is not None and a.score is not None and a.scale.is_good(a.score)]
    return min(good, key=lambda a: a.at, default=None)


def _anchor_day(task: PlanTask, deal: Opportunity, won: datetime,
                now: datetime) -> date | None:
    if task.anchor is Anchor.WON:
        return won.date()
    if task.anchor is Anchor.CONTRACT_START:
        return deal.contract_start
    if task.anchor is Anchor.CONTRACT_END:
        return deal.contract_end
    survey = first_good_survey(deal.activities, since=won, now=now)
    return survey.at.date() if survey is not None else None


def _due(task: PlanTask, anchor: date, pipeline: Pipeline) -> date:
    if task.business_days:  # the pipeline's calendar, as its follow-up rules count
        return add_business_days(anchor, task.offset_days, pipeline.business_calendar)
    return date.fromordinal(anchor.toordinal() + task.offset_days)


def _completion(task: PlanTask, activities: Sequence[Activity], won: datetime,
                now: datetime) -> Activity | None:
    """The first activity, logged by ``now``, that completes ``task``."""
    for a in sorted(activities, key=lambda a: a.at):
        if a.at > now:
            break
        if a.task == task.id or (a.task is None and task.kind is not None
                                 and a.kind is task.kind and a.at >= won):
            return a
    return None


def plan(deal: Opportunity, pipeline: Pipeline, *, now: datetime) -> tuple[PlannedTask, ...]:
    """Return ``deal``'s after-sales tasks with their due dates and status as of ``now``.

    Each task of ``pipeline.aftersales`` is due ``offset_days`` after its anchor (the win
    date, a contract date, or the first good survey after the win), counted in weekdays
    when the task says ``business_days`` (the same weekday rule as stage follow-ups).

    A task is **done** when an activity logged by ``now`` names it (``Activity.task``), or,
    for a task with a ``kind``, when an activity of that kind that names no task was logged
    on or after the win (a survey completes the survey task). Otherwise it is **overdue**
    when its due date is before ``now``'s date, **open** when not, and **waiting** while
    its anchor is unknown.

    Args:
        deal: The deal.
        pipeline: The pipeline it follows.
        now: As of when (timezone-aware); dates are read in ``now``'s offset.

    Returns:
        One :class:`PlannedTask` per task of the plan, in the plan's order; empty when the
        pipeline has no plan or the deal is not won (or its win is not in its history).

    Raises:
        ValidationError: ``now`` is naive, ``deal`` is not an opportunity or follows another
            pipeline.
    """
    aware(now, "now")
    check_deal(deal, pipeline)
    schedule = pipeline.aftersales
    won = won_at(deal, pipeline)
    if schedule is None or won is None:
        return ()
    won = won.astimezone(now.tzinfo)
    today = now.date()
    out = []
    for task in schedule.tasks:
        anchor = _anchor_day(task, deal, won, now)
        due = _due(task, anchor, pipeline) if anchor is not None else None
        done = _completion(task, deal.activities, won, now)
        late = None
        if done is not None:
            status = TaskStatus.DONE
        elif due is None:
            status = TaskStatus.WAITING
        elif due < today:
            status, late = TaskStatus.OVERDUE, (today - due).days
        else:
            status = TaskStatus.OPEN
        out.append(PlannedTask(opportunity_id=deal.id, task=task, due=due, status=status,
                               done_at=done.at if done is not None else None,
                               activity_id=done.id if done is not None else None,
                               days_overdue=late))
    return tuple(out)


def check_deal(deal: object, pipeline: object) -> None:
    """Raise unless ``deal`` is an :class:`Opportunity` that follows ``pipeline``.

    Raises:
        ValidationError: Naming the argument that is wrong.
    """
    if not isinstance(deal, Opportunity):
        raise ValidationError(f"deal must be an Opportunity, got {type(deal).__name__}",
                              field="deal", value=deal)
    if not isinstance(pipeline, Pipeline):
        raise ValidationError(f"pipeline must be a Pipeline, got {type(pipeline).__name__}",
                              field="pipeline", value=pipeline)
    if deal.pipeline_id != pipeline.id:
        raise ValidationError(f"opportunity {deal.id!r} follows pipeline "
                              f"{deal.pipeline_id!r}, not {pipeline.id!r}",
                              model="Opportunity", field="pipeline_id", value=deal.pipeline_id)
