"""oppcore: embeddable opportunity management.

Immutable models for leads and deals, exact money, pipelines as data, explainable scoring,
a storage contract with reference stores, and pipeline analytics.

The everyday names are importable from here; the rest live in namespaces:
:mod:`oppcore.io` (import and export), :mod:`oppcore.analytics`, :mod:`oppcore.serde` (the
wire format), :mod:`oppcore.dedupe` (match keys and the parts of a duplicate result),
:mod:`oppcore.testing` (strategies and the store contract kit), and :mod:`oppcore.pipeline`,
:mod:`oppcore.scoring`, :mod:`oppcore.storage` for what goes beyond the everyday (building a
store, a rule's fast method). Renamed names keep working for one release, with a
``DeprecationWarning`` naming the new one.
"""

import typing

from . import dedupe
from ._errors import (
    CalibrationError,
    ConfigError,
    CurrencyMismatchError,
    DuplicateError,
    ImportDataError,
    NotFoundError,
    OppcoreError,
    PermissionDeniedError,
    PluginError,
    ScoringError,
    StorageUnavailableError,
    StoreClosedError,
    StoreError,
    StructureError,
    TransitionError,
    UnknownStageError,
    ValidationError,
    VersionConflictError,
)
from ._frozenmap import FrozenMap
from ._identity import unique_keys
from ._models import Lead, LeadStatus, Opportunity, Probability, ProbabilitySource
from ._money import CURRENCY_MINOR_UNITS, Money
from ._parties import Account, Channel, CompanySize, Contact, ContactRole, Source
from ._public import deprecated_names as _deprecated_names
from ._public import publish as _publish
from ._qualification import (
    Budget,
    Competition,
    CompetitivePosition,
    Competitor,
    DecisionProcess,
    Qualification,
    Urgency,
    UrgencyLevel,
)
from ._records import Activity, ActivityKind, Quote, QuoteLine, QuoteStatus, StageChange
from ._service import (
    ActivityLogged,
    AllowAll,
    Clock,
    DomainEvent,
    LeadCaptured,
    LeadContacted,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
    OpportunityCreated,
    OpportunityLost,
    OpportunityService,
    OpportunityWon,
    OwnerTeamPolicy,
    Permission,
    Policy,
    RecordEdited,
    RecordFailure,
    RecordsMerged,
    Rescored,
    RescoreSummary,
    StageChanged,
)
from ._version import __version__
from .dedupe import DuplicateCandidate, MergeResult, find_duplicates, merge_records
from .pipeline import (
    Conversion,
    FollowUp,
    ForecastCategory,
    Guard,
    GuardRegistry,
    Guidance,
    IdFactory,
    Pipeline,
    RequireActivity,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    Requirement,
    RequireQualification,
    RequireQuote,
    Stage,
    StageKind,
    TransitionPolicy,
    Violation,
    convert_lead,
    disqualify,
    mark_contacted,
    qualify,
    replay,
    stage_entered_at,
    time_in_stage,
)
from .scoring import (
    BudgetRule,
    CalibrationReport,
    CompetitionRule,
    Contribution,
    ContributionStatus,
    DecisionCycleRule,
    Factor,
    FieldEffect,
    FunctionRule,
    LoadedPlugins,
    MissingDataPolicy,
    ModelProvenance,
    PluginInfo,
    Reason,
    ReliabilityBin,
    RuleResult,
    Score,
    Scorecard,
    ScoringContext,
    ScoringRule,
    UrgencyRule,
    WeightFit,
    WinEstimate,
    WinModel,
    fit_weights,
    fit_win_model,
    load_plugins,
    scoring_rule,
)
from .storage import (
    AuditEntry,
    FeedEntry,
    FieldChange,
    InMemoryStore,
    QueryPage,
    SQLiteStore,
    Store,
    StoreWrite,
    diff_fields,
    export_document,
    import_document,
)

