"""Bench: one process against Dask partitions, from a Maven-shaped CSV to three analyses.

From the same CSV file of ``N`` Maven-shaped rows (written here), measured in the same run:

* the object path in one process: ``io.import_csv`` + ``analytics.funnel`` +
  ``win_rate(by="owner")`` + ``sales_cycle`` (the definition);
* ``oppcore.batch.dask.analyse_many`` of the same three analyses on a
  ``distributed.LocalCluster`` of ``--workers`` worker processes (one thread each), the
  file read by ``dask.dataframe.read_csv`` in partitions of ``--blocksize`` bytes; the
  results must be identical (checked, the bench fails otherwise);
* the columnar path in one process: ``pandas.read_csv`` + ``oppcore.batch.analyse_columns``
  of the same three analyses (same results, checked; same refusals, by the tests);
* its peer, pandas by hand: ``read_csv`` + a hand-written funnel (deals per stage), win
  rate per owner (groupby) and sales cycle (``to_datetime``, mean and quantiles of the
  days of won and lost deals), with no validation at all: what reading the bytes and a
  plain groupby cost. The target is columnar <= 2x this peer.

It prints rows/s of each, the ratios columnar / pandas by hand and Dask / one process, the
pickled size of each merged partial (bytes: proportional to keys and distinct durations,
not to rows), the peak RSS of this process after the columnar path (before the object path
holds every deal) and at the end, and of each worker, and the extrapolations to 100
million rows: on C cores from the measured per-row cost of a worker, and in one process
on the columnar path.

Usage: ``python bench/bench_batch.py [--smoke | --quick] [--n N] [--workers W]``.
``--smoke`` runs 2,000 rows on a 2-worker cluster once (tests/test_bench_smoke.py).
"""

import argparse
import csv
import importlib
import pickle
import random
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from oppcore import Pipeline, analytics, io

AS_OF = datetime(2017, 12, 31, tzinfo=timezone.utc)
PIPELINE = Pipeline.template("simple")
ANALYSES: list[tuple[str, dict[str, Any]]] = [
    ("funnel", {}), ("win_rate", {"by": "owner"}), ("sales_cycle", {}),
]
HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage",
          "engage_date", "close_date", "close_value"]
PRODUCTS = ["GTX Basic", "GTX Pro", "MG Special", "MG Advanced", "GTX Plus Pro"]


