"""Segmentation: ABC tiers of accounts by value won or by a score."""

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from oppcore._errors import CurrencyMismatchError, ValidationError
from oppcore._models import Opportunity
from oppcore._money import exact_add, exact_sum

from ._common import WON, PipelineLike, StageIndex
from ._fold import Tally
from ._results import Table, rows_to_records

__all__ = ["AccountTier", "AccountTiers", "account_tiers"]

_COLUMNS = ("account_id", "account", "value", "share", "cumulative_share", "tier", "won")


@attrs.frozen(kw_only=True)
class AccountTier:
    """One account's place in the ABC ranking.

    Attributes:
        account_id: The account's id.
        account: Its name (``None`` when known only from a score mapping).
        value: What it was ranked by: value won (``Decimal``) or its score.
        share: ``value / total``.
        cumulative_share: Share of this account and every account ranked above it.
        tier: ``"A"``, ``"B"`` or ``"C"``.
        won: Won deals of the account.
    """

    account_id: str
    account: str | None
    value: Decimal
    share: float | None
    cumulative_share: float | None
    tier: str
    won: int


@attrs.frozen(kw_only=True)
class AccountTiers(Table):
    """Accounts ranked into ABC tiers.

    Attributes:
        measure: ``"value_won"`` or ``"score"``.
        currency: The currency of the values won (``None`` when ranked by score).
        cutoffs: Cumulative shares closing tiers A and B.
        rows: Accounts, highest value first.
    """

    title = "Account tiers (ABC)"
    row_type = AccountTier
    columns = _COLUMNS

    measure: str
    currency: str | None
    cutoffs: tuple[float, float]
    rows: tuple[AccountTier, ...]

    def tier_of(self, account_id: str) -> str | None:
        """Return the tier of ``account_id``, or ``None`` if it is not ranked."""
        return next((r.tier for r in self.rows if r.account_id == account_id), None)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per account, highest value first."""
        return rows_to_records(self.rows, _COLUMNS)

    def _notes(self) -> list[str]:
        counts = {t: sum(1 for r in self.rows if r.tier == t) for t in "ABC"}
        unit = f" ({self.currency})" if self.currency else ""
        return [f"by {self.measure}{unit}: " + ", ".join(f"{t}: {n}" for t, n in counts.items())]


def _score(account_id: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError(f"score of account {account_id!r} must be a number, got "
                              f"{type(value).__name__}", field="scores", value=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"score of account {account_id!r} must be finite, got {value}",
                              field="scores", value=value)
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not d.is_finite() or d < 0:
        raise ValidationError(f"score of account {account_id!r} must be a finite number "
                              f">= 0, got {value}", field="scores", value=value)
    return d


def account_tiers(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    currency: str | None = None,
    scores: Mapping[str, int | float | Decimal] | None = None,
    cutoffs: tuple[float, float] = (0.8, 0.95),
) -> AccountTiers:
    """Rank accounts into ABC tiers (Pareto analysis) by value won or by a score.

    Accounts are sorted by value, highest first (ties by id). An account is in tier A when
    the accounts ranked above it hold less than ``cutoffs[0]`` of the total, in B when they
    hold less than ``cutoffs[1]``, in C otherwise; an account with nothing is always C. With
    the default cut-offs, A is the accounts bringing the first 80 % of the value.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once); deals
            without an account are ignored. An account id that appears with several
            names is shown with the least of them (whatever the order of the deals).
        pipeline: Says which stages are won.
        currency: Rank by value won in this currency. Needed only when deals are won in
            several currencies.
        scores: Rank by this mapping account id -> score (non-negative numbers) instead of
            value won; accounts of the deals that have no score count as 0.
        cutoffs: The cumulative shares closing tiers A and B, with
            ``0 < cutoffs[0] <= cutoffs[1] <= 1``.

    Returns:
        Every account with its value, shares and tier.

    Raises:
        CurrencyMismatchError: If deals were won in several currencies and ``currency`` is
            not given.
        ValidationError: For bad cut-offs or scores, an item that is not an opportunity, a
            deal of another pipeline or an unknown stage.
    """
    options: dict[str, Any] = {"currency": currency, "scores": scores, "cutoffs": cutoffs}
    return _account_tiers_result(_account_tiers_tally(opportunities, pipeline, **options),
                                 pipeline, **options)


def _account_tiers_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    currency: str | None = None,
    scores: Mapping[str, int | float | Decimal] | None = None,
    cutoffs: tuple[float, float] = (0.8, 0.95),
) -> Tally:
    """Return account tiers' mergeable state: name, won count and value won per account.

    An account id seen with several names keeps the least name (a choice that does not
    depend on the order of the deals).
    """
    if (not isinstance(cutoffs, tuple) or len(cutoffs) != 2
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cutoffs)
            or not 0 < cutoffs[0] <= cutoffs[1] <= 1):
        raise ValidationError(f"cutoffs must be two shares 0 < a <= b <= 1, got {cutoffs!r}",
                              field="cutoffs", value=cutoffs)
    index = StageIndex(pipeline)
    names: dict[str, str] = {}
    won_count: dict[str, int] = {}
    values: dict[tuple[str, str], Decimal] = {}
    with index.walk(opportunities) as walk:
        for o, k in walk:
            account = o.account
            if account is None:
                continue
            aid = account.id
            name = names.get(aid)
            if name is None or account.name < name:
                names[aid] = account.name
            if k == WON:
                won_count[aid] = won_count.get(aid, 0) + 1
                if o.amount is not None:
                    key = (aid, o.amount.currency)
                    values[key] = exact_add(values.get(key, Decimal(0)), o.amount.amount)
    return {"names": names, "won": won_count, "values": values}


def _account_tiers_result(
    tally: Tally, pipeline: PipelineLike, *,
    currency: str | None = None,
    scores: Mapping[str, int | float | Decimal] | None = None,
    cutoffs: tuple[float, float] = (0.8, 0.95),
) -> AccountTiers:
    """Return the account tiers of a state of :func:`_account_tiers_tally`."""
    names: dict[str, str] = tally["names"]
    won_count: dict[str, int] = tally["won"]
    values: dict[tuple[str, str], Decimal] = tally["values"]
    measured: dict[str, Decimal] = dict.fromkeys(sorted(names), Decimal(0))
    if scores is not None:
        if not isinstance(scores, Mapping):
            raise ValidationError("scores must be a mapping account id -> number",
                                  field="scores", value=scores)
        for aid, score in scores.items():
            measured[str(aid)] = _score(str(aid), score)
        measure, unit = "score", None
    else:
        currencies = sorted({cur for _, cur in values})
        if currency is None and len(currencies) > 1:
            raise CurrencyMismatchError(currencies[0], currencies[1],
                                        "rank accounts by value won in")
        unit = currency or (currencies[0] if currencies else None)
        for (aid, cur), amount in values.items():
            if cur == unit:
                measured[aid] = exact_add(measured[aid], amount)
        measure = "value_won"
    return AccountTiers(measure=measure, currency=unit, cutoffs=cutoffs,
                        rows=_rank(measured, names, won_count, cutoffs))


def _rank(
    measured: dict[str, Decimal], names: dict[str, str], won: dict[str, int],
    cutoffs: tuple[float, float],
) -> tuple[AccountTier, ...]:
    total = exact_sum(measured.values())
    ordered = sorted(measured.items(), key=lambda kv: (-kv[1], kv[0]))
    a_cut, b_cut = Decimal(repr(float(cutoffs[0]))), Decimal(repr(float(cutoffs[1])))
    rows = []
    running = Decimal(0)
    for aid, value in ordered:
        before = running / total if total else Decimal(1)
        running += value
        if not value:
            tier = "C"
        elif before < a_cut:
            tier = "A"
        elif before < b_cut:
            tier = "B"
        else:
            tier = "C"
        rows.append(AccountTier(
            account_id=aid, account=names.get(aid), value=value,
            share=float(value / total) if total else None,
            cumulative_share=float(running / total) if total else None,
            tier=tier, won=won.get(aid, 0),
        ))
    return tuple(rows)
