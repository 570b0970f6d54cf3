"""After the win (售后服务): after-sales plans, their tasks for one deal, and renewals.

A pipeline carries an :class:`AfterSalesPlan` (``Pipeline.aftersales``; the ``standard``
template has :data:`STANDARD_PLAN`). :func:`plan` gives one won deal's tasks with due dates
and whether each is done or overdue; :func:`renew` creates the renewal opportunity of a won
contract, linked both ways. The satisfaction, renewal, referral and segmentation figures
live in :mod:`oppcore.analytics`; the audited writes (log a survey, complete a task, renew)
are use cases of :class:`oppcore.OpportunityService`. The survey fields themselves
(:class:`oppcore.SurveyScale`, ``Activity.score``) are everyday names, flat in
:mod:`oppcore`.
"""

from oppcore._public import publish as _publish
from oppcore.pipeline._aftersales import (
    OFFSET_DAYS,
    STANDARD_PLAN,
    AfterSalesPlan,
    Anchor,
    PlanTask,
)

from ._plan import PlannedTask, TaskStatus, plan
from ._renew import Renewal, renew

__all__ = [
    "plan",
    "renew",
    "AfterSalesPlan",
    "PlanTask",
    "Anchor",
    "STANDARD_PLAN",
    "OFFSET_DAYS",
    "PlannedTask",
    "TaskStatus",
    "Renewal",
]

_publish(__name__, globals(), __all__)
