"""The fast path's typed reader (msgspec reads JSON straight into the models) against the
plain path: any document, however hostile, reads to an equal value or to the same error.

The reader (``oppcore._serde_typed``) lets msgspec type-check and build the models in one
pass; what msgspec refuses, or any check raises, is read again on the plain path. So the
properties to hold are: msgspec's rules accept nothing the plain path refuses, read what
they accept to the same value, and every check of the plain path still runs.
"""

import copy
import io
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import attrs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _documents import paths
from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    ImportDataError,
    Lead,
    Money,
    Opportunity,
    Qualification,
    Quote,
    QuoteLine,
    StageChange,
    StructureError,
    _serde,
    _serde_typed,
    serde,
)
from oppcore._iso import parse_date, parse_datetime
from oppcore.io import Limits, read_jsonl, write_jsonl
from oppcore.io._json import _KINDS
from oppcore.testing import strategies as ost


def both(text: str | bytes, cls: type) -> tuple[Any, Any]:
    """Read ``text`` as ``cls`` on each path: a value's wire text, or the error."""

    def read(fast: bool) -> Any:
        was = serde.set_fast(fast)
        try:
            value = serde.loads(text, cls)
        except StructureError as exc:
            return ("error", exc.path, str(exc))
        finally:
            serde.set_fast(was)
        # Equal values are not enough (two offsets of one instant are equal): the same
        # wire text is, and the type of every field with it.
        return ("value", type(value), serde.dumps(value), value)

    return read(True), read(False)


def test_the_records_and_their_parts_have_a_typed_reader() -> None:
    for cls in (Opportunity, Lead, Money, Contact, Activity, Quote, QuoteLine, Qualification):
        assert _serde_typed.typed_reader(cls) is not None, cls
    assert _serde_typed.typed_reader(dict) is None


def test_a_wire_twin_keeps_only_the_checks_msgspec_cannot_make() -> None:
    def residual(cls: type) -> dict[str, Any]:
        twin = _serde_typed.wire_twin(cls)
        assert twin.__slots__ == () and issubclass(twin, cls)
        # Defaults as the model's, but none computed from the instance (msgspec cannot).
        for a, b in zip(twin.__attrs_attrs__, attrs.fields(cls), strict=True):
            computed = isinstance(b.default, attrs.Factory) and b.default.takes_self
            assert a.default is (attrs.NOTHING if computed else b.default)
        table = cls.__dict__["__oppcore_checks__"]
        kept = table.residual(_serde_typed._Spec(cls).enforced)
        return {kind: names for kind, names in kept.spec.items() if names}

    # Non-blank texts, custom fields and money signs always run; types, offsets, counts,
    # dates, booleans, enums and nested models are msgspec's.
    assert residual(Opportunity) == {"text": ("id", "name", "pipeline_id", "stage_id"),
                                     "custom": ("custom",), "money": ("amount",)}
    assert residual(Activity) == {"text": ("id", "by")}
    assert residual(Lead) == {"text": ("id", "name"), "custom": ("custom",)}
    # Rules are never dropped.
    everything = Activity.__oppcore_checks__.residual(lambda *_: True)
    assert everything.spec == dict.fromkeys(Activity.__oppcore_checks__.spec, ())
    assert Activity.__oppcore_checks__.residual(lambda *_: True)._rules == \
        Activity.__oppcore_checks__._rules


@given(st.one_of(ost.opportunities(), ost.leads()))
def test_a_canonical_record_is_read_by_the_typed_reader_alone(
    record: Any,
) -> None:
    text = serde.dumps(record)
    assert not _serde_typed.needs_plain(text)
    reader = _serde_typed.typed_reader(type(record))
    assert reader is not None
    back = reader(text)
    assert back == record and serde.dumps(back) == text
    assert reader(text.encode()) == record


def test_the_fast_path_takes_the_typed_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    record = Lead(id="l1", name="Li", captured_at=datetime.fromisoformat(
        "2026-01-01T09:00:00+08:00"))
    text = serde.dumps(record)

    def no_plain_reading(_: Any) -> Any:
        raise AssertionError("read on the plain path")

    monkeypatch.setattr(_serde, "decode_json", no_plain_reading)
    was = serde.set_fast(True)
    try:
        assert serde.loads(text, Lead) == record
    finally:
        serde.set_fast(was)
    serde.set_fast(False)
    try:
        with pytest.raises(AssertionError, match="plain path"):  # the plain path reads it
            serde.loads(text, Lead)
    finally:
        serde.set_fast(was)


# --- hostile documents: equal values or the same error ---------------------------------

