"""The fast path's typed reader: msgspec reads a record's JSON text straight into models.

The plain reader parses text to dicts and lists, then the converter calls a hook per field
and each model's constructor. This reader gives msgspec the *shape* of the record, so it
parses, type-checks and builds in one pass in C, and every check of the plain path still
runs:

* a model msgspec can build itself (:func:`native`: an attrs model without attrs converters
  or validators, without a default that reads the instance, whose every field has a type
  msgspec reads by the rules below) is built by msgspec, which sets its fields and then
  calls its ``__attrs_post_init__``: the model's whole check table and cross-field rules;
* any other model (``Opportunity``, ``Lead``, ``Money``, ``QuoteLine``, and those holding
  them) is read into a msgspec ``Struct`` of the same fields, then built by its own
  constructor, the fields that need it going through the converter's own hooks first
  (decimals as strings, ``Money`` as the plain hook builds it).

msgspec reads a value only where its rules accept **nothing the plain path refuses and give
the same value** (``tests/test_serde_typed.py`` holds them to it): strings, integers of any
width (never a float), booleans, floats (an integer becomes a float, as the model makes it),
enums by value, ``YYYY-MM-DD`` dates, RFC 3339 date-times (read to the same instant and
offset as :func:`oppcore._iso.parse_datetime`; a fraction of a second longer than six
digits, which msgspec rounds and the plain path truncates, sends the text to the plain
path), arrays, custom-field objects of str/int/bool/null. Every field must be present (the
wire format writes them all): a document that leaves one out is read on the plain path.

Whatever msgspec refuses or any check raises, the caller reads the text again on the plain
path, which returns the value (defaults of missing fields, lenient forms) or raises the
error naming its path: this reader never explains a failure.
"""

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import Any, Final, get_args

import attrs
import cattrs

from ._frozenmap import CustomValue
from ._money import Money
from ._serde_hooks import _is_homogeneous_tuple, _optional_of

__all__ = ["MUST_BE_PLAIN", "line_reader", "native", "needs_plain", "typed_reader"]

_Build = Callable[[Any], Any]
_SCALARS: Final = (str, int, bool, float, date, datetime)
_CUSTOM: Final = Mapping[str, CustomValue]

MUST_BE_PLAIN: Final = re.compile(r"[0-9]:[0-9]{2}\.[0-9]{7}")
"""Text with a time whose fraction of a second has more than six digits (msgspec rounds it,
the plain path truncates it): such text is read on the plain path."""
_MUST_BE_PLAIN_BYTES: Final = re.compile(MUST_BE_PLAIN.pattern.encode())
# The full pattern scans slowly (it tries every digit); a literal "." first is ~10x faster,
# and the full one runs only where the hint is found.
_HINT: Final = re.compile(r"\.[0-9]{7}").search
_HINT_BYTES: Final = re.compile(rb"\.[0-9]{7}").search


class Unsupported(Exception):
    """A type this reader does not handle: the whole class is read on the plain path."""


def _tuple_item(tp: Any) -> Any:
    return get_args(tp)[0] if _is_homogeneous_tuple(tp) else None


def _is_model(tp: Any) -> bool:
    module = getattr(tp, "__module__", "")
    return isinstance(tp, type) and attrs.has(tp) and (
        module == "oppcore" or module.startswith("oppcore."))


def _str_enum(tp: Any) -> bool:
    # msgspec matches values exactly; an enum with its own _missing_ reads more (plain path).
    return isinstance(tp, type) and issubclass(tp, enum.Enum) and issubclass(tp, str) \
        and all("_missing_" not in vars(k) for k in tp.__mro__ if k is not enum.Enum)


def native(tp: Any) -> bool:
    """Whether msgspec may read ``tp`` itself (and build it, for a model)."""
    if tp in _SCALARS or _str_enum(tp) or tp == frozenset[str] or tp == _CUSTOM:
        return True
    inner = _optional_of(tp)
    if inner is not None:
        return native(inner)
    item = _tuple_item(tp)
    if item is not None:
        return native(item)
    return _is_model(tp) and _buildable(tp)


@cache
def _buildable(cls: type) -> bool:
    for a in attrs.fields(cls):
        default = a.default
        if (a.converter is not None or a.validator is not None or not a.init
                or a.alias != a.name
                or (isinstance(default, attrs.Factory) and default.takes_self)  # type: ignore[arg-type]
                or not native(a.type)):
            return False
    return True


