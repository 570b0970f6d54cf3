"""oppcore's flat CSV and JSON formats: round trips, spreadsheet safety, hostile documents."""

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import ImportDataError, Lead, Opportunity, ValidationError, serde
from oppcore.io import (
    HISTORY_COLUMNS,
    LEAD_COLUMNS,
    OPPORTUNITY_COLUMNS,
    Limits,
    import_json,
    import_jsonl,
    read_jsonl,
    read_leads_csv,
    read_opportunities_csv,
    read_stage_history_csv,
    write_json,
    write_jsonl,
    write_leads_csv,
    write_opportunities_csv,
    write_stage_history_csv,
)
from oppcore.testing.strategies import leads, opportunities

UTC = timezone.utc


def _flat(o: Opportunity) -> Opportunity:
    """What the flat CSV keeps of an opportunity (nested data needs JSON)."""
    account = None if o.account is None else attrs.evolve(
        o.account, industry=None, size=None, employees=None, region=None, tier=None,
        website=None, external_key=None, credit_code=None)
    return o.evolve(account=account, contacts=(), expected_close_history=(),
                    model_probability=None, qualification=Opportunity(
                        id="x", name="x", pipeline_id="x", stage_id="x",
                        created_at=o.created_at).qualification,
                    activities=(), quotes=())


def _flat_lead(x: Lead) -> Lead:
    blank = Lead(id="x", name="x", captured_at=x.captured_at)
    return x.evolve(qualification=blank.qualification)


def _csv_text(write: object, records: object, **kw: object) -> str:
    buf = io.StringIO(newline="")
    write(records, buf, **kw)  # type: ignore[operator]
    return buf.getvalue()


# --------------------------------------------------------------------------- round trips


@given(st.lists(opportunities(), max_size=4, unique_by=lambda o: o.id), st.booleans())
def test_flat_csv_round_trip_keeps_every_flat_field(
    opps: list[Opportunity], safe: bool
) -> None:
    main = io.StringIO(_csv_text(write_opportunities_csv, opps, spreadsheet_safe=safe))
    history = io.StringIO(_csv_text(write_stage_history_csv, opps, spreadsheet_safe=safe))
    back = list(read_opportunities_csv(main, history=history, spreadsheet_safe=safe))
    assert back == [_flat(o) for o in opps]


@given(st.lists(leads(), max_size=4), st.booleans())
def test_lead_csv_round_trip(items: list[Lead], safe: bool) -> None:
    text = _csv_text(write_leads_csv, items, spreadsheet_safe=safe)
    assert list(read_leads_csv(io.StringIO(text), spreadsheet_safe=safe)) == [
        _flat_lead(x) for x in items]


@pytest.mark.usefixtures("wire_path")
@given(st.lists(opportunities(), max_size=3), st.lists(leads(), max_size=3))
def test_json_document_round_trip_is_lossless(opps: list[Opportunity], items: list[Lead]
                                              ) -> None:
    buf = io.StringIO()
    assert write_json(buf, leads=items, opportunities=opps) == len(opps) + len(items)
    text = buf.getvalue()
    assert json.loads(text) == json.loads(json.dumps(serde.document(
        leads=items, opportunities=opps))) | {"generator": json.loads(text)["generator"]}
    report = import_json(io.StringIO(text))
    assert report.records == (*items, *opps)


@pytest.mark.usefixtures("wire_path")
@given(st.lists(st.one_of(opportunities(), leads()), max_size=5))
def test_jsonl_round_trip_is_lossless_and_streams(records: list[Lead | Opportunity]) -> None:
    buf = io.StringIO()
    assert write_jsonl(buf, records) == len(records)
    lines = buf.getvalue().split("\n")[:-1]  # not splitlines(): U+2028 may sit in a string
    assert len(lines) == len(records) + 1
    assert json.loads(lines[0])["schema_version"] == serde.SCHEMA_VERSION
    assert list(read_jsonl(io.StringIO(buf.getvalue()))) == records


@pytest.mark.usefixtures("wire_path")
def test_paths_work_for_every_writer_and_reader(tmp_path: Path) -> None:
    opp = Opportunity(id="o1", name="Deal", pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC))
    lead = Lead(id="l1", name="Li", captured_at=datetime(2024, 1, 1, tzinfo=UTC))
    write_opportunities_csv([opp], tmp_path / "o.csv")
    write_stage_history_csv([opp], tmp_path / "h.csv")
    write_leads_csv([lead], tmp_path / "l.csv")
    write_json(tmp_path / "d.json", leads=[lead], opportunities=[opp])
    write_jsonl(tmp_path / "d.jsonl", [lead, opp])
    assert list(read_opportunities_csv(tmp_path / "o.csv", history=tmp_path / "h.csv")) == [opp]
    assert list(read_leads_csv(tmp_path / "l.csv")) == [lead]
    assert import_json(tmp_path / "d.json").records == (lead, opp)
    assert import_jsonl(tmp_path / "d.jsonl").records == (lead, opp)
    assert list(read_stage_history_csv(tmp_path / "h.csv")) == []


