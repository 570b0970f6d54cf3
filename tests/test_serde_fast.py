"""The fast path (msgspec) against the plain path (json): same bytes, same values, same errors.

The fast path is contained in one codec (``oppcore._serde_codec``); models are built and
checked by the same converter on both paths. These properties hold it to the plain path:

* any JSON-ready data is written to the same text, byte for byte, and any text is read to
  the same value (or the same error);
* every model, with hostile values, is written alike and each path reads the other's text
  back to an equal value;
* bad input raises the same error, with the same path and message.
"""

import copy
import io
import json
import math
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import dateutil.tz
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _documents import paths
from oppcore import (
    ImportDataError,
    Lead,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    SQLiteStore,
    StructureError,
    ValidationError,
    _serde,
    _serde_codec,
    serde,
)
from oppcore.io import Limits, import_json, import_jsonl, write_json, write_jsonl
from oppcore.testing import strategies as ost

FAST = _serde_codec.fast_codec()
PLAIN = _serde_codec.PLAIN


@pytest.fixture(autouse=True)
def _needs_msgspec() -> None:
    # The test extra installs msgspec, so CI always runs these; a bare checkout says why not.
    if FAST is None:
        pytest.fail("msgspec is not installed: pip install -e '.[test]'")


def fast() -> _serde_codec.Codec:
    assert FAST is not None
    return FAST


def on_path(fast_path: bool, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with the module-level helpers on one path; return its result or error."""
    was = serde.set_fast(fast_path)
    try:
        return fn()
    except (StructureError, ValueError, RecursionError) as exc:
        return (type(exc).__name__, getattr(exc, "path", None), str(exc))
    finally:
        serde.set_fast(was)


# --- the codec: any JSON-ready data ------------------------------------------------------

FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [5e-324, 1e-05, 2.5e-05, 0.0001, 1e-07, 1e15, 1e16, 1e22, 1.7976931348623157e308, -0.0])
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70) | FLOATS
           | st.text(st.characters(exclude_categories=("Cs",))))
JSON_DATA = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
                      children, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (``1 == 1.0`` and ``0.0 == -0.0`` not).

    Iterative: texts nested thousands of levels deep are compared too.
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(x, float):
            if x != y or math.copysign(1, x) != math.copysign(1, y):
                return False
        elif x != y:
            return False
    return True


def nesting(value: Any) -> int:
    """Nesting depth of parsed JSON (iterative)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (
                item.values() if isinstance(item, dict) else item))
    return deepest


@settings(max_examples=300)
@given(JSON_DATA)
def test_any_json_ready_data_is_written_to_the_same_bytes_and_read_to_the_same_value(
    data: Any,
) -> None:
    text = PLAIN.encode(data)
    assert fast().encode(data) == text
    assert same(fast().decode(text), PLAIN.decode(text))
    assert same(fast().decode(text.encode()), PLAIN.decode(text))


@pytest.mark.parametrize("value", [
    2.5e-05, 1e-05, 5e-324, 1e16, 1e22, -1e-07, 1.5e300, 0.1, 1.0, 1e15, 123456789.123,
    2**64, -2**63 - 1, 10**40, "\u2028\x7f\x00\"\\", "é中😀", {"1e5": [1e-06]},
])
def test_edge_values_are_written_alike(value: Any) -> None:
    assert fast().encode(value) == PLAIN.encode(value)
    assert same(fast().decode(PLAIN.encode(value)), value)


def _read(codec: _serde_codec.Codec, text: str) -> Any:
    try:
        return ("ok", codec.decode(text))
    except (ValueError, RecursionError) as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from('{}[]",:0123456789.eE+-tfnalsru \\\ud800\ufeffNaI')
               ) | st.text())
def test_any_text_reads_to_the_same_value_or_the_same_error(text: str) -> None:
    _assert_read_alike(text)


def _assert_read_alike(text: str) -> None:
    plain, ours = _read(PLAIN, text), _read(fast(), text)
    assert plain[0] == ours[0]
    if plain[0] == "ok":
        assert same(plain[1], ours[1])
    else:
        assert plain == ours


