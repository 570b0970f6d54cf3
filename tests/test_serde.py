"""The wire format: exact round trips, documented encodings, path-naming errors."""

import copy
import functools
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oppcore
from _documents import paths
from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Budget,
    Channel,
    Competition,
    Contact,
    DecisionProcess,
    Lead,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    Qualification,
    Quote,
    QuoteLine,
    Source,
    StageChange,
    StructureError,
    Urgency,
    _serde,
    serde,
)
from oppcore.io import write_json, write_jsonl
from oppcore.testing import strategies as ost

# Every test here runs on the plain path and on the fast path (conftest.wire_path): the same
# text, the same values, the same errors.
pytestmark = pytest.mark.usefixtures("wire_path")

TZ8 = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 27, 9, 30, 15, 250, tzinfo=TZ8)


def deal(**changes: Any) -> Opportunity:
    base: dict[str, Any] = {
        "id": "o1", "name": "Deal", "pipeline_id": "standard", "stage_id": "solution",
        "created_at": NOW, "amount": Money.of("120000.50", "CNY"),
        "expected_close": date(2026, 12, 31), "tags": {"b", "a"},
        "source": Source(channel=Channel.REFERRAL, detail="Customer X"),
        "quotes": [Quote(id="q1", currency="CNY", lines=(QuoteLine(
            product="p", quantity="1.5", unit_price=Money.of("10.10", "CNY"),
            discount="0.05"),))],
    }
    base.update(changes)
    return Opportunity(**base)


def test_wire_format_is_as_documented() -> None:
    data = serde.unstructure(deal())
    assert data["created_at"] == "2026-11-27T09:30:15.000250+08:00"
    assert data["expected_close"] == "2026-12-31"
    assert data["amount"] == {"amount": "120000.50", "currency": "CNY"}
    assert data["source"] == {"channel": "referral", "detail": "Customer X", "referrer": None}
    assert data["tags"] == ["a", "b"]  # sorted: deterministic output
    assert data["contacts"] == []
    line = data["quotes"][0]["lines"][0]
    assert line["quantity"] == "1.5" and line["discount"] == "0.05"
    assert data["custom"] == {}
    json.dumps(data)  # JSON-ready: only plain types


def test_every_field_is_present_in_the_output() -> None:
    import attrs

    assert set(serde.unstructure(deal())) == {f.name for f in attrs.fields(Opportunity)}


@given(ost.opportunities())
def test_opportunities_round_trip_through_json_text(o: Opportunity) -> None:
    text = serde.dumps(o)
    back = serde.loads(text, Opportunity)
    assert back == o
    assert serde.dumps(back) == text  # stable: same value, same text


@given(ost.leads())
def test_leads_round_trip(lead: Lead) -> None:
    assert serde.structure(json.loads(serde.dumps(lead)), Lead) == lead


@pytest.mark.parametrize(("value", "cls"), [
    (Money.of("0.001", "KWD"), Money),
    (Account(id="a", name="北京字节跳动科技有限公司"), Account),
    (Contact(id="c", name="李雷", email="li@example.cn"), Contact),
    (Qualification(urgency=Urgency(deadline=date(2027, 1, 1)), budget=Budget(confirmed=True),
                   decision=DecisionProcess(cycle_days=0), competition=Competition()),
     Qualification),
    (Probability(value=0.1 + 0.2, source=ProbabilitySource.MODEL), Probability),
    (StageChange(from_stage=None, to_stage="a", at=NOW, by="u", override="manager ok"),
     StageChange),
])
def test_every_model_round_trips(value: object, cls: type) -> None:
    assert serde.loads(serde.dumps(value), cls) == value


@given(ost.activities())
def test_datetimes_keep_their_offset_and_microseconds(activity: Activity) -> None:
    back = serde.loads(serde.dumps(activity), Activity)
    assert back.at == activity.at
    assert back.at.utcoffset() == activity.at.utcoffset()


def test_decimal_digits_survive_exactly() -> None:
    o = deal(amount=Money.of("12345678901234567.89", "CNY"))
    assert serde.loads(serde.dumps(o), Opportunity).amount == o.amount
    back = serde.loads(serde.dumps(o), Opportunity).amount
    assert back is not None and o.amount is not None
    assert back.amount.as_tuple() == o.amount.amount.as_tuple()


def test_z_suffix_and_other_iso_forms_are_read() -> None:
    data = serde.unstructure(deal())
    data["created_at"] = "2026-11-27T01:30:15Z"
    assert serde.structure(data, Opportunity).created_at == datetime(
        2026, 11, 27, 1, 30, 15, tzinfo=timezone.utc)
    data["created_at"] = "20261127T013015+0800"  # basic format: dateutil fallback
    assert serde.structure(data, Opportunity).created_at.utcoffset() == timedelta(hours=8)


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = serde.unstructure(deal(contacts=[Contact(id="c1", name="Li")],
                                  activities=[Activity(id="a", kind=ActivityKind.CALL,
                                                       at=NOW, by="u")]))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return dict(data)