HOSTILE_VALUES: list[Any] = [
    # integers wider than 64 bits, floats where integers belong, booleans
    2**64, -2**63 - 1, 2**80, 10**40, 1.0, 1e-07, 0.5, 2.5e-05, 1e300, True, False, None,
    # decimals: huge, odd forms, not finite
    "123456789012345678.123456789012345678", "1E+18", "1e19", "-0", "0E-7", "1_000", " 1.5 ",
    "\uff11", "NaN", "Infinity", "-1", "abc", "",
    # datetimes: odd offsets, UTC spellings, fractions, naive, out of range
    "2026-01-01T09:00:00+05:30:15", "2026-01-01T09:00:00+23:59", "2026-01-01T09:00:00-00:00",
    "2026-01-01T09:00:00Z", "2026-01-01t09:00:00z", "2026-01-01 09:00:00+08:00",
    "2026-01-01T09:00:00.1234567+08:00", "2026-01-01T09:00:00.9999995Z",
    "2026-01-01T09:00:00.123+08:00", "2026-01-01T09:00:00", "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z", "20260101T090000Z", "2026-01-01T09:00Z", "2026-01-01+08:00",
    "0001-01-01T00:00:00+01:00",
    # dates
    "2026-12-31", "20261231", "2026-W01-1", "2026-02-30",
    # texts: blank, lone surrogates, non-ASCII, enum values in the wrong case
    "   ", "\ud800", "a\udfffb", "é中😀", "HIGH", "high", "call", "CNY", "cny", "XXX",
    # collections: empty, nested, custom fields of every kind
    [], [[]], [[[]]], ["x"], ["", "x"], ["x", "x"], {}, {"a": {"b": []}}, {"k": 2**70},
    {"": 1}, {"k": 1.5}, {"k": [1]}, {"k": None, "j": True, "i": "x"},
    {"amount": "1", "currency": "CNY"}, {"amount": 1, "currency": "CNY"},
]
_DELETE = object()
_EXTRA = object()


def _spoil(doc: Any, data: st.DataObject, rounds: int) -> Any:
    for _ in range(rounds):
        inside = paths(doc)
        if not inside:
            break
        where = data.draw(st.sampled_from(inside))
        target = doc
        for key in where[:-1]:
            target = target[key]
        value = data.draw(st.sampled_from([*HOSTILE_VALUES, _DELETE, _EXTRA]))
        if value is _DELETE:
            del target[where[-1]]
        elif value is _EXTRA and isinstance(target, dict):
            target["unknown_field"] = data.draw(st.sampled_from(HOSTILE_VALUES))
        elif value is not _EXTRA:
            target[where[-1]] = copy.deepcopy(value)
    return doc


@settings(max_examples=400)
@given(st.one_of(ost.opportunities(), ost.leads()), st.data())
def test_hostile_documents_read_to_equal_values_or_the_same_error_on_both_paths(
    record: Any, data: st.DataObject
) -> None:
    doc = _spoil(copy.deepcopy(serde.unstructure(record)), data, data.draw(st.integers(1, 3)))
    ascii_only = data.draw(st.booleans())  # lone surrogates raw in the text, or escaped
    text = json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":"))
    fast, plain = both(text, type(record))
    assert fast == plain
    if ascii_only:
        assert both(text.encode(), type(record))[0] == plain


def test_duplicate_keys_read_as_the_last_one_on_both_paths() -> None:
    text = serde.dumps(Lead(id="l1", name="Li", captured_at=datetime.fromisoformat(
        "2026-01-01T09:00:00+08:00")))
    for spoiled in (text.replace('"name":"Li"', '"name":"A","name":"B"'),
                    text.replace('"name":"Li"', '"name":"A","name":"  "'),
                    text.replace('"notes":""', '"notes":"","notes":5')):
        fast, plain = both(spoiled, Lead)
        assert fast == plain
    assert both(text.replace('"name":"Li"', '"name":"A","name":"B"'), Lead)[0][3].name == "B"


# --- every check runs: field checks and cross-field rules, in every kind of model --------

_DEAL_FIELDS: dict[str, Any] = {
    "id": "o1", "name": "Deal", "pipeline_id": "p", "stage_id": "s",
    "created_at": datetime.fromisoformat("2026-01-01T09:00:00+08:00"),
    "contacts": (Contact(id="c1", name="Wang"),), "amount": Money.of("10", "CNY"),
    "activities": (Activity(id="a1", kind=ActivityKind.CALL, at=datetime.fromisoformat(
        "2026-01-02T09:00:00+08:00"), by="rep", summary="hi"),),
    "quotes": (Quote(id="q1", currency="CNY", lines=(QuoteLine(
        product="X", quantity="1", unit_price=Money.of("5", "CNY")),)),),
}
_DEAL = serde.unstructure(Opportunity(**_DEAL_FIELDS))


def _with(change: Callable[[dict[str, Any]], None]) -> str:
    doc = copy.deepcopy(_DEAL)
    change(doc)
    return json.dumps(doc, ensure_ascii=False)


