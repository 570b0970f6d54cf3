"""Where a public name lives: one rule, applied by every public namespace.

The everyday names are flat in :mod:`oppcore`; the rest live in namespaces
(:mod:`oppcore.io`, :mod:`oppcore.analytics`, :mod:`oppcore.aftersales`,
:mod:`oppcore.serde`, :mod:`oppcore.testing`,
:mod:`oppcore.dedupe`, and :mod:`oppcore.pipeline`, :mod:`oppcore.scoring`,
:mod:`oppcore.storage` for the names beyond the everyday ones). A public class reports its
public home in ``__module__`` (as httpx does), so reprs, error messages, pickles and the
reference name ``oppcore.X`` or ``oppcore.storage.X``, never the private module that defines
it. A class exported flat reports ``oppcore``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["deprecated_names", "publish"]


def publish(home: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of the public classes ``names`` of ``namespace`` to ``home``.

    A namespace claims only classes still reporting a private module (a namespace imported
    by another keeps the home the first one gave); :mod:`oppcore` itself claims every class
    it exports flat, since the flat name is the everyday one.
    """
    for name in names:
        obj = namespace[name]
        if not isinstance(obj, type):
            continue
        module = obj.__module__
        if not module.startswith("oppcore"):
            continue  # a re-exported class of another library
        if home == "oppcore" or any(part.startswith("_") for part in module.split(".")):
            obj.__module__ = home


def deprecated_names(module: str, table: Mapping[str, tuple[str, Any]]) -> Any:
    """Return a module ``__getattr__`` (PEP 562) resolving the deprecated names of ``table``.

    ``table`` maps an old name to ``(replacement as users write it, object)``; the getter
    warns with a ``DeprecationWarning`` pointing at the caller's line and returns the
    object. An object of ``None`` is looked up at the replacement's dotted path when first
    asked for (for a name whose new home imports this module).

    One mechanism for every namespace: to deprecate a name for one release, remove it from
    the imports and ``__all__`` and add one line to the namespace's table. Install the getter
    under ``if not typing.TYPE_CHECKING``: type checkers then report a deprecated name as
    missing, instead of typing every misspelt attribute as ``Any``.
    """
    import warnings

    def __getattr__(name: str) -> Any:
        try:
            replacement, obj = table[name]
        except KeyError:
            raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
        if obj is None:
            import importlib

            home, _, attribute = replacement.rpartition(".")
            obj = getattr(importlib.import_module(home), attribute)
        warnings.warn(f"{module}.{name} is deprecated and will be removed in the next "
                      f"release; use {replacement} instead", DeprecationWarning, stacklevel=2)
        return obj

    return __getattr__
