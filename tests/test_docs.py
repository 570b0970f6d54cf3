"""The documentation covers the public API: every exported name has a reference entry."""

import re
from pathlib import Path

import oppcore
from oppcore import analytics, dedupe, io

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))
    names = set(re.findall(r"\.\. auto(?:class|function|exception|data|attribute)::\s+"
                           r"oppcore(?:\.[\w]+)*\.(\w+)", text))
    for module in re.findall(r"\.\. automodule::\s+(oppcore[\w.]*)", text):
        # automodule with :members: documents the module's __all__
        block = text.split(f".. automodule:: {module}", 1)[1].split("..", 1)[0]
        if ":members:" in block and ":no-members:" not in block:
            mod = __import__(module, fromlist=["__all__"])
            names.update(getattr(mod, "__all__", ()))
    # Names mentioned in prose tables of the reference (constants documented in text).
    names.update(re.findall(r"`oppcore\.(\w+)`", text))
    return names


def test_every_public_name_is_in_the_reference() -> None:
    missing = sorted(set(oppcore.__all__) - documented() - {"__version__"})
    assert not missing, f"not in docs/reference: {missing}"


def test_public_namespaces_are_in_the_reference() -> None:
    have = documented()
    for module in (analytics, dedupe, io):
        missing = sorted(set(module.__all__) - have)
        assert not missing, f"{module.__name__}: not in docs/reference: {missing}"
