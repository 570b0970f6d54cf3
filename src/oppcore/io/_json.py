"""JSON export and import of the documented wire format (full fidelity), streaming.

Two shapes, both starting with :func:`oppcore.serde.document_header` (``schema_version`` and
``generator``; see :mod:`oppcore.serde` for the wire format of each record), and both read
back through :func:`oppcore.serde.check_schema_version`:

* **One document** (``*.json``): ``{"schema_version": 1, "generator": "oppcore x.y",
  "leads": [...], "opportunities": [...]}``, the shape of :func:`oppcore.serde.document`.
  Written one record at a time; read whole (bounded by ``Limits.max_document_bytes``), so
  use it for small and medium files.
* **JSON Lines** (``*.jsonl``): a header line ``{"schema_version": 1, "generator": ...,
  "format": "oppcore.jsonl"}`` then one line per record, ``{"kind": "lead" |
  "opportunity", "record": {...}}``. Written and read one line at a time: constant memory
  at any size.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from oppcore import serde
from oppcore._errors import ImportDataError, StructureError
from oppcore._models import Lead, Opportunity
from oppcore._serde import read_record_line

from ._report import (
    DEFAULT_LIMITS,
    ErrorMode,
    ImportReport,
    Limits,
    OnError,
    RowError,
    RowFailed,
    collect,
    drive,
)
from ._source import (
    InputSource,
    OutputTarget,
    check_encoding,
    decoded_lines,
    open_dest,
    open_source,
)

__all__ = ["import_json", "import_jsonl", "read_jsonl", "write_json", "write_jsonl"]

JSONL_FORMAT = "oppcore.jsonl"
_KINDS: dict[str, type[Lead] | type[Opportunity]] = {"lead": Lead, "opportunity": Opportunity}
_Record = Lead | Opportunity


_compact = serde.encode_json  # the wire format's one writer (msgspec on the fast path)


def write_json(
    dest: OutputTarget,
    *,
    leads: Iterable[Lead] = (),
    opportunities: Iterable[Opportunity] = (),
) -> int:
    """Write one JSON document (``schema_version``, leads, opportunities), streaming.

    Records are serialised one at a time, so memory stays constant however many there are;
    the output is what :func:`oppcore.serde.document` returns, as compact JSON with one
    record per line.

    Args:
        dest: A path (written as UTF-8) or a text file.
        leads: Leads to write.
        opportunities: Opportunities to write.

    Returns:
        The number of records written.
    """
    count = 0
    with open_dest(dest, encoding="utf-8", newline="\n") as stream:
        stream.write(_compact(serde.document_header())[:-1])
        for key, records in (("leads", leads), ("opportunities", opportunities)):
            stream.write(f',\n"{key}":[')
            sep = "\n"
            for record in records:
                stream.write(sep + _compact(serde.unstructure(record)))
                sep = ",\n"
                count += 1
            stream.write("]")
        stream.write("}\n")
    return count


def write_jsonl(
    dest: OutputTarget,
    records: Iterable[_Record],
) -> int:
    """Write JSON Lines: a header line with ``schema_version``, then one line per record.

    Args:
        dest: A path (written as UTF-8) or a text file.
        records: Leads and opportunities, in any mix and order.

    Returns:
        The number of records written.

    Raises:
        TypeError: For a record that is neither a Lead nor an Opportunity (nothing after it
            is written).
    """
    count = 0
    with open_dest(dest, encoding="utf-8", newline="\n") as stream:
        header = {**serde.document_header(), "format": JSONL_FORMAT}
        stream.write(_compact(header) + "\n")
        for record in records:
            if isinstance(record, Opportunity):
                kind = "opportunity"
            elif isinstance(record, Lead):
                kind = "lead"
            else:
                raise TypeError(f"record {count + 1}: expected a Lead or an Opportunity, got "
                                f"{type(record).__name__}")
            stream.write(_compact({"kind": kind, "record": serde.unstructure(record)}) + "\n")
            count += 1
    return count


# ------------------------------------------------------------------------------- reading


def _parse(text: str, row: int, limits: Limits) -> Any:
    try:
        data = serde.decode_json(text)
    except RecursionError:
        raise RowFailed([RowError(row=row, column=None, message=(
            "JSON nested too deeply"))]) from None
    except ValueError as exc:
        raise RowFailed([RowError(row=row, column=None, message=f"invalid JSON: {exc}")]
                        ) from None
    # Each level of nesting opens with its own "[" or "{", so a text with no more of them than
    # the limit cannot nest deeper (brackets inside strings only make the bound looser); the
    # walk over the parsed value runs only for the rest.
    if text.count("[") + text.count("{") <= limits.max_depth:
        return data
    depth = _depth(data, limits.max_depth)
    if depth > limits.max_depth:
        raise RowFailed([RowError(row=row, column=None, message=(
            f"JSON nested deeper than {limits.max_depth} levels (Limits.max_depth)"))])
    return data


def _depth(value: Any, limit: int) -> int:
    """Return the nesting depth of ``value``, stopping early once it exceeds ``limit``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_version(data: Any, row: int) -> None:
    if not isinstance(data, dict):
        raise ImportDataError([RowError(row=row, column=None, message=(
            f"expected a JSON object with schema_version, got {type(data).__name__}"))])
    try:
        serde.check_schema_version(data.get("schema_version"))
    except StructureError as exc:
        raise ImportDataError([_path_error(row, exc)]) from None