__all__ = [
    # money
    "CURRENCY_MINOR_UNITS",
    "Money",
    # leads and deals
    "Account",
    "Channel",
    "CompanySize",
    "Contact",
    "ContactRole",
    "FrozenMap",
    "Lead",
    "LeadStatus",
    "Opportunity",
    "Probability",
    "ProbabilitySource",
    "Source",
    # qualification: the four evaluation criteria
    "Budget",
    "Competition",
    "CompetitivePosition",
    "Competitor",
    "DecisionProcess",
    "Qualification",
    "Urgency",
    "UrgencyLevel",
    # records on a deal
    "Activity",
    "ActivityKind",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
    "StageChange",
    # errors
    "CalibrationError",
    "ConfigError",
    "CurrencyMismatchError",
    "DuplicateError",
    "ImportDataError",
    "NotFoundError",
    "OppcoreError",
    "PermissionDeniedError",
    "PluginError",
    "ScoringError",
    "StorageUnavailableError",
    "StoreClosedError",
    "StoreError",
    "StructureError",
    "TransitionError",
    "UnknownStageError",
    "ValidationError",
    "VersionConflictError",
    # pipelines: stages as data, explained transitions, lead lifecycle
    "Conversion",
    "FollowUp",
    "ForecastCategory",
    "Guard",
    "GuardRegistry",
    "Guidance",
    "IdFactory",
    "Pipeline",
    "RequireActivity",
    "RequireFields",
    "RequireGuard",
    "RequireLostReason",
    "RequireQualification",
    "RequireQuote",
    "Requirement",
    "Stage",
    "StageKind",
    "TransitionPolicy",
    "Violation",
    "convert_lead",
    "disqualify",
    "mark_contacted",
    "qualify",
    "replay",
    "stage_entered_at",
    "time_in_stage",
    # scoring: rules, scorecards, plugins, calibration
    "ScoringRule",
    "RuleResult",
    "Reason",
    "ScoringContext",
    "FunctionRule",
    "scoring_rule",
    "UrgencyRule",
    "BudgetRule",
    "DecisionCycleRule",
    "CompetitionRule",
    "Scorecard",
    "Score",
    "Contribution",
    "ContributionStatus",
    "Factor",
    "MissingDataPolicy",
    "load_plugins",
    "LoadedPlugins",
    "PluginInfo",
    "fit_win_model",
    "fit_weights",
    "WinModel",
    "WinEstimate",
    "FieldEffect",
    "WeightFit",
    "CalibrationReport",
    "ReliabilityBin",
    "ModelProvenance",
    # duplicates: uniqueness in stores, finding and merging (match keys: oppcore.dedupe)
    "DuplicateCandidate",
    "MergeResult",
    "find_duplicates",
    "merge_records",
    "unique_keys",
    # storage, audit and permissions
    "AllowAll",
    "AuditEntry",
    "FeedEntry",
    "FieldChange",
    "InMemoryStore",
    "OwnerTeamPolicy",
    "QueryPage",
    "Permission",
    "Policy",
    "SQLiteStore",
    "Store",
    "StoreWrite",
    "diff_fields",
    "export_document",
    "import_document",
    # service and domain events
    "ActivityLogged",
    "Clock",
    "DomainEvent",
    "LeadCaptured",
    "LeadContacted",
    "LeadConverted",
    "LeadDisqualified",
    "LeadQualified",
    "OpportunityCreated",
    "OpportunityLost",
    "OpportunityService",
    "OpportunityWon",
    "RecordEdited",
    "RecordFailure",
    "RecordsMerged",
    "RescoreSummary",
    "Rescored",
    "StageChanged",
    # metadata
    "__version__",
]

_publish(__name__, globals(), __all__)

# --- deprecated names -------------------------------------------------------------------
# Each old name resolves, with a DeprecationWarning, for one release after the change that
# deprecated it, then its entry is deleted. To deprecate a name: remove it from the imports
# and __all__ above and add "old name": ("its replacement, as users write it", the object).
# tests/test_public_api.py checks that every entry warns, names its replacement and resolves
# to the object that replacement names.
_DEPRECATED: typing.Final[dict[str, tuple[str, object]]] = {
    # 0.1: generic names that said too little
    "convert": ("oppcore.convert_lead", convert_lead),
    "Change": ("oppcore.FeedEntry", FeedEntry),
    "Page": ("oppcore.QueryPage", QueryPage),
    "Write": ("oppcore.StoreWrite", StoreWrite),
    # 0.1: the merge of two duplicate records has a name that says so
    "merge": ("oppcore.merge_records", merge_records),
    # 0.1: match keys and the parts of a duplicate result live in oppcore.dedupe
    "COMPANY_SUFFIXES": ("oppcore.dedupe.COMPANY_SUFFIXES", dedupe.COMPANY_SUFFIXES),
    "FREE_MAIL_DOMAINS": ("oppcore.dedupe.FREE_MAIL_DOMAINS", dedupe.FREE_MAIL_DOMAINS),
    "FieldOutcome": ("oppcore.dedupe.FieldOutcome", dedupe.FieldOutcome),
    "MatchKeys": ("oppcore.dedupe.MatchKeys", dedupe.MatchKeys),
    "MatchReason": ("oppcore.dedupe.MatchReason", dedupe.MatchReason),
    "company_key": ("oppcore.dedupe.company_key", dedupe.company_key),
    "domain_key": ("oppcore.dedupe.domain_key", dedupe.domain_key),
    "email_key": ("oppcore.dedupe.email_key", dedupe.email_key),
    "external_key": ("oppcore.dedupe.external_key", dedupe.external_key),
    "match_keys": ("oppcore.dedupe.match_keys", dedupe.match_keys),
    "phone_key": ("oppcore.dedupe.phone_key", dedupe.phone_key),
}

if not typing.TYPE_CHECKING:
    __getattr__ = _deprecated_names(__name__, _DEPRECATED)
