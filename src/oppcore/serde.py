"""Serialisation: the cattrs converter and oppcore's documented wire format.

Use :func:`make_converter` for a ready converter, or :func:`configure_converter` to install
oppcore's hooks on a converter of your own (the pattern of ``cattrs.preconf``). The
module-level helpers (:func:`unstructure`, :func:`structure`, :func:`dumps`, :func:`loads`,
:func:`document`, :func:`read_document`) use one shared converter.

Wire format (schema version 1):

* every model is a JSON object with **every field present**, named as in Python;
* ``datetime``: ISO 8601 with its UTC offset (``"2026-11-27T09:30:00+08:00"``); naive
  datetimes are refused when read back;
* ``date``: ISO 8601 (``"2026-12-31"``);
* ``Decimal`` (money amounts, quantities, rates): a **string** (``"1999.90"``), never a JSON
  number, so no digit is lost; JSON floats are refused for them;
* enums: their value (``"needs_analysis"``);
* tuples and frozensets: JSON arrays (frozensets sorted, so output is deterministic);
* custom fields: a JSON object of str/int/bool/null values;
* exported documents (:func:`document`) carry ``"schema_version": 1``.

Reading bad data raises :class:`~oppcore.StructureError` naming the path of the bad value,
such as ``opportunities[3].amount.amount: invalid decimal 'abc'``; the underlying error is
chained.
"""

import json
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar, get_args, get_origin

import attrs
import cattrs
from dateutil.parser import isoparse

from ._errors import StructureError, ValidationError
from ._frozenmap import EMPTY_MAP, CustomValue, FrozenMap
from ._models import Lead, Opportunity
from ._money import Money, to_decimal
from ._version import __version__

__all__ = [
    "SCHEMA_VERSION",
    "check_schema_version",
    "configure_converter",
    "document",
    "dumps",
    "loads",
    "make_converter",
    "read_document",
    "structure",
    "unstructure",
]

SCHEMA_VERSION: Final = 1
"""Version of the wire format written by this release (see the module docstring)."""

_T = TypeVar("_T")
_CUSTOM = Mapping[str, CustomValue]

# The stdlib parser is 30-50x faster than dateutil's isoparse; before Python 3.11 it reads
# only the subset of ISO 8601 that isoformat() writes (no "Z", no basic format), so dateutil
# takes over when it refuses a string.
_FROMISO = datetime.fromisoformat


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    try:
        return _FROMISO(value)
    except ValueError:
        try:
            return isoparse(value)
        except (ValueError, OverflowError):
            raise ValueError(f"invalid ISO 8601 datetime {value!r}") from None


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"invalid ISO 8601 date {value!r}") from None


def _structure_decimal(value: Any, _: Any) -> Decimal:
    return to_decimal(value, what="value")


def _structure_money(value: Any, _: Any) -> Money:
    if type(value) is not dict:
        raise TypeError(f"expected an object with amount and currency, got "
                        f"{type(value).__name__}")
    return Money(amount=value["amount"], currency=value["currency"])


def _unstructure_money(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


def _structure_custom(value: Any, _: Any) -> Any:
    # The model validates names and values; here only the container shape is checked.
    if value is None:
        return EMPTY_MAP
    if type(value) is not dict:
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _structure_string_set(value: Any, _: Any) -> frozenset[str]:
    if type(value) is not list:
        raise TypeError(f"expected an array of strings, got {type(value).__name__}")
    return frozenset(value)


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook_factory(converter: cattrs.Converter) -> Any:
    def factory(tp: Any) -> Any:
        item_type = get_args(tp)[0]
        item_hook = converter.get_structure_hook(item_type)

        def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise TypeError(f"expected an array, got {type(value).__name__}")
            return tuple([item_hook(item, item_type) for item in value])

        return structure_tuple

    return factory


def _is_custom(tp: Any) -> bool:
    return bool(tp == _CUSTOM)


def _is_string_set(tp: Any) -> bool:
    return bool(tp == frozenset[str])


def _passthrough(value: Any, tp: Any) -> Any:
    # Models check their own field types, so scalar values pass through unchanged and the
    # model reports a wrong type with the model and field named. Subclasses of the scalar
    # (our str-valued enums) are built from their value.
    return value if tp in _SCALARS else tp(value)


_SCALARS: Final = frozenset({str, int, bool, float})


def configure_converter(converter: cattrs.Converter) -> None:
    """Install oppcore's hooks (the wire format above) on ``converter``.

    Use this to serialise oppcore models with a converter your application already
    configures for its own types.
    """
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Money, _unstructure_money)
    converter.register_structure_hook(Money, _structure_money)
    converter.register_unstructure_hook(FrozenMap, dict)
    # Generic aliases are matched by predicate (functools dispatch only takes classes).
    converter.register_unstructure_hook_func(_is_custom, dict)
    converter.register_structure_hook_func(_is_custom, _structure_custom)
    converter.register_unstructure_hook_func(_is_string_set, sorted)
    converter.register_structure_hook_factory(_is_homogeneous_tuple,
                                              _tuple_hook_factory(converter))
    converter.register_structure_hook_func(_is_string_set, _structure_string_set)
    for scalar in _SCALARS:
        converter.register_structure_hook(scalar, _passthrough)


def make_converter() -> cattrs.Converter:
    """Return a new cattrs converter configured for every oppcore model.

    The converter is tuned for speed (``detailed_validation=False``); :func:`structure`
    adds path-naming errors on top of it.
    """
    converter = cattrs.Converter(detailed_validation=False)
    configure_converter(converter)
    return converter


_CONVERTER: Final = make_converter()


