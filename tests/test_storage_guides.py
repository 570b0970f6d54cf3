"""The code in the storage guides runs as written (it is what users copy)."""

import re
from pathlib import Path

import pytest

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "guides"


def _blocks(name: str) -> list[str]:
    text = (GUIDES / name).read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "myapp" not in b]


def test_implement_a_store_guide_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    for block in _blocks("implement-a-store.md"):
        exec(block, namespace)  # noqa: S102 - our own documentation
    assert "stored version is 2" in capsys.readouterr().out


def test_audit_and_permissions_guide_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    for block in _blocks("audit-and-permissions.md"):
        exec(block, namespace)  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "ann move [('stage_id', 'identification', 'needs_analysis')]" in out
    assert "refused: 'eve' may not move on 'D-1'" in out  # the guide shows this refusal
