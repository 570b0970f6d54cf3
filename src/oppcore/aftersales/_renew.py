"""Renewals: the next opportunity for a won contract, linked both ways."""

from datetime import date, datetime
from typing import NamedTuple

from oppcore._checks import aware, is_text
from oppcore._errors import TransitionError, ValidationError
from oppcore._models import Opportunity, Probability, ProbabilitySource
from oppcore._money import Money
from oppcore._records import StageChange
from oppcore.locale._catalog import N_, translation
from oppcore.pipeline import Pipeline, StageKind, Violation

from ._plan import check_deal

__all__ = ["Renewal", "renew", "renewal_name"]

# TRANSLATORS: the default name of a renewal opportunity, after the renewed deal's name.
RENEWAL_NAME = N_("{name} (renewal)")


class Renewal(NamedTuple):
    """What :func:`renew` returns: both ends of the link, to be saved together."""

    original: Opportunity
    """The won deal, now naming its renewal in ``renewed_by``."""
    renewal: Opportunity
    """The new deal, in the pipeline's first stage, naming the original in ``renewal_of``."""


def renew(deal: Opportunity, *, at: datetime, by: str, pipeline: Pipeline,
          amount: Money | None = None, renewal_id: str | None = None,
          name: str | None = None, expected_close: date | None = None,
          locale: str | None = None) -> Renewal:
    """Create the renewal (or upsell) opportunity of a won deal, linked both ways.

    The new deal starts in ``pipeline``'s first stage with that stage's default
    probability, carries the account, contacts, owner, source and tags of ``deal``, and
    names it in ``renewal_of``; ``deal`` gets ``renewed_by`` (both ends are returned, to be
    saved in one write: :meth:`oppcore.OpportunityService.renew` does so, audited).

    Args:
        deal: The won deal whose contract is renewed.
        at: When the renewal opportunity is created (timezone-aware).
        by: Who creates it.
        pipeline: The pipeline ``deal`` follows (the renewal follows it too).
        amount: The renewal's expected value; default the original amount (an upsell
            names a larger one).
        renewal_id: The new deal's id; default ``"<deal id>-renewal"``.
        name: The new deal's name; default ``"<deal name> (renewal)"`` in ``locale``.
        expected_close: The renewal's expected close; default the contract's end date.
        locale: The language of the default name (``"en"`` by default, or ``"zh-CN"``:
            ``"<deal name>（续约）"``). A name is data: it is written once, in the
            language of whoever creates the renewal, and never re-translated; what marks
            a renewal for programs is ``renewal_of``.

    Returns:
        The updated original and the new renewal deal.

    Raises:
        TransitionError: ``deal`` is not won (code ``not_won``) or already renewed (code
            ``already_renewed``).
        ValidationError: A naive ``at``, a blank ``by``, a bad argument, or ``deal`` follows
            another pipeline.
        ConfigError: An unsupported ``locale``.
    """
    aware(at, "at")
    if not is_text(by):
        raise ValidationError(f"by must name who renews the deal, got {by!r}", field="by",
                              value=by)
    check_deal(deal, pipeline)
    if deal.renewed_by is not None:
        raise TransitionError(f"cannot renew {deal.id!r}", (Violation(
            code="already_renewed",
            message=f"deal {deal.id!r} is already renewed by {deal.renewed_by!r}",
            overridable=False),))
    if pipeline.stage(deal.stage_id).kind is not StageKind.WON:
        raise TransitionError(f"cannot renew {deal.id!r}", (Violation(
            code="not_won", message=f"deal {deal.id!r} is in stage {deal.stage_id!r}, not a "
            "won stage: only a won contract is renewed", overridable=False),))
    first = pipeline.first_stage
    renewal = Opportunity(
        id=renewal_id if renewal_id is not None else f"{deal.id}-renewal",
        name=name if name is not None else renewal_name(deal.name, locale=locale),
        pipeline_id=pipeline.id, stage_id=first.id, created_at=at, account=deal.account,
        contacts=deal.contacts, owner=deal.owner,
        amount=amount if amount is not None else deal.amount,
        expected_close=expected_close if expected_close is not None else deal.contract_end,
        probability=Probability(value=first.probability, source=ProbabilitySource.STAGE),
        source=deal.source, tags=deal.tags, renewal_of=deal.id,
        stage_history=(StageChange(from_stage=None, to_stage=first.id, at=at, by=by,
                                   reason=f"renewal of {deal.id}"),),
    )
    original = deal.evolve(renewed_by=renewal.id, updated_at=max(at, deal.updated_at))
    return Renewal(original=original, renewal=renewal)


def renewal_name(name: str, *, locale: str | None = None) -> str:
    """Return the default name of the renewal of a deal called ``name``, in ``locale``.

    Raises:
        ConfigError: An unsupported ``locale``.
    """
    return translation(locale if locale is not None else "en").gettext(
        RENEWAL_NAME).format(name=name)
