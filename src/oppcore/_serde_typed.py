"""The fast path's typed reader: msgspec reads a record's JSON text straight into the models.

The plain reader parses text to dicts and lists, then the converter calls a hook per field
and each model's constructor, whose check table checks every field again. This reader gives
msgspec the *shape* of the record with the checks msgspec can make itself, so it parses,
type-checks and builds in one pass in C, and only what msgspec cannot check runs in Python:

* each model is read into its **wire twin** (:func:`wire_twin`): a private subclass of the
  same memory layout whose annotations are the field types as msgspec reads them, narrowed
  by the model's own check table (an ``aware`` field reads as a datetime with an offset, a
  ``counts`` field as an integer ``>= 0``, a ``string_sets`` field as non-empty strings);
* msgspec sets the fields and calls the twin's ``__attrs_post_init__``, which moves the
  instance to the public class (``inst.__class__ = cls``, as :func:`oppcore._copying.builder_twin`
  does), applies the attrs converters of the fields that have one (``Money``'s amount and
  currency, a quote line's decimals: the model's own converters, on the strings read) and
  runs **the residual checks**: the model's check table without the checks msgspec has
  already made (:meth:`oppcore._check_table.Checks.residual`), so non-blank texts, custom
  fields, money signs and every cross-field rule still run. A model whose table is not its
  whole validation (it declares no ``__oppcore_checks__``) runs its own
  ``__attrs_post_init__`` instead, unchanged.

msgspec reads a value only where its rules accept **nothing the plain path refuses and give
the same value** (``tests/test_serde_typed.py`` holds them to it): strings, integers of any
width (never a float), booleans, floats (an integer becomes a float, as the model makes it),
enums by value, ``YYYY-MM-DD`` dates, RFC 3339 date-times (read to the same instant and
offset as :func:`oppcore._iso.parse_datetime`; a fraction of a second longer than six
digits, which msgspec rounds and the plain path truncates, sends the text to the plain
path), arrays, custom-field objects of str/int/bool/null, decimals as strings (then the
model's converter reads them). A field left out takes the model's own default, as on the
plain path (the stores keep a deal's activities and history apart, so its row leaves them
out); a field whose default is computed from the instance must be present, or the text is
read on the plain path.

Whatever msgspec refuses or any check raises, the caller reads the text again on the plain
path, which returns the value (defaults of missing fields, lenient forms) or raises the
error naming its path: this reader never explains a failure.
"""

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Final, get_args

import attrs
import cattrs
from cattrs.fns import identity

from ._check_table import Checks
from ._copying import CHECKS_ATTRIBUTE
from ._frozenmap import CustomValue, FrozenMap
from ._money import Money
from ._serde_hooks import _is_homogeneous_tuple, _optional_of, install_hooks

__all__ = ["MUST_BE_PLAIN", "line_reader", "needs_plain", "typed_reader", "unstructurer",
           "wire_twin", "writer"]

_CUSTOM: Final = Mapping[str, CustomValue]
_NONE: Final = type(None)

MUST_BE_PLAIN: Final = re.compile(r"[0-9]:[0-9]{2}\.[0-9]{7}")
"""Text with a time whose fraction of a second has more than six digits (msgspec rounds it,
the plain path truncates it): such text is read on the plain path."""
_MUST_BE_PLAIN_BYTES: Final = re.compile(MUST_BE_PLAIN.pattern.encode())
# The full pattern scans slowly (it tries every digit); a literal "." first is ~10x faster,
# and the full one runs only where the hint is found.
_HINT: Final = re.compile(r"\.[0-9]{7}").search
_HINT_BYTES: Final = re.compile(rb"\.[0-9]{7}").search


class Unsupported(Exception):
    """A type this reader does not handle: the whole record is read on the plain path."""


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


def _classes(tp: Any) -> frozenset[type] | None:
    """The classes a value msgspec reads for the field type ``tp`` may have (``None``: not a
    type this reader narrows a check by)."""
    inner = _optional_of(tp)
    if inner is not None:
        found = _classes(inner)
        return None if found is None else found | {_NONE}
    if tp in (str, int, bool, float, date, datetime) or _str_enum(tp) or _is_model(tp):
        return frozenset({tp})
    return None