class _Builder:
    """Builds the msgspec types and the functions that turn what msgspec read into models."""

    def __init__(self, msgspec: Any, converter: cattrs.Converter) -> None:
        self.msgspec = msgspec
        self.converter = converter
        self.structs: dict[type, tuple[Any, _Build]] = {}

    def wire(self, tp: Any) -> tuple[Any, _Build | None]:
        """Return the type msgspec reads for ``tp`` and the function finishing the value."""
        if native(tp):
            return (dict[str, CustomValue] if tp == _CUSTOM else tp), None
        inner = _optional_of(tp)
        if inner is not None:
            wire, finish = self.wire(inner)
            if finish is None:
                return wire | None, None
            return wire | None, _optional(finish)
        item = _tuple_item(tp)
        if item is not None:
            wire, finish = self.wire(item)
            return tuple.__class_getitem__((wire, ...)), _items(finish) if finish else None
        if tp is Decimal:  # a decimal string, read by the converter's hook
            hook = self.converter.get_structure_hook(Decimal)
            return str, lambda value: hook(value, Decimal)
        if _is_model(tp):
            return self.struct(tp)
        raise Unsupported(tp)

    def struct(self, cls: type) -> tuple[Any, _Build]:
        if cls not in self.structs:
            fields = attrs.fields(cls)
            if any(not a.init or a.alias != a.name for a in fields):
                raise Unsupported(cls)
            wires = [self.wire(a.type) for a in fields]
            names = tuple(a.name for a in fields)
            struct = self.msgspec.defstruct(f"{cls.__name__}Wire",
                                            [(n, w) for n, (w, _) in zip(names, wires,
                                                                        strict=True)])
            self.structs[cls] = (struct, _build(cls, names, [f for _, f in wires]))
        return self.structs[cls]


def _optional(finish: _Build) -> _Build:
    return lambda value: None if value is None else finish(value)


def _items(finish: _Build) -> _Build:
    return lambda values: tuple([finish(v) for v in values])


def _build(cls: type, names: tuple[str, ...], finishes: list[_Build | None]) -> _Build:
    """The function building ``cls`` by its constructor from the struct msgspec read."""
    if cls is Money:  # as the plain hook builds it: the strings go to Money's converters
        return lambda w: Money(amount=w.amount, currency=w.currency)
    get = attrgetter(*names)
    steps = tuple((i, f) for i, f in enumerate(finishes) if f is not None)

    def build(w: Any) -> Any:
        values = list(get(w))
        for i, finish in steps:
            values[i] = finish(values[i])
        return cls(**dict(zip(names, values, strict=True)))

    return build


@cache
def _reader(cls: type, converter: cattrs.Converter) -> Callable[[str | bytes], Any] | None:
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    builder = _Builder(msgspec, converter)
    try:
        if _buildable(cls):
            return msgspec.json.Decoder(cls).decode
        struct, build = builder.struct(cls)
        decoder = msgspec.json.Decoder(struct)
    except (Unsupported, TypeError, NotImplementedError):
        return None
    decode_struct = decoder.decode

    def read(text: str | bytes) -> Any:
        return build(decode_struct(text))

    return read


def typed_reader(cls: type, converter: cattrs.Converter) -> Callable[[str | bytes], Any] | None:
    """Return the typed reader of model ``cls``, or ``None`` (no msgspec, or not a model).

    The reader raises on anything it does not read exactly as the plain path would: the
    caller then reads the text on the plain path. Text matching :data:`MUST_BE_PLAIN` must
    not be given to it (:func:`needs_plain` says).
    """
    if not _is_model(cls):
        return None
    return _reader(cls, converter)


def needs_plain(text: str | bytes) -> bool:
    """Whether ``text`` must be read on the plain path (see :data:`MUST_BE_PLAIN`)."""
    if isinstance(text, str):
        return _HINT(text) is not None and MUST_BE_PLAIN.search(text) is not None
    return _HINT_BYTES(text) is not None and _MUST_BE_PLAIN_BYTES.search(text) is not None


def _depth(tp: Any) -> int:
    """How deep the JSON of a ``tp`` value may nest (arrays and objects), at most."""
    inner = _optional_of(tp)
    if inner is not None:
        return _depth(inner)
    item = _tuple_item(tp)
    if item is not None or tp == frozenset[str]:
        return 1 + (_depth(item) if item is not None else 0)
    if tp == _CUSTOM:
        return 1  # values are scalars
    if _is_model(tp):
        return 1 + max((_depth(a.type) for a in attrs.fields(tp)), default=0)
    return 0


class LineReader:
    """Reads a JSON Lines record line ``{"kind": ..., "record": {...}}`` with typed readers."""

    def __init__(self, decode: Callable[[str | bytes], Any],
                 readers: dict[str, Callable[[str | bytes], Any]], depth: int) -> None:
        self._decode = decode
        self._readers = readers
        self.depth = depth
        """The deepest nesting of a line this reader accepts (a limit below it: plain)."""

    def __call__(self, text: str) -> Any:
        """Return the line's record; raise on anything the plain path must read."""
        line = self._decode(text)
        raw = bytes(line.record)
        if needs_plain(raw):
            raise ValueError("to the plain path")
        return self._readers[line.kind](raw)


@cache
def line_reader(kinds: tuple[tuple[str, type], ...],
                converter: cattrs.Converter) -> LineReader | None:
    """Return the reader of JSON Lines record lines of ``kinds``, or ``None`` (no msgspec,
    or a kind without a typed reader). The record's text is kept raw by msgspec and read
    by its kind's typed reader."""
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    readers = {name: typed_reader(cls, converter) for name, cls in kinds}
    found = {name: r for name, r in readers.items() if r is not None}
    if len(found) != len(readers):
        return None
    line = msgspec.defstruct("RecordLine", [("kind", str), ("record", msgspec.Raw)])
    depth = 1 + max(_depth(cls) for _, cls in kinds)
    return LineReader(msgspec.json.Decoder(line).decode, found, depth)
