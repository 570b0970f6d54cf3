"""Full export and import of a store as one JSON document (any store, through the protocol)."""

from collections.abc import Iterator
from typing import Any

from oppcore import serde
from oppcore._errors import ValidationError
from oppcore._models import Lead, Opportunity

from ._protocol import R, Record, Store

__all__ = ["export_document", "import_document"]


def _all(store: Store, kind: type[R], page_size: int) -> Iterator[R]:
    after = None
    while True:
        page = store.query(kind, after=after, limit=page_size)
        yield from page.items
        if page.next_after is None:
            return
        after = page.next_after


def export_document(store: Store, *, page_size: int = 1000) -> dict[str, Any]:
    """Return every lead and opportunity of ``store`` as an export document.

    The document is :func:`oppcore.serde.document`'s format (with ``schema_version``), ready
    for ``json.dump``. The store stays in use: records are read page by page, so a record
    written meanwhile may or may not be included, but none appears twice.
    """
    return serde.document(leads=_all(store, Lead, page_size),
                          opportunities=_all(store, Opportunity, page_size))


def import_document(store: Store, data: Any, *, batch_size: int = 500) -> int:
    """Add every record of an export document to ``store``; return how many were added.

    The whole document is read and validated first, so a malformed document writes
    nothing. Records are then added in atomic batches of ``batch_size``. Versions are a
    per-store concurrency token, not data: imported records start again at version 1.

    Raises:
        StructureError: The document is malformed or from a newer schema version.
        DuplicateError: A record's id or uniqueness key is already taken (the batches
            before it stay written).
    """
    if type(batch_size) is not int or batch_size < 1:
        raise ValidationError("batch_size must be a positive int", field="batch_size",
                              value=batch_size)
    leads, opportunities = serde.read_document(data)
    records: list[Record] = [*leads, *opportunities]
    return store.bulk_add(records, batch_size=batch_size)
