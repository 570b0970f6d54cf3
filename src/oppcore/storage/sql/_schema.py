"""The tables of :class:`~oppcore.storage.sql.SQLStore` as SQLAlchemy Core data, and rows.

Every table carries the tenant as the first column of its primary key, so every index a
query uses starts with the tenant and two tenants never share a row. Ids and the other
text compared in order are declared ``COLLATE "C"`` on PostgreSQL: it compares UTF-8 bytes,
which is code-point order, the order Python sorts ``str`` in, so keyset paging matches
:class:`~oppcore.InMemoryStore` whatever the database's default collation (``en_US`` puts
``"B" < "a"`` the other way round and ignores punctuation). SQLite compares bytes already.
PostgreSQL text cannot hold NUL: :class:`CodePointText` escapes it, keeping the order.
"""

from typing import Any, NamedTuple, cast

import sqlalchemy as sa

from oppcore import serde
from oppcore._errors import ValidationError
from oppcore._identity import unique_keys
from oppcore._models import Opportunity
from oppcore._serde import encode_model
from oppcore.storage._arguments import micros
from oppcore.storage._protocol import Record

__all__ = ["RECORD_COLUMNS", "CodePointText", "Tables", "build_tables", "escape", "json_text",
           "record_row", "record_values"]


def escape(value: str) -> str:
    """Escape U+0001 and U+0000 for PostgreSQL text (see :class:`CodePointText`)."""
    if "\x00" not in value and "\x01" not in value:
        return value
    return value.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")


