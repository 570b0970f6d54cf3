"""Copying frozen attrs values: ``evolve`` that re-checks only what changed, and the one
unchecked constructor of oppcore's own hot paths (:func:`trusted`, :func:`trusted_evolve`).

Fast paths live here and nowhere else: the architecture page lists them, and each has a
test comparing it with the plain path (``attrs.evolve`` / the validating constructor).
"""

import sys
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any, Final, NamedTuple, TypeVar

import attrs

from ._check_table import Checks, getter

__all__ = ["CHECKS_ATTRIBUTE", "builder_twin", "evolve", "register_builder", "trusted",
           "trusted_evolve", "trusted_values"]

_T = TypeVar("_T")
_set = object.__setattr__

if sys.version_info >= (3, 11):
    from operator import call as _call

    def _fill(new: object, slots: tuple[Callable[[object, Any], None], ...],
              values: Iterable[Any]) -> None:
        """Set ``new``'s slots to ``values`` through the bound slot setters ``slots``.

        The loop runs in C: ``map`` calls each setter with ``(new, value)`` and ``any``
        drains the map (a slot setter returns ``None``, so ``any`` never stops early).
        About half the cost of the same loop in Python for a 25-field record.
        """
        any(map(_call, slots, repeat(new), values))

else:  # pragma: no cover - operator.call is new in 3.11

    def _fill(new: object, slots: tuple[Callable[[object, Any], None], ...],
              values: Iterable[Any]) -> None:
        """Set ``new``'s slots to ``values`` through the bound slot setters ``slots``."""
        for set_slot, value in zip(slots, values, strict=True):
            set_slot(new, value)


class _Copier(NamedTuple):
    """How to copy instances of one slotted attrs class fast (built once per class)."""

    names: tuple[str, ...]
    """The fields, in definition order."""
    allowed: frozenset[str]
    """The same, for membership tests."""
    get: Callable[[Any], tuple[Any, ...]]
    """Reads every field's value in one C call."""
    slots: tuple[Callable[[object, Any], None], ...]
    """The slot descriptors' setters, bound once (skipping object.__setattr__'s lookup)."""


_COPIERS: dict[type, _Copier] = {}  # keyed by class: a copier depends on nothing else


def _plan(cls: type) -> _Copier:
    plan = _COPIERS.get(cls)
    if plan is None:
        names = tuple(a.name for a in attrs.fields(cls))
        slots = tuple(getattr(cls, name).__set__ for name in names)
        plan = _COPIERS[cls] = _Copier(names, frozenset(names), getter(names), slots)
    return plan


def trusted(cls: type[_T], **values: Any) -> _T:
    """Build an attrs instance from values the caller has already validated, unchecked.

    Only for oppcore's own hot paths where every field was checked just before (a stage
    move builds its history entry from a validated deal, stage ids of the pipeline and
    arguments it has checked). Every field must be given, in any order.

    Raises:
        TypeError: If a field is missing or unknown (a programming error, not bad data).
    """
    names, _, _, slots = _plan(cls)
    new = object.__new__(cls)
    try:
        if len(values) != len(names):
            raise KeyError(names)
        # As many values as fields, each field found: exactly the fields, none unknown.
        _fill(new, slots, map(values.__getitem__, names))
    except KeyError:
        raise TypeError(f"trusted({cls.__name__}) needs exactly the fields {names}") from None
    return new


_MAKERS: dict[type, Callable[..., Any]] = {}  # keyed by class: a maker depends on nothing else


def _maker(cls: type) -> Callable[..., Any]:
    slots = _plan(cls).slots
    new = object.__new__
    count = len(slots)

    def make(*values: Any) -> Any:
        if len(values) != count:
            raise TypeError(f"trusted_values({cls.__name__}) needs {count} values, got "
                            f"{len(values)}")
        o: Any = new(cls)
        _fill(o, slots, values)
        return o

    return make


def builder_twin(cls: type[_T]) -> type[_T]:
    """Return a private twin of the frozen slotted ``cls`` whose slots plain code can set.

    The twin is a subclass of ``cls`` with no slots of its own (so the same memory layout,
    which is what lets CPython move an instance between the two classes) whose
    ``__setattr__``/``__delattr__`` are ``object``'s. A builder (:func:`register_builder`)
    makes an instance of the twin, sets its fields with plain assignments, then moves it to
    ``cls`` with ``inst.__class__ = cls``: from then on it is frozen like any other, and
    the twin never escapes.

    Raises:
        TypeError: If ``cls`` is not a slotted attrs class.
    """
    if not attrs.has(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"builder_twin needs a slotted attrs class, got {cls!r}")
    return type(f"_{cls.__name__}Twin", (cls,), {
        "__slots__": (),
        # Both, so CPython's attribute-setting slot is object's own (one C call per field).
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": cls.__module__,
    })