@pytest.mark.parametrize(("path", "value", "where", "message"), [
    (["amount", "amount"], "abc", "opportunities[3].amount.amount", "invalid decimal 'abc'"),
    (["amount", "amount"], 12.5, "opportunities[3].amount.amount", "float 12.5 refused"),
    (["amount", "amount"], "NaN", "opportunities[3].amount.amount", "finite"),
    (["amount", "currency"], "RMB", "opportunities[3].amount.currency", "unknown ISO 4217"),
    (["created_at"], "2026-11-27T09:30:00", "opportunities[3].created_at", "naive"),
    (["created_at"], "next tuesday", "opportunities[3].created_at", "invalid ISO 8601"),
    (["expected_close"], "2026-13-01", "opportunities[3].expected_close", "invalid ISO 8601"),
    (["contacts", 0, "name"], "", "opportunities[3].contacts[0].name", "non-empty"),
    (["contacts"], {"id": "c"}, "opportunities[3].contacts", "expected an array"),
    (["activities", 0, "kind"], "telepathy", "opportunities[3].activities[0].kind",
     "not a valid ActivityKind"),
    (["quotes", 0, "lines", 0, "discount"], "2", "opportunities[3].quotes[0].lines[0].discount",
     "in [0, 1]"),
    (["stage_id"], KeyError, "opportunities[3]", "missing required field 'stage_id'"),
    (["custom"], {"x": 1.5}, "opportunities[3].custom", "float refused"),
    (["version"], "7", "opportunities[3].version", "integer"),
    (["tags"], "vip", "opportunities[3].tags", "array of strings"),
])
def test_bad_data_names_its_path(path: list[Any], value: Any, where: str, message: str) -> None:
    with pytest.raises(StructureError) as info:
        serde.structure(mutate(path, value), Opportunity, path="opportunities[3]")
    assert info.value.path == where
    assert message in str(info.value)
    assert str(info.value).startswith(f"{where}: ")
    assert info.value.__cause__ is not None  # the original error is chained


def test_structure_error_is_a_value_error_and_non_dict_input_is_explained() -> None:
    with pytest.raises(ValueError, match="expected"):
        serde.structure(["not", "a", "deal"], Opportunity)


def test_loads_refuses_invalid_json_and_non_standard_constants() -> None:
    with pytest.raises(StructureError, match="invalid JSON"):
        serde.loads("{not json", Opportunity)
    text = serde.dumps(Probability(value=0.5, source=ProbabilitySource.STAGE))
    with pytest.raises(StructureError, match="NaN"):
        serde.loads(text.replace("0.5", "NaN"), Probability)


class TestDocuments:
    def test_round_trip_with_schema_version(self) -> None:
        lead = Lead(id="l1", name="Li", captured_at=NOW)
        doc = serde.document(leads=[lead], opportunities=[deal()])
        assert doc["schema_version"] == serde.SCHEMA_VERSION == 1
        leads, opps = serde.read_document(json.loads(json.dumps(doc)))
        assert leads == (lead,) and opps == (deal(),)

    def test_bad_record_is_named_by_its_index(self) -> None:
        doc = serde.document(opportunities=[deal(), deal(id="o2")])
        doc["opportunities"][1]["amount"]["amount"] = "12,5"
        with pytest.raises(StructureError, match=r"^opportunities\[1\]\.amount\.amount: "
                                                 r"invalid decimal '12,5'"):
            serde.read_document(doc)

    @pytest.mark.parametrize(("doc", "message"), [
        ({}, "schema_version"),
        ({"schema_version": "1"}, "schema_version"),
        ({"schema_version": 99}, "schema version 99 is not supported"),
        ({"schema_version": 1, "leads": {}}, "expected an array"),
        ([], "document object"),
    ])
    def test_malformed_documents(self, doc: Any, message: str) -> None:
        with pytest.raises(StructureError, match=message):
            serde.read_document(doc)


def test_configure_converter_installs_hooks_on_a_host_converter() -> None:
    host = cattrs.Converter()
    serde.configure_converter(host)
    o = deal()
    assert host.structure(host.unstructure(o), Opportunity) == o
    assert host.unstructure(Decimal("1.10")) == "1.10"
    assert serde.make_converter() is not serde.make_converter()


# --- the preconf-shaped converter, structure_error, the document header -----------------


@functools.cache
def _host() -> cattrs.Converter:
    host = cattrs.Converter()  # detailed validation: the cattrs default
    serde.configure_converter(host)
    return host


