"""The analytics walk-through example runs and prints the figures the guide shows."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "analyse_pipeline.py"


def test_analyse_pipeline_walk_through() -> None:
    done = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "imported 12 deals, 0 bad rows" in out
    assert "12 deal(s): 3 open, 6 won, 3 lost" in out
    assert "overall: 6 won / 9 closed = 66.7% (3 open)" in out
    # GTXPro in the export is normalised to "GTX Pro" by the preset: 2 won of 3 closed.
    assert any(line.split()[:4] == ["product", "GTX", "Pro", "3"] for line in out.splitlines())
    assert "by value_won (USD): A: 2, B: 1, C: 1" in out
    assert "Zane Levy" in out and "1.013" in out  # 10,132 USD won against 10,000
