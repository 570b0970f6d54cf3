"""Domain events: what a use case did, in the past tense, for the host to publish.

Events are frozen values. Every event names the record(s), when (``at``, the service
clock's time of the write) and who (``by``). A use case that changed nothing returns no
events.

The lead lifecycle has one event per step (:class:`LeadContacted`, :class:`LeadQualified`,
:class:`LeadDisqualified`, :class:`LeadConverted`) rather than one generic "status changed":
the lifecycle is fixed (unlike a pipeline's stages, which are data and so get the generic
:class:`StageChanged`), each step carries its own data (the qualification found, the reason
for disqualifying), and a subscriber usually wants exactly one of them ("tell marketing when
a lead is disqualified"), which it can pick by type.
"""

from datetime import datetime
from typing import NamedTuple

import attrs

from oppcore._checks import check_bounds, in_bounds
from oppcore._errors import OppcoreError
from oppcore._models import LeadStatus
from oppcore._qualification import Qualification
from oppcore._records import SURVEY_SCORE, SurveyScale
from oppcore.scoring import Score

__all__ = [
    "ActivityLogged",
    "DomainEvent",
    "Events",
    "LeadCaptured",
    "LeadContacted",
    "LeadConverted",
    "LeadDisqualified",
    "LeadQualified",
    "OpportunityCreated",
    "OpportunityLost",
    "OpportunityRenewed",
    "OpportunityWon",
    "RecordEdited",
    "RecordFailure",
    "RecordsMerged",
    "RescoreSummary",
    "Rescored",
    "StageChanged",
    "SurveyLogged",
    "TaskCompleted",
]


@attrs.frozen(kw_only=True)
class LeadCaptured:
    """A new lead was stored."""

    lead_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class LeadContacted:
    """A new lead was contacted for the first time."""

    lead_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class LeadQualified:
    """A contacted lead was qualified; ``qualification`` is what is known about it now."""

    lead_id: str
    qualification: Qualification
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class LeadDisqualified:
    """A lead was disqualified, from ``from_status``, for ``reason``."""

    lead_id: str
    from_status: LeadStatus
    reason: str
    at: datetime
    by: str


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
class RecordEdited:
    """Fields of a lead or an opportunity were edited.

    Attributes:
        kind: ``"lead"`` or ``"opportunity"``.
        record_id: The record edited.
        fields: The fields whose value changed, in field order (``updated_at`` not listed).
        at: When.
        by: Who.
    """

    kind: str
    record_id: str
    fields: tuple[str, ...]
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
class SurveyLogged:
    """A satisfaction survey was logged on an opportunity (an activity of kind ``survey``)."""

    opportunity_id: str
    activity_id: str
    scale: SurveyScale
    score: int = attrs.field(metadata=in_bounds(SURVEY_SCORE))
    at: datetime
    by: str

    def __attrs_post_init__(self) -> None:
        check_bounds(self)


@attrs.frozen(kw_only=True)
class TaskCompleted:
    """An after-sales task of an opportunity was completed by a logged activity."""

    opportunity_id: str
    task_id: str
    activity_id: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class OpportunityRenewed:
    """A won deal got its renewal opportunity; both records name each other."""

    opportunity_id: str
    renewal_id: str
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


DomainEvent = (LeadCaptured | LeadContacted | LeadQualified | LeadDisqualified
               | OpportunityCreated | LeadConverted | RecordEdited | StageChanged
               | ActivityLogged | Rescored | OpportunityWon | OpportunityLost | RecordsMerged
               | SurveyLogged | TaskCompleted | OpportunityRenewed)
"""Any event a use case returns."""

Events = tuple[DomainEvent, ...]


class RecordFailure(NamedTuple):
    """A record a batch use case could not process, and why (the error it raised)."""

    record_id: str
    error: OppcoreError


@attrs.frozen(kw_only=True)
class RescoreSummary:
    """What :meth:`~oppcore.OpportunityService.rescore_many` did, record by record.

    Attributes:
        rescored: One event per opportunity whose score or grade changed (and was saved).
        unchanged: Ids of the opportunities whose result was already stored (no write).
        failed: The opportunities left as they were, each with its error: gone meanwhile
            (:class:`~oppcore.NotFoundError`), refused by the policy
            (:class:`~oppcore.PermissionDeniedError`), or still conflicting after every
            retry (:class:`~oppcore.VersionConflictError`).
    """

    rescored: tuple[Rescored, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[RecordFailure, ...] = ()
