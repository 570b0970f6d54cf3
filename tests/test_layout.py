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