class CodePointText(sa.types.TypeDecorator[str]):
    """PostgreSQL text in code-point order that holds any Python string, NUL included.

    ``COLLATE "C"`` orders by UTF-8 bytes, which is code-point order. PostgreSQL's ``text``
    cannot hold U+0000, which a valid id may contain, so U+0001 and U+0000 are escaped as
    ``\x01\x02`` and ``\x01\x01``: the escape keeps byte order (U+0000 < U+0001 < every
    other character, in both forms) and is undone on the way out. Other strings are
    stored as they are.
    """

    impl = sa.Text
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(collation="C")

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        """Escape U+0001 and U+0000 (see the class documentation)."""
        return None if value is None else escape(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        """Undo :meth:`process_bind_param`."""
        if value is None or "\x01" not in value:
            return value
        return value.replace("\x01\x01", "\x00").replace("\x01\x02", "\x01")


def _text() -> sa.types.TypeEngine[str]:
    """Text compared in code-point order on every dialect (``COLLATE "C"`` on PostgreSQL)."""
    return sa.Text().with_variant(CodePointText(), "postgresql")


class Tables(NamedTuple):
    """The tables of one store layout (one ``schema`` and ``table_prefix``)."""

    metadata: sa.MetaData
    """Holds every table below (hand it to Alembic's ``target_metadata``)."""
    meta: sa.Table
    """``name -> value``: the schema version (``"schema_version"``)."""
    tenants: sa.Table
    """One row per tenant: its counters, and the row a writer locks first."""
    opportunity: sa.Table
    lead: sa.Table
    tombstones: sa.Table
    """The last version of each deleted record, so a re-added id continues it."""
    changes: sa.Table
    """The history feed."""
    audit: sa.Table
    """The audit trail."""

    def records(self, name: str) -> sa.Table:
        """Return the table of the kind ``name`` (``"lead"`` or ``"opportunity"``)."""
        return cast(sa.Table, getattr(self, name))


def build_tables(*, schema: str | None = None, table_prefix: str = "oppcore_") -> Tables:
    """Return the tables of schema version 1 in a new ``MetaData``.

    This is both the current layout and migration 1; the next migration that changes a
    table will freeze this function's copy as the version-1 layout.
    """
    md = sa.MetaData(schema=schema)
    p = table_prefix

    def tenant() -> sa.Column[str]:
        return sa.Column("tenant", _text(), nullable=False)

    meta = sa.Table(f"{p}meta", md, sa.Column("name", sa.Text(), primary_key=True),
                    sa.Column("value", sa.Integer(), nullable=False))
    tenants = sa.Table(
        f"{p}tenants", md, sa.Column("tenant", _text(), primary_key=True),
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("audit", sa.BigInteger(), nullable=False))
    opportunity = sa.Table(
        f"{p}opportunities", md, tenant(), sa.Column("id", _text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage_id", _text(), nullable=False),
        sa.Column("pipeline_id", _text(), nullable=False),
        sa.Column("owner", _text()), sa.Column("account_id", _text()),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("external_key", _text()),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"{p}opportunities_pk"),
        sa.UniqueConstraint("tenant", "external_key", name=f"{p}opportunities_external_key"),
        *(sa.Index(f"{p}opportunities_{c}", "tenant", c, "id")
          for c in ("stage_id", "pipeline_id", "owner", "account_id")),
        sa.Index(f"{p}opportunities_updated", "tenant", "updated_us"))
    lead = sa.Table(
        f"{p}leads", md, tenant(), sa.Column("id", _text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", _text()),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("email_key", _text()), sa.Column("external_key", _text()),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=f"{p}leads_pk"),
        sa.UniqueConstraint("tenant", "email_key", name=f"{p}leads_email"),
        sa.UniqueConstraint("tenant", "external_key", name=f"{p}leads_external_key"),
        sa.Index(f"{p}leads_owner", "tenant", "owner", "id"),
        sa.Index(f"{p}leads_updated", "tenant", "updated_us"))
    tombstones = sa.Table(
        f"{p}tombstones", md, tenant(), sa.Column("kind", _text(), nullable=False),
        sa.Column("id", _text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "kind", "id", name=f"{p}tombstones_pk"))
    changes = sa.Table(
        f"{p}changes", md, tenant(), sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("kind", _text(), nullable=False),
        sa.Column("record_id", _text(), nullable=False),
        sa.Column("action", _text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "seq", name=f"{p}changes_pk"))
    audit = sa.Table(
        f"{p}audit", md, tenant(), sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", _text(), nullable=False),
        sa.Column("record_id", _text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "seq", name=f"{p}audit_pk"),
        sa.Index(f"{p}audit_record", "tenant", "kind", "record_id", "seq"))
    return Tables(md, meta, tenants, opportunity, lead, tombstones, changes, audit)


def json_text(data: Any, what: str, record_id: str) -> str:
    """Return wire data as compact JSON text that can be stored as UTF-8.

    Raises:
        ValidationError: The data holds a lone surrogate (a bad decode upstream).
    """
    return _utf8_text(serde.encode_json(data), what, record_id)


def _utf8_text(text: str, what: str, record_id: str) -> str:
    """Return JSON ``text`` if it can be stored as UTF-8.

    Raises:
        ValidationError: The text holds a lone surrogate (a bad decode upstream).
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                f"{what} {record_id!r} holds text that is not valid Unicode (a lone "
                f"surrogate) and cannot be stored", field=what, value=record_id) from None
    return text


RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "opportunity": ("tenant", "id", "version", "stage_id", "pipeline_id", "owner",
                    "account_id", "updated_us", "external_key", "data"),
    "lead": ("tenant", "id", "version", "owner", "updated_us", "email_key", "external_key",
             "data"),
}
"""The columns of each kind's table, in the order :func:`record_values` returns them."""


def record_values(tenant: str, name: str, record: Record, version: int) -> tuple[Any, ...]:
    """Return the table row of ``record`` stored at ``version``, in ``RECORD_COLUMNS`` order.

    Raises:
        ValidationError: The record holds a lone surrogate.
    """
    keys = dict(unique_keys(record))

    def edit(data: dict[str, Any]) -> None:
        data["version"] = version

    text = _utf8_text(encode_model(record, edit), name, record.id)
    if name == "opportunity":
        opp = cast(Opportunity, record)
        return (tenant, opp.id, version, opp.stage_id, opp.pipeline_id, opp.owner,
                opp.account.id if opp.account is not None else None, micros(opp.updated_at),
                keys.get("external_key"), text)
    return (tenant, record.id, version, record.owner, micros(record.updated_at),
            keys.get("email"), keys.get("external_key"), text)


def record_row(tenant: str, name: str, record: Record, version: int) -> dict[str, Any]:
    """Return :func:`record_values` as a ``column -> value`` mapping.

    Raises:
        ValidationError: The record holds a lone surrogate.
    """
    return dict(zip(RECORD_COLUMNS[name], record_values(tenant, name, record, version),
                    strict=True))