def test_headers_are_the_documented_columns() -> None:
    opp = Opportunity(id="o1", name="Deal", pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC))
    for write, columns, items in ((write_opportunities_csv, OPPORTUNITY_COLUMNS, [opp]),
                                  (write_stage_history_csv, HISTORY_COLUMNS, [opp]),
                                  (write_leads_csv, LEAD_COLUMNS, [])):
        header = next(csv.reader(io.StringIO(_csv_text(write, items))))
        assert tuple(header) == columns


# --------------------------------------------------------------------------- spreadsheet safety

_DANGEROUS = st.sampled_from(["=", "+", "-", "@", "\t", "\r"])


@given(_DANGEROUS, st.text(max_size=10))
def test_spreadsheet_safe_export_never_starts_a_cell_with_a_formula(start: str, rest: str
                                                                    ) -> None:
    lead = Lead(id="l1", name=start + rest + "x", captured_at=datetime(2024, 1, 1, tzinfo=UTC),
                phone="+86 138 0000 0000")
    text = _csv_text(write_leads_csv, [lead])
    # Python 3.10's csv module cannot read NUL; it is no formula character, so a stand-in
    # changes nothing this looks at.
    for row in csv.reader(io.StringIO(text.replace("\0", "\ufffd"), newline="")):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert list(read_leads_csv(io.StringIO(text))) == [lead]


def test_opt_out_writes_raw_cells_for_machines() -> None:
    lead = Lead(id="l1", name="=1+1", captured_at=datetime(2024, 1, 1, tzinfo=UTC))
    raw = _csv_text(write_leads_csv, [lead], spreadsheet_safe=False)
    safe = _csv_text(write_leads_csv, [lead])
    assert "\r\nl1,=1+1," in raw
    assert "\r\nl1,'=1+1," in safe


# --------------------------------------------------------------------------- flat CSV errors


def test_flat_reader_reports_bad_cells() -> None:
    cells = dict.fromkeys(OPPORTUNITY_COLUMNS, "")
    cells.update(id="o1", name="Deal", pipeline_id="simple", stage_id="won",
                 created_at="not-a-date", amount="12.5", currency="XXX",
                 expected_close="2024-13-01", source_channel="nope", version="-1",
                 custom="[1,", probability="high")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(OPPORTUNITY_COLUMNS)
    writer.writerow(cells.values())
    seen: list[object] = []
    got = list(read_opportunities_csv(io.StringIO(buf.getvalue()), on_error=seen.append))
    assert got == []
    columns = {getattr(e, "column", None) for e in seen}
    assert columns == {"created_at", "currency", "expected_close", "source_channel",
                       "version", "custom", "probability"}
    assert all(getattr(e, "row", None) == 2 for e in seen)


def test_flat_reader_refuses_unknown_and_missing_columns() -> None:
    with pytest.raises(ImportDataError, match="unknown column"):
        list(read_leads_csv(io.StringIO("id,name,captured_at,shoe_size\n")))
    with pytest.raises(ImportDataError, match="required column missing"):
        list(read_leads_csv(io.StringIO("id,name\n")))


def test_history_for_an_unknown_deal_is_an_error() -> None:
    opp = Opportunity(id="o1", name="Deal", pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC))
    main = _csv_text(write_opportunities_csv, [opp])
    history = ",".join(HISTORY_COLUMNS) + "\nzz,,engaging,2024-01-01T00:00:00+00:00,ann,,\n"
    with pytest.raises(ImportDataError, match="history rows for 'zz'"):
        list(read_opportunities_csv(io.StringIO(main), history=io.StringIO(history)))


# --------------------------------------------------------------------------- JSON errors


def _doc(**extra: object) -> str:
    return json.dumps({"schema_version": 1, "leads": [], "opportunities": [], **extra})


