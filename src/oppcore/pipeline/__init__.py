"""Pipelines as data: stages, requirements, transitions, history and the lead lifecycle.

Everything public here is re-exported from :mod:`oppcore`; import it from there.
"""

import typing as _typing

from oppcore._public import deprecated_names as _deprecated_names
from oppcore._public import publish as _publish

from ._history import replay, stage_entered_at, time_in_stage
from ._leads import Conversion, IdFactory, convert_lead, disqualify, mark_contacted, qualify
from ._pipeline import Pipeline
from ._requirements import (
    Guard,
    GuardRegistry,
    RequireActivity,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    Requirement,
    RequireQualification,
    RequireQuote,
    Violation,
)
from ._stage import FollowUp, ForecastCategory, Guidance, Stage, StageKind, UnknownStageError
from ._transitions import TransitionPolicy

__all__ = [
    "Conversion",
    "IdFactory",
    "FollowUp",
    "ForecastCategory",
    "Guard",
    "GuardRegistry",
    "Guidance",
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
    "convert_lead",
    "disqualify",
    "mark_contacted",
    "qualify",
    "replay",
    "stage_entered_at",
    "time_in_stage",
]

_publish(__name__, globals(), __all__)

# 0.1: the conversion of a lead has a name that says so
_DEPRECATED = {"convert": ("oppcore.pipeline.convert_lead", convert_lead)}

if not _typing.TYPE_CHECKING:
    __getattr__ = _deprecated_names(__name__, _DEPRECATED)
