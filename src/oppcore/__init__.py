"""oppcore: embeddable opportunity management.

Immutable models for leads and deals, exact money, pipelines as data, explainable scoring,
a storage contract with reference stores, and pipeline analytics. See the documentation
for the guides; every public name is importable from here.
"""

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
    StoreError,
    StructureError,
    TransitionError,
    ValidationError,
    VersionConflictError,
)
from ._models import (
    Account,
    Channel,
    CompanySize,
    Contact,
    ContactRole,
    Lead,
    LeadStatus,
    Opportunity,
    Probability,
    ProbabilitySource,
    Source,
)
from ._money import CURRENCY_MINOR_UNITS, Money
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
from ._validate import FrozenMap
from ._version import __version__

# --- pipeline (stage machine) imports ---
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
    UnknownStageError,
    Violation,
    convert,
    disqualify,
    mark_contacted,
    qualify,
    replay,
    stage_entered_at,
    time_in_stage,
)

# --- scoring imports ---
# --- storage, dedupe, audit, service imports ---

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
    "StoreError",
    "StructureError",
    "TransitionError",
    "ValidationError",
    "VersionConflictError",
    # --- pipeline (stage machine) names ---
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
    "UnknownStageError",
    "Violation",
    "convert",
    "disqualify",
    "mark_contacted",
    "qualify",
    "replay",
    "stage_entered_at",
    "time_in_stage",
    # --- scoring names ---
    # --- storage, dedupe, audit, service names ---
    # metadata
    "__version__",
]
