"""The one vocabulary of checks: aware times, text, ids, bounded numbers.

Every model, every ``__attrs_post_init__`` and every public function boundary checks its
values with these helpers, so one rule has one definition and one error:

* **aware time**: a ``datetime`` whose ``utcoffset()`` is not ``None`` (Python's own
  definition of *aware*; a ``tzinfo`` that answers ``None`` makes a datetime naive, and a
  ``tzinfo`` that raises is refused as well);
* **text**: a ``str`` that is not empty, not only white space, and valid Unicode (no lone
  surrogates, so it can be stored as UTF-8);
* **bounded number**: a real number (``int``, ``float`` or ``Decimal``; never a ``bool``,
  never NaN) inside the field's declared :class:`Bounds`, whatever type it came as. Fields
  declare their bounds once, as attrs metadata (:func:`in_bounds`), so the check, the
  documentation and the property test that walks every public model read the same fact.

Each check raises :class:`~oppcore.ValidationError` naming the model (when there is one)
and the field or argument. The ``is_*`` predicates answer without raising, for hot paths
that check first and explain only on failure.
"""

import math
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, NamedTuple, NoReturn

import attrs

from ._errors import ValidationError

__all__ = [
    "BOUNDS_KEY",
    "COUNT",
    "SIGNED_UNIT",
    "UNIT",
    "Bounds",
    "aware",
    "in_bounds",
    "bounds_of",
    "check_bounds",
    "fail",
    "is_aware",
    "is_text",
    "number",
    "text",
]


def fail(inst: Any, field: str, message: str, value: Any) -> NoReturn:
    """Raise a :class:`ValidationError` for ``field`` of the model instance ``inst``."""
    raise ValidationError(message, model=type(inst).__name__, field=field, value=value)


def _raise(message: str, name: str, model: str | None, value: Any) -> NoReturn:
    # With a model the error reads "Model.field: must be ..."; an argument reads
    # "at must be ...".
    raise ValidationError(message if model else f"{name} {message}", model=model, field=name,
                          value=value)


# --- aware time -----------------------------------------------------------------------


def is_aware(value: object) -> bool:
    """Return whether ``value`` is a timezone-aware ``datetime``.

    Aware means ``utcoffset()`` is not ``None``; a ``tzinfo`` whose ``utcoffset`` raises or
    returns something else than a ``timedelta`` counts as not aware.
    """
    if not isinstance(value, datetime):
        return False
    try:
        return value.utcoffset() is not None
    except Exception:  # a host's tzinfo may raise anything: not a usable offset
        return False


