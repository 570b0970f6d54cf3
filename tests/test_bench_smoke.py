"""Every bench in bench/ still runs: each is run once on a tiny input (no timing asserted).

Benches are discovered (``bench/bench_*.py``), so a new one is picked up without touching
this file. The convention every bench follows:

* it accepts ``--smoke``: a tiny input, run once, finishing in a few seconds (its figures
  mean nothing; the flag exists for this test);
* it exits 0, and prints its results on stdout: at least two lines with figures.

``SHOWS`` lists lines a known bench must print besides (add one for a new bench). A bench
must run with the ``test`` extra alone: a peer it cannot do without (``transitions``) is in
that extra, and optional peers (pydantic) are left out of the run when missing. msgspec is
in the test extra (the fast path's rows are checked here).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from _postgres import find_bin

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted((ROOT / "bench").glob("bench_*.py"))

SHOWS: dict[str, tuple[str, ...]] = {
    "bench_audit.py": ("stage moves on one deal (SQLiteStore", "(InMemoryStore)",
                       "database growth per move", "median"),
    "bench_analytics.py": ("oppcore.analytics (3 calls)", "hand-written single loop (floor)"),
    "bench_batch.py": ("results identical", "batch.dask.analyse_many", "merged partial sizes",
                       "extrapolated: 100,000,000 rows", "columnar (read_csv + analyse_columns)",
                       "ratio columnar / pandas by hand", "after the columnar path"),
    "bench_import.py": ("oppcore.io.read_csv (mapping)", "ratio oppcore / floor",
                        "ratio sync / first import"),
    "bench_models.py": ("(a) construct Opportunity", "(b) change two fields (evolve)",
                        "(c) JSON round trip", "(c) fast path round trip (msgspec)",
                        "(d) decode only: fast path", "(e) encode only: fast path",
                        "(f) JSON Lines import, fast path"),
    "bench_scoring.py": ("Scorecard.default", "ratio", "fit_win_model", "fit_weights"),
    "bench_sql.py": ("SQLStore.bulk_add", "raw psycopg COPY", "SQLStore.get",
                     ": 0 lost updates", "compare-and-set, 4 processes",
                     "records + feed + tenant"),
    "bench_store.py": ("SQLiteStore.bulk_add", "SQLiteStore.get",
                       "SQLiteStore.bulk_add, fast path", "SQLiteStore.get, fast path"),
    "bench_transitions.py": ("floor (attrs.evolve)", "oppcore check+advance"),
}


@pytest.mark.parametrize("bench", BENCHES, ids=lambda path: path.name)
def test_bench_runs_tiny(bench: Path) -> None:
    if bench.name == "bench_sql.py" and find_bin() is None:  # a failure under CI=true
        pytest.skip("bench_sql needs PostgreSQL (no initdb found); CI installs it")
    done = subprocess.run([sys.executable, str(bench), "--smoke"], capture_output=True,
                          text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = [line for line in done.stdout.splitlines() if re.search(r"\d", line)]
    assert len(figures) >= 2, f"{bench.name} printed no results:\n{done.stdout}"
    for text in SHOWS.get(bench.name, ()):
        assert text in done.stdout, f"{bench.name} did not print {text!r}:\n{done.stdout}"


def test_every_bench_is_known_or_new() -> None:
    # A renamed or removed bench must not silently take its checks with it.
    assert BENCHES, "no benches found"
    assert set(SHOWS) <= {path.name for path in BENCHES}