class _Spec:
    """How msgspec reads one model's fields, and which of its checks that already makes."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.table: Checks | None = cls.__dict__.get(CHECKS_ATTRIBUTE)
        spec = self.table.spec if self.table is not None else {}
        self.fields = {a.name: a for a in attrs.fields(cls)}
        self.counts = frozenset(spec.get("counts", ())) | frozenset(
            spec.get("optional_counts", ()))
        self.aware = frozenset(spec.get("aware", ())) | frozenset(spec.get("optional_aware", ()))
        self.string_sets = frozenset(spec.get("string_sets", ()))
        self.optional = self.table.optional if self.table is not None else frozenset()

    def enforced(self, kind: str, name: str, types: tuple[type, ...] = ()) -> bool:
        """Whether msgspec's reading of field ``name`` already makes the check ``kind``."""
        a = self.fields.get(name)
        if a is None or a.converter is not None:
            return False
        tp = a.type
        exact = {
            "optional_text": (str, str | None),
            "aware": (datetime,),
            "optional_aware": (datetime, datetime | None),
            "optional_date": (date, date | None),
            "counts": (int,),
            "optional_counts": (int, int | None),
            "string_sets": (frozenset[str],),
        }
        if kind in exact:
            return tp in exact[kind]
        if kind == "bools":
            return tp is bool or (tp == bool | None and name in self.optional)
        if kind == "instances":
            found = _classes(tp)
            return found is not None and found <= frozenset(types)
        if kind == "tuples":
            item = _tuple_item(tp)
            found = _classes(item) if item is not None else None
            return found is not None and _NONE not in found and found <= frozenset(types)
        return False  # text (non-blank), custom, money: they always run

    def wire(self, name: str, tp: Any) -> Any:
        """The type msgspec reads for field ``name`` of type ``tp``."""
        inner = _optional_of(tp)
        if inner is not None:
            return self.wire(name, inner) | None
        item = _tuple_item(tp)
        if item is not None:
            return tuple.__class_getitem__((self.wire("", item), ...))
        if tp is datetime:
            return Annotated[datetime, _meta(tz=True)] if name in self.aware else datetime
        if tp is int:
            return Annotated[int, _meta(ge=0)] if name in self.counts else int
        if tp == frozenset[str]:
            return (frozenset[Annotated[str, _meta(min_length=1)]] if name in self.string_sets
                    else frozenset[str])
        if tp == _CUSTOM:
            return dict[str, CustomValue]  # the table's custom check makes the FrozenMap
        if tp is Decimal and self.fields[name].converter is not None:
            return str  # the canonical wire form; the model's converter reads it
        if tp in (str, bool, float, date) or _str_enum(tp):
            return tp
        if _is_model(tp):
            return wire_twin(tp)
        raise Unsupported(tp)


def _meta(**constraints: Any) -> Any:
    import msgspec  # optional: the ``fast`` extra (only reached when it is installed)

    return msgspec.Meta(**constraints)


_set = object.__setattr__


@cache
def wire_twin(cls: type) -> type:
    """Return the class msgspec reads the model ``cls`` into (see the module notes).

    Raises:
        Unsupported: A field has a type this reader does not read (``attrs.Converter``
            objects, aliases, ``init=False`` fields, unknown types).
    """
    spec = _Spec(cls)
    fields = attrs.fields(cls)
    if "__slots__" not in cls.__dict__ or any(
            not a.init or a.alias != a.name or isinstance(a.converter, attrs.Converter)
            for a in fields):
        raise Unsupported(cls)
    annotations = {a.name: spec.wire(a.name, a.type) for a in fields}
    converters = tuple((a.name, a.converter) for a in fields if a.converter is not None)
    if spec.table is not None:
        check = spec.table.residual(spec.enforced).runner
    else:
        check = getattr(cls, "__attrs_post_init__", None)
    finish = _finisher(cls, converters, check)

    return type(f"_{cls.__name__}Wire", (cls,), {
        "__slots__": (),  # the same layout: the instance may move to ``cls``
        "__annotations__": annotations,
        # A field left out takes its default, as on the plain path; one whose default is
        # computed from the instance (a deal's updated_at) is required, and a document
        # leaving it out is read on the plain path.
        "__attrs_attrs__": tuple(a.evolve(default=attrs.NOTHING) if _reads_self(a) else a
                                 for a in fields),
        "__attrs_post_init__": finish,
        "__module__": cls.__module__,
    })


def _reads_self(a: Any) -> bool:
    return isinstance(a.default, attrs.Factory) and bool(a.default.takes_self)  # type: ignore[arg-type]


