"""Storage: the store protocol, the base class of stores, the reference stores, the audit
trail.

The everyday names (the protocol ``Store``, ``InMemoryStore``, ``SQLiteStore``,
``AuditEntry``...) are also importable from :mod:`oppcore`; what you need to *build* a store
(``BaseStore``, ``plan_batch``, ``QueryFilter``...) lives here. The storage errors are in the
error tree, importable from :mod:`oppcore`. Permissions are not a storage concern: the
policies live beside the service (``oppcore.Policy``); the old ``oppcore.storage.Policy``
names still work for one release, with a :class:`DeprecationWarning`.
"""

import typing as _typing

from oppcore._identity import unique_keys
from oppcore._models import kind_name, record_class
from oppcore._public import deprecated_names as _deprecated_names
from oppcore._public import publish as _publish

from ._arguments import QueryFilter
from ._audit import AuditEntry, FieldChange, diff_fields
from ._base import BaseStore
from ._memory import InMemoryStore
from ._plan import BatchPlan, PlannedWrite, Stored, plan_batch
from ._protocol import FeedEntry, QueryPage, Store, StoreWrite
from ._scan import query_all
from ._sqlite import SQLiteStore
from ._transfer import export_document, import_document

__all__ = [
    # building a store
    "BaseStore",
    "BatchPlan",
    "PlannedWrite",
    "QueryFilter",
    "Stored",
    "kind_name",
    "plan_batch",
    "record_class",
    "unique_keys",
    # the protocol, stores, audit
    "AuditEntry",
    "FeedEntry",
    "FieldChange",
    "InMemoryStore",
    "QueryPage",
    "SQLiteStore",
    "Store",
    "StoreWrite",
    "diff_fields",
    "export_document",
    "import_document",
    "query_all",
]

_publish(__name__, globals(), __all__)

# 0.1: permissions are not a storage concern; the policies moved beside the service.
_DEPRECATED: dict[str, tuple[str, object]] = {
    name: (f"oppcore.{name}", None)
    for name in ("AllowAll", "OwnerTeamPolicy", "Permission", "Policy")}
# 0.1: generic names that said too little
_DEPRECATED.update({"Change": ("oppcore.storage.FeedEntry", FeedEntry),
                    "Page": ("oppcore.storage.QueryPage", QueryPage),
                    "Write": ("oppcore.storage.StoreWrite", StoreWrite)})

if not _typing.TYPE_CHECKING:
    __getattr__ = _deprecated_names(__name__, _DEPRECATED)
