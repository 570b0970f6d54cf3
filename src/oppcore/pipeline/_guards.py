"""Custom guards: host functions registered by name, the only host code a pipeline calls.

A configuration file may only *name* a guard; the callable comes from the
:class:`GuardRegistry` the host passes in Python.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import attrs

from oppcore._errors import ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._models import Opportunity

if TYPE_CHECKING:
    from ._stage import Stage

__all__ = ["Guard", "GuardRegistry"]


Guard: TypeAlias = Callable[[Opportunity, "Stage", datetime], str | None]
"""A custom guard: given the deal, the target stage and the time of the move, return
``None`` to allow the move or a message saying why it is refused."""


def _empty_guards() -> FrozenMap[str, Guard]:
    return FrozenMap()


def _guard_map(value: Mapping[str, Guard]) -> FrozenMap[str, Guard]:
    if isinstance(value, FrozenMap):
        return value
    try:
        return FrozenMap(value)
    except (TypeError, ValueError) as exc:  # not a mapping (nor pairs that make one)
        raise ValidationError(f"must be a mapping of name to guard, got "
                              f"{type(value).__name__}", model="GuardRegistry",
                              field="guards", value=value) from exc


@attrs.frozen(kw_only=True)
class GuardRegistry:
    """Custom guards by name, passed explicitly to the pipelines that use them.

    A registry is an immutable value: :meth:`with_guard` returns a new one. There is no
    global registry; a configuration file may only name guards of the registry given to
    the loader.

    Args:
        guards: Guard callables by name.

    Raises:
        ValidationError: If ``guards`` is not a mapping, a name is not a non-empty string
            or a guard is not callable.

    Example:
        >>> def credit_ok(opp, stage, at):
        ...     return None if opp.custom.get("credit_checked") else "run the credit check"
        >>> registry = GuardRegistry(guards={"credit_ok": credit_ok})
    """

    guards: FrozenMap[str, Guard] = attrs.field(factory=_empty_guards, converter=_guard_map)

    def __attrs_post_init__(self) -> None:
        for name, fn in self.guards.items():
            if type(name) is not str or not name.strip():
                raise ValidationError(f"guard names must be non-empty strings, got {name!r}",
                                      model="GuardRegistry", field="guards", value=name)
            if not callable(fn):
                raise ValidationError(f"guard {name!r} is not callable",
                                      model="GuardRegistry", field="guards", value=fn)

    def with_guard(self, name: str, guard: Guard) -> "GuardRegistry":
        """Return a registry with ``guard`` registered (or replaced) under ``name``."""
        return GuardRegistry(guards={**self.guards, name: guard})

    def __contains__(self, name: object) -> bool:
        return name in self.guards

    def __iter__(self) -> Iterator[str]:
        return iter(self.guards)

    def __len__(self) -> int:
        return len(self.guards)

    def get(self, name: str) -> Guard | None:
        """Return the guard registered under ``name``, or ``None``."""
        return self.guards.get(name)
