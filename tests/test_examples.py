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


def test_embed_in_crm_example() -> None:
    out = run_example("embed_in_crm.py").splitlines()
    assert out[0] == "events: ['OpportunityCreated', 'LeadConverted']"
    assert out[1] == "refused: ['missing_activity']"
    assert out[2].startswith("stage: proposal probability: 0.5 history: ['qualify', 'proposal']")
    assert out[3].startswith("denied: 'rep-li' may not move")
    assert out[4] == "conflict: 3 -> 4"
    assert [line.split()[1] for line in out[5:]] == ["create", "log_activity", "move",
                                                     "edit", "rescore"]
