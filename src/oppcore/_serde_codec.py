"""The JSON codecs of the wire format: the standard library's, and msgspec's when installed.

The converter decides *what* a model becomes (dicts, lists, strings, numbers); a codec only
turns that JSON-ready data into text and back. Two codecs, one contract:

* :data:`PLAIN` is the ``json`` module: compact separators, non-ASCII kept, ``NaN`` and
  ``Infinity`` refused when read;
* :func:`fast_codec` is msgspec (the ``fast`` extra). It writes **the same bytes** as the
  plain codec and reads **the same values**, or it hands the call to the plain codec:

  - writing, msgspec's text is kept only when it cannot differ from ``json.dumps``: strings,
    integers of any width, ``true``/``false``/``null`` and key order are written alike, and
    the one difference (a float whose ``repr`` has an exponent: ``2.5e-05`` against
    msgspec's ``0.000025``, ``1e+16`` against ``1e16``) is spotted in msgspec's output, which
    is then written again by ``json.dumps``;
  - reading, anything msgspec refuses (malformed text, ``NaN``, a number out of float range
    that ``json.loads`` reads as infinity, escaped lone surrogates, a byte-order mark) is
    read again by ``json.loads``, so the plain reader's value or error comes out. Text nested
    deeper than :data:`DEEP` levels goes to ``json.loads`` first: the two parsers run out of
    recursion at slightly different depths (msgspec a few levels later on Python 3.10 and
    3.11), and such text is hostile, not data.

Values that are not JSON-ready (sets, datetimes, ``Decimal``, non-finite floats) are outside
the contract: no model unstructures to them. The plain codec refuses most of them or writes
``NaN``; msgspec writes its own forms.
"""

import json
import re
from array import array
from collections.abc import Callable
from functools import cache
from itertools import accumulate
from typing import Any, Final, NamedTuple

__all__ = ["DEEP", "PLAIN", "Codec", "fast_codec", "fast_model_encoder", "refuse_constant"]


def refuse_constant(name: str) -> Any:
    """``json.loads`` ``parse_constant`` hook: ``NaN`` and ``Infinity`` are not data."""
    raise ValueError(f"{name} is not allowed")


class Codec(NamedTuple):
    """A way to write JSON-ready data as compact text and to read text back."""

    name: str
    """``"json"`` (the standard library) or ``"msgspec"``."""
    encode: Callable[[Any], str]
    """Compact JSON text of JSON-ready data (non-ASCII kept)."""
    decode: Callable[[str | bytes], Any]
    """The JSON-ready data of a text; raises ``ValueError`` (or ``RecursionError``)."""


def _plain_encode(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _plain_decode(text: str | bytes) -> Any:
    return json.loads(text, parse_constant=refuse_constant)


PLAIN: Final = Codec("json", _plain_encode, _plain_decode)

# A number msgspec writes differently from json.dumps, as it appears in msgspec's compact
# output: first, or after ":", "," or "[", with an exponent (msgspec writes a lower-case "e"
# followed by "-" or a digit) or as a small fraction json.dumps writes with one (0.00001 is
# "1e-05" there). The full pattern is slow to scan (it tries every ":" and ","), so it runs
# only where a literal hint is found; a string holding such text only costs a rewrite.
_HINT_EXPONENT: Final = re.compile(rb"e[-0-9]").search
_HINT_FRACTION: Final = b"0.0000"
_DIFFERENT_FLOAT: Final = re.compile(rb"(?:^|[:,\[])-?(?:[0-9][0-9.]*e|0\.0000)").search


def _may_differ(raw: bytes) -> bool:
    """Whether msgspec's text ``raw`` may hold a float json.dumps writes otherwise."""
    if _HINT_FRACTION in raw or _HINT_EXPONENT(raw) is not None:
        return _DIFFERENT_FLOAT(raw) is not None
    return False


DEEP: Final = 100
"""Nesting beyond which the fast reader leaves a text to ``json.loads`` (records nest ~6)."""

_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS: Final = b"[]{}"
_NOT_BRACKET: Final = bytes(b for b in range(256) if b not in _BRACKETS)
# "[" and "{" step one level in, "]" and "}" one out (0xff is -1 as a signed byte).
_STEP: Final = bytes.maketrans(_BRACKETS, b"\x01\xff\x01\xff")


def _deeper_than(text: str | bytes, limit: int) -> bool:
    """Whether JSON ``text`` may nest deeper than ``limit`` (never false when it does)."""
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= limit:  # the cheap bound, almost always
            return False
        text = text.encode("utf-8", "surrogatepass")
    elif text.count(b"[") + text.count(b"{") <= limit:
        return False
    # Brackets inside strings are not nesting: drop the strings, keep the brackets, and the
    # deepest level is the largest running sum of their steps (all in C).
    steps = array("b", _STRING.sub(b"", text).translate(_STEP, _NOT_BRACKET))
    return max(accumulate(steps), default=0) > limit


@cache
def fast_codec() -> Codec | None:
    """Return the msgspec codec, or ``None`` when msgspec is not installed."""
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder()
    encode_bytes = encoder.encode
    decode_text = decoder.decode
    refused = (msgspec.MsgspecError, TypeError, ValueError, OverflowError, RecursionError)

    def encode(data: Any) -> str:
        try:
            raw = encode_bytes(data)
        except refused:  # the plain codec's answer, or its error
            return _plain_encode(data)
        if _may_differ(raw):
            return _plain_encode(data)
        return raw.decode()

    def decode(text: str | bytes) -> Any:
        if _deeper_than(text, DEEP):
            return _plain_decode(text)
        try:
            return decode_text(text)
        except refused:
            return _plain_decode(text)

    return Codec("msgspec", encode, decode)


@cache
def fast_model_encoder() -> Callable[[Any], str | None] | None:
    """Return msgspec's writer of the typed writer's data, or ``None`` without msgspec.

    The writer takes what :func:`oppcore._serde_typed.writer` returns (JSON-ready data in
    which dates, decimals, str enums, ``Money``, custom fields and some date-times are left
    for msgspec to write) and returns its compact text, **the same bytes** as the plain path
    writes, or ``None`` where it cannot promise that (msgspec refused a value, such as a
    lone surrogate): the caller then writes the model on the plain path, which gives the
    text or the error. The typed writer hands every float over as ``json.dumps``'s own text
    (``msgspec.Raw``), so msgspec writes no number of its own but integers, which both write
    alike.
    """
    try:
        import msgspec  # optional: the ``fast`` extra
    except ImportError:
        return None
    from ._frozenmap import FrozenMap

    def as_dict(value: Any) -> Any:
        if type(value) is FrozenMap:  # a mapping: its dict, in insertion order
            return value._data
        raise TypeError(f"not written by msgspec: {type(value).__name__}")

    encode_bytes = msgspec.json.Encoder(enc_hook=as_dict).encode
    refused = (msgspec.MsgspecError, TypeError, ValueError, OverflowError, RecursionError)

    def encode(data: Any) -> str | None:
        try:
            return encode_bytes(data).decode()  # floats come as raw json.dumps text
        except refused:
            return None

    return encode
