"""CSV import of foreign exports through column mappings: presets, row errors, hostile files."""

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oppcore import Channel, ConfigError, ImportDataError, Money, Opportunity
from oppcore.io import (
    PRESET_NAMES,
    ColumnMapping,
    ImportReport,
    Limits,
    RowError,
    import_csv,
    preset,
    read_csv,
)

FIXTURES = Path(__file__).parent / "fixtures" / "io"
UTC = timezone.utc
AS_OF = datetime(2017, 12, 31, tzinfo=UTC)
HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"


def _maven(text: str, **kw: object) -> ImportReport[Opportunity]:
    return import_csv(io.StringIO(HEADER + "\n" + text), preset("maven"), **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- maven shape


@pytest.fixture(scope="module")
def maven() -> ImportReport[Opportunity]:
    return import_csv(FIXTURES / "maven_sample.csv", preset("maven"), as_of=AS_OF)


def test_maven_sample_imports_every_row(maven: ImportReport[Opportunity]) -> None:
    assert maven.ok
    assert maven.rows_read == maven.imported == 40
    assert {o.pipeline_id for o in maven.records} == {"simple"}
    assert {o.stage_id for o in maven.records} == {"prospecting", "engaging", "won", "lost"}


def test_maven_won_deal_is_fully_mapped(maven: ImportReport[Opportunity]) -> None:
    o = maven.records[0]
    assert o.id == "M0000000"
    assert o.owner == "Moses Frase"
    assert o.account is not None
    assert (o.account.id, o.account.name) == ("cancity", "Cancity")
    assert o.amount == Money.of("550", "USD")
    assert o.tags == frozenset({"GTX Basic"})
    assert o.custom["product"] == "GTX Basic"
    engaged = datetime(2017, 1, 10, tzinfo=UTC)
    closed = datetime(2017, 7, 1, tzinfo=UTC)
    assert o.created_at == engaged
    assert o.updated_at == closed
    assert [(c.from_stage, c.to_stage, c.at, c.by) for c in o.stage_history] == [
        (None, "engaging", engaged, "Moses Frase"),
        ("engaging", "won", closed, "Moses Frase"),
    ]


def test_maven_quirks(maven: ImportReport[Opportunity]) -> None:
    by_id = {o.id: o for o in maven.records}
    # product spelled "GTXPro" in the pipeline file becomes the catalogue's "GTX Pro"
    assert by_id["M0000001"].custom["product"] == "GTX Pro"
    # close_value 0 on a lost deal is a real zero amount
    lost = by_id["M0000002"]
    assert lost.stage_id == "lost"
    assert lost.amount == Money.of(0, "USD")
    # open deal with empty account, dates and value
    prospect = by_id["M0000004"]
    assert prospect.stage_id == "prospecting"
    assert prospect.account is None
    assert prospect.amount is None
    assert prospect.created_at == AS_OF
    assert [c.to_stage for c in prospect.stage_history] == ["prospecting"]
    engaging = by_id["M0000003"]
    assert [c.to_stage for c in engaging.stage_history] == ["engaging"]
    assert engaging.name == "Sonron MG Advanced"


def test_history_is_ordered_and_starts_with_creation(maven: ImportReport[Opportunity]) -> None:
    for o in maven.records:
        assert o.stage_history[0].from_stage is None
        assert o.stage_history[0].at == o.created_at
        assert o.stage_history[-1].to_stage == o.stage_id
        times = [c.at for c in o.stage_history]
        assert times == sorted(times)
        assert o.updated_at >= o.created_at


def test_rows_without_any_date_need_as_of() -> None:
    report = import_csv(FIXTURES / "maven_sample.csv", preset("maven"), errors="collect")
    prospects_without_dates = 8
    assert report.imported == 40 - prospects_without_dates
    assert all(e.column == "engage_date" and "as_of" in e.message for e in report.errors)


def test_win_rate_per_owner_matches_a_plain_csv_count(maven: ImportReport[Opportunity]) -> None:
    import csv

    with open(FIXTURES / "maven_sample.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    expected: dict[str, list[int]] = {}
    for r in rows:
        if r["deal_stage"] in ("Won", "Lost"):
            won, closed = expected.setdefault(r["sales_agent"], [0, 0])
            expected[r["sales_agent"]] = [won + (r["deal_stage"] == "Won"), closed + 1]
    got: dict[str, list[int]] = {}
    for o in maven.records:
        if o.stage_id in ("won", "lost"):
            assert o.owner is not None
            won, closed = got.setdefault(o.owner, [0, 0])
            got[o.owner] = [won + (o.stage_id == "won"), closed + 1]
    assert got == expected


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize(("name", "filename"), [
    ("salesforce", "salesforce_opportunities.csv"),
    ("hubspot", "hubspot_deals.csv"),
    ("odoo", "odoo_pipeline.csv"),
])
def test_presets_import_their_fixture(name: str, filename: str) -> None:
    report = import_csv(FIXTURES / filename, preset(name, default_currency="EUR"))
    assert report.ok
    assert report.imported == 4
    stages = {o.stage_id for o in report.records}
    assert stages <= {"identification", "needs_analysis", "solution", "quote_contract",
                      "won", "lost"}
    assert {o.pipeline_id for o in report.records} == {"standard"}


def test_salesforce_report_fields() -> None:
    report = import_csv(FIXTURES / "salesforce_opportunities.csv", preset("salesforce"))
    won, open_deal, lost, prospect = report.records
    assert won.id == "0065g00000AbCdEAAV"
    assert won.name == "Acme - 200 licences"
    assert won.stage_id == "won"
    assert won.amount == Money.of("12000.00", "USD")
    assert won.source is not None
    assert won.source.channel is Channel.ONLINE
    assert won.stage_history[-1].at == datetime(2024, 3, 15, tzinfo=UTC)
    assert open_deal.amount == Money.of("8500.50", "EUR")
    assert open_deal.expected_close is not None
    assert open_deal.expected_close.isoformat() == "2024-06-30"
    assert lost.stage_id == "lost"
    assert lost.source is not None
    assert lost.source.channel is Channel.EVENT
    assert prospect.amount is None
    assert prospect.stage_id == "identification"
    assert prospect.custom["type"] == "New Business"


def test_hubspot_export_fields() -> None:
    report = import_csv(FIXTURES / "hubspot_deals.csv", preset("hubspot"))
    won, contract, lost, first = report.records
    assert (won.id, won.stage_id, won.owner) == ("9876543210", "won", "Ana Ruiz")
    assert won.created_at == datetime(2024, 1, 8, 9, 12, tzinfo=UTC)
    assert contract.stage_id == "quote_contract"
    assert contract.amount == Money.of("15000.5", "USD")
    assert lost.amount == Money.of(0, "USD")
    assert first.owner is None
    assert first.amount is None
    assert first.custom["hubspot_pipeline"] == "Sales Pipeline"


def test_odoo_export_fields() -> None:
    report = import_csv(FIXTURES / "odoo_pipeline.csv", preset("odoo", default_currency="EUR"))
    won, proposition, new, qualified = report.records
    assert won.tags == frozenset({"Product", "Furniture"})
    assert won.account is not None
    assert won.account.id == "deco-addict"
    # no close-date column: the won deal closes at its expected closing date
    assert won.stage_history[-1].at == datetime(2024, 5, 31, tzinfo=UTC)
    assert proposition.stage_id == "quote_contract"
    assert new.amount is None
    assert qualified.stage_id == "needs_analysis"
    assert qualified.expected_close is None
    assert won.id.startswith("odoo-")


def test_amount_without_currency_is_an_error_not_a_guess() -> None:
    report = import_csv(FIXTURES / "odoo_pipeline.csv", preset("odoo"), errors="collect")
    assert report.imported == 1  # only the deal without an amount
    assert {e.message for e in report.errors} == {
        "is empty and the mapping has no default_currency"}


def test_preset_names_and_unknown_preset() -> None:
    assert set(PRESET_NAMES) == {"salesforce", "hubspot", "odoo", "pipedrive", "zoho", "maven"}
    with pytest.raises(ConfigError, match="unknown preset 'zoho-crm'"):
        preset("zoho-crm")


def test_preset_accepts_api_names_too() -> None:
    text = ("Id,Name,StageName,Amount,CurrencyIsoCode,CloseDate,CreatedDate\n"
            "006A,Deal A,Closed Won,10.00,CNY,2024-03-01,2024-01-01T08:00:00.000+0000\n")
    (o,) = import_csv(io.StringIO(text), preset("salesforce")).records
    assert o.amount == Money.of("10.00", "CNY")
    assert o.created_at == datetime(2024, 1, 1, 8, tzinfo=UTC)


# --------------------------------------------------------------------------- row errors


def test_bad_rows_are_reported_with_row_column_and_message() -> None:
    report = import_csv(FIXTURES / "bad_rows.csv", preset("maven"), errors="collect")
    assert report.rows_read == 8
    assert [o.id for o in report.records] == ["B8"]
    shown = [str(e) for e in report.errors]
    assert "row 3, close_value: invalid decimal '12,5'" in shown
    assert "row 2: 9 cell(s), the header has 8" in shown
    assert any(s.startswith("row 4, deal_stage: unknown stage 'Closing'") for s in shown)
    assert any(s.startswith("row 5, close_value:") and "finite" in s for s in shown)
    assert any(s.startswith("row 5, engage_date: invalid date") for s in shown)
    assert any(s.startswith("row 6, close_date:") for s in shown)
    assert any(s.startswith("row 7, close_value:") and "out of range" in s for s in shown)
    assert any(s.startswith("row 8, close_value: must not be negative") for s in shown)
    assert report.rejected == 7


def test_raise_mode_stops_at_the_first_bad_row() -> None:
    with pytest.raises(ImportDataError) as info:
        import_csv(FIXTURES / "bad_rows.csv", preset("maven"))
    (error,) = info.value.errors
    assert isinstance(error, RowError)
    assert error.row == 2


def test_streaming_yields_good_rows_before_the_bad_one() -> None:
    text = ("G1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,10\n"
            "G2,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,oops\n")
    stream = read_csv(io.StringIO(HEADER + "\n" + text), preset("maven"))
    assert next(stream).id == "G1"
    with pytest.raises(ImportDataError, match="row 3, close_value: invalid decimal 'oops'"):
        next(stream)


def test_on_error_callback_receives_errors_and_skips_rows() -> None:
    seen: list[RowError] = []
    text = "G1,Ann,X,A,Won,2017-01-02,2017-02-01,1\nG2,Ann,X,A,Nope,2017-01-02,,\n"
    got = list(read_csv(io.StringIO(HEADER + "\n" + text), preset("maven"),
                        on_error=seen.append))
    assert [o.id for o in got] == ["G1"]
    assert [(e.row, e.column) for e in seen] == [(3, "deal_stage")]


def test_errors_beyond_max_errors_stop_the_import() -> None:
    text = "".join(f"E{i},Ann,X,A,Nope,2017-01-02,,\n" for i in range(5))
    with pytest.raises(ImportDataError, match="more than 3 errors"):
        _maven(text, errors="collect", limits=Limits(max_errors=3))


def test_missing_mapped_column_is_reported_before_any_row() -> None:
    text = "opportunity_id,deal_stage\nX,Won\n"
    with pytest.raises(ImportDataError) as info:
        import_csv(io.StringIO(text), preset("maven"))
    columns = {e.column for e in info.value.errors}
    assert {"owner", "amount", "created_at", "closed_at", "product", "account"} <= columns
    assert all(e.row == 1 for e in info.value.errors)


def test_identical_rows_without_id_get_the_same_deterministic_id() -> None:
    mapping = preset("maven", id=[], optional=["id"])
    text = HEADER.replace("opportunity_id", "other") + "\n" + (
        "x,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,10\n" * 2
        + "x,Bob,GTX Basic,Acme,Won,2017-01-02,2017-02-01,10\n")
    first = import_csv(io.StringIO(text), mapping).records
    again = import_csv(io.StringIO(text), mapping).records
    assert [o.id for o in first] == [o.id for o in again]
    # Identical rows are one deal (#12): read once, not stored twice under one id.
    assert len(first) == 2 and first[0].id != first[1].id
    assert first[0].owner == "Ann" and first[1].owner == "Bob"
    assert first[0].id.startswith("maven-")


# --------------------------------------------------------------------------- zones


def test_naive_dates_take_the_given_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    report = _maven("Z1,Ann,X,A,Won,2017-01-02,2017-02-01,1\n", zone=shanghai)
    (o,) = report.records
    assert o.created_at == datetime(2017, 1, 2, tzinfo=shanghai)
    assert o.created_at.utcoffset() == timedelta(hours=8)


def test_explicit_offsets_are_kept() -> None:
    report = _maven("Z1,Ann,X,A,Won,2017-01-02T10:00:00+02:00,2017-02-01T00:00:00Z,1\n")
    (o,) = report.records
    assert o.created_at.utcoffset() == timedelta(hours=2)
    assert o.stage_history[-1].at == datetime(2017, 2, 1, tzinfo=UTC)


def test_zone_must_be_a_tzinfo_and_as_of_aware() -> None:
    with pytest.raises(TypeError, match="zone must be a tzinfo"):
        _maven("", zone="Asia/Shanghai")
    with pytest.raises(ValueError, match="as_of must be a timezone-aware"):
        _maven("Z1,Ann,X,A,Won,2017-01-02,2017-02-01,1\n", as_of=datetime(2017, 1, 1))


# --------------------------------------------------------------------------- hostile files


def test_bom_is_dropped_and_unicode_kept() -> None:
    report = import_csv(FIXTURES / "utf8_bom.csv", preset("maven"))
    assert [o.owner for o in report.records] == ["Zoë", "李雷"]
    assert report.records[1].account is not None
    assert report.records[1].account.id == "华为技术"


def test_undecodable_bytes_name_the_row() -> None:
    with pytest.raises(ImportDataError, match=r"row 3: undecodable bytes on line 3"):
        import_csv(FIXTURES / "undecodable.csv", preset("maven"), errors="collect")


def test_explicit_encoding() -> None:
    with pytest.raises(ImportDataError, match=r"encoding with encoding= \(likely: gb18030"):
        import_csv(FIXTURES / "latin1.csv", preset("maven"))
    report = import_csv(FIXTURES / "latin1.csv", preset("maven"), encoding="cp1252")
    assert report.records[0].owner == "Zoë"
    assert report.records[0].account is not None
    assert report.records[0].account.name == "Café"


def test_utf16_file_with_bom() -> None:
    data = (HEADER + "\nW1,Zoë,X,A,Won,2017-01-02,2017-02-01,1\n").encode("utf-16")
    (o,) = import_csv(io.BytesIO(data), preset("maven"), encoding="utf-16").records
    assert o.owner == "Zoë"


def test_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown text encoding"):
        import_csv(io.BytesIO(b""), preset("maven"), encoding="klingon")


def test_empty_file_and_duplicate_header() -> None:
    with pytest.raises(ImportDataError, match="empty file"):
        import_csv(io.StringIO(""), preset("maven"))
    with pytest.raises(ImportDataError, match="duplicate column 'a'"):
        import_csv(io.StringIO("a,a\n1,2\n"), preset("maven"))


def test_field_size_limit_is_a_row_error() -> None:
    big = "x" * 500
    report = _maven(f"F1,{big},X,A,Won,2017-01-02,2017-02-01,1\nF2,Ann,X,A,Won,2017-01-02,"
                    "2017-02-01,1\n", errors="collect", limits=Limits(max_field_size=100))
    assert [o.id for o in report.records] == ["F2"]
    (error,) = report.errors
    assert (error.row, error.column) == (2, "sales_agent")
    assert "Limits.max_field_size" in error.message


def test_line_and_row_limits() -> None:
    long_line = "x" * 5000
    with pytest.raises(ImportDataError, match="longer than 1000 bytes"):
        import_csv(io.BytesIO((HEADER + "\n" + long_line + "\n").encode()), preset("maven"),
                   limits=Limits(max_line_bytes=1000))
    rows = "".join(f"R{i},Ann,X,A,Won,2017-01-02,2017-02-01,1\n" for i in range(4))
    with pytest.raises(ImportDataError, match=r"more than 3 rows \(Limits.max_rows\)"):
        _maven(rows, limits=Limits(max_rows=3))


def test_cells_beyond_the_csv_modules_own_limit_follow_limits() -> None:
    # The csv module's process-wide limit (131,072 by default) used to stop the whole import
    # with "malformed CSV"; now Limits alone decides, per cell.
    huge = "y" * 200_000
    rows = (f'H1,"{huge}",X,A,Won,2017-01-02,2017-02-01,1\n'
            "H2,Ann,X,A,Won,2017-01-02,2017-02-01,1\n")
    report = _maven(rows, limits=Limits(max_field_size=500_000))
    assert [o.owner for o in report.records] == [huge, "Ann"]
    assert [o.id for o in _maven(rows).records] == ["H1", "H2"]  # the defaults hold it too
    # Over Limits.max_field_size: that row is rejected, the import goes on.
    report = _maven(rows, errors="collect", limits=Limits(max_field_size=150_000))
    assert [o.id for o in report.records] == ["H2"]
    (error,) = report.errors
    assert (error.row, error.column) == (2, "sales_agent")
    assert "200000 characters exceeds Limits.max_field_size (150000)" in error.message
    assert csv.field_size_limit() >= 200_000  # lifted once, never lowered again


def test_a_cell_without_an_end_is_a_bounded_file_error() -> None:
    # An unterminated quote would swallow the rest of the file into one cell: the row is
    # stopped once it is longer than its cells could be, not after reading everything.
    lines = "".join(f"line {i} of a note that never ends\n" for i in range(2000))
    data = f'U1,"{lines}'
    with pytest.raises(ImportDataError, match="no end") as info:
        _maven(data, errors="collect",
               limits=Limits(max_field_size=1000, max_line_bytes=1000))
    assert info.value.errors[0].row == 2


def test_limits_are_validated() -> None:
    with pytest.raises(ConfigError, match="max_rows"):
        Limits(max_rows=0)


def test_formula_cells_are_imported_as_plain_text() -> None:
    report = import_csv(FIXTURES / "formula_injection.csv", preset("maven"))
    assert report.records[0].owner == '=HYPERLINK("http://evil.example")'
    assert report.records[1].account is not None
    assert report.records[1].account.name == "-2+3"


def test_blank_lines_are_skipped_and_quoted_newlines_count_as_one_row() -> None:
    text = ('Q1,"Ann\nSmith",X,A,Won,2017-01-02,2017-02-01,1\n\n'
            "Q2,Bob,X,A,Won,2017-01-02,2017-02-01,x\n")
    report = _maven(text, errors="collect")
    assert report.records[0].owner == "Ann\nSmith"
    assert [e.row for e in report.errors] == [4]  # header 1, Q1 2, blank 3, Q2 4
    assert report.rows_read == 2


def test_thousands_separator_is_opt_in() -> None:
    row = 'T1,Ann,X,A,Won,2017-01-02,2017-02-01,"1,234.50"\n'
    assert not _maven(row, errors="collect").ok
    mapping = preset("maven", thousands_separator=",")
    (o,) = import_csv(io.StringIO(HEADER + "\n" + row), mapping).records
    assert o.amount is not None
    assert o.amount.amount == Decimal("1234.50")


def test_mapping_type_is_checked() -> None:
    with pytest.raises(TypeError, match="mapping must be a ColumnMapping"):
        import_csv(io.StringIO(HEADER), {"pipeline_id": "simple"})  # type: ignore[arg-type]


def test_custom_columns_and_source_values() -> None:
    mapping = ColumnMapping(pipeline_id="simple", stage="stage", source="origin",
                            source_values={"Web form": "online"}, custom={"region": "area"},
                            created_at="created")
    text = "stage,origin,area,created\nengaging,Web form,North,2024-01-01\nwon,Fair,,2024-01-02\n"
    a, b = import_csv(io.StringIO(text), mapping).records
    assert a.source is not None
    assert a.source.channel is Channel.ONLINE
    assert a.custom == {"region": "North"}
    assert b.source is not None
    assert b.source.channel is Channel.OTHER
    assert b.source.detail == "Fair"
    assert "region" not in b.custom
    assert [c.to_stage for c in b.stage_history] == ["won"]  # no closed_from_stage


@pytest.mark.parametrize(("name", "filename", "template"), [
    ("maven", "maven_sample.csv", "simple"),
    ("salesforce", "salesforce_opportunities.csv", "standard"),
    ("hubspot", "hubspot_deals.csv", "standard"),
    ("odoo", "odoo_pipeline.csv", "standard"),
])
def test_synthesised_history_replays_legally(name: str, filename: str, template: str) -> None:
    from oppcore import Pipeline, replay

    pipeline = Pipeline.template(template)
    report = import_csv(FIXTURES / filename, preset(name, default_currency="EUR"), as_of=AS_OF)
    assert report.imported == report.rows_read
    for o in report.records:
        assert replay(pipeline, o.stage_history) == o.stage_id


_CR_ROWS = ("C1,Ann,X,A,Won,2017-01-02,2017-02-01,1",
            'C2,"Bob\rJr",X,A,Won,2017-01-02,2017-02-01,2',
            "C3,Cy,X,A,Won,2017-01-02,2017-02-01,x")


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_every_line_ending_imports_the_same_rows(newline: str, encoding: str) -> None:
    # Old Mac exports ("CSV (Macintosh)") end lines with a bare CR.
    data = newline.join((HEADER, *_CR_ROWS)).encode(encoding) + newline.encode(encoding)
    report = import_csv(io.BytesIO(data), preset("maven"), encoding=encoding,
                        errors="collect")
    assert [o.id for o in report.records] == ["C1", "C2"]
    assert report.records[1].owner == "Bob\rJr"
    assert [(e.row, e.column) for e in report.errors] == [(4, "close_value")]
    text = import_csv(io.StringIO(newline.join((HEADER, *_CR_ROWS)), newline=""),
                      preset("maven"), errors="collect")
    assert [o.id for o in text.records] == ["C1", "C2"]


def test_cr_only_file_bigger_than_the_line_limit_streams() -> None:
    rows = "\r".join(f"R{i},Ann,X,A,Won,2017-01-02,2017-02-01,1" for i in range(200))
    data = (HEADER + "\r" + rows + "\r").encode()
    report = import_csv(io.BytesIO(data), preset("maven"), limits=Limits(max_line_bytes=500))
    assert report.imported == 200
    with pytest.raises(ImportDataError, match="longer than 500 bytes"):
        import_csv(io.BytesIO(data.replace(b"\r", b";")), preset("maven"),
                   limits=Limits(max_line_bytes=500))


@pytest.mark.parametrize(("cell", "amount"), [
    ("1,234.50", "1234.50"), ("1,234,567", "1234567"), ("999", "999"), ("12,345.6", "12345.6"),
    ("12,5", None), ("1,23", None), (",500", None), ("1,2345", None), ("1,,234", None),
    ("1,234,5", None), ("1.234,50", None),
])
def test_thousands_separator_only_removes_real_grouping(cell: str, amount: str | None) -> None:
    # '12,5' is a decimal comma, not a grouped 125: refuse it instead of guessing.
    row = f'T1,Ann,X,A,Won,2017-01-02,2017-02-01,"{cell}"\n'
    report = import_csv(io.StringIO(HEADER + "\n" + row),
                        preset("maven", thousands_separator=","), errors="collect")
    if amount is None:
        assert not report.records
        (error,) = report.errors
        assert (error.row, error.column) == (2, "close_value")
        assert repr(cell) in error.message
    else:
        (o,) = report.records
        assert o.amount == Money.of(amount, "USD")


def test_a_cell_mapped_to_two_fields_is_reported_once() -> None:
    # Salesforce's "Close Date" serves as both closed_at and expected_close.
    text = "Opportunity Name,Stage,Amount,Close Date,Created Date\nBig,Closed Won,1,31/12/2017,\n"
    report = import_csv(io.StringIO(text), preset("salesforce", default_currency="USD"),
                        errors="collect", as_of=AS_OF)
    assert [(e.row, e.column) for e in report.errors] == [(2, "Close Date")]
    assert report.rejected == 1


def test_presets_accept_the_documented_field_labels() -> None:
    # HubSpot's property labels are sentence case ("Deal name", "Create date"); the
    # Salesforce field labels are "Opportunity Type" and "Owner ID".
    hubspot = ("Record ID,Deal name,Deal stage,Amount,Close date,Create date,Deal owner,"
               "Deal type,Closed lost reason,Last modified date\n"
               "1,Deal,Closed Lost,5,2024-03-01,2024-01-01,Ann,newbusiness,Budget,2024-03-02\n")
    (h,) = import_csv(io.StringIO(hubspot), preset("hubspot", default_currency="USD")).records
    assert (h.name, h.stage_id, h.lost_reason, h.custom["deal_type"]) == (
        "Deal", "lost", "Budget", "newbusiness")
    assert h.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    salesforce = ("Name,Stage,Amount,Close Date,Created Date,Opportunity Type,Owner ID\n"
                  "Deal,Closed Won,,2024-03-01,2024-01-01,New Business,005A\n")
    (s,) = import_csv(io.StringIO(salesforce), preset("salesforce")).records
    assert (s.owner, s.custom["type"]) == ("005A", "New Business")
    odoo = ("name,stage_id,planned_revenue,date_deadline,create_date\n"
            "Deal,Won,7,2024-03-01,2024-01-01\n")
    (o,) = import_csv(io.StringIO(odoo), preset("odoo", default_currency="EUR")).records
    assert o.amount == Money.of(7, "EUR")


@pytest.mark.parametrize("cell", ["-0", "-0.00", "0", "+0"])
def test_a_zero_amount_is_never_negative_zero(cell: str) -> None:
    # Decimal keeps the sign of zero: '-0' would print as '-0 USD' and be exported as
    # a formula-looking cell.
    (o,) = _maven(f"Z1,Ann,X,A,Lost,2017-01-02,2017-02-01,{cell}\n").records
    assert o.amount is not None
    assert o.amount.amount == 0
    assert not o.amount.amount.is_signed()
    assert not str(o.amount).startswith("-")
