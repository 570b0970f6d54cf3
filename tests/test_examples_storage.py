"""Run the storage example: a host's own store passing the conformance kit."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_custom_store_example_passes_the_conformance_kit() -> None:
    run = subprocess.run([sys.executable, str(EXAMPLES / "custom_store.py")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "stale save refused" in run.stdout
    assert "stored version: 2" in run.stdout
    assert "conformance kit: passed" in run.stdout
