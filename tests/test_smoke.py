"""Smoke test: the package imports and reports its version."""

import oppcore


def test_version_is_a_string() -> None:
    assert isinstance(oppcore.__version__, str)
    assert oppcore.__version__.count(".") >= 2
