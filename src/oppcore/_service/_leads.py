"""Use cases of the lead lifecycle: contact, qualify, disqualify, convert."""

from collections.abc import Callable
from datetime import date, datetime

from oppcore._models import Lead, LeadStatus
from oppcore._money import Money
from oppcore._qualification import Qualification
from oppcore.pipeline import convert_lead, disqualify, mark_contacted, qualify
from oppcore.storage import StoreWrite

from ._base import ServiceBase, entry
from ._events import (
    DomainEvent,
    Events,
    LeadContacted,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
    OpportunityCreated,
)
from ._policy import Permission

__all__ = ["LeadUseCases"]


class LeadUseCases(ServiceBase):
    """The lead lifecycle: new -> contacted -> qualified -> converted, or disqualified."""

    def _step(self, lead_id: str, by: str, *, action: str, done: Callable[[Lead], bool],
              step: Callable[[Lead, datetime], Lead],
              event: Callable[[Lead, Lead, datetime], DomainEvent],
              note: str | None = None) -> Events:
        """Run one lifecycle step: load, authorise, skip if done, call the core, save."""

        def attempt() -> Events:
            lead = self._store.get(Lead, lead_id)
            self._authorise(by, Permission.EDIT, lead)
            if done(lead):
                return ()
            now = self._now()
            new = step(lead, now)
            self._store.save(new, audit=entry(lead, new, action, by, now, note=note))
            return (event(lead, new, now),)

        return self._retry(attempt)

    def mark_contacted(self, lead_id: str, *, by: str) -> Events:
        """Mark a new lead contacted (audited as ``contact``).

        Idempotent: a lead already contacted returns no events.

        Returns:
            One :class:`LeadContacted`.

        Raises:
            NotFoundError: No such lead.
            PermissionDeniedError: The policy refuses ``edit`` on the lead.
            TransitionError: The lead is past "new" (qualified, converted, disqualified),
                or the clock is before the lead's last change.
        """
        return self._step(
            lead_id, by, action="contact",
            done=lambda lead: lead.status is LeadStatus.CONTACTED,
            step=lambda lead, now: mark_contacted(lead, at=now),
            event=lambda old, new, now: LeadContacted(lead_id=new.id, at=now, by=by))

    def qualify(self, lead_id: str, *, by: str,
                qualification: Qualification | None = None) -> Events:
        """Mark a contacted lead qualified, keeping what the needs analysis found.

        Idempotent: a lead already qualified (with this qualification, when one is given)
        returns no events. To change the qualification of a qualified lead, use
        :meth:`edit`.

        Args:
            lead_id: The lead.
            by: The actor.
            qualification: The four evaluation criteria as found; ``None`` keeps the
                lead's.

        Returns:
            One :class:`LeadQualified` carrying the lead's qualification.

        Raises:
            NotFoundError: No such lead.
            PermissionDeniedError: The policy refuses ``edit`` on the lead.
            TransitionError: The lead is not contacted (or already qualified with another
                qualification), or the clock is before the lead's last change.
            ValidationError: ``qualification`` is not a :class:`~oppcore.Qualification`.
        """
        return self._step(
            lead_id, by, action="qualify",
            done=lambda lead: lead.status is LeadStatus.QUALIFIED and (
                qualification is None or lead.qualification == qualification),
            step=lambda lead, now: qualify(lead, at=now, qualification=qualification),
            event=lambda old, new, now: LeadQualified(
                lead_id=new.id, qualification=new.qualification, at=now, by=by))

    def disqualify(self, lead_id: str, *, by: str, reason: str) -> Events:
        """Disqualify a lead (new, contacted or qualified) and say why.

        Idempotent: a lead already disqualified for the same reason returns no events.

        Returns:
            One :class:`LeadDisqualified`.

        Raises:
            NotFoundError: No such lead.
            PermissionDeniedError: The policy refuses ``edit`` on the lead.
            TransitionError: The lead is converted or already disqualified (for another
                reason), the reason is blank (code ``missing_reason``), or the clock is
                before the lead's last change.
        """
        return self._step(
            lead_id, by, action="disqualify", note=reason if isinstance(reason, str) else None,
            done=lambda lead: (lead.status is LeadStatus.DISQUALIFIED
                               and lead.disqualified_reason == reason),
            step=lambda lead, now: disqualify(lead, at=now, reason=reason),
            event=lambda old, new, now: LeadDisqualified(
                lead_id=new.id, from_status=old.status, reason=reason, at=now, by=by))

    def convert(
        self,
        lead_id: str,
        *,
        by: str,
        pipeline_id: str | None = None,
        opportunity_id: str | None = None,
        amount: Money | None = None,
        expected_close: date | None = None,
    ) -> Events:
        """Convert a qualified lead into a new opportunity (lead and deal saved together).

        Idempotent: a lead already converted returns no events.

        Returns:
            :class:`OpportunityCreated` and :class:`LeadConverted`.

        Raises:
            NotFoundError: No such lead.
            PermissionDeniedError: The policy refuses ``edit`` on the lead or ``create``
                for the new deal.
            TransitionError: The lead is not qualified.
            DuplicateError: The opportunity id or its external key is taken.
        """
        pipeline = self._pipeline(pipeline_id) if pipeline_id else self._default

        def attempt() -> Events:
            lead = self._store.get(Lead, lead_id)
            self._authorise(by, Permission.EDIT, lead)
            if lead.status is LeadStatus.CONVERTED and lead.opportunity_id:
                return ()
            now = self._now()
            done = convert_lead(lead, pipeline=pipeline, at=now, by=by,
                           opportunity_id=opportunity_id, amount=amount,
                           expected_close=expected_close)
            opp = done.opportunity
            self._authorise(by, Permission.CREATE, opp)
            self._store.apply(
                [StoreWrite.save(done.lead), StoreWrite.add(opp)],
                audit=[entry(lead, done.lead, "convert", by, now, note=f"into {opp.id}"),
                       entry(None, opp, "create", by, now, note=f"from lead {lead.id}")])
            return (OpportunityCreated(opportunity_id=opp.id, pipeline_id=opp.pipeline_id,
                                       stage_id=opp.stage_id, at=now, by=by),
                    LeadConverted(lead_id=lead.id, opportunity_id=opp.id, at=now, by=by))

        return self._retry(attempt)
