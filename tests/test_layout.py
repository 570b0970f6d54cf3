"""The test suite's own rules: test modules never import one another."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_test_module_imports_another() -> None:
    # Shared helpers are conftest.py fixtures (or oppcore.testing): importing a test module
    # runs its module-level code and collects its tests' names into another module.
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(TESTS)}: {name}" for name in names
                          if name.split(".")[0].startswith("test_") or name == "tests"
                          or name.startswith("tests.")]
    assert offenders == []


def test_browser_tests_fail_under_ci_without_a_browser(tmp_path: Path) -> None:
    # Tests that need Chromium get it from one fixture (conftest.chromium): a developer
    # machine without one skips them, CI (CI=true) fails them instead of going green.
    import os
    import subprocess
    import sys

    env = {**os.environ, "CI": "true", "PATH": str(tmp_path)}  # no browser on this PATH
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(TESTS / "test_report_browser.py"), str(TESTS / "test_report_layout.py"),
         str(TESTS / "test_locale_browser.py")],
        capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out[-2000:]
    assert "CI=true but no Chromium on PATH" in out
    assert " skipped" not in out and " passed" not in out, out[-2000:]
    # One helper finds the browser: no test module looks for one on its own.
    needle = "shutil." + "which("  # spelt apart so that this file does not match itself
    for path in sorted(TESTS.glob("test_*.py")):
        assert needle not in path.read_text(encoding="utf-8"), path.name
