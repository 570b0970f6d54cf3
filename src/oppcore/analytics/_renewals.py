"""Renewals: how many ended contracts were renewed, and how much value was retained."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from oppcore._models import Opportunity
from oppcore._money import exact_add

from ._after import check_now, check_period, choose_currency, period_of
from ._common import WON, PipelineLike, StageIndex, decimal_ratio, ratio
from ._results import Table, rows_to_records

__all__ = ["RenewalRow", "Renewals", "renewals"]

_COLUMNS = ("period", "ended", "renewed", "churned", "renewal_rate", "value_ended",
            "value_renewed", "retained_gross", "gross_retention", "net_retention")


@attrs.frozen(kw_only=True)
class RenewalRow:
    """Contracts that ended in one period, and what became of them.

    Attributes:
        period: The period the contracts ended in (``2026-Q1``); ``"total"`` overall.
        ended: Won deals whose ``contract_end`` falls in the period (and is before
            ``now``'s date).
        renewed: Of those, deals whose renewal (``renewed_by``) is won.
        churned: ``ended - renewed``.
        renewal_rate: ``renewed / ended``.
        value_ended: The ended contracts' amounts (in the result's currency).
        value_renewed: The won renewals' amounts (upsell included).
        retained_gross: Per renewed contract, the smaller of the renewal and the original
            amount, summed: value kept without counting upsell.
        gross_retention: ``retained_gross / value_ended`` (at most 1).
        net_retention: ``value_renewed / value_ended`` (above 1 with upsell).
    """

    period: str
    ended: int
    renewed: int
    churned: int
    renewal_rate: float | None
    value_ended: Decimal
    value_renewed: Decimal
    retained_gross: Decimal
    gross_retention: float | None
    net_retention: float | None


class _Acc:
    __slots__ = ("ended", "gross", "renewed", "value", "value_renewed")

    def __init__(self) -> None:
        self.ended = self.renewed = 0
        self.value = self.value_renewed = self.gross = Decimal(0)

    def row(self, period: str) -> RenewalRow:
        return RenewalRow(
            period=period, ended=self.ended, renewed=self.renewed,
            churned=self.ended - self.renewed, renewal_rate=ratio(self.renewed, self.ended),
            value_ended=self.value, value_renewed=self.value_renewed,
            retained_gross=self.gross, gross_retention=decimal_ratio(self.gross, self.value),
            net_retention=decimal_ratio(self.value_renewed, self.value))


@attrs.frozen(kw_only=True)
class Renewals(Table):
    """Renewal rate and value retained per period of contract end.

    Attributes:
        now: As of when; only contracts ended before ``now``'s date count.
        period: Month, quarter or year.
        currency: The currency of the value figures (``None`` when no contract has an
            amount); contracts in other currencies count in the rates, not in the values.
        rows: One row per period, oldest first.
        total: The same figures over every period.
    """

    title = "Renewals"
    columns = _COLUMNS

    now: datetime
    period: str
    currency: str | None
    rows: tuple[RenewalRow, ...]
    total: RenewalRow

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per period."""
        return rows_to_records(self.rows, _COLUMNS)

    def _notes(self) -> list[str]:
        t = self.total
        rate = "-" if t.renewal_rate is None else f"{t.renewal_rate:.1%}"
        unit = f" ({self.currency})" if self.currency else ""
        return [(f"total: {t.renewed} renewed / {t.ended} ended = {rate}; value ended "
                f"{t.value_ended:,}{unit}, retained gross {t.retained_gross:,}, net "
                f"{t.value_renewed:,}")]


def renewals(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    period: str = "quarter", currency: str | None = None,
) -> Renewals:
    """Compute the renewal rate and value retained (gross and net) per period.

    A **contract** is a won deal with a ``contract_end``; it counts once it has ended
    (``contract_end`` before ``now``'s date). It is **renewed** when the deal its
    ``renewed_by`` names is in the input and won. Gross retention leaves upsell out (each
    renewal counts at most its original amount); net retention counts the renewal's full
    amount.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once): the
            contracts and their renewals.
        pipeline: Says which stages are won.
        now: As of when (timezone-aware).
        period: Month, quarter or year.
        currency: The currency of the value figures; needed only when contracts are in
            several currencies.

    Returns:
        One row per period in which contracts ended, and the total.

    Raises:
        CurrencyMismatchError: Contracts in several currencies and no ``currency``.
        ValidationError: A naive ``now``, an unknown period, an item that is not an
            opportunity, a deal of another pipeline or an unknown stage.
    """
    check_now(now)
    check_period(period)
    index = StageIndex(pipeline)
    today = now.date()
    won: dict[str, Opportunity] = {}
    contracts: list[Opportunity] = []
    with index.walk(opportunities) as walk:
        for o, kind in walk:
            if kind != WON:
                continue
            won[o.id] = o
            if o.contract_end is not None and o.contract_end < today:
                contracts.append(o)
    unit = choose_currency((o.amount.currency for o in contracts if o.amount is not None),
                           currency, "add up contract values in")
    groups: dict[str, _Acc] = {}
    total = _Acc()
    for o in contracts:
        end = o.contract_end
        assert end is not None  # selected above; tells mypy
        renewal = won.get(o.renewed_by) if o.renewed_by is not None else None
        for acc in (groups.setdefault(period_of(end, period), _Acc()), total):
            acc.ended += 1
            acc.renewed += renewal is not None
            original = o.amount.amount if o.amount is not None and \
                o.amount.currency == unit else None
            if original is None:
                continue
            acc.value = exact_add(acc.value, original)
            if renewal is not None and renewal.amount is not None and \
                    renewal.amount.currency == unit:
                acc.value_renewed = exact_add(acc.value_renewed, renewal.amount.amount)
                acc.gross = exact_add(acc.gross, min(original, renewal.amount.amount))
    rows = tuple(acc.row(p) for p, acc in sorted(groups.items()))
    return Renewals(now=now, period=period, currency=unit, rows=rows, total=total.row("total"))
