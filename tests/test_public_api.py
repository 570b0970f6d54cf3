"""Guard the public surface: what oppcore exports is deliberate."""

import importlib
import inspect
import pkgutil
import typing

import oppcore


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(oppcore) if not name.startswith("_")}
    # Subpackages and public namespaces appear as attributes once imported; they are
    # reached by their module path, not through __all__.
    modules = {name for name in public if inspect.ismodule(getattr(oppcore, name))}
    assert set(oppcore.__all__) == (public - modules) | {"__version__"}


def test_all_has_no_duplicates_and_every_name_resolves() -> None:
    assert len(oppcore.__all__) == len(set(oppcore.__all__))
    for name in oppcore.__all__:
        assert getattr(oppcore, name) is not None


def test_every_public_name_has_a_docstring() -> None:
    for name in oppcore.__all__:
        obj = getattr(oppcore, name)
        if typing.get_origin(obj) is not None:
            continue  # a type alias (``Guard``, ``Clock``): documented in the reference pages
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_implementation_modules_are_private() -> None:
    public_namespaces = {"serde", "testing", "analytics", "io", "pipeline", "scoring",
                         "storage"}
    for info in pkgutil.iter_modules(oppcore.__path__):
        assert info.name.startswith("_") or info.name in public_namespaces, info.name


def test_importing_oppcore_does_no_plugin_loading_or_io() -> None:
    # A fresh import must not touch entry points; scoring plugins load only on request.
    import subprocess
    import sys

    code = (
        "import importlib.metadata as m\n"
        "calls = []\n"
        "orig = m.entry_points\n"
        "m.entry_points = lambda *a, **k: calls.append(1) or orig(*a, **k)\n"
        "import oppcore, oppcore.serde\n"
        "print(len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "0"


def test_public_namespaces_import() -> None:
    for name in ("oppcore.serde", "oppcore.testing.strategies"):
        assert importlib.import_module(name).__all__
