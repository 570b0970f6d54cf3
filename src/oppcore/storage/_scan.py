"""Reading a whole kind of record: every page of a query, one page at a time."""

from collections.abc import Iterator
from datetime import datetime
from typing import TypeVar

from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity

from ._protocol import Store

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
    page_size: int = 500,
) -> Iterator[_R]:
    """Yield **every** record of ``kind`` matching the filters, in ascending id order.

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
        page_size: Records per page (>= 1).

    Raises:
        ValidationError: A bad filter or page size (from the store, at the first page).
    """
    if type(page_size) is not int or page_size < 1:
        raise ValidationError("page_size must be a positive int", field="page_size",
                              value=page_size)
    after: str | None = None
    while True:
        page = store.query(kind, stage=stage, owner=owner, account=account, pipeline=pipeline,
                           updated_since=updated_since, after=after, limit=page_size)
        yield from page.items
        if page.next_after is None:
            return
        after = page.next_after