@pytest.mark.usefixtures("wire_path")
def test_json_bad_record_is_reported_with_its_path_and_good_ones_kept() -> None:
    good = serde.unstructure(Opportunity(id="o1", name="Deal", pipeline_id="simple",
                                         stage_id="won", created_at=datetime(2024, 1, 1,
                                                                             tzinfo=UTC)))
    bad = dict(good, id="o2", amount={"amount": "NaN", "currency": "USD"})
    report = import_json(io.StringIO(_doc(opportunities=[good, bad])), errors="collect")
    assert [o.id for o in report.records] == ["o1"]
    (error,) = report.errors
    assert error.row == 2
    assert error.column is not None
    assert error.column.startswith("opportunities[1].amount")
    with pytest.raises(ImportDataError):
        import_json(io.StringIO(_doc(opportunities=[good, bad])))


@pytest.mark.usefixtures("wire_path")
@pytest.mark.parametrize(("text", "message"), [
    ('{"schema_version": 99, "leads": []}', "schema version 99"),
    ('{"leads": []}', "schema_version"),
    ("[1, 2]", "expected a JSON object"),
    ('{"schema_version": 1, "leads": NaN}', "NaN is not allowed"),
    ('{"a":' * 40 + "1" + "}" * 40, "nested deeper than 32"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"schema_version": 1, "leads": {}}', "expected an array"),
])
def test_json_document_problems(text: str, message: str) -> None:
    with pytest.raises(ImportDataError, match=message):
        import_json(io.StringIO(text))


@pytest.mark.usefixtures("wire_path")
def test_json_size_and_record_limits() -> None:
    with pytest.raises(ImportDataError, match="max_document_bytes"):
        import_json(io.StringIO(_doc()), limits=Limits(max_document_bytes=10))
    lead = serde.unstructure(Lead(id="l", name="n", captured_at=datetime(2024, 1, 1,
                                                                       tzinfo=UTC)))
    with pytest.raises(ImportDataError, match="max_rows"):
        import_json(io.StringIO(_doc(leads=[lead] * 3)), limits=Limits(max_rows=2))


@pytest.mark.usefixtures("wire_path")
def test_json_undecodable_bytes() -> None:
    with pytest.raises(ImportDataError, match="undecodable bytes"):
        import_json(io.BytesIO(b'{"schema_version": 1, "x": "\xff"}'))


@pytest.mark.usefixtures("wire_path")
def test_jsonl_errors_name_the_line() -> None:
    lead = Lead(id="l1", name="Li", captured_at=datetime(2024, 1, 1, tzinfo=UTC))
    buf = io.StringIO()
    write_jsonl(buf, [lead])
    text = buf.getvalue() + "not json\n" + '{"kind": "deal", "record": {}}\n' + \
        '{"kind": "lead", "record": {"id": "l2"}}\n'
    report = import_jsonl(io.StringIO(text), errors="collect")
    assert report.records == (lead,)
    assert [(e.row, e.column) for e in report.errors][:2] == [(3, None), (4, "kind")]
    assert report.errors[2].row == 5
    with pytest.raises(ImportDataError, match=r"expected format 'oppcore\.jsonl'"):
        list(read_jsonl(io.StringIO('{"schema_version": 1}\n')))
    with pytest.raises(ImportDataError, match="empty file"):
        list(read_jsonl(io.StringIO("")))


def test_write_jsonl_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="record 1: expected a Lead or an Opportunity"):
        write_jsonl(io.StringIO(), [object()])  # type: ignore[list-item]


@pytest.mark.parametrize("name", ["'=x", "''=x", "'+1", "'x", "'", "'\tx"])
def test_spreadsheet_safe_round_trip_keeps_a_leading_quote(name: str) -> None:
    # A value that already starts with a quote before a formula character must not lose
    # that quote on the way back (the reader strips exactly the quote the writer added).
    lead = Lead(id="l1", name=name, captured_at=datetime(2024, 1, 1, tzinfo=UTC))
    text = _csv_text(write_leads_csv, [lead])
    assert [x.name for x in read_leads_csv(io.StringIO(text, newline=""))] == [name]
    for row in csv.reader(io.StringIO(text, newline="")):
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.usefixtures("wire_path")
def test_json_error_messages_name_the_path_once() -> None:
    good = serde.unstructure(Opportunity(id="o1", name="Deal", pipeline_id="simple",
                                         stage_id="won", created_at=datetime(2024, 1, 1,
                                                                             tzinfo=UTC)))
    bad = dict(good, amount={"amount": "NaN", "currency": "USD"})
    (error,) = import_json(io.StringIO(_doc(opportunities=[bad])), errors="collect").errors
    assert str(error).count("opportunities[0].amount.amount") == 1
    assert error.message.startswith("amount must be finite")
    with pytest.raises(ImportDataError) as info:
        import_json(io.StringIO('{"schema_version": 99}'))
    assert str(info.value).count("schema_version") == 1


# --------------------------------------------------------------------------- NUL characters


