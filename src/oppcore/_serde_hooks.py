"""The cattrs hooks of oppcore's wire format (installed by ``serde.configure_converter``).

Every hook raises a plain exception (``TypeError``, ``ValueError`` or a model's
``ValidationError``) with a message that reads on its own; where the bad value sits is
left to cattrs: a converter with detailed validation wraps each failure in its error groups
(``ClassValidationError``, ``IterableValidationError``), and ``serde.structure_error`` reads
the path from them.
"""

import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.fns import identity

from ._frozenmap import EMPTY_MAP, CustomValue, FrozenMap
from ._iso import parse_date, parse_datetime
from ._money import Money, to_decimal

__all__ = ["install_hooks"]

_CUSTOM = Mapping[str, CustomValue]
_Hook = Callable[[Any, Any], Any]

def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parse_datetime(value)  # the one ISO 8601 reader (oppcore._iso)


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    return parse_date(value)


def _structure_decimal(value: Any, _: Any) -> Decimal:
    return to_decimal(value, what="value")


def _structure_money(value: Any, _: Any) -> Money:
    if type(value) is not dict:
        raise TypeError(f"expected an object (Money), got {type(value).__name__}")
    # Not a KeyError: cattrs raises those for a missing field of the class being built,
    # and serde.structure_error reads them so (the path names the object, not the key).
    for key in ("amount", "currency"):
        if key not in value:
            raise ValueError(f"missing required field {key!r}")
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


def _tuple_hook_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    detailed = converter.detailed_validation

    def factory(tp: Any) -> _Hook:
        item_type = get_args(tp)[0]
        item_hook = converter.get_structure_hook(item_type)

        def structure_tuple(value: Any, _: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise TypeError(f"expected an array, got {type(value).__name__}")
            return tuple([item_hook(item, item_type) for item in value])

        def structure_tuple_detailed(value: Any, _: Any) -> tuple[Any, ...]:
            # cattrs' own error group, so transform_error (and serde.structure_error) name
            # the index of every bad item.
            if type(value) is not list:
                raise TypeError(f"expected an array, got {type(value).__name__}")
            items: list[Any] = []
            errors: list[Exception] = []
            for index, item in enumerate(value):
                try:
                    items.append(item_hook(item, item_type))
                except Exception as exc:  # noqa: PERF203 - every bad item is reported
                    note = IterableValidationNote(f"Structuring {tp!r} @ index {index}",
                                                  index, item_type)
                    # As cattrs does it: add_note() and typeshed's __notes__ are 3.11+.
                    setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
            return tuple(items)

        return structure_tuple_detailed if detailed else structure_tuple

    return factory


def _is_oppcore_model(tp: Any) -> bool:
    module = getattr(tp, "__module__", "")
    return attrs.has(tp) and (module == "oppcore" or module.startswith("oppcore."))


def _is_oppcore_model_without_required_fields(tp: Any) -> bool:
    return _is_oppcore_model(tp) and all(
        f.default is not attrs.NOTHING for f in attrs.fields(tp) if f.init)


def _object_check_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    """Hooks that refuse a non-object before cattrs' generated code looks up each field.

    Without it, a model whose fields all have defaults reads any list or string as an empty
    object (``"urgency" in []`` is simply false), and with detailed validation a list where
    a model belongs fails once per field ("list indices must be integers"), each reported as
    that field's problem.
    """

    def factory(cls: Any) -> _Hook:
        generated = converter.gen_structure_attrs_fromdict(cls)
        name = cls.__name__

        def structure_model(value: Any, tp: Any) -> Any:
            if type(value) is not dict:
                raise TypeError(f"expected an object ({name}), got {type(value).__name__}")
            return generated(value, tp)

        return structure_model

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


def _optional_of(tp: Any) -> Any:
    """``X`` for ``X | None`` (either order), else ``None``."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    args = get_args(tp)
    if len(args) != 2 or type(None) not in args:
        return None
    return args[0] if args[1] is type(None) else args[1]


def _is_optional(tp: Any) -> bool:
    return _optional_of(tp) is not None


def _optional_structure_factory(converter: cattrs.Converter) -> Callable[[Any], _Hook]:
    """Hooks for ``X | None`` that call ``X``'s hook directly.

    cattrs' own hook looks ``X``'s hook up again on every value; these resolve it once. The
    values are the same: ``None`` stays ``None``, anything else goes to ``X``'s hook (and a
    scalar ``X`` passes through, as it does without ``None``: the model checks it).
    """

    def factory(tp: Any) -> _Hook:
        inner = _optional_of(tp)
        if inner in _SCALARS:
            return _passthrough_optional
        hook = converter.get_structure_hook(inner)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else hook(value, inner)

        return structure_optional

    return factory


def _passthrough_optional(value: Any, _: Any) -> Any:
    return value


def _optional_unstructure_factory(converter: cattrs.Converter) -> Callable[[Any], Any]:
    """``X | None`` unstructures as ``X`` does when that is the identity (``str | None``), so
    cattrs' generated code copies the value without a call; otherwise as cattrs does."""

    def factory(tp: Any) -> Any:
        hook = converter.get_unstructure_hook(_optional_of(tp))
        if hook is identity:
            return identity
        return converter.gen_unstructure_optional(tp)

    return factory


def install_hooks(converter: cattrs.Converter) -> None:
    """Install the wire format's hooks on ``converter`` (see ``serde.configure_converter``)."""
    # A fast converter needs the check only where nothing else would fail: a model with a
    # required field already raises (KeyError, TypeError) when given a non-object, and the
    # detailed twin then says where. Detailed converters check every model, for the message.
    which = (_is_oppcore_model if converter.detailed_validation
             else _is_oppcore_model_without_required_fields)
    converter.register_structure_hook_factory(which, _object_check_factory(converter))
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
    converter.register_structure_hook_factory(_is_optional,
                                              _optional_structure_factory(converter))
    converter.register_unstructure_hook_factory(_is_optional,
                                                _optional_unstructure_factory(converter))
