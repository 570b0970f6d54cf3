"""Bench: SQLiteStore bulk add and point get, beside raw sqlite3 doing the same work.

Floors measured in the same run (min of several repeats):

* bulk add: serialise each opportunity (``oppcore.serde``) and ``executemany`` the rows into
  an identical table (same columns and indexes) in batched transactions, with raw sqlite3.
  Reported also: the executemany part alone.
* point get: ``SELECT data ... WHERE id = ?`` plus ``serde.loads`` with raw sqlite3.

Targets: bulk add <= 1.5x the floor; point get <= 3x. Run:
``.venv/bin/python bench/bench_store.py [--quick | --smoke]``.

``--smoke`` runs a tiny input once, in seconds, to prove the bench still works
(tests/test_bench_smoke.py runs every bench so; its figures mean nothing).
"""

import argparse
import json
import random
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from oppcore import Account, Money, Opportunity, SQLiteStore, serde, unique_keys
from oppcore.storage._arguments import micros
from oppcore.storage._sqlite_schema import INSERT, MIGRATIONS

T0 = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))


def make(n: int) -> list[Opportunity]:
    rng = random.Random(7)
    return [Opportunity(id=f"opp-{i:07d}", name=f"Deal {i}", pipeline_id="standard",
                        stage_id=rng.choice(["identification", "needs_analysis", "solution"]),
                        created_at=T0 + timedelta(minutes=i), owner=f"rep{i % 20}",
                        account=Account(id=f"acc-{i % 5000}", name=f"Company {i % 5000}"),
                        amount=Money.of(rng.randint(1000, 900000), "CNY"))
            for i in range(n)]


def rows(opps: list[Opportunity]) -> list[tuple[object, ...]]:
    out = []
    for o in opps:
        data = serde.unstructure(o)
        data["version"] = 1
        keys = dict(unique_keys(o))
        out.append((o.id, 1, o.stage_id, o.pipeline_id, o.owner,
                    o.account.id if o.account else None, micros(o.updated_at),
                    keys.get("external_key"),
                    json.dumps(data, ensure_ascii=False, separators=(",", ":"))))
    return out


def raw_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    return conn


def best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="10,000 records, fewer repeats")
    size.add_argument("--smoke", action="store_true",
                      help="300 records, once: proves the bench runs (figures meaningless)")
    args = parser.parse_args()
    n = 10_000 if args.quick else 300 if args.smoke else 100_000
    repeats = 2 if args.quick else 1 if args.smoke else 3
    batch = 1000
    opps = make(n)
    tmp = Path(tempfile.mkdtemp())
    counter = iter(range(10**6))

    def floor_bulk(serialise: bool = True) -> None:
        conn = raw_db(tmp / f"raw{next(counter)}.db")
        prepared = None if serialise else rows(opps)
        for start in range(0, n, batch):
            chunk = (rows(opps[start:start + batch]) if prepared is None
                     else prepared[start:start + batch])
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT["opportunity"], chunk)
            conn.execute("COMMIT")
        conn.close()

    prepared = rows(opps)

    def floor_insert_only() -> None:
        conn = raw_db(tmp / f"raw{next(counter)}.db")
        for start in range(0, n, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT["opportunity"], prepared[start:start + batch])
            conn.execute("COMMIT")
        conn.close()

    def store_bulk() -> None:
        with SQLiteStore(tmp / f"store{next(counter)}.db") as store:
            store.bulk_add(opps, batch_size=batch)

    # The floors and the first figures are the plain path (json); with the fast extra the
    # store runs again on the fast path (msgspec), beside them (issue 16).
    fast = serde.set_fast(False)
    t_floor = best(floor_bulk, repeats)
    t_insert = best(floor_insert_only, repeats)
    t_store = best(store_bulk, repeats)
    print(f"bulk add of {n:,} opportunities, batches of {batch}:")
    print(f"  raw sqlite3 (serialise + executemany): {t_floor * 1e6 / n:8.2f} us/record")
    print(f"  raw sqlite3 executemany only:          {t_insert * 1e6 / n:8.2f} us/record")
    print(f"  SQLiteStore.bulk_add:                  {t_store * 1e6 / n:8.2f} us/record")
    print(f"  ratio to floor: {t_store / t_floor:.2f}x (target <= 1.5x)")
    if fast:
        serde.set_fast(True)
        t_fast = best(store_bulk, repeats)
        serde.set_fast(False)
        print(f"  SQLiteStore.bulk_add, fast path:       {t_fast * 1e6 / n:8.2f} us/record "
              f"({t_store / t_fast:.2f}x faster than the plain path; target >= 1.5x)")

    path = tmp / "reads.db"
    with SQLiteStore(path) as store:
        store.bulk_add(opps, batch_size=batch)
    ids = [o.id for o in random.Random(3).sample(opps, min(5000, n))]
    raw = sqlite3.connect(path)

    def raw_get() -> None:
        for i in ids:
            serde.loads(raw.execute("SELECT data FROM opportunities WHERE id = ?",
                                    (i,)).fetchone()[0], Opportunity)

    store = SQLiteStore(path)

    def store_get() -> None:
        for i in ids:
            store.get(Opportunity, i)

    t_raw = best(raw_get, repeats + 2)
    t_get = best(store_get, repeats + 2)
    print(f"point get of {len(ids):,} random ids (with decode):")
    print(f"  raw select + serde.loads: {t_raw * 1e6 / len(ids):8.2f} us/get")
    print(f"  SQLiteStore.get:          {t_get * 1e6 / len(ids):8.2f} us/get")
    print(f"  ratio to floor: {t_get / t_raw:.2f}x (target <= 3x)")
    if fast:
        serde.set_fast(True)
        t_fast_get = best(store_get, repeats + 2)
        print(f"  SQLiteStore.get, fast path: {t_fast_get * 1e6 / len(ids):6.2f} us/get "
              f"({t_get / t_fast_get:.2f}x faster than the plain path)")
    serde.set_fast(fast)
    store.close()
    raw.close()


if __name__ == "__main__":
    main()