@pytest.mark.parametrize("text", [
    "NaN", "[Infinity]", "-Infinity", "1e400", '"\\ud800"', "\ufeff{}", "[1,2", "",
    "[" * 5000 + "]" * 5000, '{"a":1,"a":2}', "123456789012345678901234567890",
    # Around the depth where json.loads runs out of recursion on Python 3.10 and 3.11 (993)
    # and msgspec a few levels later: the fast reader leaves deep text to json.loads.
    *("[" * d + "]" * d for d in (990, 993, 994, 995, 996, 997, 9998, 9999, 20000)),
    '{"a":' * 995 + "1" + "}" * 995,
])
def test_what_msgspec_refuses_or_reads_otherwise_goes_to_the_plain_reader(text: str) -> None:
    _assert_read_alike(text)


# --- every model, hostile values --------------------------------------------------------

HOSTILE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1,
                       max_size=20).filter(lambda s: not s.isspace())
# Whole seconds: Python's own fromisoformat (3.11) reads "+00:00:00.000001" as UTC, on both
# paths alike; no real zone has a sub-second offset.
ODD_OFFSETS = st.integers(-86_399, 86_399).map(lambda s: timezone(timedelta(seconds=s)))
ODD_DATETIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9998, 12, 30),
                             timezones=ODD_OFFSETS)
# Up to 36 digits, 18 of them after the point (Money refuses |exponent| > 18).
HUGE_DECIMALS = st.integers(0, 10**36 - 1).flatmap(
    lambda i: st.integers(0, 18).map(lambda places: Decimal(i).scaleb(-places))).filter(
    lambda d: not d or abs(d.adjusted()) <= 18)
CUSTOM = st.dictionaries(ost.ids(), st.none() | st.booleans() | st.integers() | HOSTILE_TEXT,
                         max_size=4)


def _hostile(record: Any, data: st.DataObject) -> Any:
    created = data.draw(ODD_DATETIMES)
    changes: dict[str, Any] = {"name": data.draw(HOSTILE_TEXT), "custom": data.draw(CUSTOM),
                               "updated_at": created + timedelta(days=1)}
    if isinstance(record, Opportunity):
        changes.update(
            created_at=created, stage_history=(), activities=(),
            amount=data.draw(st.none() | st.builds(
                Money, amount=HUGE_DECIMALS, currency=ost.currencies(common_only=False))),
            probability=data.draw(st.none() | st.builds(
                Probability, value=st.floats(0, 1) | st.sampled_from([5e-324, 2.5e-05]),
                source=st.sampled_from(ProbabilitySource), note=st.none() | HOSTILE_TEXT)),
            tags=data.draw(st.frozensets(HOSTILE_TEXT, max_size=4)),
        )
    else:
        changes.update(captured_at=created, tags=data.draw(st.frozensets(HOSTILE_TEXT,
                                                                         max_size=4)))
    try:
        return record.evolve(**changes)
    except (ValidationError, OverflowError):
        assume(False)


MODELS: list[tuple[st.SearchStrategy[Any], type]] = [
    (ost.opportunities(), Opportunity), (ost.leads(), Lead), (ost.accounts(), type(None)),
    (ost.contacts(), type(None)), (ost.activities(), type(None)),
    (ost.quotes(), type(None)), (ost.stage_changes(), type(None)),
    (ost.qualifications(), type(None)), (ost.probabilities(), type(None)),
    (ost.sources(), type(None)), (ost.money(), type(None)),
]


@pytest.mark.parametrize(("strategy", "_"), MODELS,
                         ids=lambda v: getattr(v, "__name__", None) or repr(v)[:30])
@given(data=st.data())
def test_every_model_is_written_alike_and_each_path_reads_the_others_text(
    strategy: st.SearchStrategy[Any], _: type, data: st.DataObject
) -> None:
    value = data.draw(strategy)
    cls = type(value)
    plain, quick = serde.make_converter(fast=False), serde.make_converter(fast=True)
    text = plain.dumps(value)
    assert quick.dumps(value) == text
    # The typed writer (serde.dumps, the stores, the exports) writes the same bytes too.
    assert on_path(True, lambda: serde.dumps(value)) == text
    assert quick.loads(text, cls) == plain.loads(quick.dumps(value), cls) == value


