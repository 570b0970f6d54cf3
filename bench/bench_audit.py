"""Bench: the audit trail of a long-lived deal on a real SQLiteStore (issue #11).

Two cases through :class:`oppcore.OpportunityService` on a file-backed
:class:`oppcore.SQLiteStore` (``synchronous=NORMAL`` unless ``--synchronous FULL``: an fsync per
commit costs milliseconds on a VM and varies, which hides what the store costs), and the
moves case again on :class:`oppcore.InMemoryStore`:

* **moves**: one deal bounces between the two open stages of the ``simple`` template
  (``allow_backward``) with ``move_stage``, N times (5,000 by default). Reported: the mean
  per-move time over the first and the last window of moves (200 each) and their ratio,
  audit bytes per move (``sum(length(CAST(data AS BLOB)))`` of the audit rows the moves
  wrote, divided by the moves), database growth per move over the first and the last window
  (main file plus WAL, checkpointed), the database size, and a breakdown of one move at the
  start and at the end: load (``store.get``), the transition (``Pipeline.advance``) and the
  audit entry (``AuditEntry.for_change`` + ``serde.dumps``).
* **activities**: one deal gets M activities (1,000 by default) with ``log_activity``;
  reported: the mean per-call time over the first and the last window, audit bytes per
  activity and the record's own size.

Targets: per-move time flat (the last window within 1.5x of the first), audit bytes and
database growth per move flat (independent of the history length); the same for
activities. Before issue #11's store split, a move read and rewrote the whole record, so
its time grew with the history (2.36 ms to 40 ms over 5,000 moves).

Only public API is used, so the same file measures older releases (run it with another
checkout's interpreter). Run: ``.venv/bin/python bench/bench_audit.py [--quick] [--n N]``
(``--quick``: 1,000 moves and 300 activities; ``--n N``: N of each; ``--smoke``: a tiny
run, as every bench offers, for the test that runs them all).
"""

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from oppcore import (
    Activity,
    ActivityKind,
    AuditEntry,
    InMemoryStore,
    Opportunity,
    OpportunityService,
    Pipeline,
    SQLiteStore,
    Store,
    serde,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
STAGES = ("prospecting", "engaging")  # the open stages of the "simple" template


def ticking() -> Callable[[], datetime]:
    moments: Iterator[datetime] = (T0 + timedelta(seconds=i) for i in range(10**9))
    return lambda: next(moments)


def audit_bytes(path: Path, record_id: str) -> tuple[int, int]:
    """Return (rows, bytes) of the audit rows of one record, read with raw sqlite3."""
    conn = sqlite3.connect(path)
    try:
        rows, size = conn.execute(
            "SELECT count(*), coalesce(sum(length(CAST(data AS BLOB))), 0) FROM audit "
            "WHERE record_id = ?", (record_id,)).fetchone()
    finally:
        conn.close()
    return int(rows), int(size)


def db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def used_bytes(path: Path) -> int:
    """Return the bytes of the database's used pages (pages minus free pages)."""
    conn = sqlite3.connect(path)
    try:
        (pages,), (free,), (size,) = (conn.execute(f"PRAGMA {p}").fetchone()
                                      for p in ("page_count", "freelist_count", "page_size"))
    finally:
        conn.close()
    return int((pages - free) * size)


def mean_ms(times: list[float]) -> float:
    return statistics.fmean(times) * 1e3


def windows(what: str, times: list[float], window: int) -> str:
    """Describe the first and the last window: mean and median ms, and their ratios.

    The median is there because on a shared machine a few calls preempted by other work
    move a mean far more than a median.
    """
    first, last = times[:window], times[-window:]
    m1, m2 = mean_ms(first), mean_ms(last)
    d1, d2 = statistics.median(first) * 1e3, statistics.median(last) * 1e3
    return (f"  per {what}: first {window} {m1:.3f} ms (median {d1:.3f}), last {window} "
            f"{m2:.3f} ms (median {d2:.3f}): x{m2 / m1:.2f} (median x{d2 / d1:.2f})")


def best_ms(fn: Callable[[], object], repeats: int = 5) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out) * 1e3


