"""The io example runs and prints what it promises."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_import_crm_csv_example() -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / "import_crm_csv.py")],
                            capture_output=True, text=True, check=True, timeout=120)
    out = result.stdout
    assert "40 row(s) read, 40 imported, 0 rejected" in out
    assert "stages: engaging=8, lost=8, prospecting=8, won=16" in out
    assert "first deal: M0000000 won 550 USD" in out
    assert "exported 40 CSV rows and 40 JSON Lines records" in out