@given(st.one_of(ost.opportunities(), ost.leads()), st.data())
def test_hostile_records_are_written_alike_and_read_back_equal_on_both_paths(
    record: Any, data: st.DataObject
) -> None:
    hostile = _hostile(record, data)
    cls = type(hostile)
    fast_text = on_path(True, lambda: serde.dumps(hostile))
    plain_text = on_path(False, lambda: serde.dumps(hostile))
    assert fast_text == plain_text
    assert on_path(True, lambda: serde.loads(plain_text, cls)) == hostile
    assert on_path(False, lambda: serde.loads(fast_text, cls)) == hostile
    doc = serde.document(**{"leads" if cls is Lead else "opportunities": [hostile]})
    assert on_path(True, lambda: serde.encode_json(doc)) == json.dumps(
        doc, ensure_ascii=False, separators=(",", ":"))


def _zoned(zone: str, *args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


WRITER_EDGES: list[Any] = [
    # offsets msgspec writes otherwise (Z for zero, minutes for seconds), zones, old years
    datetime(2026, 1, 1, 9, tzinfo=timezone.utc),
    datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(0))),
    datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=8, seconds=43))),
    datetime(2026, 1, 1, 9, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
    datetime(2026, 1, 1, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=14))),
    datetime(9, 1, 1, 9, tzinfo=timezone(timedelta(hours=1))),
    _zoned("Asia/Shanghai", 1900, 1, 1, 9),  # local mean time: +08:05:43
    _zoned("Asia/Shanghai", 2026, 10, 1, 9),
    _zoned("America/New_York", 2026, 3, 8, 3),
    # dateutil's zones (a core dependency; its tzutc is unhashable in some releases)
    datetime(2026, 1, 1, 9, tzinfo=dateutil.tz.tzutc()),
    datetime(2026, 1, 1, 9, tzinfo=dateutil.tz.tzoffset(None, 8 * 3600)),
]


@pytest.mark.parametrize("when", WRITER_EDGES, ids=str)
@pytest.mark.parametrize("value", [5e-324, 2.5e-05, 1e-07, 0.1, 1.0, 0.0])
def test_the_typed_writer_writes_edge_times_and_floats_as_the_plain_path(
    when: datetime, value: float
) -> None:
    deal = Opportunity(id="o1", name="Edge", pipeline_id="p", stage_id="s", created_at=when,
                       expected_close=when.date().replace(year=max(when.year, 1)),
                       probability=Probability(value=value, source=ProbabilitySource.MANUAL),
                       amount=Money(amount=Decimal("-0") + Decimal("1E+3"), currency="JPY"),
                       custom={"k": "\u2028", "n": 2**70, "b": False, "z": None})
    plain = on_path(False, lambda: serde.dumps(deal))
    assert on_path(True, lambda: serde.dumps(deal)) == plain
    assert json.loads(plain)["created_at"] == when.isoformat()
    assert on_path(True, lambda: serde.loads(plain, Opportunity)) == deal


