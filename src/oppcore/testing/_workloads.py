"""Workloads of the store conformance kit: small records, concurrent updates, the model.

Private to :mod:`oppcore.testing.contract`: the records the contract writes, the threaded
compare-and-set run and the hypothesis state machine that compares a store with a dict.
"""

import itertools
import threading
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from oppcore._errors import (
    DuplicateError,
    NotFoundError,
    VersionConflictError,
)
from oppcore._models import Lead, Opportunity
from oppcore.storage._protocol import Store

__all__ = ["T0", "lead", "machine_for", "opportunity", "run_compare_and_set"]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def opportunity(record_id: str, **fields: Any) -> Opportunity:
    """Return a small valid opportunity for tests (fields override the defaults)."""
    base: dict[str, Any] = {"id": record_id, "name": f"Deal {record_id}", "pipeline_id": "p",
                            "stage_id": "s1", "created_at": T0}
    base.update(fields)
    return Opportunity(**base)


def lead(record_id: str, **fields: Any) -> Lead:
    """Return a small valid lead for tests (fields override the defaults)."""
    base: dict[str, Any] = {"id": record_id, "name": f"Lead {record_id}", "captured_at": T0}
    base.update(fields)
    return Lead(**base)


def run_compare_and_set(
    store: Store, *, threads: int, attempts: int, blind: bool = False
) -> tuple[int, int, int]:
    """Run ``threads`` x ``attempts`` synchronised increments of one counter.

    In each round every thread reads the opportunity, waits until all have read, then
    saves the counter + 1 with the version it read. With ``blind=True`` the saver re-reads
    the version just before saving, which defeats the check (a negative control that must
    show lost updates).

    Returns:
        ``(successful saves, conflicts, final counter value)``.
    """
    record_id = "cas-target"
    store.add(opportunity(record_id, custom={"n": 0}))
    read_all = threading.Barrier(threads)
    wrote_all = threading.Barrier(threads)
    wins = [0] * threads
    losses = [0] * threads
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            for _ in range(attempts):
                seen = store.get(Opportunity, record_id)
                read_all.wait()
                new = seen.evolve(custom={"n": int(seen.custom["n"] or 0) + 1})
                if blind:
                    new = new.evolve(version=store.get(Opportunity, record_id).version)
                try:
                    store.save(new)
                    wins[slot] += 1
                except VersionConflictError:
                    losses[slot] += 1
                wrote_all.wait()
        except BaseException as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
            read_all.abort()
            wrote_all.abort()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    final = store.get(Opportunity, record_id)
    return sum(wins), sum(losses), int(final.custom["n"] or 0)


_NAMESPACES = itertools.count()


def _fold(key: str | None) -> str | None:
    """The model's own notion of "the same key" (case and width do not matter)."""
    return None if key is None else unicodedata.normalize("NFKC", key).casefold()