def _path_error(row: int, exc: StructureError) -> RowError:
    """A row error whose column is the path and whose message does not repeat it."""
    message = str(exc)
    if exc.path and message.startswith(exc.path + ": "):
        message = message[len(exc.path) + 2:]
    return RowError(row=row, column=exc.path or None, message=message)


def _structure(item: Any, cls: type[_Record], row: int, path: str) -> _Record:
    try:
        return serde.structure(item, cls, path=path)
    except StructureError as exc:
        raise RowFailed([_path_error(row, exc)]) from None


def _jsonl_records(
    source: InputSource, *, encoding: str, limits: Limits, on_error: OnError,
    stats: list[int],
) -> Iterator[_Record]:
    with open_source(source) as (stream, is_text):
        where = [0]
        lines = decoded_lines(stream, is_text=is_text, encoding=encoding, limits=limits,
                              where=lambda: where[0] + 1)
        header = next(lines, None)
        if header is None or not header.strip():
            raise ImportDataError([RowError(row=1, column=None, message=(
                "empty file: expected a header line with schema_version"))])
        where[0] = 1
        try:
            head = _parse(header, 1, limits)
        except RowFailed as failed:
            raise ImportDataError(failed.errors) from None
        _check_version(head, 1)
        if head.get("format") != JSONL_FORMAT:
            raise ImportDataError([RowError(row=1, column="format", message=(
                f"expected format {JSONL_FORMAT!r} in the header line"))])

        def numbered() -> Iterator[tuple[int, str]]:
            for text in lines:
                where[0] += 1
                if text.strip():
                    stats[0] += 1
                    if stats[0] > limits.max_rows:
                        raise ImportDataError([RowError(row=where[0], column=None, message=(
                            f"more than {limits.max_rows} records (Limits.max_rows)"))])
                    yield where[0], text

        def convert(row: int, text: str) -> _Record:
            # The fast path's typed reader (serde's own rules), else the plain path below.
            record = read_record_line(text, _KINDS, max_depth=limits.max_depth)
            if record is not None:
                return record
            data = _parse(text, row, limits)
            kind = data.get("kind") if isinstance(data, dict) else None
            if type(kind) is not str or kind not in _KINDS:  # ["x"] is no kind (unhashable)
                raise RowFailed([RowError(row=row, column="kind", message=(
                    "expected {\"kind\": \"lead\" | \"opportunity\", \"record\": {...}}"))])
            return _structure(data.get("record"), _KINDS[kind], row, "record")

        yield from drive(numbered(), convert, on_error, limits)