def _bad_lead(field: str, value: Any) -> dict[str, Any]:
    data = serde.unstructure(Lead(id="l1", name="Li", captured_at=NOW))
    data[field] = value
    return dict(data)


BAD_DOCUMENTS: list[Any] = [
    pytest.param(mutate(["quotes", 0, "lines", 0, "unit_price", "amount"], "abc"), Opportunity,
                 "opportunities[3]", "opportunities[3].quotes[0].lines[0].unit_price.amount",
                 "invalid decimal 'abc'", id="bad-decimal-deep-in-a-list"),
    pytest.param(mutate(["stage_id"], KeyError), Opportunity, "opportunities[3]",
                 "opportunities[3]", "missing required field 'stage_id'", id="missing-field"),
    pytest.param(mutate(["contacts", 0, "id"], KeyError), Opportunity, "",
                 "contacts[0]", "missing required field 'id'", id="missing-field-in-a-list"),
    pytest.param(mutate(["amount"], {"amount": "1"}), Opportunity, "",
                 "amount", "missing required field 'currency'", id="money-without-currency"),
    pytest.param(mutate(["version"], "7"), Opportunity, "opportunities[3]",
                 "opportunities[3].version", "integer", id="wrong-type"),
    pytest.param(mutate(["contacts"], "Li"), Opportunity, "", "contacts", "expected an array",
                 id="wrong-container"),
    pytest.param(mutate(["contacts", 0], ["c1"]), Opportunity, "", "contacts[0]",
                 "expected an object (Contact), got list", id="array-for-an-object"),
    pytest.param(mutate(["activities", 0, "at"], "2026-11-27T09:30:00"), Opportunity,
                 "opportunities[3]", "opportunities[3].activities[0].at", "naive",
                 id="naive-datetime"),
    pytest.param(mutate(["activities", 0, "kind"], "telepathy"), Opportunity, "",
                 "activities[0].kind", "not a valid ActivityKind", id="bad-enum"),
    pytest.param(mutate(["amount", "amount"], "-5"), Opportunity, "opportunities[3]",
                 "opportunities[3].amount", "must not be negative", id="model-rule-negative"),
    pytest.param(mutate(["custom"], {"x": [1]}), Opportunity, "opportunities[3]",
                 "opportunities[3].custom", "'x': list refused", id="bad-custom-field-value"),
    pytest.param(_bad_lead("name", " "), Lead, "leads[2]", "leads[2].name", "non-empty",
                 id="model-rule-on-construction"),
    pytest.param(["not", "a", "deal"], Opportunity, "opportunities[3]", "opportunities[3]",
                 "expected an object (Opportunity), got list", id="not-an-object"),
    pytest.param(mutate(["qualification"], {"urgency": []}), Opportunity, "",
                 "qualification.urgency", "expected an object (Urgency), got list",
                 id="array-for-an-all-default-object"),
]


@pytest.mark.parametrize(("data", "cls", "prefix", "where", "message"), BAD_DOCUMENTS)
def test_a_host_converter_gives_the_messages_structure_gives(
    data: Any, cls: type, prefix: str, where: str, message: str
) -> None:
    with pytest.raises(StructureError) as ours:
        serde.structure(data, cls, path=prefix)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - a group, or the top object's error
        _host().structure(data, cls)
    theirs = serde.structure_error(raised.value, path=prefix)
    assert (theirs.path, str(theirs)) == (ours.value.path, str(ours.value))
    assert ours.value.path == where
    assert str(ours.value).startswith(f"{where}: ")
    assert message in str(ours.value)
    assert ours.value.__cause__ is not None  # cattrs' error (group), chained


def test_every_problem_is_listed_after_the_first() -> None:
    data = mutate(["amount", "amount"], "abc")
    data["activities"][0]["kind"] = "telepathy"
    with pytest.raises(StructureError) as info:
        serde.structure(data, Opportunity)
    assert info.value.path == "amount.amount"
    assert str(info.value) == ("amount.amount: invalid decimal 'abc' (and 1 more: "
                               "activities[0].kind: 'telepathy' is not a valid ActivityKind)")


def test_structure_error_without_detailed_validation_names_only_the_prefix() -> None:
    fast = serde.make_converter(detailed_validation=False)
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the hook's own error
        fast.structure(mutate(["activities", 0, "kind"], "telepathy"), Opportunity)
    error = serde.structure_error(raised.value, path="opportunities[3]")
    assert error.path == "opportunities[3]"
    assert str(error) == "opportunities[3]: 'telepathy' is not a valid ActivityKind"


def test_all_default_models_refuse_a_non_object_on_the_fast_path_too() -> None:
    for value in ([], "", "abc"):
        with pytest.raises(StructureError, match=r"^qualification: expected an object"):
            serde.structure(mutate(["qualification"], value), Opportunity)


