"""A tiny host store (a dict saved to one JSON file) that passes oppcore's conformance kit.

Run it: ``python examples/custom_store.py``. It uses the store, then runs the kit against it
with pytest. The store subclasses ``oppcore.storage.BaseStore``, so it writes only what is
specific to its storage (five hooks); argument checks, the rules of a write batch
(``plan_batch``: versions, uniqueness keys, feed actions) and paging come from oppcore. The
same few lines prove any store you write over your own database: subclass
``StoreContract`` and provide a ``store`` fixture.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from oppcore import AuditEntry, FeedEntry, NotFoundError, Opportunity, VersionConflictError, serde
from oppcore.storage import (
    BaseStore,
    QueryFilter,
    Stored,
    plan_batch,
    record_class,
    unique_keys,
)
from oppcore.testing.contract import StoreContract


class JsonFileStore(BaseStore):
    """Every write rewrites one JSON file atomically (write a temp file, then rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        if path.exists():
            self.state = json.loads(path.read_text(encoding="utf-8"))
        else:
            # "keys": "kind|key name|key" -> holder id; "tombstones": "kind|id" -> version.
            self.state = {"lead": {}, "opportunity": {}, "tombstones": {}, "keys": {},
                          "changes": [], "audit": [], "tx": 0}

    # -- reads: the state maps ids to records in oppcore's wire format --
    def _get(self, kind: Any, name: str, record_id: str) -> Any:
        with self.lock:
            data = self.state[name].get(record_id)
        if data is None:
            raise NotFoundError(name, record_id)
        return serde.structure(data, kind)

    def _query(self, f: QueryFilter) -> tuple[tuple[Any, ...], bool]:
        # f.page keeps the records after the cursor that match, in the query's order
        # (by id, or by updated_at then id), and cuts the page.
        with self.lock:
            rows = list(self.state[f.name].values())
        return f.page(serde.structure(data, f.kind) for data in rows)

    def _changes(self, after: int, limit: int) -> tuple[FeedEntry, ...]:
        with self.lock:
            return tuple(FeedEntry(**c) for c in self.state["changes"][after:after + limit])

    def _audit_trail(self, name: str, record_id: str) -> tuple[AuditEntry, ...]:
        with self.lock:
            return tuple(serde.structure(e, AuditEntry) for e in self.state["audit"]
                         if e["kind"] == name and e["record_id"] == record_id)

    # -- writes: plan against the state, then replace the file and the state in one step --
    def _apply(self, writes: Any, entries: Any) -> Any:
        with self.lock:
            state = self.state

            def stored(name: str, record_id: str) -> Stored | None:
                data = state[name].get(record_id)
                if data is None:
                    return None
                return Stored(data["version"],
                              unique_keys(serde.structure(data, record_class(name))))

            plan = plan_batch(writes, entries, stored=stored,
                              tombstone=lambda name, rid: state["tombstones"].get(
                                  f"{name}|{rid}", 0),
                              key_holder=lambda *slot: state["keys"].get("|".join(slot)))
            # Records are replaced, never mutated: copying the containers is enough.
            new = {k: copy.copy(v) for k, v in state.items()}
            for w in plan.writes:
                if w.record is None:
                    del new[w.kind][w.record_id]
                    new["tombstones"][f"{w.kind}|{w.record_id}"] = w.version
                else:
                    new[w.kind][w.record_id] = serde.unstructure(w.record)
            for slot, holder in plan.keys.items():
                if holder is None:
                    new["keys"].pop("|".join(slot), None)
                else:
                    new["keys"]["|".join(slot)] = holder
            if plan.writes:
                new["tx"] += 1
                new["changes"] += [serde.unstructure(c) for c in plan.feed(
                    tx=new["tx"], first_seq=len(new["changes"]) + 1)]
            new["audit"] += [serde.unstructure(e) for e in plan.audit]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(new), encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: the file is the old or the new state
            self.state = new
        return plan.results()


class TestJsonFileStore(StoreContract):
    # Every write rewrites the whole file: a slow store may size the threaded tests down
    # (never the assertions).
    cas_attempts = 150

    @pytest.fixture
    def store(self, tmp_path: Path) -> JsonFileStore:
        return JsonFileStore(tmp_path / "store.json")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = JsonFileStore(Path(tmp) / "crm.json")
        deal = store.add(Opportunity(id="D-1", name="Tea house fit-out", pipeline_id="standard",
                                     stage_id="identification",
                                     created_at=datetime(2026, 3, 2, tzinfo=timezone.utc)))
        store.save(deal.evolve(owner="ann"))
        try:
            store.save(deal.evolve(owner="bob"))  # still holds version 1: refused
        except VersionConflictError as exc:
            print("stale save refused:", exc)
        print("stored version:", store.get(Opportunity, "D-1").version)
    print("running the conformance kit ...")
    # What a host puts in its CI: pytest on the module holding the StoreContract subclass.
    run = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-p",  # noqa: S603 - our own file
                          "no:cacheprovider"], capture_output=True, text=True, check=False)
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr)
    print("conformance kit:", "passed" if run.returncode == 0 else f"FAILED\n{run.stdout}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