BROKEN: list[tuple[str, str, str]] = [
    # a rule across fields of the deal (its constructor)
    (_with(lambda d: d.update(contract_start="2026-05-01", contract_end="2026-04-01")),
     "contract_end", "before it starts"),
    (_with(lambda d: d.update(renewal_of="o1")), "renewal_of", "cannot renew itself"),
    # a field check of a model msgspec builds (its __attrs_post_init__)
    (_with(lambda d: d["contacts"][0].update(name="   ")), "contacts[0].name", "non-empty"),
    (_with(lambda d: d["activities"][0].update(at="2026-01-02T09:00:00")),
     "activities[0].at", "timezone"),
    # money: its converters (msgspec does not run attrs converters)
    (_with(lambda d: d["amount"].update(currency="XXX")), "amount", "currency"),
    (_with(lambda d: d["amount"].update(amount="abc")), "amount", "invalid decimal 'abc'"),
    (_with(lambda d: d["amount"].update(amount="-1")), "amount", "negative"),
    (_with(lambda d: d["quotes"][0]["lines"][0].update(discount="2")),
     "quotes[0].lines[0].discount", ""),
    (_with(lambda d: d["quotes"][0]["lines"][0]["unit_price"].update(currency="zzz")),
     "quotes[0].lines[0].unit_price", "currency"),
    (_with(lambda d: d.update(version=-1)), "version", ">= 0"),
    (_with(lambda d: d.update(tags=[""])), "tags", "non-empty"),
]


@pytest.mark.parametrize(("text", "path", "words"), BROKEN,
                         ids=[p for _, p, _ in BROKEN])
def test_every_check_runs_on_the_fast_path_with_the_same_error(
    text: str, path: str, words: str
) -> None:
    fast, plain = both(text, Opportunity)
    assert fast == plain
    assert fast[0] == "error" and fast[1].startswith(path) and words in fast[2]


def test_a_disqualified_lead_needs_a_reason_on_both_paths() -> None:
    doc = serde.unstructure(Lead(id="l1", name="Li", captured_at=datetime.fromisoformat(
        "2026-01-01T09:00:00+08:00")))
    doc["status"] = "disqualified"
    fast, plain = both(json.dumps(doc), Lead)
    assert fast == plain and fast[0] == "error" and "reason" in fast[2]


# --- msgspec's rules for dates and times against the plain reader's --------------------

DATETIME_TEXT = st.from_regex(
    r"\A[0-9]{4}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9](:[0-6][0-9](\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-2][0-9](:?[0-6][0-9])?)?\Z")


@settings(max_examples=500)
@given(DATETIME_TEXT)
def test_every_datetime_msgspec_reads_is_read_alike_by_the_plain_reader(text: str) -> None:
    raw = json.dumps(text)
    try:
        ours = msgspec.json.decode(raw, type=datetime)
    except msgspec.ValidationError:
        return  # refused: the plain path reads it (or refuses it) itself
    if _serde_typed.needs_plain(raw):
        return  # sent to the plain path before msgspec sees it
    theirs = parse_datetime(text)
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset() and ours.isoformat() == theirs.isoformat()


@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z") | st.dates().map(date.isoformat))
def test_every_date_msgspec_reads_is_read_alike_by_the_plain_reader(text: str) -> None:
    try:
        ours = msgspec.json.decode(json.dumps(text), type=date)
    except msgspec.ValidationError:
        return
    assert ours == parse_date(text)


def test_fractions_msgspec_would_round_go_to_the_plain_path() -> None:
    raw = '"2026-01-01T09:00:00.9999995Z"'
    assert msgspec.json.decode(raw, type=datetime) != parse_datetime(json.loads(raw))
    assert _serde_typed.needs_plain(raw) and _serde_typed.needs_plain(raw.encode())
    assert not _serde_typed.needs_plain('{"value":0.12345678}')  # a float is not a time


def test_models_msgspec_builds_have_no_attrs_converters_or_validators() -> None:
    # The reason msgspec may build them: it sets fields and calls __attrs_post_init__, and
    # runs no attrs converter or validator (tests above show the checks do run).
    for cls in (Activity, Contact, StageChange, Account):
        assert all(a.converter is None and a.validator is None for a in attrs.fields(cls))


# --- JSON Lines: the record lines go through the typed reader on the fast path ----------


def _import_lines(text: str, fast: bool, limits: Limits | None = None) -> Any:
    errors: list[Any] = []
    was = serde.set_fast(fast)
    try:
        records = list(read_jsonl(io.StringIO(text), limits=limits or Limits(),
                                  on_error=errors.append))
    except ImportDataError as exc:
        return ("error", str(exc))
    finally:
        serde.set_fast(was)
    return [serde.dumps(r) for r in records], [type(r) for r in records], errors


