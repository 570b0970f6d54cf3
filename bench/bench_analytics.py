"""Bench: funnel + win rate by source + sales-cycle statistics over synthetic deals.

Three ways to get the same numbers, measured in the same run (min of several repeats):

* oppcore.analytics: ``funnel`` + ``win_rate(by="source")`` + ``sales_cycle``
  (three passes over the list, as a notebook user would call them);
* the floor: one hand-written loop computing the same figures (funnel shapes, counts per
  source, cycle lists + sort + percentiles), no function calls per deal;
* pandas: build a deals frame and an exploded history frame from the same objects, then
  groupby (the frame build is included, as an analyst would pay it).

Deals are real ``Opportunity`` values generated here (not stored). Their stage histories
are drawn from a pool of 5,000 distinct timed paths (shared tuples, as immutable values
may be) so that a million deals fit in memory and build in seconds.

Usage: ``python bench/bench_analytics.py [--quick | --smoke] [--n N] [--repeat R]``.
``--smoke`` runs a tiny input once, in seconds, to prove the bench still works
(tests/test_bench_smoke.py runs every bench so; its figures mean nothing).
"""

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from oppcore import Channel, Money, Opportunity, Pipeline, Source, StageChange, analytics

STAGES = ("identification", "needs_analysis", "solution", "quote_contract")
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def make_pool(size: int, rng: random.Random) -> list[tuple[datetime, tuple[StageChange, ...]]]:
    pool = []
    for _ in range(size):
        created = T0 + timedelta(days=rng.randrange(365), hours=rng.randrange(24))
        at = created
        path: list[str] = [STAGES[0]]
        i = 0
        while i < 3 and rng.random() < 0.7:
            i += 2 if rng.random() < 0.1 else 1  # sometimes a skipped stage
            i = min(i, 3)
            path.append(STAGES[i])
        end = rng.random()
        if end < 0.35:
            path.append("won")
        elif end < 0.75:
            path.append("lost")
        changes, previous = [], None
        for stage in path:
            changes.append(StageChange(from_stage=previous, to_stage=stage, at=at, by="rep"))
            previous = stage
            at += timedelta(days=rng.randrange(1, 30), hours=rng.randrange(24))
        pool.append((created, tuple(changes)))
    return pool


def make_deals(n: int, seed: int = 7) -> list[Opportunity]:
    rng = random.Random(seed)
    pool = make_pool(5000, rng)
    sources = [Source(channel=c) for c in Channel] + [None]
    amounts = [Money.of(rng.randrange(100, 100000), "USD") for _ in range(500)]
    owners = [f"rep{i}" for i in range(40)]
    out = []
    for i in range(n):
        created, history = pool[i % len(pool)]
        out.append(Opportunity(
            id=f"o{i}", name="deal", pipeline_id="standard", stage_id=history[-1].to_stage,
            created_at=created, stage_history=history, source=sources[i % len(sources)],
            owner=owners[i % 40], amount=amounts[i % 500],
        ))
    return out


def with_oppcore(deals: list[Opportunity], p: Pipeline) -> Any:
    return (analytics.funnel(deals, p), analytics.win_rate(deals, p, by="source"),
            analytics.sales_cycle(deals, p))


def floor(deals: list[Opportunity], p: Pipeline) -> Any:
    """One hand-written pass computing the same figures."""
    position = {"identification": 0, "needs_analysis": 1, "solution": 2,
                "quote_contract": 3, "won": 4, "lost": -1}
    code = {"identification": 0, "needs_analysis": 0, "solution": 0, "quote_contract": 0,
            "won": 1, "lost": 2}
    shapes: dict[tuple[int, int, int, int, int], int] = {}
    by_source: dict[Any, list[int]] = {}
    won_days: list[float] = []
    lost_days: list[float] = []
    for o in deals:
        sid = o.stage_id
        mask = 0
        furthest = last_open = -1
        depth = 0
        ordered = True
        history = o.stage_history
        for ch in history:
            q = position[ch.to_stage]
            if q >= 0:
                mask |= 1 << q
                if q > furthest:
                    furthest = q
                if q < 4:
                    last_open = q
                if ordered:
                    if q == depth:
                        depth += 1
                    elif q > depth:
                        ordered = False
            else:
                ordered = False
        cur = position[sid]
        key = (mask, furthest, depth, last_open if cur < 0 else -2, cur)
        shapes[key] = shapes.get(key, 0) + 1
        c = code[sid]
        src = o.source.channel.value if o.source is not None else None
        counts = by_source.get(src)
        if counts is None:
            counts = by_source[src] = [0, 0, 0]
        counts[c] += 1
        if c:
            d = (history[-1].at - o.created_at).total_seconds() / 86400.0
            (won_days if c == 1 else lost_days).append(d)
    won_days.sort()
    lost_days.sort()
    both = sorted(won_days + lost_days)
    stats = [(analytics.percentile(x, 0.5), analytics.percentile(x, 0.75),
              analytics.percentile(x, 0.9)) for x in (won_days, lost_days, both)]
    return shapes, by_source, stats


