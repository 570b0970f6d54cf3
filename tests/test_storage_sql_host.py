"""SQLStore inside the host's transaction, under concurrent processes, and killed mid-write."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from oppcore import (
    Account,
    Contact,
    DuplicateError,
    Lead,
    NotFoundError,
    Opportunity,
    OpportunityService,
    Pipeline,
    StorageUnavailableError,
    VersionConflictError,
)
from oppcore.storage.sql import SQLStore
from oppcore.testing.contract import lead, opportunity

HOST = sa.Table("host_notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("note", sa.Text, nullable=False))


@pytest.fixture
def host(sql_clean: Any) -> Any:
    """``sql_clean`` with the host's own table, empty."""
    HOST.create(sql_clean, checkfirst=True)
    with sql_clean.begin() as conn:
        conn.execute(sa.delete(HOST))
    return sql_clean


def _notes(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(HOST.c.note).order_by(HOST.c.id)).scalars())


def test_host_rollback_takes_the_oppcore_writes_with_it(host: Any) -> None:
    with host.connect() as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="host row"))
        store = SQLStore(conn)
        store.add(opportunity("o1"))
        store.bulk_add([lead("l1"), lead("l2")])
        assert conn.in_transaction()  # the store committed nothing
        assert store.get(Opportunity, "o1").version == 1  # visible inside
        conn.rollback()
    assert _notes(host) == []
    engine_store = SQLStore(host)
    with pytest.raises(NotFoundError):
        engine_store.get(Opportunity, "o1")
    assert engine_store.changes() == ()


def test_host_commit_keeps_both(host: Any) -> None:
    with host.connect() as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="host row"))
        SQLStore(conn, tenant="t").add(opportunity("o1"))
        # not yet visible outside the host's transaction
        with pytest.raises(NotFoundError):
            SQLStore(host, tenant="t").get(Opportunity, "o1")
        conn.commit()
    assert _notes(host) == ["host row"]
    assert SQLStore(host, tenant="t").get(Opportunity, "o1").version == 1


def test_a_refused_batch_leaves_the_host_transaction_usable(host: Any) -> None:
    SQLStore(host).add(opportunity("o1"))
    SQLStore(host).add(lead("taken", email="t@example.com"))
    with host.connect() as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="before"))
        store = SQLStore(conn)
        stale = store.get(Opportunity, "o1")
        store.save(stale)
        with pytest.raises(VersionConflictError):
            store.save(stale)
        # a duplicate found by the unique index (the fast bulk path) rolls back only the
        # store's savepoint; the replay names it
        with pytest.raises(DuplicateError) as caught:
            store.bulk_add([lead("new"), lead("dup", email="T@example.com")])
        assert caught.value.existing_id == "taken" and caught.value.key == "email"
        conn.execute(sa.insert(HOST).values(id=2, note="after"))
        conn.commit()
    assert _notes(host) == ["before", "after"]
    store = SQLStore(host)
    assert store.get(Opportunity, "o1").version == 2
    with pytest.raises(NotFoundError):
        store.get(Lead, "new")
    assert [c.action for c in store.changes()] == ["added", "added", "saved"]


def test_a_connection_without_a_transaction_gets_one_of_the_stores(host: Any) -> None:
    with host.connect() as conn:
        store = SQLStore(conn)
        assert not conn.in_transaction()
        store.add(opportunity("o1"))
        assert not conn.in_transaction()  # the store began it, so the store committed it
    assert SQLStore(host).get(Opportunity, "o1").version == 1


@pytest.fixture
def pg_host(pg_url: str) -> Any:
    from oppcore.storage.sql import upgrade

    engine = sa.create_engine(pg_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE oppcore_opportunities, oppcore_leads, oppcore_changes, "
                             "oppcore_tenants, oppcore_audit, oppcore_tombstones")
        HOST.create(conn, checkfirst=True)
        conn.execute(sa.delete(HOST))
    yield engine
    engine.dispose()


def _deal() -> Opportunity:
    return opportunity("o1", pipeline_id="standard", stage_id="identification",
                       account=Account(id="acme", name="Acme"),
                       contacts=(Contact(id="c1", name="Li Na"),))


def _service(store: Any) -> OpportunityService:
    return OpportunityService(store, pipelines=Pipeline.template("standard"),
                              clock=lambda: datetime(2026, 3, 1, tzinfo=timezone.utc))


