"""Run the duplicate-finding example."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_find_duplicates_example() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "find_duplicates.py")],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert "L-1 ~ L-2: score 0.97" in out
    assert "email (+0.9): same e-mail: 'zhang.wei@bytedance.com'" in out
    assert "L-3" not in out.split("kept")[0]  # colleagues at Acme (free mail) are not paired
    assert "kept L-1, merged L-2" in out
    assert "Merged lead L-2" in out
