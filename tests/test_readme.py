"""The README's promises: its code example runs, and its Quickstart is what CI runs."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_code_example_runs_and_prints_what_it_promises() -> None:
    code = re.search(r"```python\n(.*?)```", section("In code"), re.S)
    assert code is not None
    lines = code.group(1).strip().splitlines()
    assert len(lines) <= 16  # "a 15-line code example" (imports included, blank lines aside)
    result = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True,
                            text=True, timeout=120, check=True)
    out = result.stdout.splitlines()
    assert out[0].startswith("skip_not_allowed - ")
    assert any(line.startswith("missing_activity - ") for line in out)
    assert out[-1].startswith("needs_analysis ")
    assert "coverage" in out[-1]


def test_quickstart_is_exactly_two_commands_and_ci_runs_the_second() -> None:
    block = re.search(r"```bash\n(.*?)```", section("Quickstart"), re.S)
    assert block is not None
    commands = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(commands) == 2
    assert "oppcore demo" in commands[0]
    assert "pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "sed -n 2p" in ci and 'bash -c "$test_cmd"' in ci


def test_links_to_docs_resolve() -> None:
    for target in re.findall(r"\]\((docs/[^)]+)\)", README.read_text(encoding="utf-8")):
        assert (README.parent / target).exists(), target
