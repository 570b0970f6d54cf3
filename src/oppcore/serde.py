"""Serialisation: the cattrs converter and oppcore's documented wire format.

Shaped like cattrs' preconfigured converters (``cattrs.preconf.json``):

* :class:`OppcoreConverter` is a ``cattrs.Converter`` with ``dumps`` and ``loads``;
* :func:`make_converter` returns a new one, configured (keyword arguments go to the
  converter, such as ``detailed_validation=False``);
* :func:`configure_converter` installs oppcore's hooks on any converter, a host's own too;
* :func:`structure_error` turns what such a converter raises into a path-naming
  :class:`~oppcore.StructureError`.

The module-level helpers (:func:`unstructure`, :func:`structure`, :func:`dumps`,
:func:`loads`, :func:`document`, :func:`read_document`) use one shared converter, and
:func:`encode_json` / :func:`decode_json` are the one JSON writer and reader of the wire
format (used by :mod:`oppcore.io` and the stores too).

Fast path: with the ``fast`` extra installed (msgspec), JSON text is written and parsed by
msgspec instead of the standard library's ``json``, automatically, and :func:`loads` lets
msgspec read the text straight into the models (models without attrs converters built by
msgspec, which runs their ``__attrs_post_init__`` checks; the others by their constructors).
The text is the same, byte for byte, and so are the values read and the errors raised: every
check runs, and whatever msgspec refuses is read again on the plain path, which gives the
value or the error. ``make_converter(fast=False)``
and :func:`set_fast` (``set_fast(False)``) force the plain path; :func:`is_fast` tells which
path the module-level helpers use.

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
* exported documents carry a header (:func:`document_header`):
  ``"schema_version": 1`` and the ``"generator"`` that wrote them.

Reading bad data raises :class:`~oppcore.StructureError` naming the path of the bad value,
such as ``opportunities[3].amount.amount: invalid decimal 'abc'``; the underlying error is
chained. When a record has several bad values, the first is named by ``.path`` and the
message lists the others after it.
"""

from ._public import publish as _publish
from ._serde import (
    SCHEMA_VERSION,
    OppcoreConverter,
    check_schema_version,
    configure_converter,
    decode_json,
    document,
    document_header,
    dumps,
    encode_json,
    is_fast,
    loads,
    make_converter,
    read_document,
    set_fast,
    structure,
    structure_error,
    unstructure,
)

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

_publish(__name__, globals(), __all__)
