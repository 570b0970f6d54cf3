"""Every script in examples/ runs and prints what it promises: one parametrised test.

The scripts are discovered, so a new example is run (and must exit 0 and print something)
without touching this file. What a script promises is checked by its entry in
``EXPECTATIONS`` (file name -> a function asserting on its standard output); add one there
when you add an example.
"""

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _analyse_pipeline(out: str) -> None:
    assert "imported 12 deals, 0 bad rows" in out
    assert "12 deal(s): 3 open, 6 won, 3 lost" in out
    assert "overall: 6 won / 9 closed = 66.7% (3 open)" in out
    # GTXPro in the export is normalised to "GTX Pro" by the preset: 2 won of 3 closed.
    assert any(line.split()[:4] == ["product", "GTX", "Pro", "3"] for line in out.splitlines())
    assert "by value_won (USD): A: 2, B: 1, C: 1" in out
    assert "Zane Levy" in out and "1.013" in out  # 10,132 USD won against 10,000
    # Missing is not zero (#13): unpriced open deals, no stale limits, synthesised history.
    assert "pipeline n/a (no open deal has an amount)" in out
    assert "3 open deal(s) have no amount: left out, not counted as 0" in out
    assert "stale after 90 days: 2 of 3 open deals" in out
    assert "history synthesised from creation and close dates" in out
    assert any(line.split()[:6] == ["all,", "with", "open", "(Kaplan-Meier)", "12", "-"]
               for line in out.splitlines())
    assert any(line.split()[:3] == ["M04", "open", "NaN"] for line in out.splitlines())
    # The report's charts on the results (#13), one of each kind, as SVG text.
    for kind in ("funnel", "conversion", "win_rate", "forecast"):
        assert re.search(rf"^{kind}: [\d,]+ characters of SVG$", out, re.M), kind


def _after_the_win(out: str) -> None:
    counts = out.splitlines()[0].split()
    won = int(counts[2])
    assert won > 0
    tasks = next(line for line in out.splitlines() if line.startswith("after-sales tasks:"))
    numbers = [int(part.split()[1]) for part in tasks.split(":", 1)[1].split(",")]
    assert sum(numbers) == 5 * won  # the standard plan has five tasks per won deal
    assert "done" in tasks and "overdue" in tasks
    assert "won deals surveyed" in out and "overall: NPS" in out
    assert "Renewals" in out and "renewed /" in out
    assert "referred leads" in out
    assert "segments: {'champions':" in out


def _custom_store(out: str) -> None:
    # A host's own store passing the conformance kit.
    assert "stale save refused" in out
    assert "stored version: 2" in out
    assert "conformance kit: passed" in out


def _embed_in_crm(out: str) -> None:
    lines = out.splitlines()
    assert lines[0] == "events: ['OpportunityCreated', 'LeadConverted']"
    assert lines[1] == "refused: ['missing_activity']"
    assert lines[2].startswith("stage: proposal probability: 0.5 history: ['qualify', "
                               "'proposal']")
    assert lines[3].startswith("denied: 'rep-li' may not move")
    assert lines[4] == "conflict: 3 -> 4"
    assert [line.split()[1] for line in lines[5:]] == ["create", "log_activity", "move",
                                                       "edit", "rescore"]


def _fastapi_app(out: str) -> None:
    # The FastAPI embedding (tested against PostgreSQL in test_example_fastapi.py).
    assert "created D-3 201" in out and "duplicate: 409" in out
    assert "refused: 422 ['skip_not_allowed']" in out
    assert "moved: needs_analysis version 2" in out
    assert "pages: ['D-1', 'D-2'] ['D-3']" in out
    assert "other tenant sees: []" in out


def _find_duplicates(out: str) -> None:
    assert "L-1 ~ L-2: score 0.97" in out
    assert "email (+0.9): same e-mail: 'zhang.wei@bytedance.com'" in out
    assert "L-3" not in out.split("kept")[0]  # colleagues at Acme (free mail) are not paired
    assert "kept L-1, merged L-2" in out
    assert "Merged lead L-2" in out


def _import_crm_csv(out: str) -> None:
    assert "40 row(s) read, 40 imported, 0 rejected" in out
    assert "stages: engaging=8, lost=8, prospecting=8, won=16" in out
    assert "first deal: M0000000 won 550 USD" in out
    assert "exported 40 CSV rows and 40 JSON Lines records" in out


def _lead_to_won(out: str) -> None:
    assert "converted L-100 -> L-100-opp in stage 'identification'" in out
    assert "refused:" in out
    assert "[missing_activity] log a needs analysis activity (found 0)" in out
    assert "won: Acme Pumps for 100000.00 CNY, probability 100%" in out
    assert ("path: identification -> needs_analysis -> solution -> quote_contract -> won"
            in out)
    assert "replay ends in: won" in out
    assert "next after-sales follow-up: 2026-06-22" in out


def _models_round_trip(out: str) -> None:
    assert "schema_version: 1" in out
    assert "lead round trip equal: True" in out
    assert "deal round trip equal: True" in out
    assert "'amount': '880000.00'" in out


def _score_pipeline(out: str) -> None:
    # Explained scores and a calibration report.
    assert "opp-1: 87.53 points, grade A, coverage 100%" in out
    assert "decision_cycle  sub-score unknown" in out
    assert "budget covers 108% of the deal amount" in out
    assert "AUC" in out and "stage default" in out
    assert "applied: 0.53 from model" in out


def _run_on_dask(out: str) -> None:
    assert "3 partitions on 2 workers" in out
    assert "1200 deal(s): 480 open, 480 won, 240 lost" in out
    assert "overall: 480 won / 720 closed = 66.7% (480 open)" in out
    assert "grades: {'D': 1200}" in out
    assert "1200 deals; identical to one process: True" in out


EXPECTATIONS: dict[str, Callable[[str], None]] = {
    "after_the_win.py": _after_the_win,
    "analyse_pipeline.py": _analyse_pipeline,
    "custom_store.py": _custom_store,
    "embed_in_crm.py": _embed_in_crm,
    "fastapi_app.py": _fastapi_app,
    "find_duplicates.py": _find_duplicates,
    "import_crm_csv.py": _import_crm_csv,
    "lead_to_won.py": _lead_to_won,
    "models_round_trip.py": _models_round_trip,
    "run_on_dask.py": _run_on_dask,
    "score_pipeline.py": _score_pipeline,
}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_prints_what_it_promises(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip(), f"{script.name} printed nothing"
    check = EXPECTATIONS.get(script.name)
    if check is not None:
        check(done.stdout)


def test_every_expectation_names_an_example() -> None:
    # A renamed or removed example must not silently take its checks with it.
    assert EXAMPLES, "no examples found"
    assert set(EXPECTATIONS) <= {path.name for path in EXAMPLES}
