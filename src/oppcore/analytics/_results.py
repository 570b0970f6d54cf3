"""Result values: small frozen tables that render in a notebook and convert to frames.

Every analytics function returns a frozen ``attrs`` value built on :class:`Table`. A table
has flat rows (``to_records()`` gives one plain dict per row, ready for ``csv.DictWriter``,
JSON or a data-frame), renders as text (``str(result)``) and as an escaped HTML table in
Jupyter (``_repr_html_``), and converts to pandas or polars when those optional packages
are installed. Nothing here imports pandas or polars until a conversion is asked for.
"""

import enum
import html
import importlib
import types
import typing
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from oppcore._errors import ValidationError

__all__ = ["Table", "render_value"]

MONEY_MODES = ("float", "decimal")
"""``to_pandas(money=...)``: money columns as ``float64`` (plot, describe) or exact
``Decimal`` objects."""

MAX_RENDERED_ROWS = 60
"""Rows shown by ``str()`` and ``_repr_html_``; ``to_records()`` always returns all rows."""


def render_value(value: object) -> str:
    """Return the display text of one cell (numbers compact, ``None`` as ``-``)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        text = f"{value:,.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds() / 86400:.1f} d"
    return str(value)


class Table:
    """Behaviour shared by every analytics result (mixed into frozen ``attrs`` classes).

    Subclasses set ``title`` and ``columns`` (the column order of an empty table),
    ``row_type`` (the attrs class of a row, which gives each column's type) and implement
    :meth:`to_records`.
    """

    __slots__ = ()
    title: ClassVar[str] = "result"
    columns: ClassVar[tuple[str, ...]] = ()
    row_type: ClassVar[type | None] = None

    def to_records(self) -> list[dict[str, Any]]:
        """Return the rows as a new list of flat dicts (one per row, plain values)."""
        raise NotImplementedError

    def _column_names(self, records: Sequence[dict[str, Any]]) -> list[str]:
        names = list(self.columns)
        seen = set(names)
        for record in records:
            for name in record:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
        return names

    def _notes(self) -> list[str]:
        """Lines printed under the table (totals, caveats); none by default."""
        return []

    def _kinds(self) -> dict[str, str]:
        """Column -> ``"int"``, ``"float"``, ``"money"``, ``"bool"``, ``"text"`` or
        ``"other"``."""
        row = self.row_type
        if row is None or not attrs.has(row):
            return {}
        hints = typing.get_type_hints(row)
        return {name: _kind(hints[name]) for name in self.columns if name in hints}

    def _frame_data(self, money: str) -> tuple[list[str], dict[str, list[Any]],
                                               dict[str, str]]:
        if money not in MONEY_MODES:
            raise ValidationError(f"money must be one of {', '.join(MONEY_MODES)}, got "
                                  f"{money!r}", field="money", value=money)
        records = self.to_records()
        names = self._column_names(records)
        kinds = self._kinds()
        data = {name: [r.get(name) for r in records] for name in names}
        for name, values in data.items():
            if money == "float" and (kinds.get(name) == "money" or any(
                    isinstance(v, Decimal) for v in values)):
                kinds[name] = "float"
                data[name] = [None if v is None else float(v) for v in values]
        return names, data, kinds

    def to_pandas(self, *, money: str = "float") -> Any:
        """Return the rows as a ``pandas.DataFrame`` (needs the ``pandas`` extra).

        Numbers are numeric columns (``int64``, ``float64`` with ``NaN`` for "no value"),
        so ``df.plot()`` and ``df.describe()`` work; an empty result has the same typed
        columns.

        Args:
            money: ``"float"`` (default) for money amounts as ``float64``; ``"decimal"``
                keeps them exact, as ``Decimal`` objects.

        Raises:
            ModuleNotFoundError: If pandas is not installed; the message names the extra.
            ValidationError: For another ``money``.
        """
        try:
            pd = importlib.import_module("pandas")  # optional dependency, imported on use
        except ImportError as exc:
            raise ModuleNotFoundError(
                f"{type(self).__name__}.to_pandas() needs pandas: "
                "pip install 'oppcore[pandas]'", name="pandas",
            ) from exc
        names, data, kinds = self._frame_data(money)
        columns = {}
        for name in names:
            dtype = _PANDAS[kinds.get(name, "other")]
            if dtype == "Int64" and None not in data[name]:
                dtype = "int64"
            columns[name] = pd.Series(data[name], dtype=dtype)
        return pd.DataFrame(columns, columns=names)

    def to_polars(self, *, money: str = "float") -> Any:
        """Return the rows as a ``polars.DataFrame`` (needs the ``polars`` extra).

        Columns are typed as in :meth:`to_pandas` (``null`` for "no value").

        Args:
            money: ``"float"`` (default) or ``"decimal"`` (exact ``Decimal`` values).

        Raises:
            ModuleNotFoundError: If polars is not installed; the message names the extra.
            ValidationError: For another ``money``.
        """
        try:
            pl = importlib.import_module("polars")  # optional dependency, imported on use
        except ImportError as exc:
            raise ModuleNotFoundError(
                f"{type(self).__name__}.to_polars() needs polars: "
                "pip install 'oppcore[polars]'", name="polars",
            ) from exc
        names, data, kinds = self._frame_data(money)
        types_ = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "text": pl.Utf8}
        schema = {name: types_[kinds[name]] for name in names if kinds.get(name) in types_}
        return pl.DataFrame(data, schema_overrides=schema, strict=False)

    def _cells(self) -> tuple[list[str], list[list[str]], int]:
        records = self.to_records()
        names = self._column_names(records)
        shown = records[:MAX_RENDERED_ROWS]
        cells = [[render_value(r.get(name)) for name in names] for r in shown]
        return names, cells, len(records) - len(shown)

    def __str__(self) -> str:
        names, cells, hidden = self._cells()
        widths = [len(n) for n in names]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        lines = [self.title, "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        # Numbers right-aligned, text left-aligned: columns of figures stay readable.
        lines.extend(
            "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                      for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        )
        if not cells:
            lines.append("(no rows)")
        if hidden:
            lines.append(f"... {hidden} more row(s); see to_records()")
        lines.extend(self._notes())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Return an HTML table for Jupyter; every cell and heading is escaped."""
        names, cells, hidden = self._cells()
        esc = html.escape
        head = "".join(f"<th>{esc(n)}</th>" for n in names)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells
        )
        notes = list(self._notes())
        if hidden:
            notes.insert(0, f"... {hidden} more row(s); see to_records()")
        foot = "".join(f"<p>{esc(n)}</p>" for n in notes)
        return (
            f'<div class="oppcore-analytics"><table><caption>{esc(self.title)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>"
        )


_PANDAS = {"int": "Int64", "float": "float64", "bool": "boolean", "money": "object",
           "text": "object", "other": "object"}


def _kind(hint: Any) -> str:
    """The column kind of a row attribute's type (``X | None`` as ``X``)."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        hint = inner[0] if len(inner) == 1 else object
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if hint is Decimal:
        return "money"
    if hint is str:
        return "text"
    return "other"


def _numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "", 1).lstrip("-")
    return stripped.isdigit()


def rows_to_records(rows: Sequence[Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """Return one dict per row with the attributes ``names`` (enums by value)."""
    out = []
    for row in rows:
        record = {}
        for name in names:
            value = getattr(row, name)
            record[name] = value.value if isinstance(value, enum.Enum) else value
        out.append(record)
    return out
