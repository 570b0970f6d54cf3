"""Storage: the store protocol, the base class of stores, the reference stores, the audit
trail.

The everyday names (the protocol ``Store``, ``InMemoryStore``, ``SQLiteStore``,
``AuditEntry``...) are also importable from :mod:`oppcore`; what you need to *build* a store
(``BaseStore``, ``plan_batch``, ``QueryFilter``...) lives here. The storage errors are in the
error tree, importable from :mod:`oppcore`.
"""

from oppcore._identity import unique_keys
from oppcore._models import kind_name, record_class

from ._arguments import QueryFilter
from ._audit import AuditEntry, FieldChange, diff_fields
from ._base import BaseStore
from ._memory import InMemoryStore
from ._plan import BatchPlan, PlannedWrite, Stored, plan_batch
from ._policy import AllowAll, OwnerTeamPolicy, Permission, Policy
from ._protocol import Change, Page, Store, Write
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
    # the protocol, stores, audit and permissions
    "Permission",
    "AllowAll",
    "AuditEntry",
    "Change",
    "FieldChange",
    "InMemoryStore",
    "OwnerTeamPolicy",
    "Page",
    "Policy",
    "SQLiteStore",
    "Store",
    "Write",
    "diff_fields",
    "export_document",
    "import_document",
]
