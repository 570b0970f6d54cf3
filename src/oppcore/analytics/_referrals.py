"""Referrals (客户推荐, 推荐计划): what each referrer brought in."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Lead, LeadStatus, Opportunity
from oppcore._money import exact_add

from ._after import choose_currency
from ._common import WON, PipelineLike, StageIndex, percentile, ratio
from ._results import Table, rows_to_records

__all__ = ["ReferralRow", "Referrals", "referrals"]

_COLUMNS = ("referrer", "leads", "converted", "deals", "won", "value_won",
            "conversion_rate", "median_days_to_convert")


@attrs.frozen(kw_only=True)
class ReferralRow:
    """What one referrer brought in.

    Attributes:
        referrer: The referrer's id (an account or contact id); ``"total"`` overall.
        leads: Leads naming the referrer.
        converted: Of those, leads converted into a deal.
        deals: Deals naming the referrer (converted from a referred lead or entered
            directly as referred).
        won: Of those, deals won.
        value_won: Their amounts, in the result's currency.
        conversion_rate: ``converted / leads``.
        median_days_to_convert: Median days from a referred lead's capture to the creation
            of its deal (for converted leads whose deal is in the input).
    """

    referrer: str
    leads: int
    converted: int
    deals: int
    won: int
    value_won: Decimal
    conversion_rate: float | None
    median_days_to_convert: float | None


class _Acc:
    __slots__ = ("converted", "days", "deals", "leads", "value", "won")

    def __init__(self) -> None:
        self.leads = self.converted = self.deals = self.won = 0
        self.value = Decimal(0)
        self.days: list[float] = []

    def row(self, referrer: str) -> ReferralRow:
        return ReferralRow(
            referrer=referrer, leads=self.leads, converted=self.converted, deals=self.deals,
            won=self.won, value_won=self.value,
            conversion_rate=ratio(self.converted, self.leads),
            median_days_to_convert=percentile(sorted(self.days), 0.5))


@attrs.frozen(kw_only=True)
class Referrals(Table):
    """Referred leads and deals per referrer.

    Attributes:
        currency: The currency of ``value_won`` (``None`` when no referred deal is won
            with an amount).
        rows: One row per referrer, most value won first, then most deals, then by id.
        total: The same figures over every referrer.
    """

    title = "Referrals"
    columns = _COLUMNS

    currency: str | None
    rows: tuple[ReferralRow, ...]
    total: ReferralRow

    def get(self, referrer: str) -> ReferralRow | None:
        """Return the row of ``referrer``, or ``None``."""
        return next((r for r in self.rows if r.referrer == referrer), None)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per referrer."""
        return rows_to_records(self.rows, _COLUMNS)

    def _notes(self) -> list[str]:
        t = self.total
        unit = f" {self.currency}" if self.currency else ""
        return [(f"total: {t.leads} referred leads, {t.deals} referred deals, {t.won} won "
                f"({t.value_won:,}{unit})")]


def _referrer(record: Lead | Opportunity) -> str | None:
    source = record.source
    return source.referrer if source is not None else None


def referrals(
    leads: Iterable[Lead], deals: Iterable[Opportunity], pipeline: PipelineLike, *,
    currency: str | None = None,
) -> Referrals:
    """Count what each referrer (``Source.referrer``) brought in: leads, deals, wins.

    Args:
        leads: Any iterable of leads (read once).
        deals: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are won.
        currency: The currency of ``value_won``; needed only when referred deals were won
            in several currencies (others then count in ``won``, not in the value).

    Returns:
        One row per referrer and the total.

    Raises:
        CurrencyMismatchError: Several currencies and no ``currency``.
        ValidationError: An item that is not a lead (an opportunity), a deal of another
            pipeline or an unknown stage.
    """
    groups: dict[str, _Acc] = {}
    captured: dict[str, tuple[str, datetime]] = {}
    if isinstance(leads, (Lead, str, bytes)) or not isinstance(leads, Iterable):
        raise ValidationError(f"expected an iterable of leads, got {type(leads).__name__}",
                              field="leads", value=leads)
    for lead in leads:
        if not isinstance(lead, Lead):
            raise ValidationError(f"leads must be Lead values, got {type(lead).__name__}",
                                  field="leads", value=lead)
        ref = _referrer(lead)
        if ref is None:
            continue
        acc = groups.setdefault(ref, _Acc())
        acc.leads += 1
        if lead.status is LeadStatus.CONVERTED:
            acc.converted += 1
            captured[lead.id] = (ref, lead.captured_at)
    index = StageIndex(pipeline)
    won: list[tuple[str, Opportunity]] = []
    with index.walk(deals) as walk:
        for o, kind in walk:
            ref = _referrer(o)
            if o.lead_id is not None and o.lead_id in captured:
                lead_ref, at = captured[o.lead_id]
                groups[lead_ref].days.append((o.created_at - at).total_seconds() / 86400)
            if ref is None:
                continue
            acc = groups.setdefault(ref, _Acc())
            acc.deals += 1
            if kind == WON:
                acc.won += 1
                won.append((ref, o))
    unit = choose_currency((o.amount.currency for _, o in won if o.amount is not None),
                           currency, "add up value won in")
    for ref, o in won:
        if o.amount is not None and o.amount.currency == unit:
            groups[ref].value = exact_add(groups[ref].value, o.amount.amount)
    total = _Acc()
    for acc in groups.values():
        total.leads += acc.leads
        total.converted += acc.converted
        total.deals += acc.deals
        total.won += acc.won
        total.value = exact_add(total.value, acc.value)
        total.days += acc.days
    rows = sorted((acc.row(ref) for ref, acc in groups.items()),
                  key=lambda r: (-r.value_won, -r.deals, r.referrer))
    return Referrals(currency=unit, rows=tuple(rows), total=total.row("total"))
