"""Leads and opportunities, win probabilities, and the kinds of stored record.

Every model is a frozen, slotted, keyword-only ``attrs`` class. Change one with
:func:`attrs.evolve` (or the model's ``evolve`` method): the result is a new value,
validated again; the original is untouched.
"""

import enum
from collections.abc import Mapping
from datetime import date, datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs

from ._check_table import Checks, check_probability
from ._checks import COUNT, UNIT, fail, in_bounds, is_text
from ._copying import evolve
from ._errors import ValidationError
from ._frozenmap import EMPTY_MAP, CustomValue
from ._money import Money
from ._parties import Account, CompanySize, Contact, Source
from ._qualification import UNKNOWN_QUALIFICATION, Qualification
from ._records import Activity, Quote, StageChange

_NONE = type(None)

__all__ = [
    "Lead",
    "LeadStatus",
    "Opportunity",
    "Probability",
    "ProbabilitySource",
    "RECORD_KINDS",
    "Source",
    "kind_name",
    "record_class",
]


class LeadStatus(str, enum.Enum):
    """Lifecycle of a lead: new -> contacted -> qualified -> converted, or disqualified."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


def _disqualified_needs_reason(lead: Any) -> None:
    if lead.status is LeadStatus.DISQUALIFIED and not is_text(lead.disqualified_reason):
        fail(lead, "disqualified_reason", "a disqualified lead needs a reason (a non-blank "
             "disqualified_reason)", lead.disqualified_reason)


_LEAD = Checks(
    rules=(_disqualified_needs_reason,),
    text=("id", "name"),
    aware=("captured_at", "updated_at"),
    optional_text=("email", "phone", "title", "company", "industry", "region", "owner",
                   "disqualified_reason", "opportunity_id", "external_key"),
    instances=(
        ("size", (CompanySize, _NONE)),
        ("source", (Source, _NONE)),
        ("status", (LeadStatus,)),
        ("qualification", (Qualification,)),
        ("notes", (str,)),
    ),
    string_sets=("tags",),
    custom=("custom",),
    counts=("version",),
)


@attrs.frozen(kw_only=True)
class Lead:
    """A potential customer before qualification.

    Args:
        id: Stable identifier.
        name: The person's name.
        captured_at: When the lead was captured (timezone-aware).
        email: E-mail address, as entered.
        phone: Phone number, as entered.
        title: The person's job title.
        company: Company name, as entered.
        industry: The company's industry.
        size: The company's size band.
        region: Region or territory.
        source: Where the lead came from.
        owner: The user who owns the lead.
        status: Lifecycle status.
        disqualified_reason: Why it was disqualified (required with that status).
        opportunity_id: The opportunity it was converted into.
        qualification: What is known so far about the four evaluation criteria.
        notes: Free text.
        tags: Labels.
        custom: Host-defined fields (str, int, bool or None values).
        external_key: The lead's id in another system (form id, marketing tool id).
        updated_at: Last change; defaults to ``captured_at``.
        version: Optimistic-concurrency version, managed by stores.
    """

    __oppcore_checks__: ClassVar[Checks] = _LEAD

    id: str
    name: str
    captured_at: datetime
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    company: str | None = None
    industry: str | None = None
    size: CompanySize | None = None
    region: str | None = None
    source: Source | None = None
    owner: str | None = None
    status: LeadStatus = LeadStatus.NEW
    disqualified_reason: str | None = None
    opportunity_id: str | None = None
    qualification: Qualification = UNKNOWN_QUALIFICATION
    notes: str = ""
    tags: frozenset[str] = frozenset()
    custom: Mapping[str, CustomValue] = EMPTY_MAP
    external_key: str | None = None
    updated_at: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.captured_at, takes_self=True)
    )
    version: int = attrs.field(metadata=in_bounds(COUNT), default=0)

    def __attrs_post_init__(self) -> None:
        _LEAD.run(self)

    def evolve(self, **changes: Any) -> "Lead":
        """Return a copy with ``changes`` applied, validated again (fields and rules)."""
        return evolve(self, changes)


class ProbabilitySource(str, enum.Enum):
    """Where a win probability came from: the policy that decides whether it may change."""

    STAGE = "stage"
    """The stage's default; replaced by the next stage's default on a move."""
    MANUAL = "manual"
    """Set by a person; sticks until cleared."""
    MODEL = "model"
    """Computed by a calibrated model; kept beside the stage default."""


def _probability_value(probability: Any) -> None:
    check_probability(probability, "value")


_PROBABILITY = Checks(rules=(_probability_value,), instances=(("source", (ProbabilitySource,)),),
                      optional_text=("note",))


@attrs.frozen(kw_only=True)
class Probability:
    """A win probability in [0, 1] with its provenance.

    Args:
        value: The probability.
        source: Stage default, manual entry or model.
        note: Optional provenance detail (model name and version, who set it).
    """

    value: float = attrs.field(metadata=in_bounds(UNIT))
    source: ProbabilitySource
    note: str | None = None

    __oppcore_checks__: ClassVar[Checks] = _PROBABILITY

    def __attrs_post_init__(self) -> None:
        _PROBABILITY.run(self)


# The deal's rules relate the contract and renewal fields only. A stage move copies a deal
# with trusted_evolve (stage, history, probabilities, lost reason, updated_at), which skips
# the rules: it never touches these fields, so a moved deal still keeps them.
def _contract_dates_in_order(opp: Any) -> None:
    start, end = opp.contract_start, opp.contract_end
    if start is not None and end is not None and end < start:
        fail(opp, "contract_end", f"the contract ends ({end}) before it starts ({start})", end)


def _renewal_links_elsewhere(opp: Any) -> None:
    for name in ("renewal_of", "renewed_by"):
        if getattr(opp, name) == opp.id:
            fail(opp, name, "a deal cannot renew itself", opp.id)


_OPPORTUNITY = Checks(
    rules=(_contract_dates_in_order, _renewal_links_elsewhere),
    text=("id", "name", "pipeline_id", "stage_id"),
    aware=("created_at", "updated_at"),
    optional_text=("owner", "lost_reason", "lead_id", "external_key", "renewal_of",
                   "renewed_by"),
    optional_date=("expected_close", "contract_start", "contract_end"),
    money=("amount",),
    instances=(
        ("account", (Account, _NONE)),
        ("probability", (Probability, _NONE)),
        ("model_probability", (Probability, _NONE)),
        ("source", (Source, _NONE)),
        ("qualification", (Qualification,)),
    ),
    tuples=(
        ("contacts", (Contact,)),
        ("expected_close_history", (date,)),
        ("activities", (Activity,)),
        ("quotes", (Quote,)),
        ("stage_history", (StageChange,)),
    ),
    string_sets=("tags",),
    custom=("custom",),
    counts=("version",),
)


@attrs.frozen(kw_only=True)
class Opportunity:
    """A qualified deal moving through a pipeline.

    Args:
        id: Stable identifier.
        name: Deal name.
        pipeline_id: The pipeline the deal follows.
        stage_id: Its current stage in that pipeline.
        created_at: When it was created (timezone-aware).
        account: The customer company.
        contacts: People involved; the first is the primary contact.
        owner: The user who owns the deal.
        amount: Expected deal value (non-negative).
        expected_close: Expected close date.
        expected_close_history: Earlier expected close dates, oldest first; each later date
            is a "push" (a slipped close).
        probability: The effective win probability and where it came from.
        model_probability: The latest model estimate, kept beside a stage or manual value.
        source: Where the deal came from.
        qualification: The four evaluation criteria as known so far.
        activities: Follow-up touches, in the order they were logged.
        quotes: Quotations.
        stage_history: Append-only history of stage moves, oldest first.
        lost_reason: Why it was lost (for a deal in a lost stage).
        lead_id: The lead it was converted from.
        tags: Labels (products, campaigns...).
        custom: Host-defined fields (str, int, bool or None values).
        external_key: The deal's id in another system.
        contract_start: First day of the contract a won deal signed (after-sales plans
            and renewals count from it).
        contract_end: Last day of that contract (not before ``contract_start``).
        renewal_of: The id of the deal whose contract this deal renews.
        renewed_by: The id of the deal that renews this one's contract (the other end of
            ``renewal_of``; :func:`oppcore.aftersales.renew` sets both).
        updated_at: Last change; defaults to ``created_at``.
        version: Optimistic-concurrency version, managed by stores.

    Raises:
        ValidationError: A field has the wrong type or is out of range, the contract ends
            before it starts, or a renewal link names the deal itself.
    """

    __oppcore_checks__: ClassVar[Checks] = _OPPORTUNITY

    id: str
    name: str
    pipeline_id: str
    stage_id: str
    created_at: datetime
    account: Account | None = None
    contacts: tuple[Contact, ...] = ()
    owner: str | None = None
    amount: Money | None = None
    expected_close: date | None = None
    expected_close_history: tuple[date, ...] = ()
    probability: Probability | None = None
    model_probability: Probability | None = None
    source: Source | None = None
    qualification: Qualification = UNKNOWN_QUALIFICATION
    activities: tuple[Activity, ...] = ()
    quotes: tuple[Quote, ...] = ()
    stage_history: tuple[StageChange, ...] = ()
    lost_reason: str | None = None
    lead_id: str | None = None
    tags: frozenset[str] = frozenset()
    custom: Mapping[str, CustomValue] = EMPTY_MAP
    external_key: str | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    renewal_of: str | None = None
    renewed_by: str | None = None
    updated_at: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.created_at, takes_self=True)
    )
    version: int = attrs.field(metadata=in_bounds(COUNT), default=0)

    def __attrs_post_init__(self) -> None:
        _OPPORTUNITY.run(self)

    def evolve(self, **changes: Any) -> "Opportunity":
        """Return a copy with ``changes`` applied, validated again.

        Same as :func:`attrs.evolve` (which also works), about twice as fast.
        """
        return evolve(self, changes)

    @property
    def primary_contact(self) -> Contact | None:
        """The first contact, if any."""
        return self.contacts[0] if self.contacts else None

    @property
    def close_date_pushes(self) -> int:
        """How many times the expected close date moved later."""
        if not self.expected_close_history:  # the common case, on the scoring hot path
            return 0
        dates = [d for d in (*self.expected_close_history, self.expected_close) if d is not None]
        return sum(1 for a, b in pairwise(dates) if b > a)


RECORD_KINDS: Final[Mapping[str, type[Lead] | type[Opportunity]]] = MappingProxyType(
    {"lead": Lead, "opportunity": Opportunity})
"""The kinds of stored record by name: the one table behind :func:`kind_name` and
:func:`record_class` (stores, audit entries, the history feed and exports name kinds so)."""

_NAMES: Final[dict[type, str]] = {cls: name for name, cls in RECORD_KINDS.items()}


def kind_name(kind: object) -> str:
    """Return ``"lead"`` or ``"opportunity"`` for a record class or a record.

    Raises:
        ValidationError: ``kind`` is neither :class:`Lead` nor :class:`Opportunity` (nor an
            instance of one).
    """
    name = _NAMES.get(kind) if isinstance(kind, type) else _NAMES.get(type(kind))
    if name is None:
        shown = kind.__name__ if isinstance(kind, type) else repr(kind)
        raise ValidationError(f"kind must be Lead or Opportunity, got {shown}", field="kind",
                              value=kind)
    return name


def record_class(name: object) -> type[Lead] | type[Opportunity]:
    """Return the record class for a kind name (``"lead"`` -> :class:`Lead`).

    Raises:
        ValidationError: ``name`` is not a kind name.
    """
    cls = RECORD_KINDS.get(name) if type(name) is str else None
    if cls is None:
        raise ValidationError(f"unknown record kind {name!r} (known: "
                              f"{', '.join(RECORD_KINDS)})", field="kind", value=name)
    return cls
