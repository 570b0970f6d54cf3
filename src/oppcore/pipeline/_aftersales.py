"""After-sales plans as data: the tasks that follow a win (售后服务), with their anchors.

A plan belongs to a pipeline (``Pipeline.aftersales``), not to a stage: a won deal stays in
its won stage while the after-sales work runs on dates (days after the win, days before the
contract ends), in parallel, and one plan serves every won stage of the pipeline. The tasks
are plain data; :func:`oppcore.aftersales.plan` computes their due dates and whether each
is done for one deal.
"""

import enum
from typing import Any, Final

import attrs

from oppcore._check_table import Checks
from oppcore._checks import Bounds, check_bounds, fail, in_bounds
from oppcore._records import ActivityKind
from oppcore.locale._catalog import N_

__all__ = ["AfterSalesPlan", "Anchor", "OFFSET_DAYS", "PlanTask", "STANDARD_PLAN"]


class Anchor(str, enum.Enum):
    """The date an after-sales task counts its offset from."""

    WON = "won"
    """The day the deal entered its won stage."""
    CONTRACT_START = "contract_start"
    """The deal's ``contract_start``."""
    CONTRACT_END = "contract_end"
    """The deal's ``contract_end`` (a negative offset is "N days before it ends")."""
    GOOD_SURVEY = "good_survey"
    """The first good satisfaction survey after the win (CSAT 4-5, NPS 9-10)."""


OFFSET_DAYS: Final = Bounds(-3660, 3660, integer=True, kind=int)
"""A task's offset from its anchor, in days (up to ten years either way)."""

_TASK = Checks(text=("id", "label"), instances=(("anchor", (Anchor,)),
                                                ("kind", (ActivityKind, type(None)))),
               bools=("business_days",))


@attrs.frozen(kw_only=True)
class PlanTask:
    """One task of an after-sales plan.

    Args:
        id: Stable identifier within the plan; an activity names it in ``task`` to
            complete it.
        label: Display name.
        anchor: What the offset counts from (the win, a contract date, a good survey).
        offset_days: Days after the anchor (negative: before it), in [-3660, 3660].
        business_days: Count weekdays only (Saturday and Sunday skipped), as stage
            follow-ups do; a due date on a weekend then moves to the next weekday going
            forward (the previous one going back).
        kind: An activity kind that completes the task when it is logged after the win
            without naming a task (a survey completes the survey task); ``None`` when only
            an activity naming the task completes it.

    Raises:
        ValidationError: A field has the wrong type or the offset is out of range.
    """

    id: str
    label: str
    anchor: Anchor = Anchor.WON
    offset_days: int = attrs.field(default=0, metadata=in_bounds(OFFSET_DAYS))
    business_days: bool = False
    kind: ActivityKind | None = None

    def __attrs_post_init__(self) -> None:
        check_bounds(self)
        _TASK.run(self)


def _unique_task_ids(plan: Any) -> None:
    seen: set[str] = set()
    for task in plan.tasks:
        if task.id in seen:
            fail(plan, "tasks", f"task id {task.id!r} appears twice", task.id)
        seen.add(task.id)


_PLAN = Checks(rules=(_unique_task_ids,), text=("label",), tuples=(("tasks", (PlanTask,)),))


@attrs.frozen(kw_only=True)
class AfterSalesPlan:
    """The after-sales tasks every won deal of a pipeline gets.

    Args:
        tasks: The tasks, in the order to show them.
        label: Display name.

    Raises:
        ValidationError: A task is not a :class:`PlanTask`, or two tasks share an id.
    """

    tasks: tuple[PlanTask, ...]
    label: str = N_("After-sales service (售后服务)")

    def __attrs_post_init__(self) -> None:
        _PLAN.run(self)

    def task(self, task_id: str) -> PlanTask | None:
        """Return the task with id ``task_id``, or ``None``."""
        return next((t for t in self.tasks if t.id == task_id), None)


STANDARD_PLAN: Final = AfterSalesPlan(tasks=(
    PlanTask(id="handover", label=N_("Hand over to delivery"), offset_days=0),
    PlanTask(id="acceptance", label=N_("Acceptance check"), offset_days=14),
    PlanTask(id="satisfaction_survey", label=N_("Satisfaction survey (客户满意度调查)"),
             offset_days=30, kind=ActivityKind.SURVEY),
    PlanTask(id="renewal_talk", label=N_("Renewal conversation"), anchor=Anchor.CONTRACT_END,
             offset_days=-60),
    PlanTask(id="referral_ask", label=N_("Ask for a referral (推荐计划)"),
             anchor=Anchor.GOOD_SURVEY, offset_days=7),
))
"""The ``standard`` template's plan: hand over at once, check acceptance after two weeks,
survey satisfaction after a month, talk renewal 60 days before the contract ends, and ask
for a referral a week after a good survey."""
