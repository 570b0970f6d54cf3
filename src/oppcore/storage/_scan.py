"""Reading a whole kind of record: every page of a query, one page at a time."""

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Literal, TypeVar

from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity
from oppcore._money import Money

from ._protocol import QueryPage, Store

__all__ = ["query_all"]

_R = TypeVar("_R", Lead, Opportunity)


def query_all(
    store: Store,
    kind: type[_R],
    *,
    stage: str | None = None,
    owner: str | None = None,
    account: str | None = None,
    pipeline: str | None = None,
    updated_since: datetime | None = None,
    close_from: date | None = None,
    close_to: date | None = None,
    amount_min: Money | None = None,
    amount_max: Money | None = None,
    order: Literal["id", "updated_at"] = "id",
    page_size: int = 500,
) -> Iterator[_R]:
    """Return an iterator over **every** record of ``kind`` matching the filters, in order.

    :meth:`~oppcore.Store.query` returns one page (100 records by default); this iterator
    asks for the pages one after another (``page_size`` each), so an 8,800-deal store is read
    whole in constant memory per page. It works on any :class:`~oppcore.Store`. Records
    written while it runs may or may not be seen (each page is read when it is reached).

    Args:
        store: Any store.
        kind: :class:`~oppcore.Lead` or :class:`~oppcore.Opportunity`.
        stage: Opportunity stage id.
        owner: Owner user id.
        account: Opportunity account id.
        pipeline: Opportunity pipeline id.
        updated_since: Only records with ``updated_at >= updated_since`` (aware).
        close_from: Only opportunities expected to close on or after this date.
        close_to: Only opportunities expected to close on or before this date.
        amount_min: Only opportunities with an amount in this currency, at least this much.
        amount_max: Only opportunities with an amount in this currency, at most this much.
        order: ``"id"`` or ``"updated_at"`` (see :meth:`~oppcore.Store.query`).
        page_size: Records per page (>= 1).

    Raises:
        ValidationError: A bad filter or page size (raised by the call itself: the first
            page is read before the iterator is returned).
    """
    if type(page_size) is not int or page_size < 1:
        raise ValidationError("page_size must be a positive int", field="page_size",
                              value=page_size)

    def page(after: str | None) -> QueryPage[_R]:
        return store.query(kind, stage=stage, owner=owner, account=account, pipeline=pipeline,
                           updated_since=updated_since, close_from=close_from,
                           close_to=close_to, amount_min=amount_min, amount_max=amount_max,
                           order=order, after=after, limit=page_size)

    return _pages(page, page(None))  # the first page now: bad filters raise at the call


def _pages(page: Callable[[str | None], QueryPage[_R]], first: QueryPage[_R]) -> Iterator[_R]:
    current = first
    while True:
        yield from current.items
        if current.next_after is None:
            return
        current = page(current.next_after)
