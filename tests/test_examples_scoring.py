"""The scoring example script runs and prints explained scores and a calibration report."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_score_pipeline_example() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "score_pipeline.py")],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "opp-1: 87.53 points, grade A, coverage 100%" in text
    assert "decision_cycle  sub-score unknown" in text
    assert "budget covers 108% of the deal amount" in text
    assert "AUC" in text and "stage default" in text
    assert "applied: 0.53 from model" in text
