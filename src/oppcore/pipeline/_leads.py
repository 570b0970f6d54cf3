"""The lead lifecycle: new -> contacted -> qualified -> converted, or disqualified.

Every function is pure: it returns a new value (or raises :class:`~oppcore.TransitionError`
with violations) and never changes its input. Ids for the records a conversion creates are
given by the caller or made by an injected id factory; nothing random happens here.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Final

import attrs

from oppcore._checks import aware, is_text
from oppcore._errors import TransitionError, ValidationError
from oppcore._models import Lead, LeadStatus, Opportunity, Probability, ProbabilitySource
from oppcore._money import Money
from oppcore._parties import Account, Contact
from oppcore._qualification import Qualification
from oppcore._records import StageChange

from ._pipeline import Pipeline
from ._requirements import Violation

__all__ = ["Conversion", "IdFactory", "convert_lead", "disqualify", "mark_contacted", "qualify"]

IdFactory = Callable[[str, Lead], str]
"""Makes the id of a new record: called with the kind (``"opportunity"``, ``"account"``,
``"contact"``) and the lead being converted."""

_NEXT: Final = {
    LeadStatus.NEW: frozenset({LeadStatus.CONTACTED, LeadStatus.DISQUALIFIED}),
    LeadStatus.CONTACTED: frozenset({LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED}),
    LeadStatus.QUALIFIED: frozenset({LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED}),
    LeadStatus.DISQUALIFIED: frozenset(),
    LeadStatus.CONVERTED: frozenset(),
}


def _check_lead(lead: object, at: object) -> None:
    if not isinstance(lead, Lead):
        raise ValidationError(f"lead must be a Lead, got {type(lead).__name__}", field="lead",
                              value=lead)
    aware(at, "at")


def status_violations(lead: Lead, to: LeadStatus, *, at: datetime) -> tuple[Violation, ...]:
    """Return why ``lead`` may not move to status ``to`` at ``at`` (empty if it may)."""
    found: list[Violation] = []
    if to not in _NEXT[lead.status]:
        allowed = ", ".join(sorted(s.value for s in _NEXT[lead.status])) or "none (final)"
        found.append(Violation(code="illegal_status_move", field="status",
                               message=f"lead {lead.id!r} is {lead.status.value}; it cannot "
                               f"become {to.value} (allowed: {allowed})"))
    if at < lead.updated_at:
        found.append(Violation(code="out_of_order", field="updated_at",
                               message=f"lead {lead.id!r} was last changed at "
                               f"{lead.updated_at.isoformat()}, after {at.isoformat()}"))
    return tuple(found)


def _move(lead: Lead, to: LeadStatus, *, at: datetime, **changes: object) -> Lead:
    _check_lead(lead, at)
    violations = status_violations(lead, to, at=at)
    if violations:
        raise TransitionError(f"cannot move lead {lead.id!r} to {to.value}", violations,
                              record_id=lead.id, from_stage=lead.status.value,
                              to_stage=to.value)
    return lead.evolve(status=to, updated_at=at, **changes)


def mark_contacted(lead: Lead, *, at: datetime) -> Lead:
    """Return ``lead`` marked contacted (from new).

    Raises:
        TransitionError: If the lead is not new, or ``at`` is before its last change.
        ValidationError: If ``at`` is not timezone-aware.
    """
    return _move(lead, LeadStatus.CONTACTED, at=at)


def qualify(lead: Lead, *, at: datetime, qualification: Qualification | None = None) -> Lead:
    """Return ``lead`` marked qualified (from contacted), optionally with what was learnt.

    Args:
        lead: The lead.
        at: When it was qualified.
        qualification: The needs-analysis findings to store on the lead.

    Raises:
        TransitionError: If the lead is not contacted, or ``at`` is before its last change.
        ValidationError: If ``at`` is not timezone-aware or ``qualification`` is invalid.
    """
    if qualification is None:
        return _move(lead, LeadStatus.QUALIFIED, at=at)
    return _move(lead, LeadStatus.QUALIFIED, at=at, qualification=qualification)


def disqualify(lead: Lead, *, at: datetime, reason: str) -> Lead:
    """Return ``lead`` disqualified with ``reason`` (from new, contacted or qualified).

    Raises:
        TransitionError: If the lead is already converted or disqualified, or the reason is
            empty (code ``missing_reason``).
        ValidationError: If ``at`` is not timezone-aware.
    """
    _check_lead(lead, at)
    violations = list(status_violations(lead, LeadStatus.DISQUALIFIED, at=at))
    if type(reason) is not str or not reason.strip():
        violations.append(Violation(code="missing_reason", field="disqualified_reason",
                                    message=f"say why lead {lead.id!r} is disqualified"))
    if violations:
        raise TransitionError(f"cannot disqualify lead {lead.id!r}", violations)
    return lead.evolve(status=LeadStatus.DISQUALIFIED, disqualified_reason=reason,
                       updated_at=at)


@attrs.frozen(kw_only=True)
class Conversion:
    """What converting a lead produces.

    Args:
        lead: The lead, now converted and linked to the opportunity.
        opportunity: The new deal, in the pipeline's first stage.
        account: The customer company implied by the lead (``None`` without a company,
            or the ``account`` passed in).
        contact: The person, as a contact (also the deal's primary contact).
    """

    lead: Lead
    opportunity: Opportunity
    account: Account | None
    contact: Contact


def _default_id(kind: str, lead: Lead) -> str:
    short = {"opportunity": "opp", "account": "acc", "contact": "con"}[kind]
    return f"{lead.id}-{short}"


def convert_lead(lead: Lead, *, pipeline: Pipeline, at: datetime, by: str,
            opportunity_id: str | None = None, ids: IdFactory | None = None,
            name: str | None = None, account: Account | None = None,
            amount: Money | None = None, expected_close: date | None = None) -> Conversion:
    """Convert a qualified lead into an opportunity, an account and a contact.

    Source, owner, qualification, tags and custom fields carry over; the person becomes the
    deal's primary contact. The deal starts in the pipeline's first stage with that stage's
    default probability, and its history's first entry (``from_stage=None``) records the
    conversion.

    Args:
        lead: The lead (must be qualified).
        pipeline: The pipeline the deal will follow.
        at: When the conversion happens (timezone-aware).
        by: Who converts it.
        opportunity_id: The new deal's id (else made by ``ids``).
        ids: Id factory for new records; default ``"<lead id>-opp"``, ``-acc``, ``-con``.
        name: The deal's name; default the company (or the person's) name.
        account: An existing account to attach the deal to, instead of a new one.
        amount: The expected deal value, if known.
        expected_close: The expected close date, if known.

    Returns:
        The converted lead, the new opportunity, the account and the contact.

    Raises:
        TransitionError: If the lead is not qualified (code ``illegal_status_move``) or
            ``at`` is before its last change.
        ValidationError: For a naive ``at``, an empty ``by`` or invalid values.
    """
    _check_lead(lead, at)
    if not isinstance(pipeline, Pipeline):
        raise ValidationError(f"pipeline must be a Pipeline, got {type(pipeline).__name__}",
                              field="pipeline", value=pipeline)
    if not is_text(by):  # the same rule as advance() and every model's required text
        raise ValidationError(f"by must name who converts the lead, got {by!r}", field="by",
                              value=by)
    violations = status_violations(lead, LeadStatus.CONVERTED, at=at)
    if violations:
        raise TransitionError(f"cannot convert lead {lead.id!r}", violations)
    make = ids or _default_id
    if account is None and lead.company:
        account = Account(id=make("account", lead), name=lead.company,
                          industry=lead.industry, size=lead.size, region=lead.region)
    person = Contact(id=make("contact", lead), name=lead.name, email=lead.email,
                     phone=lead.phone, title=lead.title)
    first = pipeline.first_stage
    opp = Opportunity(
        id=opportunity_id if opportunity_id is not None else make("opportunity", lead),
        name=name if name is not None else (lead.company or lead.name),
        pipeline_id=pipeline.id, stage_id=first.id, created_at=at, account=account,
        contacts=(person,), owner=lead.owner, amount=amount, expected_close=expected_close,
        probability=Probability(value=first.probability, source=ProbabilitySource.STAGE),
        source=lead.source, qualification=lead.qualification, lead_id=lead.id,
        tags=lead.tags, custom=lead.custom,
        stage_history=(StageChange(from_stage=None, to_stage=first.id, at=at, by=by,
                                   reason=f"converted from lead {lead.id}"),),
    )
    converted = lead.evolve(status=LeadStatus.CONVERTED, opportunity_id=opp.id,
                            updated_at=at)
    return Conversion(lead=converted, opportunity=opp, account=account, contact=person)
