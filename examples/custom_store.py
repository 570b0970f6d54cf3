"""A tiny host store (a dict saved to one JSON file) that passes oppcore's conformance kit.

Run it: ``python examples/custom_store.py``. It uses the store, then runs the kit against it
with pytest. The same few lines prove any store you write over your own database:
subclass ``StoreContract`` and provide a ``store`` fixture.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from oppcore import (
    AuditEntry,
    Change,
    DuplicateError,
    Lead,
    NotFoundError,
    Opportunity,
    Page,
    ValidationError,
    VersionConflictError,
    Write,
    serde,
    unique_keys,
)
from oppcore.testing.contract import StoreContract

_NAMES: dict[Any, str] = {Lead: "lead", Opportunity: "opportunity"}


class _Kinds:
    def __getitem__(self, kind: Any) -> str:
        try:
            return _NAMES[kind]
        except (KeyError, TypeError):
            raise ValidationError(f"kind must be Lead or Opportunity, got {kind!r}") from None


KINDS = _Kinds()


def keys(stored: list[list[str]]) -> set[tuple[str, str]]:
    """The uniqueness keys kept with a record, as pairs (JSON has no tuples)."""
    return {(name, key) for name, key in stored}


class JsonFileStore:
    """Every write rewrites one JSON file atomically (write a temp file, then rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        if path.exists():
            self.state = json.loads(path.read_text(encoding="utf-8"))
        else:
            # "keys": each record's oppcore.unique_keys, by "kind:id", kept at write time.
            self.state = {"lead": {}, "opportunity": {}, "tombstones": {}, "keys": {},
                          "changes": [], "audit": [], "tx": 0}

    # -- reads --
    def get(self, kind: Any, record_id: str) -> Any:
        name = KINDS[kind]
        if not isinstance(record_id, str) or not record_id.strip():
            raise ValidationError("record id must be a non-blank string")
        try:
            record_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("record id holds a lone surrogate") from None
        with self.lock:
            data = self.state[name].get(record_id)
        if data is None:
            raise NotFoundError(name, record_id)
        return serde.structure(data, kind)

    def query(self, kind: Any, *, stage: str | None = None, owner: str | None = None,
              account: str | None = None, pipeline: str | None = None,
              updated_since: datetime | None = None, after: str | None = None,
              limit: int = 100) -> Page[Any]:
        name = KINDS[kind]
        if type(limit) is not int or limit < 1:
            raise ValidationError(f"bad limit {limit!r}")
        if updated_since is not None and updated_since.utcoffset() is None:
            raise ValidationError("updated_since must be timezone-aware")
        if name == "lead" and (stage or account or pipeline):
            raise ValidationError("leads have no stage, account or pipeline")
        with self.lock:
            rows = sorted(self.state[name].items())
        out: list[Any] = []
        for record_id, data in rows:
            if after is not None and record_id <= after:
                continue
            r = serde.structure(data, kind)
            if ((owner is None or r.owner == owner)
                    and (updated_since is None or r.updated_at >= updated_since)
                    and (stage is None or r.stage_id == stage)
                    and (pipeline is None or r.pipeline_id == pipeline)
                    and (account is None or (r.account is not None and r.account.id == account))):
                if len(out) == limit:
                    return Page(items=tuple(out), next_after=out[-1].id)
                out.append(r)
        return Page(items=tuple(out), next_after=None)

    def changes(self, *, after: int = 0, limit: int = 1000) -> tuple[Change, ...]:
        with self.lock:
            return tuple(Change(**c) for c in self.state["changes"][after:after + limit])

    def audit_trail(self, kind: Any, record_id: str) -> tuple[AuditEntry, ...]:
        name = KINDS[kind]
        with self.lock:
            return tuple(serde.structure(e, AuditEntry) for e in self.state["audit"]
                         if e["kind"] == name and e["record_id"] == record_id)

    # -- writes: work on a copy, then replace the file and the state in one step --
    def apply(self, writes: Sequence[Write], *, audit: Sequence[AuditEntry] = ()) -> tuple:
        with self.lock:
            # Records are replaced, never mutated: copying the containers is enough.
            new = {k: copy.copy(v) for k, v in self.state.items()}
            results: list[Any] = []
            tx = new["tx"] + 1
            for w in writes:
                name, table = KINDS[w.kind], new[KINDS[w.kind]]
                current = table.get(w.record_id)
                if w.action == "add":
                    if current is not None:
                        raise DuplicateError(name, w.record_id, existing_id=w.record_id)
                    version = new["tombstones"].get(f"{name}:{w.record_id}", 0) + 1
                else:
                    if current is None:
                        raise NotFoundError(name, w.record_id)
                    if current["version"] != w.version:
                        raise VersionConflictError(name, w.record_id, expected=w.version,
                                                   actual=current["version"])
                    version = current["version"] + (0 if w.action == "delete" else 1)
                if w.action == "delete":
                    del table[w.record_id]
                    del new["keys"][f"{name}:{w.record_id}"]
                    new["tombstones"][f"{name}:{w.record_id}"] = version
                    results.append(None)
                else:
                    record = w.record.evolve(version=version)
                    mine = set(unique_keys(record))  # what the store must hold unique
                    for other_id in table:
                        clash = mine & keys(new["keys"][f"{name}:{other_id}"])
                        if other_id != record.id and clash:
                            raise DuplicateError(name, record.id, existing_id=other_id,
                                                 key=sorted(clash)[0][0])
                    table[record.id] = serde.unstructure(record)
                    new["keys"][f"{name}:{record.id}"] = [list(pair) for pair in sorted(mine)]
                    results.append(record)
                action = {"add": "added", "save": "saved", "delete": "deleted"}[w.action]
                new["changes"].append({"seq": len(new["changes"]) + 1, "tx": tx, "kind": name,
                                       "record_id": w.record_id, "action": action,
                                       "version": version})
            new["tx"] = tx
            new["audit"] += [serde.unstructure(e) for e in audit]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(new), encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: the file is the old or the new state
            self.state = new
        return tuple(results)

    def add(self, record: Any, *, audit: AuditEntry | None = None) -> Any:
        return self.apply([Write.add(record)], audit=[audit] if audit else [])[0]

    def save(self, record: Any, *, audit: AuditEntry | None = None) -> Any:
        return self.apply([Write.save(record)], audit=[audit] if audit else [])[0]

    def delete(self, kind: Any, record_id: str, *, version: int,
               audit: AuditEntry | None = None) -> None:
        self.apply([Write.delete(kind, record_id, version=version)],
                   audit=[audit] if audit else [])


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
