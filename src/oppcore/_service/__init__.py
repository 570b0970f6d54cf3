"""The service layer: use cases over a store (the imperative shell around the pure core).

Every use case has the same shape: **load** the record(s), **check the policy** (a refusal
raises :class:`~oppcore.PermissionDeniedError` before anything is written, so the store and
the audit trail are unchanged), **call the pure core** (lead lifecycle, pipeline
transitions, conversion, scoring, merging), **save with the version it read** together with
the audit entries in one atomic write, and **return the domain events** it produced. The
``oppcore`` command and its demo write through these use cases too, so every write of the
shell is authorised, audited and retried the same way.

Retry safety: when another writer got there first the store raises
:class:`~oppcore.VersionConflictError` and writes nothing; the service then reloads and runs
the use case again, up to ``retries`` times, re-checking the policy and the transition on
the fresh record. Use cases that would change nothing on a second run are idempotent and
return no events: moving to the current stage, logging an activity whose id is already
logged, contacting a contacted lead (qualifying a qualified one, disqualifying a
disqualified one for the same reason), converting a lead already converted, winning a won
deal, losing a lost one, an edit or a rescore that changes nothing. Creating is not
idempotent: a second create of the same id raises :class:`~oppcore.DuplicateError`. Nor is
merging: a repeated merge raises :class:`~oppcore.NotFoundError` for the record already
merged away (and changes nothing).

Permissions (:class:`~oppcore.Policy`) live here, beside the service that asks them; the
stores know nothing of them.
"""

from ._base import Clock
from ._deals import GRADE_FIELD, SCORE_FIELD
from ._events import (
    ActivityLogged,
    DomainEvent,
    Events,
    LeadCaptured,
    LeadContacted,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
    OpportunityCreated,
    OpportunityLost,
    OpportunityRenewed,
    OpportunityWon,
    RecordEdited,
    RecordFailure,
    RecordsMerged,
    Rescored,
    RescoreSummary,
    StageChanged,
    SurveyLogged,
    TaskCompleted,
)
from ._policy import AllowAll, OwnerTeamPolicy, Permission, Policy
from ._service import OpportunityService

__all__ = [
    "GRADE_FIELD",
    "SCORE_FIELD",
    "ActivityLogged",
    "AllowAll",
    "Clock",
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
    "OpportunityService",
    "OpportunityWon",
    "OwnerTeamPolicy",
    "Permission",
    "Policy",
    "RecordEdited",
    "RecordFailure",
    "RecordsMerged",
    "RescoreSummary",
    "Rescored",
    "StageChanged",
    "SurveyLogged",
    "TaskCompleted",
]