def test_the_typed_writer_hands_what_msgspec_refuses_to_the_plain_path() -> None:
    # A lone surrogate where a model allows any string: msgspec cannot write it, json can.
    deal = Opportunity(id="o1", name="n", pipeline_id="p", stage_id="s", owner="\ud800",
                       created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert on_path(True, lambda: serde.dumps(deal)) == on_path(False, lambda: serde.dumps(deal))


def test_wide_integers_decimals_and_datetimes_round_trip_exactly() -> None:
    when = datetime(2026, 1, 1, 9, 30, 1, 7, tzinfo=timezone(timedelta(hours=5, minutes=30,
                                                                         seconds=15)))
    lead = Lead(id="l1", name="Li", captured_at=when,
                custom={"wide": 2**80, "negative": -2**64, "small": 1})
    opp = Opportunity(id="o1", name="D", pipeline_id="p", stage_id="s", created_at=when,
                      amount=Money(amount=Decimal("123456789012345678.123456789012345678"),
                                   currency="KWD"))
    for value in (lead, opp):
        text = on_path(False, lambda v=value: serde.dumps(v))
        assert on_path(True, lambda v=value: serde.dumps(v)) == text
        back = on_path(True, lambda v=value, t=text: serde.loads(t, type(v)))
        assert back == value
    assert '"wide":1208925819614629174706176' in on_path(True, lambda: serde.dumps(lead))
    assert '"+05:30:15"' not in text and "+05:30:15" in on_path(True, lambda: serde.dumps(opp))


# --- bad input: the same errors -----------------------------------------------------------

_BAD = ["abc", "", "-5", "2026-11-27T09:30:00", 12.5, 1e-07, -1, True, None, [], {}, ["x"],
        2**70, "NaN", KeyError]


@given(ost.opportunities(), st.data())
def test_bad_text_raises_the_same_error_with_the_same_path_on_both_paths(
    o: Opportunity, data: st.DataObject
) -> None:
    bad = copy.deepcopy(serde.unstructure(o))
    where = data.draw(st.sampled_from(paths(bad)))
    value = data.draw(st.sampled_from(_BAD))
    target = bad
    for key in where[:-1]:
        target = target[key]
    if value is KeyError:
        if isinstance(target, dict):
            del target[where[-1]]
    else:
        target[where[-1]] = value
    text = PLAIN.encode(bad)
    if data.draw(st.booleans()):  # or not JSON at all
        text = text[: data.draw(st.integers(0, len(text)))]
    plain = on_path(False, lambda: serde.loads(text, Opportunity))
    assert on_path(True, lambda: serde.loads(text, Opportunity)) == plain
    plain_conv, quick_conv = serde.make_converter(fast=False), serde.make_converter(fast=True)

    def through(conv: serde.OppcoreConverter) -> Any:
        try:
            return conv.loads(text, Opportunity)
        except Exception as exc:  # whatever it is, both paths raise the same
            return (type(exc).__name__, str(serde.structure_error(exc)))

    assert through(quick_conv) == through(plain_conv)


def test_the_documented_message_on_both_paths() -> None:
    good = serde.unstructure(Opportunity(id="o1", name="D", pipeline_id="p", stage_id="s",
                                         created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                                         amount=Money.of(1, "CNY")))
    good["amount"]["amount"] = "abc"
    doc = {**serde.document_header(), "opportunities": [good] * 4}
    for fast_path in (False, True):
        error = on_path(fast_path, lambda: serde.read_document(serde.decode_json(
            serde.encode_json(doc))))
        assert error == ("StructureError", "opportunities[0].amount.amount",
                         "opportunities[0].amount.amount: invalid decimal 'abc'")


# --- the switches -------------------------------------------------------------------------


def test_make_converter_fast_switch() -> None:
    assert serde.make_converter(fast=False).fast is False
    assert serde.make_converter(fast=True).fast is True
    assert serde.make_converter().fast is True  # installed, so on by default


def test_without_msgspec_nothing_changes_and_fast_true_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_serde, "fast_codec", lambda: None)
    assert serde.make_converter().fast is False
    with pytest.raises(ImportError, match=r"oppcore\[fast\]"):
        serde.make_converter(fast=True)
    with pytest.raises(ImportError, match=r"oppcore\[fast\]"):
        serde.set_fast(True)


def test_set_fast_switches_the_shared_codec_and_returns_the_old_state() -> None:
    was = serde.set_fast(False)
    try:
        assert serde.is_fast() is False
        assert serde.set_fast(True) is False
        assert serde.is_fast() is True
    finally:
        serde.set_fast(was)