def machine_for(store: Store) -> type[RuleBasedStateMachine]:
    """Return a state machine class bound to ``store`` (reused across examples)."""

    slots = st.integers(min_value=0, max_value=5)
    stages = st.sampled_from(["s1", "s2", "s3"])
    owners = st.sampled_from(["a", "b"])
    # three spellings of one key (case, full-width) and another key: frequent collisions
    ext_keys = st.sampled_from([None, "K-1", "k-1", "\uff2b-1", "K-2"])

    class DictModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Every example works in its own id and owner namespace, so one store serves
            # all examples and queries see only this example's records.
            self.ns = f"m{next(_NAMESPACES)}"
            self.model: dict[str, Opportunity] = {}
            self.tombstones: dict[str, int] = {}
            self.stale: dict[str, Opportunity] = {}
            self.expected_feed: list[tuple[str, str, int]] = []
            feed = store.changes(after=0, limit=1_000_000)
            self.feed_start = feed[-1].seq if feed else 0

        def rid(self, slot: int) -> str:
            return f"{self.ns}-{slot}"

        def ext(self, key: str | None) -> str | None:
            return None if key is None else f"{self.ns}{key}"

        def key_holder(self, key: str | None, exclude: str) -> str | None:
            if key is None:
                return None
            for other in self.model.values():
                if other.id != exclude and _fold(other.external_key) == _fold(key):
                    return other.id
            return None

        @rule(slot=slots, owner=owners, stage=stages, key=ext_keys)
        def add(self, slot: int, owner: str, stage: str, key: str | None) -> None:
            rid = self.rid(slot)
            new = opportunity(rid, owner=self.ns + owner, stage_id=stage,
                              external_key=self.ext(key))
            holder = self.key_holder(new.external_key, rid)
            if rid in self.model:
                with pytest.raises(DuplicateError):
                    store.add(new)
            elif holder is not None:
                with pytest.raises(DuplicateError) as info:
                    store.add(new)
                assert info.value.existing_id == holder
            else:
                stored = store.add(new)
                assert stored.version == self.tombstones.get(rid, 0) + 1
                assert stored.evolve(version=0) == new
                self.model[rid] = stored
                self.expected_feed.append((rid, "added", stored.version))

        @rule(slot=slots, stage=stages, key=ext_keys)
        def save(self, slot: int, stage: str, key: str | None) -> None:
            rid = self.rid(slot)
            if rid not in self.model:
                with pytest.raises(NotFoundError):
                    store.save(opportunity(rid, version=self.tombstones.get(rid, 1)))
                return
            current = self.model[rid]
            new = current.evolve(stage_id=stage, external_key=self.ext(key))
            holder = self.key_holder(new.external_key, rid)
            if holder is not None:
                with pytest.raises(DuplicateError) as info:
                    store.save(new)
                assert info.value.existing_id == holder
                return
            stored = store.save(new)
            assert stored == new.evolve(version=current.version + 1)
            self.stale[rid] = current
            self.model[rid] = stored
            self.expected_feed.append((rid, "saved", stored.version))

        @rule(slot=slots)
        def stale_save(self, slot: int) -> None:
            rid = self.rid(slot)
            old = self.stale.get(rid)
            if old is None:
                return
            expected = VersionConflictError if rid in self.model else NotFoundError
            with pytest.raises(expected):
                store.save(old.evolve(name="stale"))

        @rule(slot=slots, stale=st.booleans())
        def delete(self, slot: int, stale: bool) -> None:
            rid = self.rid(slot)
            if rid not in self.model:
                with pytest.raises(NotFoundError):
                    store.delete(Opportunity, rid, version=self.tombstones.get(rid, 1))
                return
            current = self.model[rid]
            if stale:
                with pytest.raises(VersionConflictError):
                    store.delete(Opportunity, rid, version=current.version + 1)
                return
            store.delete(Opportunity, rid, version=current.version)
            del self.model[rid]
            self.tombstones[rid] = current.version
            self.stale[rid] = current
            self.expected_feed.append((rid, "deleted", current.version))

        @rule(slot=slots)
        def get(self, slot: int) -> None:
            rid = self.rid(slot)
            if rid in self.model:
                assert store.get(Opportunity, rid) == self.model[rid]
            else:
                with pytest.raises(NotFoundError):
                    store.get(Opportunity, rid)

        @rule(owner=owners, stage=st.none() | stages, limit=st.integers(1, 4))
        def query(self, owner: str, stage: str | None, limit: int) -> None:
            got: list[Opportunity] = []
            after = None
            while True:
                page = store.query(Opportunity, owner=self.ns + owner, stage=stage,
                                   after=after, limit=limit)
                assert len(page.items) <= limit
                got += page.items
                if page.next_after is None:
                    break
                after = page.next_after
            expected = sorted(
                (r for r in self.model.values()
                 if r.owner == self.ns + owner and (stage is None or r.stage_id == stage)),
                key=lambda r: r.id)
            assert got == expected

        def teardown(self) -> None:
            feed = store.changes(after=self.feed_start, limit=1_000_000)
            assert [(c.record_id, c.action, c.version) for c in feed] == self.expected_feed

    return DictModel
