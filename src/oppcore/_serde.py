"""The implementation of :mod:`oppcore.serde` (see its documentation)."""

import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any, Final, TypeVar

import cattrs

from . import _serde_errors
from ._errors import StructureError
from ._models import Lead, Opportunity
from ._serde_codec import PLAIN, Codec, fast_codec, fast_model_encoder, refuse_constant
from ._serde_hooks import install_hooks
from ._serde_typed import line_reader, needs_plain, typed_reader, writer
from ._version import __version__

__all__ = [
    "SCHEMA_VERSION",
    "OppcoreConverter",
    "check_schema_version",
    "configure_converter",
    "decode_json",
    "document",
    "document_header",
    "dumps",
    "encode_json",
    "is_fast",
    "loads",
    "make_converter",
    "read_document",
    "set_fast",
    "structure",
    "structure_error",
    "unstructure",
]

SCHEMA_VERSION: Final = 1
"""Version of the wire format written by this release (see the module docstring)."""

_T = TypeVar("_T")


_NO_FAST: Final = "the fast path needs msgspec: pip install 'oppcore[fast]'"


def _codec(fast: bool | None) -> Codec:
    """The codec for ``fast``: ``None`` is msgspec when installed, else the standard library."""
    if fast is False:
        return PLAIN
    codec = fast_codec()
    if codec is None:
        if fast:
            raise ImportError(_NO_FAST)
        return PLAIN
    return codec


class OppcoreConverter(cattrs.Converter):
    """A cattrs converter for oppcore's JSON wire format, with ``dumps`` and ``loads``.

    Build one with :func:`make_converter`, which installs the hooks; a bare instance
    structures oppcore models with cattrs' defaults, not the wire format. Its errors are
    cattrs' own (with the default ``detailed_validation=True``, the error groups);
    :func:`structure_error` turns them into a :class:`~oppcore.StructureError`.

    ``dumps`` and ``loads`` write and read JSON text with the converter's codec: msgspec on
    the fast path (``fast`` is true), the standard library's ``json`` otherwise; the text
    and the values are the same either way (see the wire format guide).
    """

    _codec: Codec = PLAIN

    @property
    def fast(self) -> bool:
        """Whether ``dumps`` and ``loads`` use the fast path (msgspec)."""
        return self._codec is not PLAIN

    def dumps(self, obj: Any, unstructure_as: Any = None, **kwargs: Any) -> str:
        """Serialise ``obj`` to JSON text.

        Args:
            obj: A model, a document or any value the converter unstructures.
            unstructure_as: The type to unstructure ``obj`` as (cattrs' argument).
            **kwargs: Passed to ``json.dumps``. By default the text is compact (no spaces
                after separators unless ``indent`` is given) and keeps non-ASCII characters.
                Without them, the fast path writes the same compact text with msgspec.
        """
        if not kwargs:
            return self._codec.encode(self.unstructure(obj, unstructure_as=unstructure_as))
        kwargs.setdefault("ensure_ascii", False)
        if kwargs.get("indent") is None:
            kwargs.setdefault("separators", (",", ":"))
        return json.dumps(self.unstructure(obj, unstructure_as=unstructure_as), **kwargs)

    def loads(self, data: str | bytes, cl: type[_T], **kwargs: Any) -> _T:
        """Parse JSON text and structure it as ``cl``.

        Args:
            data: JSON text.
            cl: The model class (``Opportunity``, ``Lead``, ...).
            **kwargs: Passed to ``json.loads``. ``NaN`` and ``Infinity`` are refused unless
                ``parse_constant`` says otherwise. Without them, the fast path parses with
                msgspec (falling back to ``json.loads`` for whatever msgspec refuses, so the
                values and the errors are the plain path's).

        Raises:
            ValueError: For text that is not JSON (``json.JSONDecodeError``).
            cattrs.BaseValidationError: For data that does not describe a ``cl`` (with
                detailed validation; pass it to :func:`structure_error` for the path).
        """
        if not kwargs:
            return self.structure(self._codec.decode(data), cl)
        kwargs.setdefault("parse_constant", refuse_constant)
        return self.structure(json.loads(data, **kwargs), cl)