def _finisher(cls: type, converters: tuple[tuple[str, Any], ...],
              check: Callable[[Any], None] | None) -> Callable[[Any], None]:
    """The twin's post-init: move to ``cls``, convert, check (each step only if any)."""
    if converters:
        def finish(inst: Any) -> None:
            _set(inst, "__class__", cls)  # from here on, the public (frozen) class
            for name, convert in converters:
                _set(inst, name, convert(getattr(inst, name)))
            if check is not None:
                check(inst)
    elif check is not None:
        def finish(inst: Any) -> None:
            _set(inst, "__class__", cls)
            check(inst)
    else:
        def finish(inst: Any) -> None:
            _set(inst, "__class__", cls)
    return finish


def typed_reader(cls: type) -> Callable[[str | bytes], Any] | None:
    """Return the typed reader of model ``cls``, or ``None`` (no msgspec, or not a model).

    The reader raises on anything it does not read exactly as the plain path would: the
    caller then reads the text on the plain path. Text matching :data:`MUST_BE_PLAIN` must
    not be given to it (:func:`needs_plain` says).
    """
    found = _READERS.get(cls, _READERS)  # one dict lookup per call: stores read per record
    if found is _READERS:
        found = _reader(cls) if _is_model(cls) else None
        if len(_READERS) < 1024:
            _READERS[cls] = found
    return found  # type: ignore[return-value]


_READERS: dict[type, Callable[[str | bytes], Any] | None] = {}


@cache
def _reader(cls: type) -> Callable[[str | bytes], Any] | None:
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    try:
        decode: Callable[[str | bytes], Any] = msgspec.json.Decoder(wire_twin(cls)).decode
    except (Unsupported, TypeError, NotImplementedError):
        return None
    return decode


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
def line_reader(kinds: tuple[tuple[str, type], ...]) -> LineReader | None:
    """Return the reader of JSON Lines record lines of ``kinds``, or ``None`` (no msgspec,
    or a kind without a typed reader). The record's text is kept raw by msgspec and read
    by its kind's typed reader."""
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    readers = {name: typed_reader(cls) for name, cls in kinds}
    found = {name: r for name, r in readers.items() if r is not None}
    if len(found) != len(readers):
        return None
    line = msgspec.defstruct("RecordLine", [("kind", str), ("record", msgspec.Raw)])
    depth = 1 + max(_depth(cls) for _, cls in kinds)
    return LineReader(msgspec.json.Decoder(line).decode, found, depth)


# --- the typed writer ------------------------------------------------------------------

_MINUTES: dict[Any, bool] = {}  # tzinfo -> whether msgspec writes its offset as isoformat()


def _wire_datetime(value: datetime) -> Any:
    """``value`` itself where msgspec writes exactly ``value.isoformat()``, else that text.

    msgspec writes an offset of zero as ``Z`` (isoformat: ``+00:00``) and rounds an offset
    with seconds to minutes; a fixed ``timezone`` with a non-zero offset of whole minutes is
    written alike. Each such timezone is looked at once (a handful per process).
    """
    tz = value.tzinfo
    if type(tz) is not timezone or type(value) is not datetime:
        return value.isoformat()  # zones (offsets vary), dateutil's (some unhashable)...
    same = _MINUTES.get(tz)
    if same is None:
        offset = tz.utcoffset(None)
        same = bool(offset) and not offset.seconds % 60 and not offset.microseconds
        if len(_MINUTES) < 256:  # hostile data may bring many; past that, look each time
            _MINUTES[tz] = same
    return value if same else value.isoformat()


def _custom_dict(value: Any) -> Any:
    """Custom fields as a dict in insertion order (a model holds a :class:`FrozenMap`,
    whose own dict msgspec reads without copying)."""
    return value._data if type(value) is FrozenMap else dict(value)


def _wire_float(value: float) -> Any:
    """The float as ``json.dumps`` writes it (``float.__repr__``: ``1e-05``, not msgspec's
    ``0.00001``), handed to msgspec as raw JSON."""
    return _raw(float.__repr__(value).encode())


def _raw(text: bytes) -> Any:
    import msgspec  # optional: the ``fast`` extra (only reached when it is installed)

    return msgspec.Raw(text)


def _every_value(tp: Any, scalars: tuple[Any, ...], model: Callable[[type], bool]) -> bool:
    """Whether every value of the field type ``tp`` (through ``X | None`` and
    ``tuple[X, ...]``) is of one of the types ``scalars``, a str enum, or a model that
    ``model`` accepts."""
    inner = _optional_of(tp)
    if inner is not None:
        return _every_value(inner, scalars, model)
    item = _tuple_item(tp)
    if item is not None:
        return _every_value(item, scalars, model)
    if tp in scalars or _str_enum(tp):
        return True
    return _is_model(tp) and model(tp)