def test_dumps_with_json_arguments_stays_on_the_json_module() -> None:
    lead = Lead(id="l1", name="Li", captured_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    quick = serde.make_converter(fast=True)
    assert quick.dumps(lead, indent=2) == json.dumps(serde.unstructure(lead), indent=2,
                                                     ensure_ascii=False)
    assert quick.loads(quick.dumps(lead), Lead) == lead
    with pytest.raises(ValueError, match="NaN is not allowed"):
        quick.loads('{"id": NaN}', Lead)


# --- the io formats and the stores: same files, same rows ---------------------------------


@settings(max_examples=20)
@given(st.lists(st.one_of(ost.opportunities(), ost.leads()), max_size=4))
def test_json_and_json_lines_files_are_the_same_on_both_paths(records: list[Any]) -> None:
    def write(fast_path: bool) -> tuple[str, str]:
        lines, document = io.StringIO(), io.StringIO()
        on_path(fast_path, lambda: write_jsonl(lines, records))
        on_path(fast_path, lambda: write_json(
            document, leads=[r for r in records if isinstance(r, Lead)],
            opportunities=[r for r in records if isinstance(r, Opportunity)]))
        return lines.getvalue(), document.getvalue()

    plain, quick = write(False), write(True)
    assert quick == plain
    for fast_path in (True, False):  # each path reads the other's files
        assert on_path(fast_path, lambda: import_jsonl(io.StringIO(plain[0])).records) == (
            tuple(records))
        assert set(on_path(fast_path, lambda: import_json(io.StringIO(plain[1])).records)) \
            == set(records)


def test_the_sqlite_store_writes_the_same_rows_and_reads_either_path(tmp_path: Any) -> None:
    deals = [r.evolve(version=0) for r in _deals(30)]
    rows = {}
    for fast_path in (False, True):
        path = tmp_path / f"{fast_path}.db"
        with SQLiteStore(path) as store:
            on_path(fast_path, lambda s=store: s.bulk_add(deals[:20]))
            for d in deals[20:]:
                on_path(fast_path, lambda s=store, d=d: s.add(d))
        conn = sqlite3.connect(path)
        rows[fast_path] = conn.execute("SELECT id, data FROM opportunities ORDER BY id"
                                       ).fetchall()
        conn.close()
    assert rows[True] == rows[False]
    for fast_path in (False, True):  # a store written on one path reads on the other
        with SQLiteStore(tmp_path / f"{not fast_path}.db") as store:
            got = on_path(fast_path, lambda s=store: [s.get(Opportunity, d.id) for d in deals])
        assert [g.evolve(version=0) for g in got] == deals


def _deals(n: int) -> list[Opportunity]:
    when = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    return [Opportunity(id=f"o{i:03d}", name=f"Deal {i} «中文» \u2028", pipeline_id="standard",
                        stage_id="solution", created_at=when + timedelta(minutes=i),
                        amount=Money.of(f"{i}.{i:02d}", "CNY"),
                        probability=Probability(value=i / 1e6, source=ProbabilitySource.MODEL),
                        custom={"wide": 2**70 + i}) for i in range(n)]


@settings(max_examples=200)
@given(JSON_DATA, st.integers(0, 8))
def test_the_nesting_bound_is_exact_on_json_text(data: Any, limit: int) -> None:
    text = PLAIN.encode([[data]] if limit % 2 else data)
    assert _serde_codec._deeper_than(text, limit) == (nesting(PLAIN.decode(text)) > limit)
    assert _serde_codec._deeper_than(text.encode(), limit) == _serde_codec._deeper_than(
        text, limit)


@pytest.mark.parametrize("depth", [1, 4, 5, 40, 3000])
def test_json_lines_nesting_limit_on_both_paths(depth: int) -> None:
    lead = Lead(id="l1", name="[{" * 50, captured_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    header = json.dumps({**serde.document_header(), "format": "oppcore.jsonl"})
    good = json.dumps({"kind": "lead", "record": serde.unstructure(lead)})
    deep = '{"kind":"lead","record":{"x":' + "[" * depth + "]" * depth + "}}"

    def read(fast_path: bool, line: str) -> Any:
        was = serde.set_fast(fast_path)
        try:
            return import_jsonl(io.StringIO(f"{header}\n{line}\n"),
                                limits=Limits(max_depth=6)).records
        except ImportDataError as exc:
            return [e.message for e in exc.errors]
        finally:
            serde.set_fast(was)

    for fast_path in (False, True):
        assert read(fast_path, good) == (lead,)  # brackets in strings are not nesting
    got = read(False, deep)
    assert read(True, deep) == got
    if depth == 3000:  # past json's recursion on 3.10-3.12; 3.13 parses it (then the limit)
        assert got in (["JSON nested too deeply"],
                       ["JSON nested deeper than 6 levels (Limits.max_depth)"])
    elif depth + 2 > 6:
        assert got == ["JSON nested deeper than 6 levels (Limits.max_depth)"]
    else:
        assert got[0].startswith("missing required field 'id'")  # nesting within the limit
