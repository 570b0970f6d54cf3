"""The SQL store: oppcore's records in the host's own database, on SQLAlchemy Core.

Install the extra: ``pip install 'oppcore[sql]'`` (SQLAlchemy 2 and psycopg 3).
PostgreSQL is the target; SQLite through SQLAlchemy runs the same store (for a host's own
tests). See the guide "Use your own SQLAlchemy engine and migrations".

* :class:`SQLStore`: the store, bound to an ``Engine`` (its own transactions) or a
  ``Connection`` (inside the host's transaction).
* :func:`upgrade`: create or upgrade the tables (``oppcore db upgrade --url URL``).
* :data:`SCHEMA_VERSION`: the version of the tables this oppcore reads and writes.
"""

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401 - only to say what is missing
except ImportError as _exc:  # pragma: no cover - the test extra installs it
    raise ImportError("oppcore.storage.sql needs SQLAlchemy 2: pip install 'oppcore[sql]'"
                      ) from _exc

from oppcore._public import publish as _publish

from ._migrate import SCHEMA_VERSION, upgrade
from ._store import SQLStore

__all__ = ["SCHEMA_VERSION", "SQLStore", "upgrade"]

_publish(__name__, globals(), __all__)