def unstructure(value: Any) -> Any:
    """Return the JSON-ready form of a model (dicts, lists, str, int, float, bool, None)."""
    return _CONVERTER.unstructure(value)


def structure(data: Any, cls: type[_T], *, path: str = "") -> _T:
    """Build a ``cls`` value from its JSON-ready form.

    Args:
        data: What :func:`unstructure` (or ``json.loads``) produced.
        cls: The model class (``Opportunity``, ``Lead``, ...).
        path: A prefix for error paths (``"opportunities[3]"``).

    Raises:
        StructureError: If the data does not describe a valid ``cls``; ``.path`` names the
            bad value and the original error is chained.
    """
    try:
        return _CONVERTER.structure(data, cls)
    except Exception as exc:  # every failure is reported with its path
        raise _explain(data, cls, path, exc) from exc


def dumps(value: Any, *, indent: int | None = None) -> str:
    """Serialise a model (or a document) to a JSON string."""
    if indent is None:
        return json.dumps(unstructure(value), ensure_ascii=False, separators=(",", ":"))
    return json.dumps(unstructure(value), ensure_ascii=False, indent=indent)


def loads(text: str | bytes, cls: type[_T]) -> _T:
    """Parse a JSON string into a ``cls`` value.

    Raises:
        StructureError: For invalid JSON or data that does not describe a ``cls``.
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise StructureError(f"invalid JSON: {exc}") from exc
    return structure(data, cls)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def document(
    *, leads: Iterable[Lead] = (), opportunities: Iterable[Opportunity] = ()
) -> dict[str, Any]:
    """Return an export document: ``schema_version`` plus the leads and opportunities."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"oppcore {__version__}",
        "leads": [unstructure(lead) for lead in leads],
        "opportunities": [unstructure(opp) for opp in opportunities],
    }


def read_document(data: Any) -> tuple[tuple[Lead, ...], tuple[Opportunity, ...]]:
    """Read an export document written by :func:`document` (this or an older version).

    Raises:
        StructureError: If the document is malformed, from a newer schema version, or any
            record is invalid (the path names the record, e.g. ``leads[2].email``).
    """
    if not isinstance(data, dict):
        raise StructureError(f"expected a document object, got {type(data).__name__}")
    check_schema_version(data.get("schema_version"))
    out: dict[str, Any] = {}
    for key, cls in (("leads", Lead), ("opportunities", Opportunity)):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise StructureError(f"expected an array, got {type(items).__name__}", path=key)
        out[key] = tuple(structure(item, cls, path=f"{key}[{i}]")
                         for i, item in enumerate(items))
    return out["leads"], out["opportunities"]


def check_schema_version(version: Any) -> int:
    """Return ``version`` if this release can read documents of that schema version.

    Raises:
        StructureError: If it is missing, not an integer, or newer than
            :data:`SCHEMA_VERSION` (the message says to upgrade oppcore).
    """
    if type(version) is not int:
        raise StructureError("missing or invalid schema_version", path="schema_version",
                             value=version)
    if not 1 <= version <= SCHEMA_VERSION:
        raise StructureError(
            f"schema version {version} is not supported by oppcore {__version__} "
            f"(supported: 1 to {SCHEMA_VERSION}); upgrade oppcore to read it",
            path="schema_version", value=version,
        )
    return version


# --- error explanation (slow path, only after a failure) -------------------------------


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return f"{path}{part}"
    return f"{path}.{part}" if path else part


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StructureError):
        return str(exc)
    if isinstance(exc, ValidationError):
        text = str(exc)
        prefix = f"{exc.model}.{exc.field}: " if exc.model and exc.field else ""
        return text[len(prefix):] if prefix and text.startswith(prefix) else text
    if isinstance(exc, KeyError):
        return f"missing required field {exc.args[0]!r}"
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return str(exc) or type(exc).__name__


def _explain(data: Any, cls: Any, path: str, exc: BaseException) -> StructureError:
    """Find where ``data`` fails to become ``cls`` and build a StructureError for it."""
    found = _locate(data, cls, path)
    if found is None:
        return StructureError(_describe(exc), path=path, value=data)
    where, inner = found
    if isinstance(inner, StructureError):
        return inner
    value = getattr(inner, "value", None)
    return StructureError(_describe(inner), path=where, value=value)


def _locate(data: Any, tp: Any, path: str) -> tuple[str, BaseException] | None:
    """Return the deepest ``(path, error)`` where ``data`` fails as ``tp``, or None."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        if len(args) == 1:
            return _locate(data, args[0], path)
    if attrs.has(tp):
        if not isinstance(data, dict):
            return (path, TypeError(f"expected an object ({tp.__name__}), "
                                    f"got {type(data).__name__}"))
        if tp is Money:
            return _try(data, tp, path)
        for field in attrs.fields(tp):
            if field.name not in data:
                if field.default is attrs.NOTHING:
                    return (path, KeyError(field.name))
                continue
            found = _locate(data[field.name], field.type, _join(path, field.name))
            if found is not None:
                return found
        # Every field is fine on its own: the class's own checks refused the value (the
        # error's .field names the field) or the combination of fields.
        return _try(data, tp, path)
    if origin is tuple and isinstance(data, list):
        item_type = get_args(tp)[0]
        for i, item in enumerate(data):
            found = _locate(item, item_type, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return _try(data, tp, path)


def _try(data: Any, tp: Any, path: str) -> tuple[str, BaseException] | None:
    try:
        _CONVERTER.structure(data, tp)
    except Exception as exc:  # we are looking for the failure
        if isinstance(exc, ValidationError) and not isinstance(exc, StructureError) \
                and exc.field and attrs.has(tp):
            return (_join(path, exc.field), exc)
        return (path, exc)
    return None