def register_builder(cls: type[_T], build: Callable[..., _T]) -> Callable[..., _T]:
    """Make ``build`` the unchecked positional constructor of the frozen slotted ``cls``.

    For the few classes built by the hundred thousand on a hot path (a scorecard's reasons,
    contributions and scores). Setting eleven slots through their descriptors' bound
    setters (what :func:`trusted_values` does for any class) costs about four times what
    plain attribute assignments cost, and CPython specialises only the latter. So the
    class's module writes ``build(<one argument per field>)``: it makes an instance of the
    class's :func:`builder_twin`, assigns every field in the order of
    ``attrs.fields(cls)``, sets ``inst.__class__ = cls`` and returns it. A test builds every
    registered class with distinct values and checks each field and the type.

    Returns:
        ``build``, also what :func:`trusted_values` returns for ``cls`` from now on.
    """
    _MAKERS[cls] = build
    return build


def trusted_values(cls: type[_T]) -> Callable[..., _T]:
    """Return ``cls``'s unchecked positional constructor, for values already validated.

    The positional form of :func:`trusted`, for hot paths that make many values of one
    class (a scorecard's contributions and scores): fetch the constructor once, then call it
    with one argument per field, in the order of ``attrs.fields(cls)`` (``init=False``
    fields included). Same contract as :func:`trusted`: every field, each already valid.
    A class's module may register a faster, hand-written one (:func:`register_builder`).

    Raises:
        TypeError: When the constructor is called with the wrong number of values (a
            programming error, not bad data).
    """
    make = _MAKERS.get(cls)
    if make is None:
        make = _MAKERS[cls] = _maker(cls)
    return make


CHECKS_ATTRIBUTE: Final = "__oppcore_checks__"
"""Class attribute naming a model's :class:`Checks` table when that table is its whole
validation (its field checks and its cross-field rules; the class has no attrs converters or
validators, and its ``__attrs_post_init__`` runs the table and nothing else): :func:`evolve`
then re-checks the changed fields and the rules only, and the fast path's typed reader
(:mod:`oppcore._serde_typed`) runs what msgspec has not already checked. A test holds every
class that declares it to this contract."""


def evolve(inst: _T, changes: dict[str, Any]) -> _T:
    """Return a copy of the attrs instance ``inst`` with ``changes`` applied, re-validated.

    Same result as :func:`attrs.evolve`, several times faster. The unchanged fields were
    validated when ``inst`` was built and are values that cannot change, so for a class whose
    only validation is its :class:`Checks` table (``__oppcore_checks__``) the copy takes them
    as they are and checks (and normalises) the changed fields alone. Other classes are
    rebuilt through their ``__init__``.

    Raises:
        TypeError: If a change names a field the class does not have.
        ValidationError: If a new value is invalid.
    """
    cls = type(inst)
    names, allowed, get, slots = _plan(cls)
    if not allowed.issuperset(changes):
        unknown = ", ".join(sorted(set(changes) - allowed))
        raise TypeError(f"{cls.__name__} has no field(s) {unknown}")
    checks: Checks | None = getattr(cls, CHECKS_ATTRIBUTE, None)
    if checks is None:
        kwargs = dict(zip(names, get(inst), strict=True))
        kwargs.update(changes)
        return cls(**kwargs)
    new = _copy(inst, cls, get, slots, changes)
    checks.only(tuple(changes)).run(new)
    return new


def _copy(inst: _T, cls: type[_T], get: Any, slots: tuple[Any, ...],
          changes: dict[str, Any]) -> _T:
    new = object.__new__(cls)
    _fill(new, slots, get(inst))
    setter = _set.__get__(new)
    for name, value in changes.items():
        setter(name, value)
    return new


def trusted_evolve(inst: _T, changes: dict[str, Any]) -> _T:
    """Return a copy of the attrs instance ``inst`` with ``changes`` applied, unchecked.

    The :func:`evolve` of :func:`trusted`: only for oppcore's own hot paths where every
    new value was validated just before, by the same rules the class's table applies (a
    stage move sets a stage id of a validated pipeline, a history entry it built from
    checked arguments, and an ``at`` it checked as timezone-aware). Only for classes whose
    sole validation is their :class:`Checks` table (no cross-field rules to re-run).

    Raises:
        TypeError: If a change names a field the class does not have, or the class has
            validation beyond its table (programming errors, not bad data).
    """
    cls = type(inst)
    _, allowed, get, slots = _plan(cls)
    if not allowed.issuperset(changes) or getattr(cls, CHECKS_ATTRIBUTE, None) is None:
        raise TypeError(f"trusted_evolve({cls.__name__}) with fields {tuple(changes)}")
    return _copy(inst, cls, get, slots, changes)