def breakdown(service: OpportunityService, store: SQLiteStore, pipeline: Pipeline,
              deal_id: str) -> dict[str, float]:
    """Time one whole move and its parts on the deal as it is now (best of 5, ms).

    The whole move runs through the service (5 more moves, not counted in the audit
    figures); "rest" is what the parts do not cover: the store's checks and writes, SQLite
    I/O, the service's own work.
    """
    opp = store.get(Opportunity, deal_id)
    target = STAGES[0] if opp.stage_id == STAGES[1] else STAGES[1]
    at = T0 + timedelta(days=3650)
    moved = pipeline.advance(opp, target, at=at, by="ann")
    whole = []
    for _ in range(5):
        current = store.get(Opportunity, deal_id).stage_id
        t = time.perf_counter()
        service.move_stage(deal_id, STAGES[0] if current == STAGES[1] else STAGES[1], by="ann")
        whole.append(time.perf_counter() - t)
    parts = {
        "load": best_ms(lambda: store.get(Opportunity, deal_id)),
        "transition": best_ms(lambda: pipeline.advance(opp, target, at=at, by="ann")),
        "audit entry": best_ms(lambda: serde.dumps(AuditEntry.for_change(
            opp, moved, action="move", by="ann", at=at))),
    }
    parts["rest"] = max(0.0, min(whole) * 1e3 - sum(parts.values()))
    return {"whole move": min(whole) * 1e3, **parts}


def show_breakdown(label: str, parts: dict[str, float]) -> None:
    text = ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
    print(f"  one move {label}: {text} ms")


def warm_up(service: OpportunityService, store: Store) -> None:
    """Move and log on a throw-away deal: first-call costs stay out of the first window."""
    store.add(Opportunity(id="warm-up", name="Warm-up", pipeline_id="simple",
                          stage_id=STAGES[0], created_at=T0))
    service.move_stage("warm-up", STAGES[1], by="ann")
    service.log_activity("warm-up", Activity(id="A", kind=ActivityKind.CALL, at=T0, by="ann"),
                         by="ann")


def bench_moves(tmp: Path, n: int, window: int, sync: str) -> None:
    path = tmp / "moves.db"
    pipeline = Pipeline.template("simple")
    deal_id = "D-1"
    with SQLiteStore(path, synchronous=sync) as store:  # type: ignore[arg-type]
        service = OpportunityService(store, pipelines=pipeline, clock=ticking())
        warm_up(service, store)
        store.add(Opportunity(id=deal_id, name="Long-lived deal", pipeline_id="simple",
                              stage_id=STAGES[0], created_at=T0, owner="ann"))
        rows0, bytes0 = audit_bytes(path, deal_id)
        times: list[float] = []
        growth: list[float] = []  # database bytes per move, over the first and last window
        current = STAGES[0]
        for i in range(n):
            if i in (0, n - window):
                used = used_bytes(path)
            target = STAGES[0] if current == STAGES[1] else STAGES[1]
            t = time.perf_counter()
            service.move_stage(deal_id, target, by="ann")
            times.append(time.perf_counter() - t)
            current = target
            if i + 1 in (window, n):
                growth.append((used_bytes(path) - used) / window)
            if len(times) == window:  # time the parts; leave its moves out of the figures
                rows_w, bytes_w = audit_bytes(path, deal_id)
                start_parts = breakdown(service, store, pipeline, deal_id)
                rows_w2, bytes_w2 = audit_bytes(path, deal_id)
                rows0, bytes0 = rows0 + rows_w2 - rows_w, bytes0 + bytes_w2 - bytes_w
                current = store.get(Opportunity, deal_id).stage_id
        rows, size = audit_bytes(path, deal_id)
        end_parts = breakdown(service, store, pipeline, deal_id)
        record_bytes = len(serde.dumps(store.get(Opportunity, deal_id)).encode())
    moves, moved_bytes = rows - rows0, size - bytes0
    print(f"{n:,} stage moves on one deal (SQLiteStore, synchronous={sync}):")
    print(windows("move", times, window))
    print(f"  audit: {moves:,} entries, {moved_bytes / max(moves, 1):,.0f} bytes per move, "
          f"{moved_bytes / 1e6:,.1f} MB in all")
    print(f"  database growth per move: first {window} {growth[0]:,.0f} bytes, last "
          f"{window} {growth[-1]:,.0f} bytes")
    print(f"  record at the end: {record_bytes / 1e3:,.0f} KB; database "
          f"{db_size(path) / 1e6:,.1f} MB")
    show_breakdown(f"after {window} moves", start_parts)  # (best of 5)
    show_breakdown(f"after {n} moves", end_parts)


