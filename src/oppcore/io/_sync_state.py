"""What a sync remembers on each deal it wrote, and the fingerprint that compares deals.

The memory lives **on the record itself**, in one custom field (:data:`SYNC_FIELD`), so it is
stored, copied, backed up and exported by every store through the public protocol, with no
side file and no store method of its own. Its value is a small JSON text::

    {"fp": "<fingerprint of the export's fields as written>", "keys": ["product", ...]}

``keys`` are the custom fields the export owned, so a field the export stops sending can be
cleared while a host's own custom fields (a saved score) are left alone. The fingerprint
covers only the fields a sync writes (:data:`SYNCED_FIELDS` plus those custom fields): a
rescore, a logged activity or a quote never makes a deal look edited.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import timezone
from typing import Any, Final, NamedTuple

from oppcore._models import Opportunity

__all__ = ["SYNCED_FIELDS", "SYNC_FIELD", "Mark", "export_keys", "fingerprint", "mark", "read_mark"]

SYNC_FIELD: Final = "oppcore.sync"
"""The custom field in which a sync keeps the fingerprint of what it wrote."""

SYNCED_FIELDS: Final = (
    "name", "stage_id", "created_at", "account", "owner", "amount", "expected_close",
    "source", "lost_reason", "tags",
)
"""The fields an export owns (with its custom fields); every other field is the host's.

``external_key`` is not among them: it matches a deal to its row, and is set when the deal is
added; a key the host gave a deal matched by id is kept."""

_UTC = timezone.utc


class Mark(NamedTuple):
    """A parsed sync mark: the fingerprint last written and the custom keys it covered."""

    fp: str
    keys: frozenset[str]


def export_keys(record: Opportunity) -> frozenset[str]:
    """The custom fields a record from an export carries (the mark itself excluded)."""
    return frozenset(k for k in record.custom if k != SYNC_FIELD)


def fingerprint(record: Opportunity, keys: Iterable[str]) -> str:
    """Return a digest of the synced fields of ``record`` and its custom fields ``keys``.

    Each field is reduced to plain, stable values (an instant in UTC, an amount as its
    decimal text and currency, an account as its id and name, a source as its channel and
    detail), so the digest survives every store's round trip and does not change when a
    model gains an unrelated field.
    """
    amount, account, source, custom = record.amount, record.account, record.source, record.custom
    created = record.created_at.astimezone(_UTC)
    data = (
        record.name, record.stage_id, created.isoformat(),
        None if account is None else (account.id, account.name),
        record.owner,
        None if amount is None else (str(amount.amount), amount.currency),
        None if record.expected_close is None else record.expected_close.isoformat(),
        None if source is None else (source.channel.value, source.detail),
        record.lost_reason, sorted(record.tags),
        sorted((k, custom[k]) for k in keys if k in custom),
    )
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def mark(custom: Mapping[str, Any], fp: str, keys: frozenset[str]) -> dict[str, Any]:
    """Return ``custom`` with the sync mark set to ``fp`` and ``keys``."""
    text = json.dumps({"fp": fp, "keys": sorted(keys)}, ensure_ascii=False,
                      separators=(",", ":"))
    return {**custom, SYNC_FIELD: text}


def read_mark(record: Opportunity) -> Mark | None:
    """Return the sync mark of a stored record, or ``None`` when no sync wrote it.

    A mark that does not parse (edited by hand) counts as none: the record is then treated
    as edited in the store, which never loses data.
    """
    text = record.custom.get(SYNC_FIELD)
    if type(text) is not str:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    fp, keys = data.get("fp"), data.get("keys")
    if type(fp) is not str or not isinstance(keys, list) or not all(
            type(k) is str for k in keys):
        return None
    return Mark(fp, frozenset(keys))