def configure_converter(converter: cattrs.Converter) -> None:
    """Install oppcore's hooks (the wire format above) on ``converter``.

    Use this to serialise oppcore models with a converter your application already
    configures for its own types. Hooks are registered for oppcore's models and for
    ``datetime``, ``date``, ``Decimal``, ``str``, ``int``, ``float``, ``bool`` and
    homogeneous tuples. With detailed validation (the cattrs default), what the converter
    raises for bad data is what :func:`structure_error` reads.
    """
    install_hooks(converter)


def make_converter(*, fast: bool | None = None, **kwargs: Any) -> OppcoreConverter:
    """Return a new :class:`OppcoreConverter` configured for every oppcore model.

    Args:
        fast: ``None`` (the default) uses the fast path when msgspec is installed (the
            ``fast`` extra); ``False`` forces the plain path (the standard library's
            ``json``); ``True`` requires msgspec.
        **kwargs: Passed to the converter (``detailed_validation``,
            ``forbid_extra_keys``, ...), as with ``cattrs.preconf.json.make_converter``.
            The default is cattrs' own: detailed validation, whose errors
            :func:`structure_error` turns into path-naming messages.

    Raises:
        ImportError: ``fast=True`` without msgspec installed.
    """
    codec = _codec(fast)
    converter = OppcoreConverter(**kwargs)
    configure_converter(converter)
    converter._codec = codec
    return converter


def structure_error(exc: BaseException, *, path: str = "") -> StructureError:
    """Return the :class:`~oppcore.StructureError` for an error a converter raised.

    ``exc`` is what ``converter.structure`` raised, for a converter configured with
    :func:`configure_converter` and detailed validation (the cattrs default): a
    ``cattrs.ClassValidationError`` or ``IterableValidationError``, or an error of the top
    object itself. The paths come from ``cattrs.transform_error``; the messages are those of
    :func:`structure`, which uses this function. Raise the result ``from exc``::

        try:
            deal = converter.structure(data, Opportunity)
        except Exception as exc:
            raise serde.structure_error(exc, path="opportunities[3]") from exc

    A converter without detailed validation stops at the first problem without saying
    where it is: the error then names only ``path``.

    Args:
        exc: The error raised while structuring.
        path: A prefix for the path (``"opportunities[3]"``).

    Returns:
        An error whose ``.path`` names the first bad value (``opportunities[3].amount``) and
        whose message says what is wrong with it, then lists any further problems.
    """
    return _serde_errors.structure_error(exc, path=path)


# The shared converters: one without detailed validation for every call, and a detailed twin,
# built on the first failure, that structures the same data again to say where it is bad.
# Their text goes through the shared codec below, not through their own dumps/loads.
_CONVERTER: Final = make_converter(detailed_validation=False, fast=False)

# The codec of the module-level functions, the documents, oppcore.io and the stores: the
# fast path when msgspec is installed (set_fast switches it for the whole process).
_shared = [_codec(None)]


def set_fast(enabled: bool) -> bool:
    """Switch the fast path of the module-level functions on or off; return the old state.

    The module-level functions (:func:`dumps`, :func:`loads`, :func:`encode_json`,
    :func:`decode_json`), :mod:`oppcore.io`'s JSON and JSON Lines formats and the stores use
    the fast path (msgspec) whenever it is installed; ``set_fast(False)`` makes them use the
    standard library's ``json`` instead, for the whole process. Either way the text written
    and the values read are the same; only the speed differs.

    Raises:
        ImportError: ``enabled`` is true and msgspec is not installed.
    """
    was = is_fast()
    _shared[0] = _codec(enabled)
    return was


def is_fast() -> bool:
    """Return whether the module-level functions use the fast path (see :func:`set_fast`)."""
    return _shared[0] is not PLAIN


def encode_json(data: Any) -> str:
    """Return the compact JSON text of JSON-ready ``data`` (what :func:`unstructure` returns).

    The one JSON writer of the wire format (used by :func:`dumps`, :mod:`oppcore.io` and the
    stores): compact, non-ASCII kept; msgspec on the fast path, the same text either way.
    """
    return _shared[0].encode(data)


def decode_json(text: str | bytes) -> Any:
    """Return the JSON-ready data of JSON ``text`` (the one reader: see :func:`encode_json`).

    Raises:
        ValueError: ``text`` is not JSON (``json.JSONDecodeError``; ``NaN`` and
            ``Infinity`` are refused), with the standard library's message on either path.
        RecursionError: The text nests deeper than Python can follow.
    """
    return _shared[0].decode(text)