def bench_memory_moves(n: int, window: int) -> None:
    """The moves case on an InMemoryStore: what the pure path costs per move."""
    store = InMemoryStore()
    service = OpportunityService(store, pipelines=Pipeline.template("simple"),
                                 clock=ticking())
    warm_up(service, store)
    store.add(Opportunity(id="D-1", name="Long-lived deal", pipeline_id="simple",
                          stage_id=STAGES[0], created_at=T0, owner="ann"))
    times: list[float] = []
    for i in range(n):
        t = time.perf_counter()
        service.move_stage("D-1", STAGES[(i + 1) % 2], by="ann")
        times.append(time.perf_counter() - t)
    print(f"{n:,} stage moves on one deal (InMemoryStore):")
    print(windows("move", times, window))


def bench_activities(tmp: Path, n: int, window: int, sync: str) -> None:
    path = tmp / "activities.db"
    pipeline = Pipeline.template("simple")
    deal_id = "D-2"
    with SQLiteStore(path, synchronous=sync) as store:  # type: ignore[arg-type]
        service = OpportunityService(store, pipelines=pipeline, clock=ticking())
        warm_up(service, store)
        store.add(Opportunity(id=deal_id, name="Busy deal", pipeline_id="simple",
                              stage_id=STAGES[0], created_at=T0, owner="ann"))
        rows0, bytes0 = audit_bytes(path, deal_id)
        times: list[float] = []
        for i in range(n):
            activity = Activity(id=f"A-{i}", kind=ActivityKind.CALL,
                                at=T0 + timedelta(hours=i), by="ann",
                                summary=f"Call {i}: discussed the next delivery and pricing")
            t = time.perf_counter()
            service.log_activity(deal_id, activity, by="ann")
            times.append(time.perf_counter() - t)
        record_bytes = len(serde.dumps(store.get(Opportunity, deal_id)).encode())
    rows, size = audit_bytes(path, deal_id)
    logged, logged_bytes = rows - rows0, size - bytes0
    print(f"{n:,} activities logged on one deal:")
    print(windows("call", times, window))
    print(f"  audit: {logged:,} entries, {logged_bytes / max(logged, 1):,.0f} bytes per "
          f"activity, {logged_bytes / 1e6:,.2f} MB in all, for a record of "
          f"{record_bytes / 1e3:,.0f} KB; database {db_size(path) / 1e6:,.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 moves, 300 activities")
    parser.add_argument("--n", type=int, default=None,
                        help="N moves and N activities (a smoke run)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run (20 moves, 20 activities) that proves the bench works")
    parser.add_argument("--synchronous", choices=("NORMAL", "FULL"), default="NORMAL")
    args = parser.parse_args()
    moves, activities = (1000, 300) if args.quick else (5000, 1000)
    if args.n is not None:
        moves = activities = max(args.n, 2)
    if args.smoke:
        moves = activities = 20
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        bench_moves(tmp, moves, window=max(1, min(200, moves // 5)), sync=args.synchronous)
        bench_memory_moves(moves, window=max(1, min(200, moves // 5)))
        bench_activities(tmp, activities, window=max(1, min(100, activities // 5)),
                         sync=args.synchronous)


if __name__ == "__main__":
    main()
