"""One row per deal, for your own analysis in a notebook (join it to other tables)."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from oppcore._models import Opportunity

from ._common import OPEN, PipelineLike, StageIndex, closed_at
from ._results import Table

__all__ = ["DealRow", "DealsFrame", "deals_frame"]

_DAY = 86400.0
_COLUMNS = ("opportunity_id", "name", "stage", "kind", "amount", "currency", "created_at",
            "expected_close", "closed_at", "cycle_days", "age_days", "owner", "source",
            "source_detail", "account", "account_id", "external_key")


@attrs.frozen(kw_only=True)
class DealRow:
    """One deal, flattened.

    Attributes:
        opportunity_id: The deal's id.
        name: Its name.
        stage: Its current stage id.
        kind: ``"open"``, ``"won"`` or ``"lost"``.
        amount: Its amount (``None`` when it has none: unknown, not 0).
        currency: The amount's currency.
        created_at: When it was created.
        expected_close: Its expected close date.
        closed_at: When it closed (won or lost), from its history.
        cycle_days: ``closed_at - created_at`` in days (closed deals).
        age_days: Days from creation to ``now`` (open deals; ``None`` without ``now``).
        owner: Its owner.
        source: Its source channel.
        source_detail: Its source detail (campaign, event...).
        account: Its account's name.
        account_id: Its account's id.
        external_key: Its id in another system.
        custom: Its custom fields (one column each in :meth:`DealsFrame.to_records`).
    """

    opportunity_id: str
    name: str
    stage: str
    kind: str
    amount: Decimal | None
    currency: str | None
    created_at: datetime
    expected_close: date | None
    closed_at: datetime | None
    cycle_days: float | None
    age_days: float | None
    owner: str | None
    source: str | None
    source_detail: str | None
    account: str | None
    account_id: str | None
    external_key: str | None
    custom: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class DealsFrame(Table):
    """Every deal as one flat row (see :func:`deals_frame`).

    Attributes:
        rows: One row per deal, in input order.
        custom_columns: The custom-field columns, sorted; a custom field whose name is a
            built-in column is named ``custom_<name>``.
    """

    title = "Deals"
    row_type = DealRow
    columns = _COLUMNS

    rows: tuple[DealRow, ...]
    custom_columns: tuple[str, ...] = ()

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per deal; each custom field is a column of its own."""
        out = []
        for r in self.rows:
            record = {name: getattr(r, name) for name in _COLUMNS}
            for key in self.custom_columns:
                record[key] = r.custom.get(_field_of(key))
            out.append(record)
        return out


def _column_of(field: str) -> str:
    return f"custom_{field}" if field in _COLUMNS else field


def _field_of(column: str) -> str:
    if column.startswith("custom_") and column[len("custom_"):] in _COLUMNS:
        return column[len("custom_"):]
    return column


def deals_frame(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    now: datetime | None = None,
) -> DealsFrame:
    """Flatten deals to one row each, for joins and your own figures in pandas or polars.

    Example: join the Maven ``accounts.csv`` on ``account`` and ``sales_teams.csv`` on
    ``owner``: ``analytics.deals_frame(deals, pipeline).to_pandas().merge(accounts,
    on="account")``.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are open, won and lost.
        now: When given (timezone-aware), ``age_days`` of open deals runs to it.

    Returns:
        The rows, in input order; missing values are ``None`` (``NaN`` in a frame).

    Raises:
        ValidationError: For a naive ``now``, an item that is not an opportunity, a deal of
            another pipeline or a stage the pipeline does not have.
    """
    from ._velocity import _check_now

    _check_now(now)
    index = StageIndex(pipeline)
    rows = []
    custom: set[str] = set()
    with index.walk(opportunities) as walk:
        for o, k in walk:
            end = None if k == OPEN else closed_at(o)
            amount, source, account = o.amount, o.source, o.account
            custom.update(o.custom)
            rows.append(DealRow(
                opportunity_id=o.id, name=o.name, stage=o.stage_id, kind=k,
                amount=None if amount is None else amount.amount,
                currency=None if amount is None else amount.currency,
                created_at=o.created_at, expected_close=o.expected_close, closed_at=end,
                cycle_days=(None if end is None
                            else (end - o.created_at).total_seconds() / _DAY),
                age_days=(None if k != OPEN or now is None
                          else (now - o.created_at).total_seconds() / _DAY),
                owner=o.owner,
                source=None if source is None else source.channel.value,
                source_detail=None if source is None else source.detail,
                account=None if account is None else account.name,
                account_id=None if account is None else account.id,
                external_key=o.external_key, custom=o.custom,
            ))
    return DealsFrame(rows=tuple(rows),
                      custom_columns=tuple(sorted(_column_of(c) for c in custom)))