class TestConverter:
    def test_make_converter_returns_a_configured_oppcore_converter(self) -> None:
        converter = serde.make_converter()
        assert isinstance(converter, serde.OppcoreConverter)
        assert isinstance(converter, cattrs.Converter)
        assert converter.detailed_validation  # cattrs' default
        assert converter.loads(converter.dumps(deal()), Opportunity) == deal()
        assert converter.dumps(deal()) == serde.dumps(deal())

    def test_keyword_arguments_go_to_the_converter(self) -> None:
        assert not serde.make_converter(detailed_validation=False).detailed_validation
        strict = serde.make_converter(forbid_extra_keys=True)
        data = serde.unstructure(deal())
        data["surprise"] = 1
        with pytest.raises(cattrs.ClassValidationError) as raised:
            strict.structure(data, Opportunity)
        assert "surprise" in str(serde.structure_error(raised.value))

    def test_dumps_and_loads_pass_json_options_through(self) -> None:
        converter = serde.make_converter()
        value = Account(id="a", name="李雷")
        compact = converter.dumps(value)
        assert '"name":"李雷"' in compact and ", " not in compact  # compact, not escaped
        assert "\\u674e" in converter.dumps(value, ensure_ascii=True)
        assert converter.dumps(value, indent=2) == serde.dumps(value, indent=2)
        assert "\n" in converter.dumps(value, indent=2)
        text = serde.dumps(Probability(value=0.5, source=ProbabilitySource.STAGE))
        with pytest.raises(ValueError, match="NaN"):
            converter.loads(text.replace("0.5", "NaN"), Probability)
        loose = converter.loads(text.replace("0.5", "NaN"), Probability,
                                parse_constant=lambda _: 0.25)
        assert loose.value == 0.25

    def test_the_detailed_twin_is_made_once(self) -> None:
        for _ in range(2):
            with pytest.raises(StructureError):
                serde.structure({}, Opportunity)
        assert _serde._detailed_converter() is _serde._detailed_converter()


class TestDocumentHeader:
    def test_header_is_one_definition(self) -> None:
        header = serde.document_header()
        assert header == {"schema_version": serde.SCHEMA_VERSION,
                          "generator": f"oppcore {oppcore.__version__}"}
        assert serde.document_header() is not header  # a new dict: callers may add keys
        doc = serde.document()
        assert {k: doc[k] for k in header} == header

    def test_json_and_jsonl_writers_use_it(self) -> None:
        buffer = io.StringIO()
        write_json(buffer, opportunities=[deal()])
        written = json.loads(buffer.getvalue())
        assert {k: written[k] for k in serde.document_header()} == serde.document_header()
        assert list(written)[:2] == list(serde.document_header())
        buffer = io.StringIO()
        write_jsonl(buffer, [deal()])
        first = json.loads(buffer.getvalue().splitlines()[0])
        assert first == {**serde.document_header(), "format": "oppcore.jsonl"}


_BAD_VALUES = ["abc", "", "-5", "2026-11-27T09:30:00", 12.5, -1, True, None, [], {}, ["x"],
               KeyError]


@given(ost.opportunities(), st.data())
def test_fast_path_and_a_host_converter_agree_on_generated_data(
    o: Opportunity, data: st.DataObject
) -> None:
    good = serde.unstructure(o)
    assert serde.structure(good, Opportunity) == _host().structure(good, Opportunity) == o
    bad = copy.deepcopy(good)
    where = data.draw(st.sampled_from(paths(bad)))
    value = data.draw(st.sampled_from(_BAD_VALUES))
    target = bad
    for key in where[:-1]:
        target = target[key]
    if value is KeyError and isinstance(target, dict):
        del target[where[-1]]
    elif value is not KeyError:
        target[where[-1]] = value
    try:
        ours: Any = serde.structure(bad, Opportunity, path="opportunities[0]")
    except StructureError as exc:
        ours = (exc.path, str(exc))
    try:
        theirs: Any = _host().structure(bad, Opportunity)
    except Exception as exc:  # whatever it raised is explained
        error = serde.structure_error(exc, path="opportunities[0]")
        theirs = (error.path, str(error))
    assert ours == theirs


def test_a_long_list_of_problems_is_cut_short() -> None:
    data = mutate(["contacts", 0, "name"], "")
    for field in ("id", "name", "pipeline_id", "stage_id", "created_at"):
        del data[field]
    with pytest.raises(StructureError) as info:
        serde.structure(data, Opportunity)
    assert info.value.path == ""  # the record itself
    assert str(info.value) == (
        "missing required field 'id' (and 5 more: <root>: missing required field 'name'; "
        "<root>: missing required field 'pipeline_id'; <root>: missing required field "
        "'stage_id'; ...)")
