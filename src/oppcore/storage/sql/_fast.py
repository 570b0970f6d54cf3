"""The driver statement path of :class:`~oppcore.storage.sql.SQLStore`: its two hot operations
without SQLAlchemy's per-statement and per-row work.

Profiling the store on PostgreSQL showed where its time went beyond the database's own:

* a point read paid for a pooled ``Connection`` with the AUTOCOMMIT characteristic set and
  reset, an execution context and a result object: about twice the CPU of the statement
  and the decode together;
* a bulk batch paid, per row, for SQLAlchemy's parameter dictionaries and bind processors
  (twice: the record and its history-feed row).

So, when it is safe, these two run on the driver:

* :func:`read_one`: a pooled DBAPI connection and the ``SELECT`` SQLAlchemy compiled once
  for the dialect (the same text the plain path sends), in autocommit on psycopg (set for
  the read and restored, as SQLAlchemy's AUTOCOMMIT option does);
* :func:`write_rows`: psycopg's ``COPY ... FROM STDIN`` of the rows on PostgreSQL, in the
  batch's own transaction or savepoint; on other drivers one ``executemany`` of positional
  rows (``exec_driver_sql``). Text the plain path escapes (:class:`.CodePointText`) is
  escaped here with the same function.

The plain path (SQLAlchemy statements, one ``Connection`` per read) is taken whenever the
engine or connection has statement event listeners (``before_execute``,
``before_cursor_execute``, ``handle_error`` ...), so a host that traces or rewrites
statements still sees every one, and for drivers other than psycopg 3 and sqlite3.
Driver errors become SQLAlchemy's ``DBAPIError`` as on the plain path, so the store maps
them the same way. ``tests/test_storage_sql_fast.py::test_driver_path_equals_the_plain_path``
compares the two.
"""

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa

from ._schema import CodePointText, escape

__all__ = ["Read", "drivers", "read_one", "watched", "write_rows"]

_EVENTS = ("before_execute", "after_execute", "before_cursor_execute",
           "after_cursor_execute")


def drivers(dialect: sa.Dialect) -> bool:
    """Return whether the driver path knows this dialect's driver (psycopg 3, sqlite3)."""
    return (dialect.name, dialect.driver) in (("postgresql", "psycopg"), ("sqlite", "pysqlite"))


def watched(bind: sa.Engine | sa.Connection) -> bool:
    """Return whether statement event listeners are registered (then: the plain path)."""
    dispatch = bind.dispatch
    return bool(any(getattr(dispatch, name) for name in _EVENTS)
                or bind.dialect.dispatch.handle_error)


def _wrap(exc: Exception, statement: str, dialect: sa.Dialect) -> sa.exc.DBAPIError:
    """Return the ``DBAPIError`` SQLAlchemy would have raised for a driver error."""
    base = dialect.loaded_dbapi.Error
    # A StatementError only for a non-driver exception, which never reaches here.
    return cast(sa.exc.DBAPIError,
                sa.exc.DBAPIError.instance(statement, None, exc, base, dialect=dialect))


class Read:
    """A one-row, one-column ``SELECT``, compiled once for the engine's dialect."""

    def __init__(self, select: sa.Select[Any], dialect: sa.Dialect) -> None:
        self.select = select
        compiled = select.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.escapes = dialect.name == "postgresql"  # CodePointText's bind processing
        self.autocommit = dialect.name == "postgresql"

    def arguments(self, params: dict[str, str]) -> Any:
        """Return the driver's parameters for ``params`` (all code-point text)."""
        if self.escapes:
            params = {k: escape(v) for k, v in params.items()}
        return params if self.names is None else tuple(params[n] for n in self.names)


def read_one(engine: sa.Engine, read: Read, params: dict[str, str]) -> Any:
    """Return the first column of the first row of ``read`` (``None`` if no row).

    Raises:
        sqlalchemy.exc.DBAPIError: The driver failed (the connection is discarded).
        sqlalchemy.exc.TimeoutError: The engine's pool had no connection free.
    """
    arguments = read.arguments(params)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        switch = read.autocommit and not getattr(driver, "autocommit", True)
        try:
            if switch:
                driver.autocommit = True  # type: ignore[union-attr]
            cursor = raw.cursor()
            try:
                cursor.execute(read.sql, arguments)
                row = cursor.fetchone()
            finally:
                cursor.close()
            if switch:
                driver.autocommit = False  # type: ignore[union-attr]
        except Exception as exc:
            raw.invalidate()  # its state is unknown: the pool opens a fresh one
            if isinstance(exc, engine.dialect.loaded_dbapi.Error):
                raise _wrap(exc, read.sql, engine.dialect) from exc
            raise
    finally:
        raw.close()
    return None if row is None else row[0]


def write_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str],
               rows: list[tuple[Any, ...]], *, driver: bool = True) -> None:
    """Insert ``rows`` (values in ``columns`` order, unescaped) in ``conn``'s transaction,
    on the driver path if ``driver`` and the connection allow it.

    Raises:
        sqlalchemy.exc.DBAPIError: The database refused a row (nothing of them is kept once
            the caller's transaction or savepoint rolls back, as it must).
    """
    if not rows:
        return
    dialect = conn.dialect
    if not driver or watched(conn) or not drivers(dialect):
        conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    rows = _escaped(table, columns, rows, dialect)
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    target = preparer.format_table(table)
    if dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO {target} ({names}) VALUES ({marks})"  # noqa: S608 - quoted names
        conn.exec_driver_sql(insert, rows)
        return
    statement = f"COPY {target} ({names}) FROM STDIN"
    psycopg: Any = conn.connection.driver_connection
    try:
        with psycopg.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrap(exc, statement, dialect) from exc


def _escaped(table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]],
             dialect: sa.Dialect) -> list[tuple[Any, ...]]:
    """Return ``rows`` with code-point text escaped as :class:`.CodePointText` binds it."""
    at = [i for i, c in enumerate(columns)
          if isinstance(table.c[c].type.dialect_impl(dialect), CodePointText)]
    if not at:
        return rows
    out = []
    for row in rows:
        if any(type(v) is str and ("\x00" in v or "\x01" in v) for v in map(row.__getitem__, at)):
            row = tuple(escape(v) if i in at and type(v) is str else v
                        for i, v in enumerate(row))
        out.append(row)
    return out