def test_repeatable_read_host_is_told_to_retry_not_looped(pg_host: Any) -> None:
    """The trap: at REPEATABLE READ the host's snapshot predates another writer's commit.

    Retrying inside that transaction can never succeed (every reload sees the same old
    snapshot), so the store does not report a version conflict the service would retry; it
    says the host must roll back. The rerun of the whole transaction succeeds.
    """
    deal = _deal()
    SQLStore(pg_host).add(deal)
    with pg_host.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="host"))  # the snapshot starts here
        SQLStore(pg_host).save(SQLStore(pg_host).get(Opportunity, "o1"))  # another writer
        service = _service(SQLStore(conn))
        with pytest.raises(StorageUnavailableError) as caught:
            service.move_stage("o1", "needs_analysis", by="rep")
        assert caught.value.reason == "retry-transaction"
        assert "roll the transaction back" in str(caught.value)
        assert conn.in_transaction()  # the host's to end, not the store's
        conn.rollback()
        conn.execute(sa.insert(HOST).values(id=1, note="host"))  # the rerun
        _service(SQLStore(conn)).move_stage("o1", "needs_analysis", by="rep")
        conn.commit()
    moved = SQLStore(pg_host).get(Opportunity, "o1")
    assert moved.stage_id == "needs_analysis" and moved.version == 3
    assert _notes(pg_host) == ["host"]


def test_read_committed_host_conflicts_are_retried_by_the_service(pg_host: Any) -> None:
    deal = _deal()
    SQLStore(pg_host).add(deal)
    with pg_host.connect() as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="host"))
        store = SQLStore(conn)
        stale = store.get(Opportunity, "o1")
        SQLStore(pg_host).save(SQLStore(pg_host).get(Opportunity, "o1"))  # another writer
        with pytest.raises(VersionConflictError):
            store.save(stale)
        _service(store).move_stage("o1", "needs_analysis", by="rep")  # reloads: fine
        conn.commit()
    moved = SQLStore(pg_host).get(Opportunity, "o1")
    assert moved.version == 3


# --------------------------------------------------------------------------- processes

# The same worker bench/bench_sql.py runs several of.
CAS_WORKER = Path(__file__).resolve().parent.parent / "bench" / "cas_worker.py"


def test_four_processes_lose_no_update(sql_clean: Any) -> None:
    url = sql_clean.url.render_as_string(hide_password=False)
    SQLStore(sql_clean, tenant="cas").add(opportunity("counter", custom={"n": 0}))
    procs = [subprocess.Popen([sys.executable, str(CAS_WORKER), url, "40", "cas"],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    wins = [int(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    final = SQLStore(sql_clean, tenant="cas").get(Opportunity, "counter")
    assert final.custom["n"] == sum(wins), "lost update"
    assert final.version == sum(wins) + 1


_BULK = textwrap.dedent("""
    import sys
    import sqlalchemy as sa
    from oppcore.storage.sql import SQLStore
    from oppcore.testing.contract import opportunity
    store = SQLStore(sa.create_engine(sys.argv[1]), tenant="crash")
    print("ready", flush=True)
    store.bulk_add((opportunity(f"o{i:07d}", name="x" * 200) for i in range(10**7)),
                   batch_size=250)
""")


def test_sigkill_during_bulk_add_leaves_no_partial_batch(sql_clean: Any) -> None:
    url = sql_clean.url.render_as_string(hide_password=False)
    store = SQLStore(sql_clean, tenant="crash")
    proc = subprocess.Popen([sys.executable, "-c", _BULK, url], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 120
        while len(store.changes(limit=2000)) < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    feed = store.changes(limit=10**7)
    count = 0
    after = None
    while True:
        page = store.query(Opportunity, after=after, limit=10_000)
        count += len(page.items)
        if page.next_after is None:
            break
        after = page.next_after
    assert len(feed) >= 1000
    assert count == len(feed) and count % 250 == 0, "a partial batch was left behind"
    assert len({c.tx for c in feed}) == count // 250


def test_misuse_of_the_connection_is_a_storage_error(host: Any) -> None:
    conn = host.connect()
    store = SQLStore(conn)
    conn.close()
    with pytest.raises(StorageUnavailableError) as caught:
        store.add(opportunity("o1"))
    assert caught.value.reason == "cannot-open" and caught.value.operation == "add"
    with pytest.raises(StorageUnavailableError):
        store.get(Opportunity, "o1")


def test_an_aborted_host_transaction_is_reported_not_hidden(pg_host: Any) -> None:
    with pg_host.connect() as conn:
        conn.execute(sa.insert(HOST).values(id=1, note="host"))
        store = SQLStore(conn)
        with pytest.raises(sa.exc.ProgrammingError):
            conn.exec_driver_sql("SELECT * FROM no_such_table")  # the host's own mistake
        for attempt in (lambda: store.add(opportunity("o1")),
                        lambda: store.get(Opportunity, "o1")):
            with pytest.raises(StorageUnavailableError) as caught:
                attempt()
            assert caught.value.reason == "retry-transaction"
        conn.rollback()
        assert SQLStore(conn).query(Opportunity).items == ()