def aware(value: object, name: str, *, model: str | None = None) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime.

    Args:
        value: The value to check.
        name: The field or argument name, for the error.
        model: The model class name, for the error (``None`` for a function argument).

    Raises:
        ValidationError: ``value`` is not a datetime, is naive, or its ``tzinfo`` gives no
            usable offset.
    """
    if is_aware(value):
        return value  # type: ignore[return-value]
    if not isinstance(value, datetime):
        _raise(f"must be a timezone-aware datetime, got {type(value).__name__}", name, model,
               value)
    shown = value.replace(tzinfo=None).isoformat()
    _raise(f"must be a timezone-aware datetime, got naive datetime {shown} (give it a tzinfo "
           f"with a UTC offset)", name, model, value)


# --- text -----------------------------------------------------------------------------


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_text(value: object) -> bool:
    """Return whether ``value`` is required text: a non-blank ``str`` of valid Unicode."""
    return (type(value) is str and bool(value) and not value.isspace()
            and (value.isascii() or _encodable(value)))


def text(value: object, name: str, *, model: str | None = None) -> str:
    """Return ``value`` if it is required text (ids, names, actors).

    Raises:
        ValidationError: ``value`` is not a ``str``, is empty or blank, or holds a lone
            surrogate (it could not be stored as UTF-8).
    """
    if is_text(value):
        return value  # type: ignore[return-value]
    if isinstance(value, str) and value.strip() and not _encodable(value):
        _raise(f"is not valid Unicode (it holds a lone surrogate): {value!r}", name, model,
               value)
    shown = repr(value) if isinstance(value, str) or value is None else type(value).__name__
    _raise(f"must be a non-empty string, got {shown}", name, model, value)


# --- bounded numbers ------------------------------------------------------------------

BOUNDS_KEY: Final = "oppcore.bounds"
"""The attrs metadata key under which a numeric field declares its :class:`Bounds`."""


class Bounds(NamedTuple):
    """The values a numeric field accepts.

    Attributes:
        low: Smallest value allowed (inclusive), or ``None`` for no lower bound.
        high: Largest value allowed (inclusive), or ``None`` for no upper bound.
        integer: Whether only whole numbers (``int``) are allowed.
        kind: The type values are normalised to: ``float``, ``int`` or ``Decimal``.
        low_exclusive: Whether ``low`` itself is refused (a quantity must be > 0).
    """

    low: float | Decimal | None
    high: float | Decimal | None
    integer: bool = False
    kind: type = float
    low_exclusive: bool = False

    def holds(self, value: object) -> bool:
        """Return whether :func:`number` would return ``value`` itself, unchanged.

        True when ``value`` is already of type ``kind``, finite, whole where it must be, and
        within the bounds: the quick test of hot paths, which call :func:`number` (the
        definition, which explains a refusal) only when this is false.
        """
        kind = type(value)
        if kind is not self.kind or kind is bool:
            return False
        v: Any = value
        if (kind is float and not math.isfinite(v)) or (kind is Decimal and not v.is_finite()):
            return False
        if self.integer and v != int(v):
            return False
        low = self.low
        if low is not None and (v < low or (self.low_exclusive and v == low)):
            return False
        return self.high is None or v <= self.high

    def describe(self) -> str:
        """Return the allowed range as words (``"a number in [0, 1]"``)."""
        what = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            bracket = "(" if self.low_exclusive else "["
            return f"{what} in {bracket}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{what} {'>' if self.low_exclusive else '>='} {self.low:g}"
        if self.high is not None:
            return f"{what} <= {self.high:g}"
        return f"a finite {'integer' if self.integer else 'number'}"


UNIT: Final = Bounds(0.0, 1.0)
"""A probability, share or sub-score: a float in [0, 1]."""
SIGNED_UNIT: Final = Bounds(-1.0, 1.0)
"""A signed effect: a float in [-1, 1]."""
COUNT: Final = Bounds(0, None, integer=True, kind=int)
"""A count or version: an integer >= 0."""


def in_bounds(bounds: Bounds) -> dict[str, Bounds]:
    """Return attrs field metadata declaring ``bounds``: ``attrs.field(metadata=...)``.

    The class still runs the check (:func:`check_bounds` or a check table): the metadata is
    the one place the range is written down, read by the check and by the tests.
    """
    return {BOUNDS_KEY: bounds}


_BOUNDS_CACHE: dict[type, tuple[tuple[str, Bounds, bool], ...]] = {}


def bounds_of(cls: type) -> tuple[tuple[str, Bounds, bool], ...]:
    """Return ``(field name, bounds, optional)`` for every bounded field of attrs ``cls``.

    ``optional`` says whether the field also accepts ``None`` (its default is ``None``, or
    its annotation admits ``None``).
    """
    found = _BOUNDS_CACHE.get(cls)
    if found is None:
        found = tuple((f.name, f.metadata[BOUNDS_KEY],
                       f.default is None or type(None) in typing.get_args(f.type))
                      for f in attrs.fields(cls) if BOUNDS_KEY in f.metadata)
        _BOUNDS_CACHE[cls] = found
    return found


def number(value: object, bounds: Bounds, name: str, *, model: str | None = None) -> Any:
    """Return ``value`` normalised to ``bounds.kind`` if it is a number within ``bounds``.

    ``int``, ``float`` and ``Decimal`` are all accepted as input (an integer field refuses
    a value with a fractional part, a ``Decimal`` field refuses floats, which lose digits);
    the range applies whatever the type. A ``bool`` is refused (``True`` is not a
    probability), and so are NaN and infinities.

    Raises:
        ValidationError: ``value`` is not a number, not finite, fractional for an integer
            field, or outside the bounds.
    """
    kind = type(value)
    if kind is bool or not (kind is int or kind is float or isinstance(value, (int, float,
                                                                                 Decimal))):
        _raise(f"must be {bounds.describe()}, got {kind.__name__}", name, model, value)
    v: Any = value
    if bounds.kind is Decimal and isinstance(v, float):
        _raise(f"float {v!r} refused: pass a Decimal, an int or a string such as '1.25'",
               name, model, value)
    if isinstance(v, float) and not math.isfinite(v):
        _raise(f"must be {bounds.describe()}, got {v!r}", name, model, value)
    if isinstance(v, Decimal) and not v.is_finite():
        _raise(f"must be {bounds.describe()}, got {v!r}", name, model, value)
    if bounds.integer and v != int(v):
        _raise(f"must be {bounds.describe()}, got {v!r}", name, model, value)
    low = bounds.low
    if (low is not None and (v < low or (bounds.low_exclusive and v == low))) or (
            bounds.high is not None and v > bounds.high):
        _raise(f"must be {bounds.describe()}, got {v!r}", name, model, value)
    target = bounds.kind
    if type(v) is target:
        return v
    return target(v)


def check_bounds(inst: Any) -> None:
    """Check and normalise every field of ``inst`` that declares :class:`Bounds`.

    Raises:
        ValidationError: A bounded field holds something else than a number in its range
            (``None`` passes for a field whose default is ``None``).
    """
    setter = object.__setattr__
    model = type(inst).__name__
    for name, bounds, optional in bounds_of(type(inst)):
        value = getattr(inst, name)
        if value is None and optional:
            continue
        checked = number(value, bounds, name, model=model)
        if checked is not value:
            setter(inst, name, checked)
