"""The test suite's own rules: test modules never import one another."""

import ast
import re
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
    # machine without one skips them, CI (CI=true) fails them instead of going green: the
    # conftest turns every skip into a failure under CI=true.
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
    assert "skipped under CI=true (CI must run every test): no Chromium found" in out
    assert not re.search(r"\d+ (skipped|passed)", out), out[-2000:]
    # One helper finds the browser: no test module looks for one on its own.
    needle = "shutil." + "which("  # spelt apart so that this file does not match itself
    for path in sorted(TESTS.glob("test_*.py")):
        assert needle not in path.read_text(encoding="utf-8"), path.name


def test_any_skip_fails_under_ci_but_the_one_ci_expects(tmp_path: Path) -> None:
    # The conftest's "no skips in CI" hook, on a module that skips in each way a test can:
    # a missing extra at import, a skip inside a test, and a skip in a fixture.
    import os
    import subprocess
    import sys

    (tmp_path / "test_skips.py").write_text(
        "import pytest\n"
        "def test_in_the_test():\n    pytest.skip('no server')\n"
        "@pytest.fixture\ndef server():\n    pytest.skip('no server')\n"
        "def test_in_a_fixture(server):\n    pass\n"
        "def test_runs():\n    assert 1 + 1 == 2\n"
        "@pytest.mark.xfail(strict=True)\ndef test_expected_failure():\n    assert 1 + 1 == 3\n",
        encoding="utf-8")
    (tmp_path / "test_extra.py").write_text(
        "import pytest\npytest.importorskip('no_such_extra_oppcore')\n", encoding="utf-8")
    (tmp_path / "test_spark_like.py").write_text(  # the reason of tests/test_batch_spark.py
        "import pytest\npytest.skip('pyspark is not installed (...)', allow_module_level=True)\n",
        encoding="utf-8")

    def run(ci: bool) -> str:
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
        if ci:
            env["CI"] = "true"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
             "-o", "addopts=", "--continue-on-collection-errors", str(tmp_path)],
            capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
        return done.stdout + done.stderr

    here = run(ci=False)
    assert re.search(r"1 passed, 4 skipped, 1 xfailed", here), here[-2000:]
    ci = run(ci=True)
    assert "skipped under CI=true" in ci
    # PySpark 4 does not run on Python 3.10: the one skip CI accepts, and only there.
    spark = "1 skipped, " if sys.version_info < (3, 11) else ""
    errors = "2 errors" if spark else "3 errors"
    assert re.search(rf"1 failed, 1 passed, {spark}1 xfailed, {errors}", ci), ci[-2000:]