def write_export(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` Maven-shaped rows (35 agents, 85 accounts, 4 stages)."""
    rng = random.Random(seed)
    agents = [f"Agent {i}" for i in range(35)]
    accounts = [f"Account {i}" for i in range(85)]
    start = date(2016, 10, 20)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(n):
            stage = rng.choices(["Won", "Lost", "Engaging", "Prospecting"], [48, 29, 15, 8])[0]
            engage = "" if stage == "Prospecting" else \
                (start + timedelta(days=rng.randrange(420))).isoformat()
            close = value = ""
            if stage in ("Won", "Lost"):
                close = (date.fromisoformat(engage) + timedelta(days=rng.randrange(1, 140))
                         ).isoformat()
                value = str(rng.randrange(40, 30000)) if stage == "Won" else "0"
            w.writerow([f"D{i:08d}", rng.choice(agents), rng.choice(PRODUCTS),
                        rng.choice(accounts) if stage != "Prospecting" else "", stage,
                        engage, close, value])


def one_process(path: Path) -> tuple[float, list[Any]]:
    t = time.perf_counter()
    deals = io.import_csv(path, io.preset("maven"), as_of=AS_OF).records
    results = [getattr(analytics, name)(deals, PIPELINE, **options)
               for name, options in ANALYSES]
    return time.perf_counter() - t, results


def by_hand(path: Path) -> float:
    """pandas by hand: read, funnel counts, win rate per owner, cycle statistics."""
    import pandas as pd

    t = time.perf_counter()
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    stage = raw["deal_stage"]
    _funnel = stage.value_counts()
    won = (stage == "Won").groupby(raw["sales_agent"]).sum()
    lost = (stage == "Lost").groupby(raw["sales_agent"]).sum()
    _rate = won / (won + lost)
    closed = raw[stage.isin(["Won", "Lost"])]
    days = (pd.to_datetime(closed["close_date"], format="ISO8601")
            - pd.to_datetime(closed["engage_date"], format="ISO8601")).dt.days
    _cycle = days.groupby(closed["deal_stage"]).describe(percentiles=[0.5, 0.75, 0.9])
    return time.perf_counter() - t


def columnar(path: Path) -> tuple[float, list[Any]]:
    import pandas as pd

    from oppcore import batch

    t = time.perf_counter()
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    results, errors = batch.analyse_columns(raw, ANALYSES, mapping=io.preset("maven"),
                                            pipeline=PIPELINE, as_of=AS_OF)
    seconds = time.perf_counter() - t
    if errors:
        raise SystemExit(f"the generated export has bad rows: {errors[:3]}")
    return seconds, results


def on_dask(path: Path, workers: int, blocksize: int) -> dict[str, Any]:
    import dask.dataframe as dd
    import distributed

    from oppcore.batch import dask as odask

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        frame = dd.read_csv(str(path), dtype=str, keep_default_na=False, blocksize=blocksize)
        # Start-up is paid once per cluster, not per row: workers import oppcore first.
        client.run(importlib.import_module, "oppcore.batch.dask")
        t = time.perf_counter()
        merged = odask.partials(frame, ANALYSES, mapping=io.preset("maven"),
                                pipeline=PIPELINE, as_of=AS_OF).compute()
        seconds = time.perf_counter() - t
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {"seconds": seconds, "partials": merged, "partitions": frame.npartitions,
            "worker_rss_kb": sorted(rss.values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blocksize", type=int, default=0,
                        help="bytes per partition (default: 4 partitions per worker)")
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, run once")
    args = parser.parse_args(argv)
    n = 2_000 if args.smoke else 200_000 if args.quick else args.n
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        write_export(path, n)
        size = path.stat().st_size
        blocksize = args.blocksize or max(20_000, size // (4 * args.workers) + 1)
        # Dask first: worker processes are started from this one, and Linux carries a
        # process's peak RSS over fork and exec, so they must start while it is small.
        dask = on_dask(path, args.workers, blocksize)
        hand_s = by_hand(path)
        columnar_s, columnar_results = columnar(path)
        columnar_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        single_s, expected = one_process(path)
        single_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = [p.finalize() for p in dask["partials"]]
    if got != expected:
        print("MISMATCH: Dask results differ from the single-process results")
        return 1
    if columnar_results != expected:
        print("MISMATCH: columnar results differ from the single-process results")
        return 1
    print(f"{n:,} Maven-shaped rows, {size / 1e6:.1f} MB; funnel + win_rate(owner) + "
          "sales_cycle; results identical")
    print(f"one process (import_csv + 3 calls)  {single_s:8.2f} s  {n / single_s:>10,.0f} rows/s")
    print(f"batch.dask.analyse_many ({args.workers} workers, {dask['partitions']} partitions)"
          f"  {dask['seconds']:8.2f} s  {n / dask['seconds']:>10,.0f} rows/s")
    print(f"columnar (read_csv + analyse_columns) {columnar_s:8.2f} s  "
          f"{n / columnar_s:>10,.0f} rows/s")
    print(f"pandas by hand (read_csv + groupby) {hand_s:8.2f} s  {n / hand_s:>10,.0f} rows/s")
    print(f"ratio columnar / pandas by hand {columnar_s / hand_s:.2f}; "
          f"dask / one process {dask['seconds'] / single_s:.2f}; "
          f"one process / pandas by hand {single_s / hand_s:.1f}")
    sizes = ", ".join(f"{name} {len(pickle.dumps(p)):,} B"
                      for (name, _o), p in zip(ANALYSES, dask["partials"], strict=True))
    print(f"merged partial sizes (pickled): {sizes}")
    print(f"peak RSS: after the columnar path {columnar_rss / 1024:.0f} MB; "
          f"this process at the end {single_rss / 1024:.0f} MB (it held every deal); "
          "workers " + ", ".join(f"{kb / 1024:.0f} MB" for kb in dask["worker_rss_kb"]))
    per_row = dask["seconds"] * args.workers / n  # worker-seconds per row
    for cores in (2, 16, 64):
        hours = per_row * 100_000_000 / cores / 3600
        print(f"extrapolated: 100,000,000 rows on {cores} cores ~ {hours:.2f} h")
    per_row = columnar_s / n
    print(f"extrapolated columnar: 100,000,000 rows in one process ~ "
          f"{per_row * 100_000_000 / 60:.1f} min (read in chunks: column_partials + merge)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
