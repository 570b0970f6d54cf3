"""The pipeline examples run and print what they promise."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_lead_to_won_example() -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / "lead_to_won.py")],
                            capture_output=True, text=True, check=True, timeout=60)
    out = result.stdout
    assert "converted L-100 -> L-100-opp in stage 'identification'" in out
    assert "refused:" in out
    assert "[missing_activity] log a needs analysis activity (found 0)" in out
    assert "won: Acme Pumps for 100000.00 CNY, probability 100%" in out
    assert ("path: identification -> needs_analysis -> solution -> quote_contract -> won"
            in out)
    assert "replay ends in: won" in out
    assert "next after-sales follow-up: 2026-06-22" in out
