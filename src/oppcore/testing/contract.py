"""The store conformance kit: one pytest base class that proves the store contract.

Subclass :class:`StoreContract` and provide a ``store`` fixture returning a fresh, empty
store; pytest then runs every contract test against it::

    import pytest
    from oppcore.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path / "data")

The kit covers the error contract, optimistic concurrency, atomic batches, the history feed,
the audit trail, paging under concurrent writes, close-date and amount ranges and the
``updated_at`` order (against a plain Python filter), threaded conflicting updates and duplicate
adds, and a hypothesis stateful test that compares the store with a dict model. Tune the
class attributes (``cas_threads``, ``cas_attempts``...) down for a slow store, never the
assertions.
"""

import itertools
import threading
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from oppcore._errors import (
    DuplicateError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
)
from oppcore._models import Lead, Opportunity
from oppcore._parties import Account
from oppcore.storage._audit import AuditEntry
from oppcore.storage._protocol import Store, StoreWrite

from ._ranges import RangeQueryContract
from ._workloads import T0, lead, machine_for, opportunity, run_compare_and_set

__all__ = ["StoreContract"]



class StoreContract(RangeQueryContract):
    """Base class of the conformance tests; subclasses provide a ``store`` fixture.

    The fixture must return a new, empty store that may be used from several threads.
    """

    cas_threads: ClassVar[int] = 8
    """Threads in the conflicting-updates test."""
    cas_attempts: ClassVar[int] = 1250
    """Compare-and-set attempts per thread."""
    dup_threads: ClassVar[int] = 8
    """Threads in the concurrent duplicate-adds test."""
    dup_attempts: ClassVar[int] = 125
    """Adds per thread."""
    stateful_settings: ClassVar[settings] = settings(
        max_examples=25, stateful_step_count=25, deadline=None
    )
    """Size of the stateful comparison with the dict model."""

    # --- the error contract --------------------------------------------------------------

    def test_add_returns_version_one_and_get_returns_it(self, store: Store) -> None:
        stored = store.add(opportunity("o1", owner="ann"))
        assert stored.version == 1
        assert store.get(Opportunity, "o1") == stored
        assert store.add(lead("l1")).version == 1

    def test_get_unknown_id_raises_not_found(self, store: Store) -> None:
        store.add(opportunity("o1"))
        with pytest.raises(NotFoundError) as info:
            store.get(Opportunity, "nope")
        assert info.value.record_id == "nope"
        with pytest.raises(NotFoundError):
            store.get(Lead, "o1")  # ids are per kind

    def test_add_existing_id_raises_duplicate(self, store: Store) -> None:
        store.add(opportunity("o1"))
        with pytest.raises(DuplicateError) as info:
            store.add(opportunity("o1", name="other"))
        assert (info.value.existing_id, info.value.key) == ("o1", "id")
        assert store.get(Opportunity, "o1").name == "Deal o1"

    def test_add_same_normalised_email_raises_duplicate(self, store: Store) -> None:
        store.add(lead("l1", email="Wang.Li@Example.com"))
        with pytest.raises(DuplicateError) as info:
            store.add(lead("l2", email="  wang.li@EXAMPLE.COM "))
        assert (info.value.existing_id, info.value.key) == ("l1", "email")
        with pytest.raises(NotFoundError):
            store.get(Lead, "l2")

    def test_add_same_external_key_raises_duplicate(self, store: Store) -> None:
        store.add(opportunity("o1", external_key="ERP-0012"))
        with pytest.raises(DuplicateError) as info:
            store.add(opportunity("o2", external_key=" erp-0012 "))
        assert (info.value.existing_id, info.value.key) == ("o1", "external_key")
        # keys are per kind: a lead may carry the same external key
        assert store.add(lead("l1", external_key="ERP-0012")).version == 1

    def test_save_increments_version_and_returns_stored_value(self, store: Store) -> None:
        stored = store.add(opportunity("o1"))
        saved = store.save(stored.evolve(stage_id="s2"))
        assert saved.version == 2
        assert saved.stage_id == "s2"
        assert store.get(Opportunity, "o1") == saved

    def test_stale_save_raises_conflict_and_writes_nothing(self, store: Store) -> None:
        v1 = store.add(opportunity("o1"))
        v2 = store.save(v1.evolve(stage_id="s2"))
        before = store.changes(after=0, limit=1000)
        with pytest.raises(VersionConflictError) as info:
            store.save(v1.evolve(stage_id="s3"))
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert store.get(Opportunity, "o1") == v2
        assert store.changes(after=0, limit=1000) == before

    def test_save_unknown_raises_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.save(opportunity("ghost", version=1))

    def test_delete_checks_version_then_record_is_not_found(self, store: Store) -> None:
        v1 = store.add(opportunity("o1"))
        store.save(v1)
        with pytest.raises(VersionConflictError):
            store.delete(Opportunity, "o1", version=1)
        store.delete(Opportunity, "o1", version=2)
        with pytest.raises(NotFoundError):
            store.get(Opportunity, "o1")
        with pytest.raises(NotFoundError):
            store.delete(Opportunity, "o1", version=2)
        with pytest.raises(NotFoundError):
            store.save(v1.evolve(version=2))

    def test_readd_after_delete_continues_versions(self, store: Store) -> None:
        v1 = store.add(opportunity("o1"))
        v2 = store.save(v1)
        store.delete(Opportunity, "o1", version=2)
        again = store.add(opportunity("o1", name="again"))
        assert again.version == 3
        with pytest.raises(VersionConflictError):
            store.save(v2)  # a stale copy of the deleted record cannot overwrite its successor

    def test_delete_frees_uniqueness_keys(self, store: Store) -> None:
        store.add(lead("l1", email="a@example.com"))
        store.delete(Lead, "l1", version=1)
        assert store.add(lead("l2", email="A@example.com")).version == 1

    def test_save_cannot_take_another_records_key(self, store: Store) -> None:
        store.add(lead("l1", email="a@example.com"))
        l2 = store.add(lead("l2", email="b@example.com"))
        with pytest.raises(DuplicateError) as info:
            store.save(l2.evolve(email="A@EXAMPLE.COM"))
        assert (info.value.existing_id, info.value.key) == ("l1", "email")
        assert store.get(Lead, "l2").email == "b@example.com"
        # changing one's own key, and taking a freed key, are fine
        moved = store.save(l2.evolve(email="c@example.com"))
        assert store.add(lead("l3", email="b@example.com")).version == 1
        assert moved.version == 2

    def test_hostile_arguments_raise_validation_errors(self, store: Store) -> None:
        with pytest.raises(ValidationError):
            store.get(dict, "x")  # type: ignore[type-var]
        with pytest.raises(ValidationError):
            store.add({"id": "x"})  # type: ignore[type-var]
        with pytest.raises(ValidationError):
            store.get(Opportunity, "")
        with pytest.raises(ValidationError):
            store.query(Opportunity, limit=0)
        with pytest.raises(ValidationError):
            store.query(Opportunity, updated_since=datetime(2026, 1, 1))  # naive
        with pytest.raises(ValidationError):
            store.query(Lead, stage="s1")
        with pytest.raises(ValidationError):
            store.delete(Opportunity, "x", version=-1)
        # a lone surrogate (a bad decode) cannot be stored as UTF-8: refuse it clearly
        with pytest.raises(ValidationError):
            store.get(Opportunity, "o\ud800")
        with pytest.raises(ValidationError):
            store.add(opportunity("o\ud800"))
        assert store.changes(after=0, limit=10) == ()

    # --- queries and paging --------------------------------------------------------------

    def test_queries_filter_and_order_by_id(self, store: Store) -> None:
        acme = Account(id="acme", name="Acme")
        for i in range(12):
            store.add(opportunity(
                f"o{i:02d}", owner="ann" if i % 2 else "bob", stage_id=f"s{i % 3}",
                pipeline_id="p" if i < 6 else "q", account=acme if i % 4 == 0 else None,
                created_at=T0 + timedelta(days=i),
            ))
        store.add(lead("l1", owner="ann"))
        store.add(lead("l2", owner="bob", captured_at=T0 + timedelta(days=5)))

        def ids(**filters: Any) -> list[str]:
            return [r.id for r in store.query(Opportunity, limit=100, **filters).items]

        assert ids() == [f"o{i:02d}" for i in range(12)]
        assert ids(owner="ann") == [f"o{i:02d}" for i in range(1, 12, 2)]
        assert ids(stage="s1", owner="ann") == ["o01", "o07"]
        assert ids(pipeline="q") == [f"o{i:02d}" for i in range(6, 12)]
        assert ids(account="acme") == ["o00", "o04", "o08"]
        assert ids(updated_since=T0 + timedelta(days=10)) == ["o10", "o11"]
        assert [r.id for r in store.query(Lead, owner="bob").items] == ["l2"]
        since = T0 + timedelta(days=1)
        assert [r.id for r in store.query(Lead, updated_since=since).items] == ["l2"]

    def test_paging_returns_every_record_once(self, store: Store) -> None:
        for i in range(23):
            store.add(opportunity(f"o{i:03d}"))
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            page = store.query(Opportunity, after=after, limit=5)
            seen += [r.id for r in page.items]
            pages += 1
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == [f"o{i:03d}" for i in range(23)]
        assert pages == 5

    def test_paging_neither_skips_nor_repeats_under_concurrent_writes(
        self, store: Store
    ) -> None:
        stable = [f"k{i:03d}" for i in range(60)]
        for record_id in stable:
            store.add(opportunity(record_id, owner="pager"))
        done = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                for n in itertools.count():
                    if done.is_set():
                        return
                    # churn between and around the stable ids: adds, deletes, saves
                    extra = f"k{(n * 7) % 60:03d}-{n}"
                    store.add(opportunity(extra, owner="pager"))
                    if n % 2:
                        store.delete(Opportunity, extra, version=1)
                    target = store.get(Opportunity, stable[(n * 11) % 60])
                    store.save(target.evolve(name=f"renamed {n}"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for _ in range(5):
                seen: list[str] = []
                after = None
                while True:
                    page = store.query(Opportunity, owner="pager", after=after, limit=7)
                    seen += [r.id for r in page.items]
                    if page.next_after is None:
                        break
                    after = page.next_after
                assert len(seen) == len(set(seen)), "a record was returned twice"
                assert seen == sorted(seen)
                assert [s for s in seen if "-" not in s] == stable
        finally:
            done.set()
            thread.join()
        assert not errors, errors

    # --- batches, history feed, audit trail ----------------------------------------------

    def test_batch_with_one_conflicting_member_writes_nothing(self, store: Store) -> None:
        a = store.add(opportunity("a"))
        b = store.save(store.add(opportunity("b")))
        feed = store.changes(after=0, limit=1000)
        entry = AuditEntry.for_change(a, a.evolve(name="x"), action="edit", by="u", at=T0)
        with pytest.raises(VersionConflictError):
            store.apply(
                [StoreWrite.add(opportunity("c")), StoreWrite.save(a.evolve(name="x")),
                 StoreWrite.save(b.evolve(version=1))],
                audit=[entry],
            )
        assert store.get(Opportunity, "a") == a
        assert store.get(Opportunity, "b") == b
        with pytest.raises(NotFoundError):
            store.get(Opportunity, "c")
        assert store.changes(after=0, limit=1000) == feed
        assert store.audit_trail(Opportunity, "a") == ()

    def test_batch_with_a_duplicate_member_writes_nothing(self, store: Store) -> None:
        store.add(lead("l1", email="x@example.com"))
        with pytest.raises(DuplicateError):
            store.apply([StoreWrite.add(lead("l2")),
                         StoreWrite.add(lead("l3", email="X@example.com"))])
        with pytest.raises(NotFoundError):
            store.get(Lead, "l2")

    def test_batch_writes_see_earlier_writes(self, store: Store) -> None:
        results = store.apply([
            StoreWrite.add(opportunity("a")),
            StoreWrite.save(opportunity("a", name="renamed", version=1)),
            StoreWrite.add(lead("l1")),
            StoreWrite.delete(Lead, "l1", version=1),
        ])
        assert [r.version if r else None for r in results] == [1, 2, 1, None]
        assert store.get(Opportunity, "a").name == "renamed"
        feed = store.changes(after=0, limit=10)
        assert len({c.tx for c in feed}) == 1
        assert [(c.record_id, c.action, c.version) for c in feed] == [
            ("a", "added", 1), ("a", "saved", 2), ("l1", "added", 1), ("l1", "deleted", 1)]

    def test_bulk_add_writes_batches_and_stops_at_the_bad_one(self, store: Store) -> None:
        added = store.bulk_add((opportunity(f"b{i:03d}") for i in range(7)), batch_size=3)
        assert added == 7
        assert [store.get(Opportunity, f"b{i:03d}").version for i in range(7)] == [1] * 7
        before = store.changes(limit=10_000)
        batch = [lead("l1", email="a@x.cn"), lead("l2"), lead("l3", email="A@X.CN ")]
        with pytest.raises(DuplicateError) as caught:
            store.bulk_add(batch, batch_size=3)
        assert caught.value.key == "email"
        assert store.changes(limit=10_000) == before  # the bad batch wrote nothing
        with pytest.raises(NotFoundError):
            store.get(Lead, "l1")
        with pytest.raises(ValidationError):
            store.bulk_add([opportunity("b999")], batch_size=0)

    def test_history_feed_is_ordered_and_pages_by_seq(self, store: Store) -> None:
        v1 = store.add(opportunity("a"))
        store.save(v1)
        store.add(lead("l1"))
        store.delete(Opportunity, "a", version=2)
        feed = store.changes(after=0, limit=100)
        assert [(c.kind, c.record_id, c.action, c.version) for c in feed] == [
            ("opportunity", "a", "added", 1), ("opportunity", "a", "saved", 2),
            ("lead", "l1", "added", 1), ("opportunity", "a", "deleted", 2)]
        seqs = [c.seq for c in feed]
        assert seqs == sorted(set(seqs))
        assert store.changes(after=seqs[1], limit=1) == feed[2:3]
        assert store.changes(after=seqs[-1], limit=100) == ()

    def test_history_feed_is_not_interleaved_under_concurrent_batches(
        self, store: Store
    ) -> None:
        threads, batches, size = 4, 25, 3
        start = threading.Barrier(threads)

        def worker(t: int) -> None:
            start.wait()
            for b in range(batches):
                store.apply([StoreWrite.add(opportunity(f"t{t}-b{b}-r{r}")) for r in range(size)])

        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        feed = store.changes(after=0, limit=10_000)
        assert len(feed) == threads * batches * size
        assert all(a.seq < b.seq for a, b in itertools.pairwise(feed))
        for i in range(0, len(feed), size):
            group = feed[i:i + size]
            assert len({c.tx for c in group}) == 1
            prefixes = {c.record_id.rsplit("-", 1)[0] for c in group}
            assert len(prefixes) == 1, f"batch interleaved with another: {group}"

    def test_audit_trail_is_kept_per_record_and_survives_delete(self, store: Store) -> None:
        v1 = store.add(opportunity("a"), audit=AuditEntry.for_change(
            None, opportunity("a"), action="create", by="ann", at=T0))
        v2 = store.save(v1.evolve(stage_id="s2"), audit=AuditEntry.for_change(
            v1, v1.evolve(stage_id="s2"), action="move", by="bob", at=T0 + timedelta(hours=1)))
        store.add(opportunity("other"))
        with pytest.raises(VersionConflictError):
            store.save(v1, audit=AuditEntry.for_change(v1, v1, action="edit", by="eve", at=T0))
        store.delete(Opportunity, "a", version=v2.version, audit=AuditEntry.for_change(
            v2, None, action="delete", by="ann", at=T0 + timedelta(hours=2)))
        trail = store.audit_trail(Opportunity, "a")
        assert [(e.action, e.by) for e in trail] == [
            ("create", "ann"), ("move", "bob"), ("delete", "ann")]
        assert [(c.field, c.old, c.new) for c in trail[1].changes] == [("stage_id", "s1", "s2")]
        assert trail[1].at == T0 + timedelta(hours=1)
        assert store.audit_trail(Opportunity, "other") == ()

    # --- concurrency ---------------------------------------------------------------------

    def test_threaded_conflicting_updates_lose_nothing(self, store: Store) -> None:
        wins, losses, final = run_compare_and_set(
            store, threads=self.cas_threads, attempts=self.cas_attempts)
        assert wins + losses == self.cas_threads * self.cas_attempts
        # every round all threads read the same version: exactly one save wins
        assert wins == self.cas_attempts
        assert final == wins, "lost update: the counter is behind the successful saves"
        assert store.get(Opportunity, "cas-target").version == wins + 1

    def test_concurrent_adds_of_one_email_store_exactly_one(self, store: Store) -> None:
        threads, attempts = self.dup_threads, self.dup_attempts
        start = threading.Barrier(threads)
        stored: list[str] = []
        duplicates: list[DuplicateError] = []
        spellings = ["chen.jie@example.cn", "Chen.Jie@Example.CN", " CHEN.JIE@EXAMPLE.CN ",
                     "chen.jie@example.cn."]

        def worker(t: int) -> None:
            start.wait()
            for i in range(attempts):
                try:
                    store.add(lead(f"dup-{t}-{i}", email=spellings[(t + i) % len(spellings)]))
                    stored.append(f"dup-{t}-{i}")
                except DuplicateError as exc:  # noqa: PERF203 - counting errors is the test
                    duplicates.append(exc)

        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        assert len(stored) == 1
        assert len(duplicates) == threads * attempts - 1
        assert {(d.existing_id, d.key) for d in duplicates} == {(stored[0], "email")}
        everything = store.query(Lead, limit=10_000).items
        assert [r.id for r in everything] == stored

    # --- the dict model --------------------------------------------------------------------

    def test_store_behaves_like_a_dict_model(self, store: Store) -> None:
        machine = machine_for(store)
        run_state_machine_as_test(machine, settings=self.stateful_settings)