@cache
def _detailed_converter() -> OppcoreConverter:
    return make_converter()


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
            bad value and the original error (cattrs' error group) is chained.
    """
    try:
        return _CONVERTER.structure(data, cls)
    except Exception as fast:  # every failure is reported with its path
        try:
            _detailed_converter().structure(data, cls)
        except Exception as exc:  # the same failure, now with its path
            raise structure_error(exc, path=path) from exc
        # Both converters carry the same hooks, so this is not expected; report the first.
        raise structure_error(fast, path=path) from fast


def dumps(value: Any, **kwargs: Any) -> str:
    """Serialise a model (or a document) to a JSON string (see :meth:`OppcoreConverter.dumps`).

    Args:
        value: A model or a document.
        **kwargs: Passed to ``json.dumps`` (``indent=2`` for readable text).
    """
    if kwargs:
        return _CONVERTER.dumps(value, **kwargs)
    return encode_model(value)


def encode_model(value: Any, edit: Callable[[dict[str, Any]], None] | None = None) -> str:
    """Return the compact JSON text of the model ``value``, after ``edit`` (if given) has
    changed its top-level object (the stores drop fields kept apart and set ``version``).

    On the fast path the typed writer (:func:`oppcore._serde_typed.writer`) leaves dates,
    decimals, enums and money for msgspec to write, which it does byte for byte as the
    plain path would; anything it cannot promise so is written on the plain path.
    """
    if _shared[0] is not PLAIN:
        encode, unstructure = fast_model_encoder(), writer(_CONVERTER, type(value))
        if encode is not None and unstructure is not None:
            data = unstructure(value)
            if edit is not None:
                edit(data)
            text = encode(data)
            if text is not None:
                return text
    data = _CONVERTER.unstructure(value)
    if edit is not None:
        edit(data)
    return _shared[0].encode(data)


def loads(text: str | bytes, cls: type[_T]) -> _T:
    """Parse a JSON string into a ``cls`` value.

    On the fast path, msgspec reads the text straight into the models (the typed reader of
    :mod:`oppcore._serde_typed`: the same checks, in one pass); anything it does not read
    exactly as the plain path would is read again on the plain path, which gives the value
    or the error.

    Raises:
        StructureError: For invalid JSON or data that does not describe a ``cls``.
    """
    if _shared[0] is not PLAIN:
        reader = typed_reader(cls)
        if reader is not None and not needs_plain(text):
            try:
                return reader(text)  # type: ignore[no-any-return]
            except Exception:  # noqa: S110 - read again on the plain path below
                pass
    try:
        data = decode_json(text)
    except ValueError as exc:
        raise StructureError(f"invalid JSON: {exc}") from exc
    return structure(data, cls)


def read_record_line(text: str, kinds: Mapping[str, type[_T]], *, max_depth: int) -> _T | None:
    """Return the record of a JSON Lines line read on the fast path, or ``None``.

    ``None`` means "read it on the plain path": the fast path is off, the line nests possibly
    deeper than ``max_depth`` allows, or the typed reader refused it (the plain path then
    gives the value or the error with its path). Used by :mod:`oppcore.io`'s JSON Lines
    reader; ``kinds`` maps the ``"kind"`` of a line to its class.
    """
    if _shared[0] is PLAIN:
        return None
    reader = line_reader(tuple(kinds.items()))
    if reader is None or reader.depth > max_depth:
        return None
    try:
        return reader(text)  # type: ignore[no-any-return]
    except Exception:  # whatever it is, the plain path reads the line again
        return None


def document_header() -> dict[str, Any]:
    """Return the header every export document starts with (a new dict each call).

    ``{"schema_version": SCHEMA_VERSION, "generator": "oppcore <version>"}``: the one
    definition used by :func:`document` and by :mod:`oppcore.io`'s JSON and JSON Lines
    writers. Readers check the version with :func:`check_schema_version`.
    """
    return {"schema_version": SCHEMA_VERSION, "generator": f"oppcore {__version__}"}


def document(
    *, leads: Iterable[Lead] = (), opportunities: Iterable[Opportunity] = ()
) -> dict[str, Any]:
    """Return an export document: the header (:func:`document_header`), leads, opportunities."""
    return {
        **document_header(),
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
