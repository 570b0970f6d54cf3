"""CSV import throughput: oppcore.io.read_csv beside csv.DictReader + bare model building;
then a weekly re-import (oppcore.io.sync) beside a first import of the same file.

The floor reads the same CSV with ``csv.DictReader`` and builds the same ``Opportunity``
values by hand (no mapping, no per-cell error collection, no limits). Data is generated
here, Maven-shaped, never stored. Reports records/s and the ratio to the floor (target
<= 2x), min of several repeats.

Sync (#12): a first import of week 2's export into an empty SQLite store (read, check,
create, audit) beside a sync of the same file into a store holding week 1 (5% of the rows
changed: stage moves and amounts). Target: the sync costs at most 1.5x the first import.

Run: python bench/bench_import.py [--quick | --smoke]

``--smoke`` runs a tiny input once, in seconds, to prove the bench still works
(tests/test_bench_smoke.py runs every bench so; its figures mean nothing).
"""

import argparse
import csv
import io
import random
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from oppcore import Account, Money, Opportunity, SQLiteStore, StageChange
from oppcore.io import preset, read_csv, sync

UTC = timezone.utc
HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
          "close_date", "close_value"]


def generate(n: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    agents = [f"Agent {i}" for i in range(30)]
    products = ["GTX Basic", "GTXPro", "MG Special", "MG Advanced", "GTX Plus Pro", "GTK 500"]
    accounts = [f"Account {i}" for i in range(85)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for i in range(n):
        stage = rnd.choice(["Won", "Won", "Lost", "Engaging", "Prospecting"])
        eng = f"2017-{rnd.randint(1, 6):02d}-{rnd.randint(1, 28):02d}"
        close = f"2017-{rnd.randint(7, 12):02d}-{rnd.randint(1, 28):02d}"
        row = [f"O{i:08d}", rnd.choice(agents), rnd.choice(products), rnd.choice(accounts),
               stage, eng, close, str(rnd.randint(0, 30000))]
        if stage == "Engaging":
            row[6] = row[7] = ""
        elif stage == "Prospecting":
            row[5] = row[6] = row[7] = ""
        elif stage == "Lost":
            row[7] = "0"
        w.writerow(row)
    return buf.getvalue()


_STAGES = {"Prospecting": "prospecting", "Engaging": "engaging", "Won": "won", "Lost": "lost"}
AS_OF = datetime(2017, 12, 31, tzinfo=UTC)


def floor(text: str) -> int:
    """DictReader + direct construction of the same values: the least any importer does."""
    count = 0
    for r in csv.DictReader(io.StringIO(text)):
        stage = _STAGES[r["deal_stage"]]
        created = (datetime.fromisoformat(r["engage_date"]).replace(tzinfo=UTC)
                   if r["engage_date"] else AS_OF)
        by = r["sales_agent"]
        if stage in ("won", "lost"):
            closed = datetime.fromisoformat(r["close_date"]).replace(tzinfo=UTC)
            history = (StageChange(from_stage=None, to_stage="engaging", at=created, by=by),
                       StageChange(from_stage="engaging", to_stage=stage, at=closed, by=by))
        else:
            history = (StageChange(from_stage=None, to_stage=stage, at=created, by=by),)
        product = "GTX Pro" if r["product"] == "GTXPro" else r["product"]
        name = r["account"]
        Opportunity(
            id=r["opportunity_id"], name=f"{name} {product}".strip(), pipeline_id="simple",
            stage_id=stage, created_at=created, updated_at=history[-1].at,
            account=Account(id=name.lower().replace(" ", "-"), name=name) if name else None,
            owner=by, amount=Money(amount=Decimal(r["close_value"]), currency="USD")
            if r["close_value"] else None,
            stage_history=history, tags=frozenset((product,)), custom={"product": product},
        )
        count += 1
    return count


def oppcore_import(text: str) -> int:
    return sum(1 for _ in read_csv(io.StringIO(text), preset("maven"), as_of=AS_OF))


def next_week(text: str, share: float = 0.05, seed: int = 2) -> str:
    """The same export a week later: ``share`` of the rows changed (open deals won or lost,
    closed deals' amounts corrected)."""
    rnd = random.Random(seed)
    rows = list(csv.reader(io.StringIO(text)))
    for row in rnd.sample(rows[1:], int((len(rows) - 1) * share)):
        if row[4] in ("Engaging", "Prospecting"):
            row[4] = "Won"
            row[5] = row[5] or "2017-06-01"
            row[6], row[7] = "2018-01-15", "1234"
        else:
            row[7] = str(int(row[7] or 0) + 100)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


_AT = datetime(2018, 1, 20, tzinfo=UTC)


def timed_sync(db: Path, text: str) -> float:
    with SQLiteStore(db) as store:
        t = time.perf_counter()
        sync(store, read_csv(io.StringIO(text), preset("maven"), as_of=AS_OF), by="bench",
             at=_AT)
        return time.perf_counter() - t


def bench_sync(n: int, repeats: int) -> None:
    week1 = generate(n)
    week2 = next_week(week1)
    first, again = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            first.append(timed_sync(Path(tmp) / f"first{i}.db", week2))
            db = Path(tmp) / f"weekly{i}.db"
            timed_sync(db, week1)
            again.append(timed_sync(db, week2))
    f, s = min(first), min(again)
    print(f"Weekly re-import of {n:,} rows, 5% changed, into SQLite (min of {repeats})")
    print(f"  first import (oppcore.io.sync, empty store): {n / f:>10,.0f} rows/s ({f:.2f} s)")
    print(f"  sync onto last week's store                : {n / s:>10,.0f} rows/s ({s:.2f} s)")
    print(f"  ratio sync / first import                  : {s / f:.2f}x (target <= 1.5x)")


def best(fn: Callable[[str], int], text: str, repeats: int) -> tuple[float, int]:
    times = []
    n = 0
    for _ in range(repeats):
        t = time.perf_counter()
        n = fn(text)
        times.append(time.perf_counter() - t)
    return min(times), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="20,000 rows, 3 repeats")
    size.add_argument("--smoke", action="store_true",
                      help="300 rows, once: proves the bench runs (figures meaningless)")
    args = parser.parse_args()
    n, repeats = (20_000, 3) if args.quick else (300, 1) if args.smoke else (100_000, 5)
    text = generate(n)
    f_time, f_n = best(floor, text, repeats)
    o_time, o_n = best(oppcore_import, text, repeats)
    assert f_n == o_n == n, (f_n, o_n)
    print(f"CSV import of {n:,} Maven-shaped rows (min of {repeats})")
    print(f"  floor  DictReader + bare models : {n / f_time:>10,.0f} records/s "
          f"({f_time / n * 1e6:.1f} us/record)")
    print(f"  oppcore.io.read_csv (mapping)   : {n / o_time:>10,.0f} records/s "
          f"({o_time / n * 1e6:.1f} us/record)")
    print(f"  ratio oppcore / floor           : {o_time / f_time:.2f}x (target <= 2x)")
    bench_sync(n, 1 if args.smoke else 2)


if __name__ == "__main__":
    main()
