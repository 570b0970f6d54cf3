"""Examples in examples/ run and print what they promise."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stdout


def test_models_round_trip_example() -> None:
    out = run_example("models_round_trip.py")
    assert "schema_version: 1" in out
    assert "lead round trip equal: True" in out
    assert "deal round trip equal: True" in out
    assert "'amount': '880000.00'" in out
