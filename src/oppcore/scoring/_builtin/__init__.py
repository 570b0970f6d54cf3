"""The four built-in rules, one per evaluation criterion, with documented parameters.

Each lives in its own module (``_urgency``, ``_budget``, ``_decision``, ``_competition``);
what they share (findings, reasons, the bounded reason memo, parameter checks) is in
``_common``. Each implements the documented fast method ``find`` (see
:class:`~oppcore.ScoringRule`), and ``evaluate`` is ``find(...).as_result()``.
"""

from ._budget import BudgetRule
from ._competition import CompetitionRule
from ._decision import DecisionCycleRule
from ._urgency import UrgencyRule

__all__ = ["BudgetRule", "CompetitionRule", "DecisionCycleRule", "UrgencyRule"]
