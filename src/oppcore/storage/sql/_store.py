"""``SQLStore``: the store contract on the host's own SQL database (SQLAlchemy Core).

How a write batch runs (each step inside one transaction, see :mod:`._tx` for whose):

1. Take the tenant's lock: ``UPDATE <prefix>tenants SET tx = tx + 1, seq = seq + n``
   for the tenant's row. The row lock (PostgreSQL; SQLite's write lock) serialises the
   tenant's writers, so the history feed commits in ``seq`` order and a reader paging it
   by ``seq`` never skips an entry that commits later with a smaller number; the row also
   hands out the batch's ``tx`` and ``seq`` numbers without gaps. Other tenants' writers
   do not wait.
2. Plan the batch with :func:`~oppcore.storage.plan_batch`, reading through this
   transaction (the reads see every commit before the lock was granted).
3. Persist the plan: updates and deletes still carry ``version = <read version>`` in their
   ``WHERE`` clause, and the unique indexes stay as a guard; the feed and audit rows.
"""

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from oppcore import serde
from oppcore._errors import NotFoundError, ValidationError, VersionConflictError
from oppcore.storage._arguments import QueryFilter, collect, micros
from oppcore.storage._audit import AuditEntry
from oppcore.storage._base import BaseStore
from oppcore.storage._plan import PlannedWrite, Stored, plan_batch
from oppcore.storage._protocol import FeedEntry, Kind, Record, StoreWrite, check_unicode, kind_name

from ._fast import Read, write_rows
from ._migrate import check_bind, check_layout, check_version, read_version, where
from ._schema import (
    RECORD_COLUMNS,
    CodePointText,
    Tables,
    build_tables,
    json_text,
    record_row,
    record_values,
)
from ._tx import Runner

__all__ = ["SQLStore"]

_DEFAULT: list[Tables] = []
_FEED_COLUMNS = ("tenant", "seq", "tx", "kind", "record_id", "action", "version")


class _Metadata:
    """``SQLStore.metadata``: the default layout's tables; ``store.metadata``: the store's."""

    def __get__(self, store: "SQLStore | None", owner: type) -> sa.MetaData:
        if store is not None:
            return store._tables.metadata
        if not _DEFAULT:
            _DEFAULT.append(build_tables())
        return _DEFAULT[0].metadata


