"""Storage: the store protocol, the base class of stores, the reference stores, the audit
trail.

The everyday names (the protocol ``Store``, ``InMemoryStore``, ``SQLiteStore``,
``AuditEntry``...) are also importable from :mod:`oppcore`; what you need to *build* a store
(``BaseStore``, ``plan_batch``, ``QueryFilter``...) lives here. The storage errors are in the
error tree, importable from :mod:`oppcore`. Permissions are not a storage concern: the
policies live beside the service (``oppcore.Policy``); the old ``oppcore.storage.Policy``
names still work for one release, with a :class:`DeprecationWarning`.
"""

from typing import TYPE_CHECKING, Any

from oppcore._identity import unique_keys
from oppcore._models import kind_name, record_class

from ._arguments import QueryFilter
from ._audit import AuditEntry, FieldChange, diff_fields
from ._base import BaseStore
from ._memory import InMemoryStore
from ._plan import BatchPlan, PlannedWrite, Stored, plan_batch
from ._protocol import Change, Page, Store, Write
from ._sqlite import SQLiteStore
from ._transfer import export_document, import_document

if TYPE_CHECKING:  # the deprecated aliases below, for type checkers
    from oppcore._service import AllowAll as AllowAll
    from oppcore._service import OwnerTeamPolicy as OwnerTeamPolicy
    from oppcore._service import Permission as Permission
    from oppcore._service import Policy as Policy

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
    "Change",
    "FieldChange",
    "InMemoryStore",
    "Page",
    "SQLiteStore",
    "Store",
    "Write",
    "diff_fields",
    "export_document",
    "import_document",
]

_MOVED = frozenset({"AllowAll", "OwnerTeamPolicy", "Permission", "Policy"})


def __getattr__(name: str) -> Any:
    """Resolve the policy names that moved to the service, with a deprecation warning."""
    if name in _MOVED:
        import warnings

        from oppcore import _service

        warnings.warn(f"oppcore.storage.{name} moved beside the service: import it as "
                      f"oppcore.{name}; the storage alias will be removed in the next release",
                      DeprecationWarning, stacklevel=2)
        return getattr(_service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