def with_pandas(deals: list[Opportunity], p: Pipeline) -> Any:
    import pandas as pd  # optional peer, imported on use

    position = {"identification": 0, "needs_analysis": 1, "solution": 2,
                "quote_contract": 3, "won": 4, "lost": -1}
    # Frame build: one row per deal, one row per history entry.
    deal_rows = {"stage": [], "source": [], "created": [], "closed": []}
    hist_deal, hist_pos = [], []
    for i, o in enumerate(deals):
        deal_rows["stage"].append(o.stage_id)
        deal_rows["source"].append(o.source.channel.value if o.source is not None else None)
        deal_rows["created"].append(o.created_at)
        deal_rows["closed"].append(o.stage_history[-1].at)
        for ch in o.stage_history:
            hist_deal.append(i)
            hist_pos.append(ch.to_stage)
    df = pd.DataFrame(deal_rows)
    hist = pd.DataFrame({"deal": hist_deal, "stage": hist_pos})
    hist["pos"] = hist["stage"].map(position)
    # Funnel: entered, reached (at least), lost here.
    entered = hist[hist.pos >= 0].drop_duplicates(["deal", "pos"]).pos.value_counts()
    furthest = hist.groupby("deal").pos.max()
    reached = furthest.value_counts().sort_index(ascending=False).cumsum()
    df["kind"] = df.stage.map({"won": "won", "lost": "lost"}).fillna("open")
    open_hist = hist[(hist.pos >= 0) & (hist.pos < 4)]
    last_open = open_hist.groupby("deal").pos.last()
    lost_here = last_open[df.kind == "lost"].value_counts()
    # Win rate by source.
    rate = df.groupby("source", dropna=False).kind.value_counts().unstack(fill_value=0)
    # Cycle statistics.
    closed = df[df.kind != "open"]
    days = (closed.closed - closed.created).dt.total_seconds() / 86400.0
    stats = days.groupby(closed.kind).quantile([0.5, 0.75, 0.9])
    both = days.quantile([0.5, 0.75, 0.9])
    return entered, reached, lost_here, rate, stats, both


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="100,000 deals, 3 repeats")
    size.add_argument("--smoke", action="store_true",
                      help="300 deals, once: proves the bench runs (figures meaningless)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = ((100_000, 3) if args.quick else (300, 1) if args.smoke
                 else (args.n, args.repeat))
    p = Pipeline.template("standard")
    start = time.perf_counter()
    deals = make_deals(n)
    print(f"built {n:,} Opportunity values in {time.perf_counter() - start:.1f} s")

    t_lib, (f, w, c) = best(lambda: with_oppcore(deals, p), repeat)
    t_floor, (shapes, by_source, stats) = best(lambda: floor(deals, p), repeat)
    # Same numbers: the library's source counts and cycle percentiles against the floor's.
    assert {r.key: (r.open, r.won, r.lost) for r in w.rows} == {
        k: tuple(v) for k, v in by_source.items()}
    assert [(r.median_days, r.p75_days, r.p90_days) for r in c.rows] == stats
    assert f.deals == n == sum(shapes.values())
    rows = [("oppcore.analytics (3 calls)", t_lib), ("hand-written single loop (floor)", t_floor)]
    try:
        t_pd, (entered, reached, _, _, _, both) = best(lambda: with_pandas(deals, p),
                                                       max(1, repeat - 2))
        assert [int(entered.get(i, 0)) for i in range(5)] == [r.entered for r in f.stages]
        assert [int(reached[i]) for i in range(5)] == [r.reached for r in f.stages]
        assert abs(float(both[0.5]) - (c.get("closed").median_days or 0)) < 1e-6
        rows.append(("pandas (frame build + groupby)", t_pd))
    except ImportError:
        print("pandas not installed: peer skipped")
    print(f"\n{n:,} deals; funnel + win rate by source + cycle statistics; min of {repeat}")
    for name, t in rows:
        print(f"  {name:36s} {t:7.3f} s  {t / n * 1e9:7.0f} ns/deal  "
              f"{t / t_floor:5.2f}x floor  {t / t_lib:5.2f}x oppcore")
    print("\ntargets: oppcore <= 2x floor, and faster than pandas")
    sys.exit(0)


if __name__ == "__main__":
    main()
