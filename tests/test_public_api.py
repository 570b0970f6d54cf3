"""Guard the public surface: what oppcore exports is deliberate."""

import importlib
import inspect
import pickle
import pkgutil
import types
import typing
import warnings

import pytest

import oppcore
from oppcore import dedupe


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
    public_namespaces = {"serde", "testing", "analytics", "dedupe", "io", "pipeline",
                         "scoring", "storage", "aftersales", "calendars", "locale",
                         "batch"}
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
    for name in ("oppcore.serde", "oppcore.testing.strategies", "oppcore.dedupe"):
        assert importlib.import_module(name).__all__


# --- every public namespace is guarded like the top level --------------------------------

NAMESPACES = ("oppcore", "oppcore.pipeline", "oppcore.scoring", "oppcore.storage",
              "oppcore.analytics", "oppcore.io", "oppcore.dedupe", "oppcore.serde",
              "oppcore.aftersales", "oppcore.calendars", "oppcore.locale",
              "oppcore.storage.sql", "oppcore.batch")


def _public(module: types.ModuleType) -> set[str]:
    """Names a reader of ``dir(module)`` takes for public API (submodules excluded)."""
    return {name for name in dir(module) if not name.startswith("_")
            and not inspect.ismodule(getattr(module, name))}


def _home(obj: type, namespace: str) -> str:
    """Where the one rule says a public class lives: flat if everyday, else its namespace."""
    if any(getattr(oppcore, n, None) is obj for n in oppcore.__all__):
        return "oppcore"
    return namespace


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_namespace_all_lists_exactly_its_public_names(namespace: str) -> None:
    module = importlib.import_module(namespace)
    names = list(module.__all__)
    assert len(names) == len(set(names)), "duplicates in __all__"
    assert set(names) == _public(module) | ({"__version__"} if namespace == "oppcore" else set())


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_namespace_names_are_documented_and_report_their_public_home(namespace: str) -> None:
    module = importlib.import_module(namespace)
    assert inspect.getdoc(module), f"{namespace} has no module docstring"
    for name in module.__all__:
        obj = getattr(module, name)
        if typing.get_origin(obj) is not None:
            continue  # a type alias: documented in the reference pages
        if inspect.isclass(obj):
            if obj.__module__.startswith("oppcore"):
                assert obj.__module__ == _home(obj, namespace), f"{namespace}.{name}"
            assert inspect.getdoc(obj), f"{namespace}.{name} has no docstring"
        elif inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{namespace}.{name} has no docstring"


@pytest.mark.parametrize("namespace", NAMESPACES[1:])
def test_namespace_docstring_names_the_flat_home_of_everyday_names(namespace: str) -> None:
    # The module docstrings say the same as the rule: everyday names are flat in oppcore.
    module = importlib.import_module(namespace)
    shared = set(module.__all__) & set(oppcore.__all__)
    if shared:
        assert "oppcore" in (module.__doc__ or "")


def test_dedupe_classes_pickle_by_their_public_path() -> None:
    from datetime import datetime, timezone

    from oppcore import Lead

    t = datetime(2026, 3, 1, tzinfo=timezone.utc)
    a = Lead(id="a", name="Li Lei", captured_at=t, email="li@acme.com")
    b = Lead(id="b", name="Li Lei", captured_at=t, email="LI@acme.com ")
    (candidate,) = dedupe.find_duplicates([a, b])
    result = dedupe.merge_records(a, b, at=t, by="u")
    for value in (candidate, candidate.reasons[0], result, result.fields[0],
                  dedupe.match_keys(a)):
        data = pickle.dumps(value)
        # Pickles name the public path, so they survive moves between private modules.
        assert b"oppcore.dedupe" in data
        assert b"oppcore.dedupe._" not in data
        assert pickle.loads(data) == value


def test_top_level_dedupe_names_are_the_namespace_objects() -> None:
    flat = {"DuplicateCandidate", "MergeResult", "find_duplicates", "merge_records"}
    assert flat <= set(oppcore.__all__)
    for name in flat:
        assert getattr(oppcore, name) is getattr(dedupe, name)
    # The match keys and the parts of a result live in the namespace only.
    assert not (set(dedupe.__all__) - flat) & set(oppcore.__all__)


# --- deprecated names ---------------------------------------------------------------------

def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("old", sorted(oppcore._DEPRECATED))
def test_every_deprecated_name_warns_and_resolves_to_its_replacement(old: str) -> None:
    replacement, expected = oppcore._DEPRECATED[old]
    with pytest.warns(DeprecationWarning, match=rf"oppcore\.{old}\b.*{replacement}") as caught:
        obj = getattr(oppcore, old)
    assert obj is expected
    # The replacement the message names exists and is the same object.
    assert _resolve(replacement) is expected
    # The warning points at the caller, not at oppcore.
    assert caught[0].filename == __file__
    # A deprecated name is not advertised.
    assert old not in oppcore.__all__
    assert old not in dir(oppcore)


def test_from_import_of_a_deprecated_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match="oppcore.merge_records"):
        from oppcore import merge
    assert merge is oppcore.merge_records


def test_unknown_names_still_raise_attribute_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
            _ = oppcore.no_such_name  # type: ignore[attr-defined]
        assert not hasattr(oppcore, "merge_record")


@pytest.mark.parametrize(("namespace", "old", "new"), [
    ("oppcore", "convert", "convert_lead"), ("oppcore", "Change", "FeedEntry"),
    ("oppcore", "Page", "QueryPage"), ("oppcore", "Write", "StoreWrite"),
    ("oppcore.pipeline", "convert", "convert_lead"),
    ("oppcore.storage", "Change", "FeedEntry"), ("oppcore.storage", "Page", "QueryPage"),
    ("oppcore.storage", "Write", "StoreWrite"),
])
def test_renamed_names_resolve_with_a_warning_naming_the_new_one(namespace: str, old: str,
                                                                 new: str) -> None:
    module = importlib.import_module(namespace)
    with pytest.warns(DeprecationWarning, match=rf"{namespace}\.{old} is deprecated.*{new}"):
        obj = getattr(module, old)
    assert obj is getattr(module, new)
    assert old not in module.__all__