@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("notes", ["a\0b", "\0", "line 1\0\r\nline, \"2\"\0",
                                   "\0\uffff\ufffe\uffff\uffff\0", "=\0"])
def test_nul_in_a_cell_round_trips_on_every_python(notes: str, safe: bool) -> None:
    # Regression: Python 3.10's csv module refuses NUL when writing ("need to escape, but no
    # escapechar set") and reading ("line contains NUL"), 3.11+ treats it as a character. A
    # note pasted from a PDF may hold one; the record must stay exportable, the file must
    # not depend on the Python that wrote it, and it must read back everywhere.
    lead = Lead(id="l1", name="Li\0", captured_at=datetime(2024, 1, 1, tzinfo=UTC),
                notes=notes)
    text = _csv_text(write_leads_csv, [lead], spreadsheet_safe=safe)
    assert "\r\nl1,Li\0," in text  # NUL written as itself: the 3.11+ csv module's output
    assert list(read_leads_csv(io.StringIO(text, newline=""), spreadsheet_safe=safe)) == [
        lead]
    opp = Opportunity(id="o\0", name=notes, pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC))
    text = _csv_text(write_opportunities_csv, [opp], spreadsheet_safe=safe)
    assert list(read_opportunities_csv(io.StringIO(text, newline=""),
                                       spreadsheet_safe=safe)) == [opp]


def test_nul_rows_are_formatted_as_the_csv_module_formats_other_rows() -> None:
    lead = Lead(id="l1", name='Li, "Wei"\0', captured_at=datetime(2024, 1, 1, tzinfo=UTC),
                notes="\0\n")
    text = _csv_text(write_leads_csv, [lead])
    clean = _csv_text(write_leads_csv, [lead.evolve(name='Li, "Wei"x', notes="x\n")])
    assert text == clean.replace('"Wei""x"', '"Wei""\0"').replace('"x\n"', '"\0\n"')


# --------------------------------------------------------------------------- limits


@pytest.mark.usefixtures("wire_path")
def test_a_record_with_a_1_mib_field_survives_every_format_with_the_defaults(
    tmp_path: Path,
) -> None:
    # A store accepts a note of any length; with the default Limits what oppcore writes
    # must read back, in every format (it used to exceed the 131,072-character cell limit).
    big = "长" * (1 << 20) + "\n" + "x" * 1000  # 1 Mi three-byte characters, then a line
    lead = Lead(id="l1", name="Li", captured_at=datetime(2024, 1, 1, tzinfo=UTC), notes=big)
    opp = Opportunity(id="o1", name="Deal", pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC), lost_reason=big)
    write_leads_csv([lead], tmp_path / "l.csv")
    write_opportunities_csv([opp], tmp_path / "o.csv")
    write_jsonl(tmp_path / "d.jsonl", [lead, opp])
    assert list(read_leads_csv(tmp_path / "l.csv")) == [lead]
    assert list(read_opportunities_csv(tmp_path / "o.csv")) == [opp]
    assert list(read_jsonl(tmp_path / "d.jsonl")) == [lead, opp]


def test_writers_refuse_a_cell_their_readers_would_refuse() -> None:
    limits = Limits(max_field_size=1000)
    lead = Lead(id="l1", name="Li", captured_at=datetime(2024, 1, 1, tzinfo=UTC),
                notes="n" * 1001)
    opp = Opportunity(id="o1", name="Deal", pipeline_id="simple", stage_id="engaging",
                      created_at=datetime(2024, 1, 1, tzinfo=UTC), owner="=" + "o" * 999)
    buf = io.StringIO()
    with pytest.raises(ValidationError, match=r"Lead\.notes: record 'l1': a cell of 1001 "
                       r"characters is longer than the 1000") as info:
        write_leads_csv([lead.evolve(id="l0", notes="fine"), lead], buf, limits=limits)
    assert (info.value.model, info.value.field) == ("Lead", "notes")
    assert buf.getvalue().count("\r\n") == 2  # the header and the good row, nothing of l1
    # The spreadsheet-safe quote counts: 1000 characters become 1001.
    with pytest.raises(ValidationError, match=r"Opportunity\.owner: record 'o1'"):
        write_opportunities_csv([opp], io.StringIO(), limits=limits)
    assert write_opportunities_csv([opp], io.StringIO(), limits=limits,
                                   spreadsheet_safe=False) == 1
    # What is written with a limit reads back with it.
    text = _csv_text(write_leads_csv, [lead.evolve(notes="n" * 1000)], limits=limits)
    assert [x.notes for x in read_leads_csv(io.StringIO(text), limits=limits)] == ["n" * 1000]
