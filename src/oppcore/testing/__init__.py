"""Testing helpers for oppcore users: the store conformance kit and model strategies.

* :class:`oppcore.testing.contract.StoreContract` (also ``oppcore.testing.StoreContract``):
  the pytest base class every store, ours or a host's, runs to prove the store contract.
* ``oppcore.testing.strategies``: hypothesis strategies for every model.

These modules need pytest and hypothesis, which oppcore itself does not depend on; they are
imported only when you ask for them.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type checkers see the real class; at run time it is imported lazily
    from oppcore.testing.contract import StoreContract

__all__ = ["StoreContract"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing oppcore.testing (e.g. for strategies) needs no pytest.
    if name == "StoreContract":
        from oppcore.testing.contract import StoreContract

        return StoreContract
    raise AttributeError(f"module 'oppcore.testing' has no attribute {name!r}")