def _writable(tp: Any) -> bool:
    """Whether every value of the field type ``tp`` goes through a hook of the typed writer
    whose output msgspec writes as the plain path does (else the model is written plain)."""
    return _every_value(tp, (str, int, bool, float, date, datetime, Decimal, frozenset[str],
                             _CUSTOM), _writable_model)


@cache
def _writable_model(cls: type) -> bool:
    return all(_writable(a.type) for a in attrs.fields(cls))


def _identity_where_native(converter: cattrs.Converter) -> None:
    """Register the hooks of the typed writer on ``converter`` (see :func:`writer`)."""
    converter.register_unstructure_hook(datetime, _wire_datetime)
    converter.register_unstructure_hook(float, _wire_float)
    converter.register_unstructure_hook(date, identity)
    converter.register_unstructure_hook(Decimal, identity)
    converter.register_unstructure_hook_func(_str_enum, identity)
    converter.register_unstructure_hook_func(lambda tp: tp == _CUSTOM, _custom_dict)
    converter.register_unstructure_hook_func(
        lambda tp: _is_model(tp) and _model_written_as_is(tp), identity)
    if _model_written_as_is(Money):  # registered by class on the plain converter
        converter.register_unstructure_hook(Money, identity)

    def optional_factory(tp: Any) -> Any:
        hook = converter.get_unstructure_hook(_optional_of(tp))
        if hook is identity:
            return identity
        return lambda value: None if value is None else hook(value)

    converter.register_unstructure_hook_factory(lambda tp: _optional_of(tp) is not None,
                                                optional_factory)

    def tuple_factory(tp: Any) -> Any:
        hook = converter.get_unstructure_hook(get_args(tp)[0])
        if hook is identity:
            return identity  # msgspec writes a tuple as an array
        return lambda values: list(map(hook, values))

    converter.register_unstructure_hook_factory(_is_homogeneous_tuple, tuple_factory)


def _written_as_is(tp: Any) -> bool:
    """Whether msgspec writes a value of type ``tp`` itself exactly as the plain path does.

    Strings, integers, booleans, dates, decimals (``str()``), str enums (their value),
    ``None``, tuples of such values, and a slotted model whose fields are in alphabetical
    order (msgspec writes a slotted attrs instance's slots, which CPython keeps sorted) and
    are all such values (``Money``, ``Budget``, ``Source``).
    """
    return _every_value(tp, (str, int, bool, date, Decimal), _model_written_as_is)


@cache
def _model_written_as_is(cls: type) -> bool:
    if "__slots__" not in cls.__dict__:
        return False
    names = [a.name for a in attrs.fields(cls)]
    return names == sorted(names) and all(_written_as_is(a.type) for a in attrs.fields(cls))


_WRITERS: dict[tuple[cattrs.Converter, type], Callable[[Any], Any] | None] = {}


def writer(converter: cattrs.Converter, cls: type) -> Callable[[Any], Any] | None:
    """Return the typed writer's unstructure function for models of class ``cls``, or
    ``None`` (``cls`` is not a model whose every field the writer writes exactly): see
    :func:`unstructurer`. One dict lookup per call: stores call it per record."""
    key = (converter, cls)
    found = _WRITERS.get(key, _WRITERS)
    if found is _WRITERS:
        found = (unstructurer(converter).get_unstructure_hook(cls)  # the class's own hook
                 if _is_model(cls) and _writable_model(cls) else None)
        if len(_WRITERS) < 1024:  # a few model classes; any other value is not cached
            _WRITERS[key] = found
    return found  # type: ignore[return-value]


@cache
def unstructurer(converter: cattrs.Converter) -> cattrs.Converter:
    """Return the typed writer's converter, built from ``converter``'s class.

    It unstructures a model as ``converter`` does, except that what msgspec writes itself
    exactly as the plain path writes it is left as it is: dates, decimals, str enums,
    ``Money``, custom fields (as a dict), tuples of those, and date-times with a fixed
    offset of whole minutes (other date-times become their ``isoformat()``); floats become
    ``json.dumps``'s own text. Only msgspec's encoder may write what it returns
    (:func:`oppcore._serde_codec.fast_model_encoder`).
    """
    fast = type(converter)(detailed_validation=False)
    install_hooks(fast)
    _identity_where_native(fast)
    return fast
