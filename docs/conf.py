"""Sphinx configuration for the oppcore documentation."""

import importlib
import pkgutil
import sys
from typing import Any

from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer

import oppcore

project = "oppcore"
author = "oppcore developers"
copyright = "2026, oppcore developers"
release = oppcore.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Offline builds: no inventory downloads (CI has no general network access).
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = False

html_theme = "furo"
html_title = f"oppcore {release}"
exclude_patterns = ["_build"]


def _defining_module(app: Any, modname: str, fullname: str) -> str | None:
    """Return the private module that defines a class re-homed to a public namespace.

    Public classes report their namespace as ``__module__`` (``oppcore.dedupe``, as httpx
    does), so viewcode would look for their source in the namespace's ``__init__`` and drop
    the [source] link. This finds the submodule of that namespace that defines the class.
    ``None`` leaves every other name to viewcode's own lookup.
    """
    try:
        value: Any = importlib.import_module(modname)
        for part in fullname.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError):
        return None
    home = getattr(value, "__module__", None)
    package = sys.modules.get(home) if isinstance(value, type) and home else None
    if package is None or not hasattr(package, "__path__"):
        return None
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{home}."):
        if value.__qualname__ in _tags(info.name):
            return info.name
    return None


def _tags(module: str) -> dict[str, Any]:
    """Return the definitions viewcode can link to in ``module`` (none without source)."""
    try:
        return ModuleAnalyzer.for_module(module).find_tags()
    except PycodeError:
        return {}


def setup(app: Any) -> None:
    """Connect the viewcode lookup for re-homed classes."""
    app.connect("viewcode-follow-imported", _defining_module)
