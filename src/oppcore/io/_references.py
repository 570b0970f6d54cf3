"""Reference files: companion CSVs joined to an export by key to fill custom fields.

A CRM export often names an account, a product or a rep and leaves their details in other
files (the Maven sample ships ``accounts.csv``, ``products.csv`` and ``sales_teams.csv``).
A :class:`Reference` in a mapping says which file, which deal field is the key, which
column of the file holds that key, and which columns become custom fields. A product's list
price can fill ``custom["amount_estimate"]`` of an open deal that has no amount: kept apart
from ``amount``, so an estimate is never counted as a real amount.
"""

import os
from collections.abc import Mapping
from typing import Any

import attrs

from oppcore._errors import ConfigError, ImportDataError, ValidationError
from oppcore._frozenmap import FrozenMap
from oppcore._money import to_decimal

from ._report import DEFAULT_LIMITS, Limits
from ._source import CsvRows, open_source, sniff_encoding

__all__ = ["ESTIMATE_FIELD", "KEY_FIELDS", "Reference", "Tables", "load_references", "reference"]

ESTIMATE_FIELD = "amount_estimate"
"""The custom field that holds an estimated amount (a list price), never ``amount``."""

KEY_FIELDS = ("account", "account_id", "owner", "product", "id", "external_key")
"""Deal fields a reference file can be joined on (or ``custom.<name>``)."""


def _fields(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, FrozenMap):
        return FrozenMap(value)
    return value


@attrs.frozen(kw_only=True)
class Reference:
    """One companion file joined to the export by key.

    Args:
        file: Path of the CSV (relative to the working directory; ``oppcore import``
            resolves it against the mapping file's folder).
        key: The deal field whose value is looked up: ``account`` (name), ``account_id``,
            ``owner``, ``product`` (after ``product_values``), ``id``, ``external_key`` or
            ``custom.<name>``.
        on: The column of the reference file holding that value (unique per row).
        custom: Custom field name -> column of the reference file.
        estimate_amount: A column holding a price: an open deal with no amount gets it as
            ``custom["amount_estimate"]`` (the deal's currency is the mapping's
            ``default_currency``), never as its amount.
        encoding: Text encoding of the file.
    """

    file: str
    key: str
    on: str
    custom: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_fields)
    estimate_amount: str | None = None
    encoding: str = "utf-8-sig"


def reference(value: Any) -> Any:
    """Converter: a dict (from TOML) -> :class:`Reference`; other values left to validation."""
    if isinstance(value, Mapping):
        known = {a.name for a in attrs.fields(Reference)}
        unknown = sorted(str(k) for k in value if k not in known)
        if unknown:
            raise ConfigError([("references", f"unknown key(s) {', '.join(unknown)}")],
                              source="column mapping")
        try:
            return Reference(**dict(value))
        except TypeError as exc:
            raise ConfigError([("references", str(exc))], source="column mapping") from None
    return value


def problems(refs: Any) -> list[tuple[str, str]]:
    """Every problem of a mapping's ``references`` (not reading any file)."""
    if type(refs) is not tuple or not all(isinstance(r, Reference) for r in refs):
        return [("references", "must be a list of tables with file, key and on")]
    found: list[tuple[str, str]] = []
    for i, r in enumerate(refs):
        where = f"references[{i}]"
        for name in ("file", "on"):
            value = getattr(r, name)
            if type(value) is not str or not value.strip():
                found.append((f"{where}.{name}", "must be a non-empty string"))
        if not (r.key in KEY_FIELDS or (type(r.key) is str and r.key.startswith("custom.")
                                        and len(r.key) > 7)):
            message = f"must be one of {', '.join(KEY_FIELDS)} or custom.<name>, got {r.key!r}"
            found.append((f"{where}.key", message))
        if not isinstance(r.custom, FrozenMap) or not all(
                type(k) is str and k and type(v) is str and v for k, v in r.custom.items()):
            found.append((f"{where}.custom", "must be a table of field = column"))
        if r.estimate_amount is not None and (type(r.estimate_amount) is not str
                                              or not r.estimate_amount):
            found.append((f"{where}.estimate_amount", "must be a column name"))
        if not r.custom and r.estimate_amount is None:
            found.append((where, "fills nothing: give custom fields or estimate_amount"))
    return found


class Table:
    """A loaded reference file: key -> the values it gives."""

    def __init__(self, ref: Reference, rows: dict[str, dict[str, str]]) -> None:
        self.ref = ref
        self.rows = rows


Tables = tuple[Table, ...]


def _load(ref: Reference, base: str | None, limits: Limits) -> Table:
    path = ref.file if base is None or os.path.isabs(ref.file) else os.path.join(base,
                                                                                  ref.file)
    if not os.path.isfile(path):
        raise ConfigError([("references", f"no reference file at {path!r}")],
                          source="column mapping")
    wanted = [ref.on, *ref.custom.values(), *([ref.estimate_amount]
                                              if ref.estimate_amount else [])]
    rows: dict[str, dict[str, str]] = {}
    first: dict[str, int] = {}
    with open_source(path) as (stream, is_text):
        csv_rows = CsvRows(stream, is_text=is_text,
                           encoding=sniff_encoding(stream, is_text, ref.encoding),
                           limits=limits)
        position = {name: i for i, name in enumerate(csv_rows.header)}
        missing = [c for c in wanted if c not in position]
        if missing:
            message = (f"{path}: no column(s) {', '.join(missing)} (columns: "
                       f"{', '.join(csv_rows.header)})")
            raise ConfigError([("references", message)], source="column mapping")
        for number, values in csv_rows:
            errors = getattr(values, "errors", None)
            if errors:
                raise ImportDataError([attrs.evolve(e, message=f"{path}: {e.message}")
                                       for e in errors])
            key = values[position[ref.on]].strip()
            if not key:
                continue
            if key in rows:
                message = f"{path}: rows {first[key]} and {number} share {ref.on} {key!r}"
                raise ConfigError([("references", message)], source="column mapping")
            first[key] = number
            rows[key] = {c: values[position[c]].strip() for c in wanted}
    return Table(ref, rows)


def load_references(refs: tuple[Reference, ...], *, base: str | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> Tables:
    """Read every reference file of a mapping (before the export's first row)."""
    return tuple(_load(r, base, limits) for r in refs)


def joined(tables: Tables, deal: Mapping[str, Any], custom: dict[str, Any], *,
           open_without_amount: bool) -> list[str]:
    """Fill ``custom`` from the tables for a deal whose key fields are ``deal``; return the
    messages of values that cannot be used (a price that is not a number)."""
    bad: list[str] = []
    for table in tables:
        ref = table.ref
        key = (custom.get(ref.key[7:]) if ref.key.startswith("custom.")
               else deal.get(ref.key))
        row = table.rows.get(str(key)) if key else None
        if row is None:
            continue
        for field, column in ref.custom.items():
            if row[column] and field not in custom:
                custom[field] = row[column]
        if ref.estimate_amount and open_without_amount and ESTIMATE_FIELD not in custom:
            text = row[ref.estimate_amount]
            try:
                to_decimal(text, what="estimate")
            except ValidationError:
                bad.append(f"{ref.file}: {ref.estimate_amount} {text!r} of {key!r} is not "
                           "a number")
            else:
                custom[ESTIMATE_FIELD] = text
    return bad