def read_jsonl(
    source: InputSource,
    *,
    encoding: str = "utf-8-sig",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RowError], None] | None = None,
) -> Iterator[_Record]:
    """Stream leads and opportunities from JSON Lines written by :func:`write_jsonl`.

    Args:
        source: A path, a binary file or a text file.
        encoding: Text encoding of a binary source.
        limits: Line length, record count, nesting depth and error-count limits.
        on_error: Receives each :class:`RowError` (``row`` is the line number, the header
            being line 1) and the bad line is skipped; ``None`` raises at the first.

    Yields:
        Each record, in file order.

    Raises:
        ImportDataError: For a bad line (when ``on_error`` is ``None``), a missing or
            unsupported header (``schema_version`` newer than this release), or a limit.
    """
    encoding = check_encoding(encoding)
    return _jsonl_records(source, encoding=encoding, limits=limits, on_error=on_error,
                          stats=[0])


def import_jsonl(
    source: InputSource,
    *,
    errors: ErrorMode = "raise",
    encoding: str = "utf-8-sig",
    limits: Limits = DEFAULT_LIMITS,
) -> ImportReport[_Record]:
    """Read a whole JSON Lines file into an :class:`ImportReport` (see :func:`read_jsonl`).

    Args:
        source: A path, a binary file or a text file.
        errors: ``"raise"`` stops at the first bad line; ``"collect"`` keeps the good
            records and lists the problems.
        encoding: Text encoding of a binary source.
        limits: Limits against hostile files.

    Raises:
        ImportDataError: For a bad line in ``"raise"`` mode or a file-level problem.
    """
    encoding = check_encoding(encoding)
    stats = [0]

    def run(on_error: OnError) -> Iterator[_Record]:
        return _jsonl_records(source, encoding=encoding, limits=limits, on_error=on_error,
                              stats=stats)

    return collect(run, errors, lambda: stats[0])


def import_json(
    source: InputSource,
    *,
    errors: ErrorMode = "raise",
    encoding: str = "utf-8-sig",
    limits: Limits = DEFAULT_LIMITS,
) -> ImportReport[_Record]:
    """Read one JSON document (the shape :func:`write_json` writes) into a report.

    The document is read whole, up to ``limits.max_document_bytes``; use JSON Lines for
    larger exports. Records come leads first, then opportunities; a bad record's
    :class:`RowError` has ``row`` = its 1-based position in its list and ``column`` = the
    path of the bad value (``opportunities[3].amount.amount``).

    Args:
        source: A path, a binary file or a text file.
        errors: ``"raise"`` or ``"collect"`` (see :func:`oppcore.io.import_csv`).
        encoding: Text encoding of a binary source.
        limits: Document size, nesting depth, record count and error-count limits.

    Raises:
        ImportDataError: For a bad record in ``"raise"`` mode, or a document that is too
            big, not JSON, too deeply nested or of an unsupported ``schema_version``.
    """
    encoding = check_encoding(encoding)
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    with open_source(source) as (stream, is_text):
        raw = stream.read(limits.max_document_bytes + 1)
    if len(raw) > limits.max_document_bytes:
        raise ImportDataError([RowError(row=0, column=None, message=(
            f"document larger than {limits.max_document_bytes} bytes "
            "(Limits.max_document_bytes); use JSON Lines for large exports"))])
    if not is_text:
        try:
            raw = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ImportDataError([RowError(row=0, column=None, message=(
                f"undecodable bytes at byte {exc.start} for encoding {encoding!r}"))]) from None
    try:
        data = _parse(raw, 0, limits)
    except RowFailed as failed:
        raise ImportDataError(failed.errors) from None
    _check_version(data, 0)
    items: list[tuple[int, tuple[str, Any]]] = []
    for key in ("leads", "opportunities"):
        listed = data.get(key, [])
        if not isinstance(listed, list):
            raise ImportDataError([RowError(row=0, column=key, message=(
                f"expected an array, got {type(listed).__name__}"))])
        items.extend((i + 1, (key, item)) for i, item in enumerate(listed))
    if len(items) > limits.max_rows:
        raise ImportDataError([RowError(row=0, column=None, message=(
            f"more than {limits.max_rows} records (Limits.max_rows)"))])

    def convert(row: int, entry: tuple[str, Any]) -> _Record:
        key, item = entry
        cls = Lead if key == "leads" else Opportunity
        return _structure(item, cls, row, f"{key}[{row - 1}]")

    found: list[RowError] = []
    on_error = None if errors == "raise" else found.append
    records = tuple(drive(items, convert, on_error, limits))
    return ImportReport(records=records, errors=tuple(found), rows_read=len(items))
