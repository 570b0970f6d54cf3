"""The versioned migrations of the SQL store's tables, and ``upgrade``.

The schema version lives in the ``<prefix>meta`` table (``schema_version``). Migration
``n`` turns version ``n - 1`` into version ``n``; :func:`upgrade` applies the missing ones
in order, in one transaction, under a lock (a PostgreSQL advisory lock; SQLite's write
lock), so two processes upgrading at once neither collide nor run a migration twice. A
database of a newer version than this oppcore knows is refused, never written.

Tables a host created itself from ``SQLStore.metadata`` (with Alembic's autogenerate) are
version 1 already: migration 1 creates only the tables that are missing, and ``upgrade``
records the version.
"""

import hashlib
from collections.abc import Callable

import sqlalchemy as sa

from oppcore._errors import StorageUnavailableError, ValidationError

from ._schema import Tables, build_tables
from ._tx import Runner

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check_version", "lock_key", "read_version",
           "upgrade", "where"]

_VERSION = "schema_version"


def _create_v1(conn: sa.Connection, tables: Tables) -> None:
    tables.metadata.create_all(conn, checkfirst=True)


MIGRATIONS: tuple[Callable[[sa.Connection, Tables], None], ...] = (_create_v1,)
"""Migration ``n`` is ``MIGRATIONS[n - 1]``; each gets the connection and the tables."""
SCHEMA_VERSION = len(MIGRATIONS)


def where(bind: sa.Engine | sa.Connection) -> str:
    """Return a description of the database for messages (the URL without its password)."""
    return bind.engine.url.render_as_string(hide_password=True)


def lock_key(*parts: str | None) -> int:
    """Return a stable signed 64-bit key for ``pg_advisory_xact_lock`` from ``parts``."""
    digest = hashlib.blake2b("\x1f".join(p or "" for p in parts).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def read_version(conn: sa.Connection, tables: Tables) -> int:
    """Return the schema version of the database (0: no oppcore tables yet)."""
    meta = tables.meta
    if not sa.inspect(conn).has_table(meta.name, schema=meta.schema):
        return 0
    value = conn.execute(sa.select(meta.c.value).where(meta.c.name == _VERSION)).scalar()
    return int(value) if value is not None else 0


def _newer(found: int, at: str, operation: str) -> StorageUnavailableError:
    return StorageUnavailableError(
        f"{at} holds oppcore tables of schema version {found}; this oppcore knows up to "
        f"{SCHEMA_VERSION}: upgrade oppcore", path=at, reason="newer-schema",
        operation=operation)


def check_version(found: int, at: str) -> None:
    """Refuse to open a database whose schema version is not this oppcore's.

    Raises:
        StorageUnavailableError: ``needs-upgrade`` or ``newer-schema``.
    """
    if found > SCHEMA_VERSION:
        raise _newer(found, at, "open")
    if found < SCHEMA_VERSION:
        have = "has no oppcore tables" if found == 0 else f"has schema version {found}"
        raise StorageUnavailableError(
            f"{at} {have}; this oppcore needs version {SCHEMA_VERSION}: run `oppcore db "
            f"upgrade --url URL` or oppcore.storage.sql.upgrade(engine) first", path=at,
            reason="needs-upgrade", operation="open")


def check_layout(schema: object, table_prefix: object) -> None:
    """Refuse a schema name or table prefix that is not a plain SQL identifier.

    Raises:
        ValidationError: Either is not letters, digits and underscores (not starting with
            a digit), or is too long for PostgreSQL's 63-byte names.
    """
    for field, value, blank in (("schema", schema, False), ("table_prefix", table_prefix, True)):
        if value is None and field == "schema":
            continue
        if not isinstance(value, str) or (not value and not blank) or len(value) > 40 or (
            value and not (value.replace("_", "a").isalnum() and value.isascii()
                           and not value[0].isdigit())):
            raise ValidationError(f"{field} must be a plain SQL identifier (letters, digits, "
                                  f"underscores; at most 40), got {value!r}", field=field,
                                  value=value)


def upgrade(bind: sa.Engine | sa.Connection, *, schema: str | None = None,
            table_prefix: str = "oppcore_") -> int:
    """Create or upgrade oppcore's tables in a database; return the schema version now.

    Applies the migrations the database lacks, in one transaction (with a ``Connection``
    inside a transaction: in a savepoint of it, committed with it), so a failed upgrade
    leaves the database as it was. Running it again is harmless. PostgreSQL and SQLite.

    Args:
        bind: An ``Engine`` or ``Connection``.
        schema: The database schema to hold the tables (``None``: the default one).
        table_prefix: Prefix of every table name.

    Raises:
        StorageUnavailableError: The database holds a newer schema version
            (``newer-schema``), or cannot be reached or written.
        ValidationError: Bad arguments or an unsupported database.
    """
    check_bind(bind)
    check_layout(schema, table_prefix)
    tables = build_tables(schema=schema, table_prefix=table_prefix)
    runner = Runner(bind, where(bind))

    def body(conn: sa.Connection) -> int:
        if runner.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
                lock_key("oppcore-migrate", schema, table_prefix))))
        current = read_version(conn, tables)
        if current > SCHEMA_VERSION:
            raise _newer(current, runner.where, "upgrade")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version - 1](conn, tables)
        if current < SCHEMA_VERSION:
            meta = tables.meta
            conn.execute(sa.delete(meta).where(meta.c.name == _VERSION))
            conn.execute(sa.insert(meta).values(name=_VERSION, value=SCHEMA_VERSION))
        return SCHEMA_VERSION

    return runner.writing("upgrade", body)


def check_bind(bind: object) -> None:
    """Refuse a bind that is not an SQLAlchemy Engine or Connection of a supported database.

    Raises:
        ValidationError: Otherwise.
    """
    if not isinstance(bind, (sa.Engine, sa.Connection)):
        raise ValidationError(f"bind must be an SQLAlchemy Engine or Connection, got "
                              f"{type(bind).__name__}", field="bind", value=bind)
    if bind.dialect.name not in ("postgresql", "sqlite"):
        raise ValidationError(f"SQLStore supports PostgreSQL and SQLite, not "
                              f"{bind.dialect.name}", field="bind", value=bind)
