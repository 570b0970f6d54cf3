"""Column mappings: how the columns of a foreign CSV export become opportunity fields.

A mapping is a small frozen value, loadable from a dict or TOML, validated as a whole: every
problem is reported at once in one :class:`~oppcore.ConfigError`.
"""

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from oppcore._errors import ConfigError
from oppcore._frozenmap import FrozenMap
from oppcore._money import CURRENCY_MINOR_UNITS
from oppcore._parties import Channel

from ._mapping_toml import extended, toml_text
from ._references import Reference, reference
from ._references import problems as reference_problems

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    from oppcore.pipeline import Pipeline

__all__ = ["ColumnMapping"]

Column = tuple[str, ...]
"""Candidate header names for one field; the first one present in the file is used."""

_COLUMN_FIELDS = (
    "stage", "status", "id", "external_key", "name", "amount", "currency", "owner", "account",
    "account_id", "source", "lost_reason", "tags", "product", "created_at", "closed_at",
    "expected_close", "updated_at",
)
_CHANNELS = frozenset(c.value for c in Channel)


def _column(value: Any) -> Any:
    """Converter: a header name or a list of alternatives -> a tuple of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value  # left for validation to report


def _map(value: Any) -> Any:
    if value is None:
        return FrozenMap()
    if isinstance(value, Mapping) and not isinstance(value, FrozenMap):
        return FrozenMap(value)
    return value


def _custom(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenMap({k: _column(v) for k, v in value.items()})
    return _map(value)


def _references(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(reference(v) for v in value)
    return value


def _stage_set(value: Any) -> Any:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(value)
    return value


@attrs.frozen(kw_only=True)
class ColumnMapping:
    """How the columns of a CSV export map onto :class:`~oppcore.Opportunity` fields.

    Every ``*column*`` argument takes a header name or a list of alternative names (the
    first one present in the file's header is used, so one preset serves exports whose
    headers differ slightly); an empty value leaves the field unmapped. Header names are
    matched exactly after stripping spaces.

    Args:
        pipeline_id: The pipeline every imported deal follows (``"simple"``).
        stage: Column holding the stage (required).
        stage_values: Stage label in the file -> stage id in the pipeline
            (``{"Won": "won"}``). Labels match exactly, then case-insensitively. When
            given, an unknown label is a row error; when empty, the cell is the stage id.
        won_stages: Stage ids that mean "won" (for the synthesised history).
        lost_stages: Stage ids that mean "lost".
        status: Column holding the outcome when the export keeps it apart from the stage
            (Pipedrive's ``status``: open/won/lost beside the stage the deal was in).
        status_values: Status label -> stage id (``{"won": "won", "lost": "lost"}``), or
            ``""`` to keep the stage column's stage (``{"open": ""}``). Labels match exactly,
            then case-insensitively; an unknown label is a row error.
        closed_from_stage: The open stage a closed deal is assumed to have left; when set,
            the history of a won/lost deal reads "created in ``closed_from_stage`` at
            ``created_at``, then moved to its closed stage at ``closed_at``".
        id: Column with the record id. A blank or unmapped id gets a deterministic id:
            ``id_prefix`` + a hash of the row's cells (identical rows get the same id).
        external_key: Column with the deal's id in the CRM it comes from; kept as the deal's
            ``external_key``, which :func:`~oppcore.io.sync` matches first. When ``id`` is
            unmapped or blank, the id is ``id_prefix`` + this key (stable from one export to
            the next, unlike the hash of the row).
        name: Column with the deal name; when unmapped or blank the name is
            "<account> <product>" (whichever exist), else the id.
        amount: Column with the amount (a plain decimal such as ``1234.50``).
        currency: Column with an ISO 4217 code per row.
        default_currency: Currency for rows without one (required when ``amount`` is
            mapped and ``currency`` is not).
        thousands_separator: A grouping character to remove from amounts (``","``);
            only real grouping by three digits is accepted (``1,234,567.89``), so a
            decimal comma such as ``12,5`` is still a row error, never 125. ``None`` (the
            default) refuses every grouped amount rather than guess whether the comma is
            a decimal point.
        owner: Column with the owner (a user id or name).
        account: Column with the account name; the account id is a slug of the name unless
            ``account_id`` is mapped.
        account_id: Column with the account id.
        source: Column with the lead source; mapped through ``source_values`` to a
            :class:`~oppcore.Channel` value, unknown labels become ``other`` with the label
            kept as the source detail.
        source_values: Source label -> channel value (``{"Web": "online"}``).
        lost_reason: Column with the lost reason.
        tags: Column with tags separated by ``tags_separator``.
        tags_separator: Separator of the tags cell.
        product: Column with the product; it becomes a tag and the custom field
            ``product``, after ``product_values`` normalises spellings.
        product_values: Product spelling -> canonical name (``{"GTXPro": "GTX Pro"}``).
        created_at: Column with the creation date or datetime.
        closed_at: Column with the date a won/lost deal closed. When blank, the closing
            entry of the synthesised history falls back to ``expected_close``, then to
            the creation time.
        expected_close: Column with the expected close date (may be the same column as
            ``closed_at``, as in Salesforce's ``CloseDate``).
        updated_at: Column with the last-change datetime.
        date_formats: ``strptime`` formats tried in order for date/datetime cells; empty
            means ISO 8601 (``2017-03-01`` or ``2017-03-01T10:00:00+08:00``).
        custom: Custom field name -> column; the cell text is stored as is (blank -> not
            set).
        id_prefix: Prefix of synthesised ids.
        history_by: Who the synthesised history entries are attributed to when the row has
            no owner.
        references: Companion CSVs joined by key to fill custom fields (and an estimated
            amount): a list of :class:`~oppcore.io.Reference` or of tables with the same
            keys. Read once, before the export's first row.
        optional: Names of mapped fields (``"source"``, ``"custom.region"``) whose column
            may be absent from a file. Any other mapped column missing from the header is
            an error before the first row is read, so a typo never drops a field silently.
    """

    pipeline_id: str
    stage: Column = attrs.field(factory=tuple, converter=_column)
    stage_values: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_map)
    status: Column = attrs.field(factory=tuple, converter=_column)
    status_values: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_map)
    won_stages: frozenset[str] = attrs.field(default=frozenset({"won"}), converter=_stage_set)
    lost_stages: frozenset[str] = attrs.field(default=frozenset({"lost"}), converter=_stage_set)
    closed_from_stage: str | None = None
    id: Column = attrs.field(factory=tuple, converter=_column)
    external_key: Column = attrs.field(factory=tuple, converter=_column)
    name: Column = attrs.field(factory=tuple, converter=_column)
    amount: Column = attrs.field(factory=tuple, converter=_column)
    currency: Column = attrs.field(factory=tuple, converter=_column)
    default_currency: str | None = None
    thousands_separator: str | None = None
    owner: Column = attrs.field(factory=tuple, converter=_column)
    account: Column = attrs.field(factory=tuple, converter=_column)
    account_id: Column = attrs.field(factory=tuple, converter=_column)
    source: Column = attrs.field(factory=tuple, converter=_column)
    source_values: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_map)
    lost_reason: Column = attrs.field(factory=tuple, converter=_column)
    tags: Column = attrs.field(factory=tuple, converter=_column)
    tags_separator: str = ";"
    product: Column = attrs.field(factory=tuple, converter=_column)
    product_values: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_map)
    created_at: Column = attrs.field(factory=tuple, converter=_column)
    closed_at: Column = attrs.field(factory=tuple, converter=_column)
    expected_close: Column = attrs.field(factory=tuple, converter=_column)
    updated_at: Column = attrs.field(factory=tuple, converter=_column)
    date_formats: tuple[str, ...] = attrs.field(default=(), converter=_column)
    custom: FrozenMap[str, Column] = attrs.field(factory=FrozenMap, converter=_custom)
    id_prefix: str = "imp-"
    history_by: str = "import"
    optional: frozenset[str] = attrs.field(factory=frozenset, converter=_stage_set)
    references: tuple[Reference, ...] = attrs.field(default=(), converter=_references)

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError(problems, source="column mapping")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "column mapping"
                  ) -> "ColumnMapping":
        """Build a mapping from a dict (as read from TOML or JSON).

        Raises:
            ConfigError: Listing every problem: unknown keys, missing or wrongly typed
                entries, unknown currencies or channels, inconsistent stage sets.
        """
        if not isinstance(data, Mapping):
            raise ConfigError([("", f"expected a table/dict, got {type(data).__name__}")],
                              source=source)
        if "extends" in data:
            data = extended(data, source)
        known = {a.name for a in attrs.fields(cls)}
        unknown = [(str(k), "unknown key") for k in data if k not in known]
        if "pipeline_id" not in data:
            unknown.append(("pipeline_id", "is required"))
        if unknown:
            raise ConfigError(unknown, source=source)
        try:
            return cls(**dict(data))
        except ConfigError as exc:
            raise ConfigError(exc.problems, source=source) from None
        except TypeError as exc:  # pragma: no cover - keys were checked above
            raise ConfigError([("", str(exc))], source=source) from None

    @classmethod
    def from_toml(cls, text: str, *, source: str = "column mapping") -> "ColumnMapping":
        """Build a mapping from TOML text (read the file yourself: no I/O here).

        Raises:
            ConfigError: If the TOML is malformed or the mapping has problems.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([("", f"invalid TOML: {exc}")], source=source) from exc
        return cls.from_dict(data, source=source)

    def to_dict(self) -> dict[str, Any]:
        """Return the mapping as plain data (lists and dicts), loadable by :meth:`from_dict`."""
        out: dict[str, Any] = {}
        for a in attrs.fields(ColumnMapping):
            value = getattr(self, a.name)
            if isinstance(value, FrozenMap):
                value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
            elif isinstance(value, frozenset):
                value = sorted(value)
            elif a.name == "references":
                value = [{k: dict(v) if isinstance(v, FrozenMap) else v
                          for k, v in attrs.asdict(r, recurse=False).items()} for r in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[a.name] = value
        return out

    def to_toml(self) -> str:
        """Return the mapping as a TOML mapping file (``oppcore mapping show``), loadable by
        :meth:`from_toml`: copy it, edit it, or keep ``extends`` and the lines you change."""
        return toml_text(self.to_dict())

    def pipeline_problems(self, pipeline: "Pipeline") -> list[tuple[str, str]]:
        """Return every stage id of the mapping that ``pipeline`` lacks (or misuses).

        Checked before a single row is written, so a typo in ``stage_values`` can never put
        a deal in a stage its pipeline cannot read.
        """
        p: list[tuple[str, str]] = []
        if pipeline.id != self.pipeline_id:
            message = (f"the mapping's deals follow {self.pipeline_id!r}, not pipeline "
                       f"{pipeline.id!r}")
            p.append(("pipeline_id", message))
            return p
        known = ", ".join(s.id for s in pipeline.stages)
        targets = [(f"stage_values.{k}", v) for k, v in self.stage_values.items()]
        targets += [(f"status_values.{k}", v) for k, v in self.status_values.items() if v]
        targets += [("won_stages", v) for v in sorted(self.won_stages)]
        targets += [("lost_stages", v) for v in sorted(self.lost_stages)]
        if self.closed_from_stage is not None:
            targets.append(("closed_from_stage", self.closed_from_stage))
        for path, stage in targets:
            if stage not in pipeline:
                message = f"stage {stage!r} is not in pipeline {pipeline.id!r} (stages: {known})"
                p.append((path, message))
        return p

    def evolve(self, **changes: Any) -> "ColumnMapping":
        """Return a copy with ``changes`` applied (validated again): adapt a preset."""
        return attrs.evolve(self, **changes)


def _is_text(v: Any) -> bool:
    return type(v) is str and bool(v.strip())


def _check_column(path: str, value: Any, problems: list[tuple[str, str]]) -> None:
    if type(value) is not tuple or not all(_is_text(v) for v in value):
        problems.append((path, f"must be a header name or a list of names, got {value!r}"))


def _check_map(path: str, value: Any, problems: list[tuple[str, str]]) -> bool:
    if not isinstance(value, FrozenMap):
        problems.append((path, f"must be a table of label = value, got {type(value).__name__}"))
        return False
    for k, v in value.items():
        if not _is_text(k) or not _is_text(v):
            message = f"labels and values must be non-empty text, got {v!r}"
            problems.append((f"{path}.{k}", message))
    return True


def _problems(m: ColumnMapping) -> list[tuple[str, str]]:
    p: list[tuple[str, str]] = []
    if not _is_text(m.pipeline_id):
        p.append(("pipeline_id", f"must be a non-empty string, got {m.pipeline_id!r}"))
    for name in _COLUMN_FIELDS:
        _check_column(name, getattr(m, name), p)
    if type(m.stage) is tuple and not m.stage:
        p.append(("stage", "is required: the column holding the stage"))
    _check_map("stage_values", m.stage_values, p)
    status_values: Any = m.status_values  # as given: validation reports a wrong type
    if not isinstance(status_values, FrozenMap):
        p.append(("status_values", 'must be a table of label = stage id (or "")'))
    else:
        wrong = 'labels must be non-empty text and values stage ids or ""'
        p.extend((f"status_values.{k}", f"{wrong}, got {v!r}") for k, v in status_values.items()
                 if not _is_text(k) or type(v) is not str)
        if type(m.status) is tuple and m.status and not status_values:
            p.append(("status_values", "is required when status is mapped"))
    if _check_map("source_values", m.source_values, p):
        for label, channel in m.source_values.items():
            if channel not in _CHANNELS:
                known = ", ".join(sorted(_CHANNELS))
                message = f"unknown channel {channel!r}; use one of {known}"
                p.append((f"source_values.{label}", message))
    _check_map("product_values", m.product_values, p)
    custom: Any = m.custom  # typed FrozenMap, but a caller may pass anything
    if not isinstance(custom, FrozenMap):
        p.append(("custom", "must be a table of field name = column"))
    else:
        for key, col in custom.items():
            if not _is_text(key):
                p.append(("custom", f"field names must be non-empty text, got {key!r}"))
            _check_column(f"custom.{key}", col, p)
    stage_sets_ok = True
    for name in ("won_stages", "lost_stages"):
        value = getattr(m, name)
        if type(value) is not frozenset or not all(_is_text(v) for v in value):
            p.append((name, f"must be a list of stage ids, got {value!r}"))
            stage_sets_ok = False
    if stage_sets_ok and m.won_stages & m.lost_stages:
        both = ", ".join(sorted(m.won_stages & m.lost_stages))
        p.append(("lost_stages", f"stage(s) {both} are both won and lost"))
    if m.closed_from_stage is not None:
        if not _is_text(m.closed_from_stage):
            p.append(("closed_from_stage", "must be a stage id or omitted"))
        elif stage_sets_ok and m.closed_from_stage in (m.won_stages | m.lost_stages):
            p.append(("closed_from_stage", "must be an open stage, not a won/lost one"))
    if m.default_currency is not None and m.default_currency not in CURRENCY_MINOR_UNITS:
        p.append(("default_currency", f"unknown ISO 4217 currency code {m.default_currency!r}"))
    if (type(m.amount) is tuple and m.amount and type(m.currency) is tuple and not m.currency
            and m.default_currency is None):
        p.append(("default_currency", "is required when amount is mapped and currency is not"))
    if m.thousands_separator is not None and (
            type(m.thousands_separator) is not str or len(m.thousands_separator) != 1
            or m.thousands_separator in ".0123456789-+"):
        sep = m.thousands_separator
        message = f"must be one character, not a digit/sign/'.', got {sep!r}"
        p.append(("thousands_separator", message))
    if type(m.tags_separator) is not str or not m.tags_separator:
        p.append(("tags_separator", "must be a non-empty string"))
    if type(m.date_formats) is not tuple or not all(
            type(f) is str and "%" in f for f in m.date_formats):
        message = f"must be strptime formats such as '%m/%d/%Y', got {m.date_formats!r}"
        p.append(("date_formats", message))
    allowed = {*_COLUMN_FIELDS, *(f"custom.{k}" for k in getattr(m.custom, "keys", list)())}
    if type(m.optional) is not frozenset:
        p.append(("optional", "must be a list of field names"))
    else:
        p.extend(("optional", f"unknown field {name!r}") for name in sorted(
            set(m.optional) - allowed, key=str))
        if "stage" in m.optional:
            p.append(("optional", "the stage column cannot be optional"))
    p.extend((name, "must be a non-empty string") for name in ("id_prefix", "history_by")
             if not _is_text(getattr(m, name)))
    p.extend(reference_problems(m.references))
    return p

