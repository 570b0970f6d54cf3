"""Every bench in bench/ still runs: each is run once on a tiny input (no timing asserted).

Benches are discovered (``bench/bench_*.py``), so a new one is picked up without touching
this file. The convention every bench follows:

* it accepts ``--smoke``: a tiny input, run once, finishing in a few seconds (its figures
  mean nothing; the flag exists for this test);
* it exits 0, and prints its results on stdout: at least two lines with figures.

``SHOWS`` lists lines a known bench must print besides (add one for a new bench). A bench
whose optional peer library (the ``bench`` extra: ``pip install -e '.[bench]'``) is not
installed is skipped with that reason, never silently: CI installs the extra on the
Pythons it tests besides the README's command.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BENCHES = sorted((ROOT / "bench").glob("bench_*.py"))

SHOWS: dict[str, tuple[str, ...]] = {
    "bench_analytics.py": ("oppcore.analytics (3 calls)", "hand-written single loop (floor)"),
    "bench_import.py": ("oppcore.io.read_csv (mapping)", "ratio oppcore / floor"),
    "bench_models.py": ("(a) construct Opportunity", "(b) change two fields (evolve)",
                        "(c) JSON round trip"),
    "bench_scoring.py": ("Scorecard.default", "ratio", "fit_win_model", "fit_weights"),
    "bench_store.py": ("SQLiteStore.bulk_add", "SQLiteStore.get"),
    "bench_transitions.py": ("floor (attrs.evolve)", "oppcore check+advance"),
}


def _bench_extra() -> set[str]:
    """Top-level names of the ``bench`` extra's distributions (pandas, transitions, ...)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {re.split(r"[^A-Za-z0-9_.-]", spec, maxsplit=1)[0].lower().replace("-", "_")
            for spec in project["optional-dependencies"]["bench"]}


@pytest.mark.parametrize("bench", BENCHES, ids=lambda path: path.name)
def test_bench_runs_tiny(bench: Path) -> None:
    done = subprocess.run([sys.executable, str(bench), "--smoke"], capture_output=True,
                          text=True, timeout=300, check=False, cwd=ROOT)
    missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", done.stderr)
    if done.returncode != 0 and missing and missing.group(1).split(".")[0] in _bench_extra():
        pytest.skip(f"{bench.name} needs {missing.group(1)} (pip install -e '.[bench]')")
    assert done.returncode == 0, done.stdout + done.stderr
    figures = [line for line in done.stdout.splitlines() if re.search(r"\d", line)]
    assert len(figures) >= 2, f"{bench.name} printed no results:\n{done.stdout}"
    for text in SHOWS.get(bench.name, ()):
        assert text in done.stdout, f"{bench.name} did not print {text!r}:\n{done.stdout}"


def test_every_bench_is_known_or_new() -> None:
    # A renamed or removed bench must not silently take its checks with it.
    assert BENCHES, "no benches found"
    assert set(SHOWS) <= {path.name for path in BENCHES}
