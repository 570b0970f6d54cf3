"""Whose transaction a :class:`~oppcore.storage.sql.SQLStore` operation runs in.

* ``bind`` is an ``Engine``: each write batch runs in a transaction of its own, at READ
  COMMITTED on PostgreSQL whatever the engine's default, so every statement after the
  tenant's lock reads what the previous writer committed. A serialisation failure or
  deadlock rolls it back and runs the batch again (safe: nothing outside it was part of it).
* ``bind`` is a ``Connection`` inside a transaction (the host's): the batch runs in a
  SAVEPOINT of that transaction. Its writes commit or roll back with the host's; a refused
  batch rolls back to the savepoint, so the host's transaction stays usable. The store
  never commits or rolls back the host's transaction. A serialisation failure or deadlock
  cannot be retried in there (the host's snapshot and earlier statements belong to it), so
  the host is told to roll back and retry (``reason="retry-transaction"``).
* ``bind`` is a ``Connection`` with no transaction: the store begins one, and so commits it.

SQLite through the standard ``sqlite3`` driver begins a transaction only before the first
data change, so a SAVEPOINT as the first statement would open (and its RELEASE commit) a
transaction of its own; the store therefore begins SQLite's transaction first (``BEGIN
IMMEDIATE`` when it is its own: the write lock first, so check-then-write is atomic).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa

from oppcore._errors import StorageUnavailableError, ValidationError

from ._failures import outcome, unavailable
from ._fast import Read, drivers, read_one, watched

__all__ = ["ATTEMPTS", "Runner"]

_T = TypeVar("_T")

ATTEMPTS = 5
"""How many times a batch in the store's own transaction runs before a serialisation
failure or deadlock is reported."""


class Runner:
    """Runs reads and write batches in the right transaction (see the module docs)."""

    def __init__(self, bind: sa.Engine | sa.Connection, where: str) -> None:
        self.bind = bind
        self.where = where
        self.dialect = bind.dialect.name
        # A read is one statement, atomic by itself: on PostgreSQL it runs in autocommit
        # (no BEGIN before it, no ROLLBACK when the connection goes back to the pool:
        # a third of the round trips of a point get).
        self._reader: sa.Engine | None = None
        if isinstance(bind, sa.Engine):
            self._reader = (bind.execution_options(isolation_level="AUTOCOMMIT")
                            if self.dialect == "postgresql" else bind)
        self.driver_writes = drivers(bind.dialect)
        """Whether bulk rows may take the driver path (:mod:`._fast`); tests turn it off."""
        self.driver_reads = isinstance(bind, sa.Engine) and self.driver_writes
        """Whether point reads may take the driver path (with an engine: own connections)."""

    def read_value(self, operation: str, read: Read, params: dict[str, str]) -> Any:
        """Return the one value ``read`` selects (``None``: no row), on the driver path
        when the engine allows it (see :mod:`._fast`), else through SQLAlchemy."""
        if self.driver_reads and not watched(self.bind):
            try:
                return read_one(cast(sa.Engine, self.bind), read, params)
            except sa.exc.SQLAlchemyError as exc:
                raise unavailable(exc, where=self.where, operation=operation) from exc
        with self.reading(operation) as conn:
            return conn.execute(read.select, params).scalar()

    def host_transaction(self) -> bool:
        """Return whether writes run inside a transaction the store did not begin."""
        return isinstance(self.bind, sa.Connection) and self.bind.in_transaction()

    def _begin_sqlite(self, conn: sa.Connection, statement: str) -> None:
        if self.dialect != "sqlite":
            return
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql(statement)

    @contextmanager
    def reading(self, operation: str) -> Iterator[sa.Connection]:
        """Yield a connection to read with; driver errors become oppcore errors."""
        try:
            if self._reader is not None:
                with self._reader.connect() as conn:
                    yield conn
                return
            host = cast(sa.Connection, self.bind)
            if host.in_transaction():
                yield host
            else:
                with host.begin():
                    yield host
        except sa.exc.SQLAlchemyError as exc:
            raise unavailable(exc, where=self.where, operation=operation) from exc

    def writing(self, operation: str, body: Callable[[sa.Connection], _T], *,
                on_raced: Callable[[], _T] | None = None) -> _T:
        """Run ``body`` atomically in the right transaction and return its result.

        ``on_raced``: what to do instead when a unique index refuses a row (the batch was
        rolled back first); by default the batch runs again (own transaction) or the host
        is told to retry (host transaction).
        """
        bind = self.bind
        for attempt in range(ATTEMPTS):
            try:
                if isinstance(bind, sa.Engine):
                    with bind.connect() as conn:
                        if self.dialect == "postgresql":
                            conn.execution_options(isolation_level="READ COMMITTED")
                        with conn.begin():
                            self._begin_sqlite(conn, "BEGIN IMMEDIATE")
                            return body(conn)
                if bind.in_transaction():
                    self._begin_sqlite(bind, "BEGIN")
                    with bind.begin_nested():
                        return body(bind)
                with bind.begin():
                    self._begin_sqlite(bind, "BEGIN IMMEDIATE")
                    return body(bind)
            except sa.exc.DBAPIError as exc:  # noqa: PERF203 - retrying is the point
                what = outcome(exc)
                if what == "raced" and on_raced is not None:
                    return on_raced()
                if what == "too-large":
                    detail = str(exc.orig).strip().splitlines()[0]
                    raise ValidationError(
                        f"{operation}: the database refused a value as too large ({detail}); "
                        f"shorten the id or the indexed fields (owner, keys, stage ...)",
                        field="record") from exc
                if what == "other":
                    raise unavailable(exc, where=self.where, operation=operation) from exc
                if self.host_transaction():
                    raise unavailable(exc, where=self.where, operation=operation,
                                      problem="retry-transaction") from exc
                if attempt == ATTEMPTS - 1:
                    raise unavailable(exc, where=self.where, operation=operation,
                                      problem="busy") from exc
            except sa.exc.SQLAlchemyError as exc:  # not the database's: a closed connection...
                raise unavailable(exc, where=self.where, operation=operation) from exc
        raise StorageUnavailableError(  # pragma: no cover - the loop returns or raises
            "unreachable", path=self.where, reason="failed", operation=operation)
