"""``FrozenMap``: the read-only, hashable mapping behind every model's custom fields."""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

__all__ = ["EMPTY_MAP", "CustomValue", "FrozenMap"]

CustomValue = str | int | bool | None
"""A custom-field value: a JSON scalar other than a float (floats lose digits)."""

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping: the type behind every model's ``custom`` fields.

    It copies what it is given, so no caller keeps a handle that could mutate a model.
    """

    __slots__ = ("_data", "_hash", "_scalars")

    def __init__(self, data: Mapping[_K, _V] | Iterable[tuple[_K, _V]] = ()) -> None:
        self._data: dict[_K, _V] = dict(data)
        self._hash: int | None = None
        # Set once the map has passed the custom-fields check (it cannot change after), so
        # a model built from another model's custom fields does not check them again.
        self._scalars = False

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


EMPTY_MAP: Final[FrozenMap[Any, Any]] = FrozenMap()