class SQLStore(BaseStore):
    """A store in the host's own SQL database (PostgreSQL, or SQLite), on SQLAlchemy Core.

    Args:
        bind: An ``Engine``: the store runs a transaction of its own per write batch (it
            is then safe to share between threads). Or a ``Connection``: inside a
            transaction the host began, the store's writes join that transaction (in a
            savepoint) and commit or roll back with the host's own rows; the store never
            commits or rolls back a transaction it did not begin. A connection is not
            thread-safe: make one store per connection (they are cheap).
        tenant: Whose records these are. Every read and write is scoped to it; two tenants
            in one database never see each other's records, feed or audit trail and may
            reuse ids. ``None`` is the default tenant.
        schema: The database schema holding the tables (``None``: the default).
        table_prefix: Prefix of the table names (default ``"oppcore_"``).

    The tables must exist at the current schema version: create them with ``oppcore db
    upgrade --url URL``, :func:`oppcore.storage.sql.upgrade`, or your own Alembic
    migrations from :attr:`metadata`.

    Every method may raise :class:`~oppcore.StorageUnavailableError` when the database
    cannot do what was asked (its ``reason`` says why, and ``"retry-transaction"`` that
    the host's transaction must be rolled back and run again); a failed write wrote nothing.

    Raises:
        ValidationError: Bad arguments, or a database other than PostgreSQL or SQLite.
        StorageUnavailableError: The database cannot be reached, has no or older oppcore
            tables (``needs-upgrade``) or newer ones (``newer-schema``).
    """

    metadata = _Metadata()
    """The tables as a SQLAlchemy ``MetaData`` (for Alembic's ``target_metadata``): on the
    class, the default layout; on a store, its own ``schema`` and ``table_prefix``."""

    def __init__(self, bind: sa.Engine | sa.Connection, *, tenant: str | None = None,
                 schema: str | None = None, table_prefix: str = "oppcore_") -> None:
        check_bind(bind)
        check_layout(schema, table_prefix)
        if tenant is not None:
            if not isinstance(tenant, str) or not tenant.strip():
                raise ValidationError(f"tenant must be None or a non-blank string, got "
                                      f"{tenant!r}", field="tenant", value=tenant)
            check_unicode(tenant, "tenant")
        self._tenant = tenant or ""
        self._tables = build_tables(schema=schema, table_prefix=table_prefix)
        self._runner = Runner(bind, where(bind))
        self._pg = self._runner.dialect == "postgresql"  # for its dialect's INSERT
        # The point reads, compiled once (for the driver path: see _fast).
        self._get_sql = {name: Read(sa.select(t.c.data).where(
            t.c.tenant == sa.bindparam("t"), t.c.id == sa.bindparam("i")), bind.dialect)
            for name in ("lead", "opportunity") for t in (self._tables.records(name),)}
        with self._runner.reading("open") as conn:
            check_version(read_version(conn, self._tables), self._runner.where)

    @classmethod
    def metadata_for(cls, *, schema: str | None = None,
                     table_prefix: str = "oppcore_") -> sa.MetaData:
        """Return the tables of another layout as a ``MetaData`` (see :attr:`metadata`).

        Raises:
            ValidationError: A schema or prefix that is not a plain SQL identifier.
        """
        check_layout(schema, table_prefix)
        return build_tables(schema=schema, table_prefix=table_prefix).metadata

    @property
    def tenant(self) -> str | None:
        """The tenant this store reads and writes (``None``: the default tenant)."""
        return self._tenant or None

    def __repr__(self) -> str:
        return f"SQLStore({self._runner.where!r}, tenant={self.tenant!r})"

    # --- reads ---------------------------------------------------------------------------

    def _get(self, kind: Kind, name: str, record_id: str) -> Record:
        data = self._runner.read_value("get", self._get_sql[name],
                                       {"t": self._tenant, "i": record_id})
        if data is None:
            raise NotFoundError(name, record_id)
        return serde.loads(data, kind)

    def _query(self, f: QueryFilter) -> tuple[tuple[Record, ...], bool]:
        # Indexed filters and the keyset run in SQL; the close-date and amount ranges run in
        # code on the decoded records (exact Decimal, no schema change): see collect().
        return collect(f, lambda after, after_us, n: self._candidates(f, after, after_us, n))

    def _candidates(self, f: QueryFilter, after: str | None, after_us: int | None,
                    n: int) -> tuple[Record, ...]:
        t = self._tables.records(f.name)
        where = [t.c.tenant == self._tenant]
        for column, value in (("stage_id", f.stage), ("owner", f.owner),
                              ("account_id", f.account), ("pipeline_id", f.pipeline)):
            if value is not None:
                where.append(t.c[column] == value)
        if f.updated_since is not None:
            where.append(t.c.updated_us >= micros(f.updated_since))
        if after is not None and after_us is None:
            where.append(t.c.id > after)
        elif after is not None:  # keyset on (updated_us, id)
            where.append(sa.or_(t.c.updated_us > after_us,
                                sa.and_(t.c.updated_us == after_us, t.c.id > after)))
        order = (t.c.id,) if f.order == "id" else (t.c.updated_us, t.c.id)
        sql = sa.select(t.c.data).where(*where).order_by(*order).limit(n)
        with self._runner.reading("query") as conn:
            rows = conn.execute(sql).scalars().all()
        return tuple(serde.loads(data, f.kind) for data in rows)

    def _changes(self, after: int, limit: int) -> tuple[FeedEntry, ...]:
        c = self._tables.changes
        sql = (sa.select(c.c.seq, c.c.tx, c.c.kind, c.c.record_id, c.c.action, c.c.version)
               .where(c.c.tenant == self._tenant, c.c.seq > after).order_by(c.c.seq)
               .limit(limit))
        with self._runner.reading("changes") as conn:
            rows = conn.execute(sql).all()
        return tuple(FeedEntry(seq=r.seq, tx=r.tx, kind=r.kind, record_id=r.record_id,
                               action=r.action, version=r.version) for r in rows)

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        a = self._tables.audit
        sql = sa.select(a.c.data).where(a.c.tenant == self._tenant, a.c.kind == name,
                                        a.c.record_id == record_id).order_by(a.c.seq)
        with self._runner.reading("audit_trail") as conn:
            rows = conn.execute(sql).scalars().all()
        return tuple(serde.loads(data, AuditEntry) for data in rows)

    # --- writes --------------------------------------------------------------------------

    def _claim(self, conn: sa.Connection, changes: int, audit: int) -> tuple[int, int, int]:
        """Lock the tenant's row; return the batch's tx and its first feed and audit seq."""
        t = self._tables.tenants
        update = (sa.update(t).where(t.c.tenant == self._tenant)
                  .values(tx=t.c.tx + (1 if changes else 0), seq=t.c.seq + changes,
                          audit=t.c.audit + audit)
                  .returning(t.c.tx, t.c.seq, t.c.audit))
        row = conn.execute(update).first()
        if row is None:  # the tenant's first write: create its row, then lock it
            insert = (sa.dialects.postgresql.insert(t) if self._pg
                      else sa.dialects.sqlite.insert(t))
            conn.execute(insert.values(tenant=self._tenant, tx=0, seq=0, audit=0)
                         .on_conflict_do_nothing())
            row = conn.execute(update).one()
        return row.tx, row.seq - changes + 1, row.audit - audit + 1

    def _stored(self, conn: sa.Connection, name: str, record_id: str) -> Stored | None:
        t = self._tables.records(name)
        email = t.c.email_key if name == "lead" else sa.null()
        row = conn.execute(sa.select(t.c.version, email, t.c.external_key).where(
            t.c.tenant == self._tenant, t.c.id == record_id)).first()
        if row is None:
            return None
        keys = tuple((k, v) for k, v in (("email", row[1]), ("external_key", row[2]))
                     if v is not None)
        return Stored(row[0], keys)

    def _tombstone(self, conn: sa.Connection, name: str, record_id: str) -> int:
        b = self._tables.tombstones
        version = conn.execute(sa.select(b.c.version).where(
            b.c.tenant == self._tenant, b.c.kind == name, b.c.id == record_id)).scalar()
        return int(version) if version is not None else 0

    def _key_holder(self, conn: sa.Connection, name: str, key_name: str,
                    key: str) -> str | None:
        t = self._tables.records(name)
        column = t.c.email_key if key_name == "email" else t.c.external_key
        holder = conn.execute(sa.select(t.c.id).where(
            t.c.tenant == self._tenant, column == key)).scalar()
        return None if holder is None else str(holder)

    def _persist(self, conn: sa.Connection, w: PlannedWrite) -> None:
        t = self._tables.records(w.kind)
        mine = (t.c.tenant == self._tenant, t.c.id == w.record_id)
        if w.record is None or w.action == "saved":
            read = w.version if w.record is None else w.version - 1
            if w.record is None:
                done = conn.execute(sa.delete(t).where(*mine, t.c.version == read))
            else:
                row = record_row(self._tenant, w.kind, w.record, w.version)
                done = conn.execute(sa.update(t).where(*mine, t.c.version == read)
                                    .values({k: v for k, v in row.items()
                                             if k not in ("tenant", "id")}))
            if done.rowcount != 1:  # changed behind the lock (by SQL outside oppcore)
                actual = conn.execute(sa.select(t.c.version).where(*mine)).scalar()
                raise VersionConflictError(w.kind, w.record_id, expected=read,
                                           actual=int(actual or 0))
            if w.record is None:
                self._bury(conn, w.kind, w.record_id, w.version)
            return
        conn.execute(sa.insert(t).values(record_row(self._tenant, w.kind, w.record,
                                                    w.version)))

    def _bury(self, conn: sa.Connection, name: str, record_id: str, version: int) -> None:
        b = self._tables.tombstones
        insert = (sa.dialects.postgresql.insert(b) if self._pg else sa.dialects.sqlite.insert(b))
        conn.execute(insert.values(tenant=self._tenant, kind=name, id=record_id,
                                   version=version)
                     .on_conflict_do_update(index_elements=["tenant", "kind", "id"],
                                            set_={"version": version}))

    def _log(self, conn: sa.Connection, feed: tuple[FeedEntry, ...],
             audit: list[tuple[str, str, str]], first_audit: int) -> None:
        if feed:
            conn.execute(sa.insert(self._tables.changes), [
                {"tenant": self._tenant, "seq": e.seq, "tx": e.tx, "kind": e.kind,
                 "record_id": e.record_id, "action": e.action, "version": e.version}
                for e in feed])
        if audit:
            conn.execute(sa.insert(self._tables.audit), [
                {"tenant": self._tenant, "seq": first_audit + i, "kind": kind,
                 "record_id": record_id, "data": data}
                for i, (kind, record_id, data) in enumerate(audit)])

    def _apply(
        self, writes: tuple[StoreWrite, ...], entries: tuple[AuditEntry, ...]
    ) -> tuple[Record | None, ...]:
        if not writes and not entries:
            return ()
        audit = [(e.kind, e.record_id, json_text(serde.unstructure(e), "audit", e.record_id))
                 for e in entries]

        def body(conn: sa.Connection) -> tuple[Record | None, ...]:
            tx, first_seq, first_audit = self._claim(conn, len(writes), len(entries))
            plan = plan_batch(
                writes, entries, stored=lambda n, rid: self._stored(conn, n, rid),
                tombstone=lambda n, rid: self._tombstone(conn, n, rid),
                key_holder=lambda n, k, v: self._key_holder(conn, n, k, v))
            for w in plan.writes:
                self._persist(conn, w)
            self._log(conn, plan.feed(tx=tx, first_seq=first_seq), audit, first_audit)
            return plan.results()

        operation = writes[0].action if len(writes) == 1 else "apply"
        return self._runner.writing(operation, body)

    def bulk_add(self, records: Iterable[Record], *, batch_size: int = 1000) -> int:
        """Add many new records, ``batch_size`` per transaction; return how many were added.

        Each batch is atomic: its rows are serialised first, then written after the
        tenant's lock with one statement per kind and one for the feed (``COPY`` on
        psycopg; see :mod:`._fast`). If a batch holds a duplicate, that batch is not
        written and the error is raised (the batch is replayed as one checked
        :meth:`apply` to name the culprit); the batches before it stay written, so an
        interrupted import can resume from the first record
        not stored. In the host's transaction, every batch joins it (in a savepoint).

        Raises:
            DuplicateError: A record's id or uniqueness key is taken.
            StorageUnavailableError: The database cannot take the batch.
            ValidationError: A value is not a lead or an opportunity, or a bad batch size.
        """
        return super().bulk_add(records, batch_size=batch_size)  # batches: _bulk_batch

    def _bulk_batch(self, batch: list[Record]) -> int:
        writes = [StoreWrite.add(r) for r in batch]  # type-checks every value first
        names = [kind_name(w.kind) for w in writes]
        # Serialised before the tenant's lock is taken, at version 1 (a record re-added
        # after a delete is serialised again under the lock, at its next version).
        kinds: dict[str, list[Record]] = {"lead": [], "opportunity": []}
        rows: dict[str, list[tuple[Any, ...]]] = {"lead": [], "opportunity": []}
        for name, r in zip(names, batch, strict=True):
            kinds[name].append(r)
            rows[name].append(record_values(self._tenant, name, r, 1))

        def body(conn: sa.Connection) -> int:
            tx, seq, _ = self._claim(conn, len(batch), 0)
            versions: dict[tuple[str, str], int] = {}
            for name, serialised in rows.items():
                if not serialised:
                    continue
                values = list(serialised)  # a retried body starts from the version-1 rows
                dead = self._tombstones(conn, name, [v[1] for v in values])
                for i, v in enumerate(values):
                    if v[1] in dead:
                        versions[(name, v[1])] = dead[v[1]] + 1
                        values[i] = record_values(self._tenant, name, kinds[name][i],
                                                  dead[v[1]] + 1)
                write_rows(conn, self._tables.records(name), RECORD_COLUMNS[name], values,
                           driver=self._runner.driver_writes)
            # The feed lists the records in the order given, as a batch of apply does.
            write_rows(conn, self._tables.changes, _FEED_COLUMNS, [
                (self._tenant, seq + i, tx, name, r.id, "added", versions.get((name, r.id), 1))
                for i, (name, r) in enumerate(zip(names, batch, strict=True))],
                driver=self._runner.driver_writes)
            return len(batch)

        # A unique index refused a row: the batch was rolled back; replay it as one checked
        # batch, which names the culprit (or stores it, if the other writer went away).
        return self._runner.writing("bulk_add", body,
                                    on_raced=lambda: len(self.apply(writes)))

    def _tombstones(self, conn: sa.Connection, name: str, ids: list[str]) -> dict[str, int]:
        """Return the last deleted version of each of ``ids`` that was ever deleted."""
        b = self._tables.tombstones
        mine = (b.c.tenant == self._tenant, b.c.kind == name)
        if self._pg:  # one array parameter: one short statement whatever the batch size
            ids_param = sa.bindparam("ids", ids, type_=sa.dialects.postgresql.ARRAY(
                CodePointText()))
            rows = conn.execute(sa.select(b.c.id, b.c.version).where(
                *mine, b.c.id == sa.any_(ids_param)))
            return {row.id: row.version for row in rows}
        found: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = conn.execute(sa.select(b.c.id, b.c.version).where(*mine, b.c.id.in_(chunk)))
            found.update((row.id, row.version) for row in rows)
        return found