@settings(max_examples=60)
@given(st.lists(st.one_of(ost.opportunities(), ost.leads()), min_size=1, max_size=3),
       st.data())
def test_json_lines_read_to_the_same_records_and_errors_on_both_paths(
    records: list[Any], data: st.DataObject
) -> None:
    out = io.StringIO()
    write_jsonl(out, records)
    header, *lines = out.getvalue().rstrip("\n").split("\n")
    spoiled = []
    for line in lines:
        if data.draw(st.booleans()):
            doc = json.loads(line)
            line = json.dumps(_spoil(doc, data, data.draw(st.integers(1, 2))),
                              ensure_ascii=data.draw(st.booleans()))
        spoiled.append(line)
    text = "\n".join([header, *spoiled]) + "\n"
    assert _import_lines(text, True) == _import_lines(text, False)


def test_a_line_whose_kind_is_not_a_string_is_a_row_error_on_both_paths() -> None:
    out = io.StringIO()
    write_jsonl(out, [Opportunity(**_DEAL_FIELDS)])
    header, line = out.getvalue().rstrip("\n").split("\n")
    doc = json.loads(line)
    for kind in ([[[]]], {"a": 1}, 5, None, "deal"):
        text = f"{header}\n{json.dumps({**doc, 'kind': kind})}\n"
        fast, plain = _import_lines(text, True), _import_lines(text, False)
        assert fast == plain
        assert fast[0] == [] and fast[2][0].column == "kind"


def test_a_depth_limit_below_the_records_own_goes_to_the_plain_path() -> None:
    out = io.StringIO()
    write_jsonl(out, [Opportunity(**_DEAL_FIELDS)])
    text = out.getvalue()
    reader = _serde_typed.line_reader(tuple(_KINDS.items()))
    assert reader is not None and reader.depth == 7
    for depth in (reader.depth - 1, reader.depth):
        limits = Limits(max_depth=depth)
        fast, plain = _import_lines(text, True, limits), _import_lines(text, False, limits)
        assert fast == plain
    assert "deeper than 6" in str(_import_lines(text, True, Limits(max_depth=6)))


def _declaring_models() -> list[type]:
    import oppcore

    found = {cls for name in oppcore.__all__
             if isinstance(cls := getattr(oppcore, name), type) and attrs.has(cls)
             and "__oppcore_checks__" in cls.__dict__}
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", _declaring_models(), ids=lambda cls: cls.__name__)
def test_a_model_declaring_its_table_has_no_other_validation(cls: type) -> None:
    # The contract of __oppcore_checks__ (evolve's partial re-check and the wire twins'
    # residual checks rely on it): no attrs converters or validators, and a post-init that
    # runs that table and nothing else.
    assert all(a.converter is None and a.validator is None for a in attrs.fields(cls))
    post_init = cls.__attrs_post_init__
    code = post_init.__code__
    assert code.co_names == (code.co_names[0], "run"), code.co_names
    assert post_init.__globals__[code.co_names[0]] is cls.__oppcore_checks__


def test_the_records_parts_declare_their_tables() -> None:
    assert {cls.__name__ for cls in _declaring_models()} >= {
        "Account", "Activity", "Budget", "Competition", "Competitor", "Contact",
        "DecisionProcess", "Lead", "Opportunity", "Probability", "Qualification", "Quote",
        "Source", "StageChange", "Urgency"}


@given(st.one_of(ost.opportunities(), ost.leads()), st.data())
def test_fields_left_out_take_the_models_defaults_on_both_paths(
    record: Any, data: st.DataObject
) -> None:
    document = json.loads(serde.dumps(record))
    for key in data.draw(st.lists(st.sampled_from(sorted(document)), unique=True)):
        del document[key]
    fast, plain = both(json.dumps(document), type(record))
    assert fast == plain


def test_a_stored_row_without_its_items_is_read_by_the_typed_reader_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stores keep a deal's activities and history apart: its row leaves them out.
    deal = Opportunity(id="o1", name="n", pipeline_id="p", stage_id="s",
                       created_at=datetime.fromisoformat("2026-01-01T09:00:00+08:00"))
    row = json.loads(serde.dumps(deal))
    for key in ("activities", "stage_history", "quotes", "contacts"):
        del row[key]

    def no_plain_reading(_: Any) -> Any:
        raise AssertionError("read on the plain path")

    monkeypatch.setattr(_serde, "decode_json", no_plain_reading)
    was = serde.set_fast(True)
    try:
        assert serde.loads(json.dumps(row), Opportunity) == deal
        del row["updated_at"]  # computed from created_at: only the plain path reads it so
        with pytest.raises(AssertionError, match="plain path"):
            serde.loads(json.dumps(row), Opportunity)
    finally:
        serde.set_fast(was)
