"""Check tables: one declarative table of checks per model, run in one pass.

Each model declares a :class:`Checks` table (which fields are required strings, aware
datetimes, tuples of what...) and runs it once in ``__attrs_post_init__``. One pass over a
table is several times cheaper than one attrs validator call per field, and construction
and ``evolve`` are on every hot path (imports, stores, transitions). The table is plain
data, so the rules stay readable in one place per model; the rules themselves are the
vocabulary of :mod:`oppcore._checks`.

Every failure raises :class:`~oppcore.ValidationError` naming the model and the field.
Lenient inputs are normalised once, here: a list becomes a tuple, a dict becomes a read-only
:class:`~oppcore.FrozenMap`, a set becomes a frozenset, an int probability becomes a float.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Final, NamedTuple

from ._checks import UNIT, aware, fail, is_aware, is_text, number, text
from ._frozenmap import EMPTY_MAP, CustomValue, FrozenMap
from ._money import Money

__all__ = ["Checks", "check_probability", "getter"]

_set = object.__setattr__
_NONE = type(None)


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is _NONE else t.__name__ for t in types)


def getter(names: tuple[str, ...]) -> Any:
    """Return a function giving the values of ``names`` as a tuple (C-level, one call)."""
    if not names:
        return lambda obj: ()
    get = attrgetter(*names)
    if len(names) == 1:  # attrgetter of one name returns the value, not a 1-tuple
        return lambda obj: (get(obj),)
    return get


class _Group(NamedTuple):
    """The fields of one kind of check, and a function reading all their values at once."""

    names: tuple[str, ...]
    get: Callable[[Any], tuple[Any, ...]]


_KINDS: Final = ("text", "optional_text", "aware", "optional_aware", "optional_date",
                  "instances", "tuples", "string_sets", "custom", "counts", "optional_counts",
                  "money", "bools")
"""The kinds of check, in the order a table runs them."""


class Checks:
    """What to check on a model instance, grouped by kind of check.

    Args:
        text: Required, non-blank strings (ids, names).
        optional_text: ``None`` or a string.
        aware: Timezone-aware datetimes.
        optional_aware: ``None`` or a timezone-aware datetime.
        optional_date: ``None`` or a ``date`` (a ``datetime`` is refused: say which day).
        instances: ``(name, types)`` pairs checked with ``isinstance`` (put ``type(None)``
            in the types to allow ``None``).
        tuples: ``(name, types)`` pairs: tuples of those element types; any other iterable
            is converted to a tuple.
        string_sets: Frozensets of non-empty strings; other iterables are converted.
        custom: Custom-field mappings, converted to :class:`FrozenMap`.
        counts: Integers >= 0 (bools refused).
        optional_counts: ``None`` or an integer >= 0.
        money: ``None`` or non-negative ``Money``.
        bools: ``bool`` values; those also in ``optional`` may be ``None``.
        optional: See ``bools``.
        rules: Cross-field rules, ``rule(inst)`` raising ``ValidationError``; they run
            after the field checks on every construction and on every :func:`evolve`,
            whatever fields changed (a partial re-check may skip unchanged fields, never
            a rule that relates several).
    """

    __slots__ = (
        "_aware", "_bools", "_counts", "_custom", "_instances", "_money", "_optional",
        "_optional_aware", "_optional_counts", "_optional_date", "_optional_text",
        "_rules", "_spec", "_steps", "_string_sets", "_subsets", "_text", "_tuples",
    )

    def __init__(
        self,
        *,
        text: tuple[str, ...] = (),
        optional_text: tuple[str, ...] = (),
        aware: tuple[str, ...] = (),
        optional_aware: tuple[str, ...] = (),
        optional_date: tuple[str, ...] = (),
        instances: tuple[tuple[str, tuple[type, ...]], ...] = (),
        tuples: tuple[tuple[str, tuple[type, ...]], ...] = (),
        string_sets: tuple[str, ...] = (),
        custom: tuple[str, ...] = (),
        counts: tuple[str, ...] = (),
        optional_counts: tuple[str, ...] = (),
        money: tuple[str, ...] = (),
        bools: tuple[str, ...] = (),
        optional: frozenset[str] = frozenset(),
        rules: tuple[Callable[[Any], None], ...] = (),
    ) -> None:
        self._spec: dict[str, Any] = {
            "text": text, "optional_text": optional_text, "aware": aware,
            "optional_aware": optional_aware, "optional_date": optional_date,
            "instances": instances, "tuples": tuples, "string_sets": string_sets,
            "custom": custom, "counts": counts, "optional_counts": optional_counts,
            "money": money, "bools": bools,
        }
        self._subsets: dict[tuple[str, ...], Checks] = {}
        # Each group keeps a getter so that a step reads all of a group's values with one
        # C call.
        def group(names: tuple[str, ...]) -> _Group:
            return _Group(names, getter(names))

        self._text = group(text)
        self._optional_text = group(optional_text)
        self._aware = group(aware)
        self._optional_aware = group(optional_aware)
        self._optional_date = group(optional_date)
        self._instances = instances
        self._tuples = tuples
        self._string_sets = string_sets
        self._custom = custom
        self._counts = group(counts)
        self._optional_counts = group(optional_counts)
        self._money = group(money)
        self._bools = group(bools)
        self._optional = optional
        self._rules = rules
        # Only the groups that have fields run: a table (or a subset of one, for evolve)
        # pays for the checks it has, not for all fourteen kinds.
        self._steps = (*(getattr(self, f"_step_{kind}") for kind in _KINDS if self._spec[kind]),
                       *rules)

    def only(self, names: tuple[str, ...]) -> "Checks":
        """Return the checks of the fields ``names`` only (cached: the same call sites
        change the same fields, in the same order, again and again)."""
        subset = self._subsets.get(names)
        if subset is None:
            spec = {key: tuple(item for item in value
                               if (item[0] if isinstance(item, tuple) else item) in names)
                    for key, value in self._spec.items()}
            if len(self._subsets) >= 512:  # bound the cache; rebuilding a subset is cheap
                self._subsets.clear()
            subset = self._subsets[names] = Checks(optional=self._optional, rules=self._rules,
                                                   **spec)
        return subset

    @property
    def spec(self) -> dict[str, Any]:
        """The table as declared: each kind of check and its fields (a new dict)."""
        return dict(self._spec)

    @property
    def optional(self) -> frozenset[str]:
        """The ``bools`` fields that may also be ``None``."""
        return self._optional

    def residual(self, enforced: Callable[..., bool]) -> "Checks":
        """Return the checks left once a typed decoder has made those ``enforced`` says.

        ``enforced(kind, name)`` (``enforced(kind, name, types)`` for the ``instances`` and
        ``tuples`` kinds) says whether the field ``name``'s check of that kind is already
        made. The cross-field rules always stay, and so do the normalising kinds whose
        check says so (``enforced`` answers false for them).
        """
        spec = {kind: tuple(item for item in value if not (
                    enforced(kind, *item) if isinstance(item, tuple) else enforced(kind, item)))
                for kind, value in self._spec.items()}
        return Checks(optional=self._optional, rules=self._rules, **spec)

    @property
    def runner(self) -> Callable[[Any], None] | None:
        """:meth:`run`, or its one step when it has one, or ``None`` when it has none (for
        callers that run a table per value, such as the wire twins of the fast path)."""
        if not self._steps:
            return None
        return self._steps[0] if len(self._steps) == 1 else self.run

    def run(self, inst: Any) -> None:
        """Check (and where documented, normalise) the fields of ``inst``."""
        for step in self._steps:
            step(inst)

    def _step_text(self, inst: Any) -> None:
        names, get = self._text
        for v in get(inst):
            if type(v) is not str or not v or v.isspace() or not (
                    v.isascii() or is_text(v)):
                for name in names:  # the slow path: explain the first bad field
                    text(getattr(inst, name), name, model=type(inst).__name__)

    def _step_optional_text(self, inst: Any) -> None:
        names, get = self._optional_text
        for v in get(inst):
            if v is not None and type(v) is not str:
                _fail_first(inst, names, get, _bad_optional_text, "must be a string or None")

    def _step_aware(self, inst: Any) -> None:
        names, get = self._aware
        for v in get(inst):
            # The inline test is the fast path; is_aware() is the definition (it also
            # refuses a tzinfo whose utcoffset() raises).
            if type(v) is not datetime or not is_aware(v):
                for name in names:
                    aware(getattr(inst, name), name, model=type(inst).__name__)

    def _step_optional_aware(self, inst: Any) -> None:
        for name in self._optional_aware[0]:
            v = getattr(inst, name)
            if v is not None:
                aware(v, name, model=type(inst).__name__)

    def _step_optional_date(self, inst: Any) -> None:
        names, get = self._optional_date
        for v in get(inst):
            if v is not None and type(v) is not date:
                _fail_first(inst, names, get, _bad_date, "must be a date")

    def _step_instances(self, inst: Any) -> None:
        for name, types in self._instances:
            v = getattr(inst, name)
            if v is not None and type(v) is not types[0] and not isinstance(v, types):
                fail(inst, name, f"must be {_type_names(types)}, got {type(v).__name__}", v)
            if v is None and _NONE not in types:
                fail(inst, name, f"must be {_type_names(types)}, got None", v)

    def _step_tuples(self, inst: Any) -> None:
        for name, types in self._tuples:
            v = getattr(inst, name)
            if type(v) is not tuple:
                v = _to_tuple(inst, name, v)
                _set(inst, name, v)
            first = types[0]
            for item in v:
                if type(item) is not first and not isinstance(item, types):
                    fail(inst, name, f"item {v.index(item)} must be {_type_names(types)}, "
                         f"got {type(item).__name__}", item)

    def _step_string_sets(self, inst: Any) -> None:
        for name in self._string_sets:
            v = getattr(inst, name)
            if type(v) is not frozenset:
                v = _to_string_set(inst, name, v)
            for item in v:
                if type(item) is not str or not item:
                    fail(inst, name, f"items must be non-empty strings, got {item!r}", item)

    def _step_custom(self, inst: Any) -> None:
        for name in self._custom:
            v = getattr(inst, name)
            if v is not EMPTY_MAP and not (type(v) is FrozenMap and v._scalars):
                _set(inst, name, _to_custom(inst, name, v))

    def _step_counts(self, inst: Any) -> None:
        names, get = self._counts
        for v in get(inst):
            if type(v) is not int or v < 0:
                _fail_first(inst, names, get, _bad_count, "must be an integer >= 0")

    def _step_optional_counts(self, inst: Any) -> None:
        names, get = self._optional_counts
        for v in get(inst):
            if v is not None and (type(v) is not int or v < 0):
                _fail_first(inst, names, get, _bad_optional_count,
                            "must be an integer >= 0 or None")

    def _step_money(self, inst: Any) -> None:
        for name in self._money[0]:
            v = getattr(inst, name)
            if v is not None:
                if type(v) is not Money:
                    fail(inst, name, f"must be Money or None, got {type(v).__name__}", v)
                if v.amount < 0:
                    fail(inst, name, f"must not be negative, got {v}", v)

    def _step_bools(self, inst: Any) -> None:
        names, get = self._bools
        for name, v in zip(names, get(inst), strict=True):
            if type(v) is not bool and not (v is None and name in self._optional):
                fail(inst, name, f"must be True or False, got {v!r}", v)

def _bad_optional_text(v: Any) -> bool:
    return v is not None and type(v) is not str


def _bad_date(v: Any) -> bool:
    return v is not None and type(v) is not date


def _bad_count(v: Any) -> bool:
    return type(v) is not int or v < 0


def _bad_optional_count(v: Any) -> bool:
    return v is not None and (type(v) is not int or v < 0)


def _fail_first(inst: Any, names: tuple[str, ...], get: Any, bad: Any, message: str) -> None:
    """Raise for the first field of a group that ``bad`` flags (the slow, error-only path)."""
    for name, v in zip(names, get(inst), strict=True):
        if bad(v):
            shown = repr(v) if isinstance(v, (str, int)) or v is None else type(v).__name__
            fail(inst, name, f"{message}, got {shown}", v)


def _to_string_set(inst: Any, name: str, v: Any) -> frozenset[Any]:
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
        fail(inst, name, f"expected a set of strings, got {type(v).__name__}", v)
    result = frozenset(v)
    _set(inst, name, result)
    return result


def _to_tuple(inst: Any, name: str, v: Any) -> tuple[Any, ...]:
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
        fail(inst, name, f"expected a sequence, got {type(v).__name__}", v)
    return tuple(v)


def _to_custom(inst: Any, name: str, v: Any) -> FrozenMap[str, CustomValue]:
    if v is None:
        return EMPTY_MAP
    if not isinstance(v, Mapping):
        fail(inst, name, f"must be a mapping, got {type(v).__name__}", v)
    for key, item in v.items():
        if type(key) is not str or not key:
            fail(inst, name, f"names must be non-empty strings, got {key!r}", key)
        if item is not None and type(item) not in (str, int, bool):
            hint = " (store decimals as strings)" if isinstance(item, (float, Decimal)) else ""
            fail(inst, name, f"{key!r}: {type(item).__name__} refused; values are str, int, "
                 f"bool or None{hint}", item)
    if not v:
        return EMPTY_MAP
    checked = v if type(v) is FrozenMap else FrozenMap(v)
    checked._scalars = True
    return checked


def check_probability(inst: Any, name: str) -> None:
    """Check a probability field: a number in [0, 1]; an int or Decimal becomes a float."""
    v = getattr(inst, name)
    if type(v) is not float or not 0.0 <= v <= 1.0:  # NaN fails the comparison too
        _set(inst, name, number(v, UNIT, name, model=type(inst).__name__))


