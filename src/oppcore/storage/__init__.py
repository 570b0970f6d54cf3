"""Storage: the store protocol, its reference stores, the audit trail and permissions.

Everything public here is also importable from :mod:`oppcore`, except (for now) the two
storage errors ``StoreClosedError`` and ``StorageUnavailableError``, importable from here.
"""

from oppcore._errors import StorageUnavailableError, StoreClosedError

from ._audit import AuditEntry, FieldChange, diff_fields
from ._memory import InMemoryStore
from ._policy import AllowAll, OwnerTeamPolicy, Permission, Policy
from ._protocol import Change, Page, Store, Write
from ._sqlite import SQLiteStore
from ._transfer import export_document, import_document

__all__ = [
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
    "StorageUnavailableError",
    "Store",
    "StoreClosedError",
    "Write",
    "diff_fields",
    "export_document",
    "import_document",
]
