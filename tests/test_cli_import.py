"""``oppcore import`` with the files people have, and ``--sync`` week after week (#12)."""

import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from oppcore import Opportunity, OpportunityService, SQLiteStore
from oppcore._cli import main
from oppcore.io import ColumnMapping, preset
from oppcore.pipeline import Pipeline
from oppcore.storage import query_all

FIXTURES = Path(__file__).parent / "fixtures" / "io"
HEADER = ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
          "close_value\n")


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def deals(db: Path) -> dict[str, Opportunity]:
    with SQLiteStore(db) as store:
        return {o.id: o for o in query_all(store, Opportunity)}


# --- the files people have ----------------------------------------------------------------


def test_salesforce_report_footer_is_skipped(tmp_path: Path, run: Run) -> None:
    r = run("import", str(FIXTURES / "salesforce_report_footer.csv"), "--db",
            str(tmp_path / "x.db"), "--preset", "salesforce")
    assert r.code == 0, r.err
    assert r.out.startswith("imported 3 record(s)") and "problem" not in r.out


def test_semicolon_cp1252_file(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "hubspot_semicolon_cp1252.csv"), "--db", str(db),
            "--preset", "hubspot")
    assert r.code == 1 and not db.exists()
    assert "';'-separated" in r.out
    assert "--encoding" in r.err and "gb18030" in r.err and "cp1252" in r.err
    assert "encoding=" not in r.err  # the CLI's words, not Python's
    r = run("import", str(FIXTURES / "hubspot_semicolon_cp1252.csv"), "--db", str(db),
            "--preset", "hubspot", "--encoding", "cp1252")
    assert r.code == 0, r.err
    assert {o.owner for o in deals(db).values()} == {"Zoë Lefèvre"}


def test_utf16_tab_file_with_a_default_currency(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "odoo_utf16_tab.txt"), "--db", str(db), "--preset",
            "odoo")
    assert r.code == 1 and "--default-currency" in r.err
    r = run("import", str(FIXTURES / "odoo_utf16_tab.txt"), "--db", str(db), "--preset",
            "odoo", "--default-currency", "cny")
    assert r.code == 0, r.err
    stored = deals(db)
    assert {str(o.amount) for o in stored.values()} == {"52000.00 CNY", "7800.00 CNY"}
    assert any(o.account and o.account.name == "上海家具有限公司" for o in stored.values())


def test_explicit_delimiter_wins(tmp_path: Path, run: Run) -> None:
    r = run("import", str(FIXTURES / "odoo_utf16_tab.txt"), "--db", str(tmp_path / "x.db"),
            "--preset", "odoo", "--default-currency", "CNY", "--delimiter", ",")
    assert r.code == 1 and "tab-separated" in r.err and "--delimiter" in r.err
    assert run("import", "x.csv", "--db", "x.db", "--delimiter", ";;").code == 2


def test_pipedrive_status_column(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "pipedrive_deals.csv"), "--db", str(db), "--preset",
            "pipedrive")
    assert r.code == 0, r.err
    stored = deals(db)
    assert {i: o.stage_id for i, o in stored.items()} == {
        "pd-101": "won", "pd-102": "lost", "pd-103": "needs_analysis"}
    assert stored["pd-102"].lost_reason == "Price too high"
    assert stored["pd-101"].external_key == "101"


def test_a_preset_is_recognised_from_the_header(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "pipedrive_deals.csv"), "--db", str(db))
    assert r.code == 2 and "looks like a pipedrive export: add --preset pipedrive" in r.err
    assert not db.exists()


def test_duplicate_ids_name_both_rows(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "duplicate_ids.csv"), "--db", str(db), "--preset",
            "maven")
    assert r.code == 1
    assert "rows 2 and 4 share id 'D1'" in r.err
    assert sorted(deals(db)) == ["D2", "D3"]  # D1 refused (both rows), D2's repeat is one


def test_a_stage_typo_in_a_mapping_is_refused_before_any_database(tmp_path: Path,
                                                                   run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "maven_sample.csv"), "--db", str(db), "--mapping",
            str(FIXTURES / "stage_typo_mapping.toml"))
    assert r.code == 2 and "stage_values.Won: stage 'wonn' is not in pipeline" in r.err
    assert not db.exists()


@pytest.mark.parametrize("make", ["missing", "dir", "empty"])
def test_a_file_that_cannot_be_read_creates_no_database(tmp_path: Path, run: Run,
                                                        make: str) -> None:
    path = tmp_path / "export.csv"
    if make == "dir":
        path.mkdir()
    elif make == "empty":
        path.write_bytes(b"")
    db = tmp_path / "x.db"
    r = run("import", str(path), "--db", str(db), "--preset", "maven")
    assert r.code == 2 and not db.exists()
    assert {"missing": "no such file", "dir": "directory", "empty": "is empty"}[make] in r.err


def test_xlsx_is_read_with_the_extra_and_refused_without(
        tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl  # in the test extra

    book = openpyxl.Workbook()
    sheet = book.active
    for line in (FIXTURES / "maven_sample.csv").read_text(encoding="utf-8").splitlines()[:4]:
        sheet.append([int(c) if c.isdigit() else c for c in line.split(",")])
    sheet.append(["X1", "Ann", "GTX Basic", "Acme", "Won", datetime(2017, 1, 2),
                  datetime(2017, 2, 3), 99.0])
    path = tmp_path / "export.xlsx"
    book.save(path)
    db = tmp_path / "x.db"
    r = run("import", str(path), "--db", str(db), "--preset", "maven")
    assert r.code == 0, r.err
    stored = deals(db)
    assert len(stored) == 4 and str(stored["X1"].amount) == "99 USD"
    assert stored["X1"].created_at == datetime(2017, 1, 2, tzinfo=timezone.utc)
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    r = run("import", str(path), "--db", str(tmp_path / "y.db"), "--preset", "maven")
    assert r.code == 2 and "save it as CSV" in r.err and "oppcore[xlsx]" in r.err
    assert not (tmp_path / "y.db").exists()


def test_errors_are_grouped_and_hints_use_flags(tmp_path: Path, run: Run) -> None:
    rows = "".join(f"P{i},Ann,GTX Basic,Acme,Prospecting,,,\n" for i in range(30))
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "W1,Ann,GTX Basic,Acme,Won,2017-01-02,2017-02-01,10\n" + rows,
                    encoding="utf-8")
    r = run("import", str(path), "--db", str(tmp_path / "x.db"), "--preset", "maven")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert lines == [("oppcore: error: 30 rows (3-32): engage_date: is empty, with no close "
                      "date to fall back on; pass --as-of (the export date) to date such rows")]
    r = run("import", str(path), "--db", str(tmp_path / "x.db"), "--preset", "maven",
            "--as-of", "2017-12-31", "--zone", "+08:00")
    assert r.code == 0, r.err
    p0 = deals(tmp_path / "x.db")["P0"]
    assert p0.created_at.isoformat() == "2017-12-31T00:00:00+08:00"


@pytest.mark.parametrize("args", [
    ["import", "f.csv", "--db", "x.db", "--preset", "nope"],
    ["dedupe", "--db", "x.db", "--threshold", "1.5"],
    ["import", "f.csv", "--db", "x.db", "--prefer", "mine"],
])
def test_usage_and_configuration_errors_exit_2(tmp_path: Path, run: Run, args: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.csv").write_text(HEADER, encoding="utf-8")
    assert run(*args).code == 2
    assert not (tmp_path / "x.db").exists()


# --- mappings ---------------------------------------------------------------------------


def test_mapping_show_prints_a_loadable_mapping_file(tmp_path: Path, run: Run) -> None:
    r = run("mapping", "show", "salesforce")
    assert r.code == 0 and r.out.startswith("# The 'salesforce' preset")
    assert ColumnMapping.from_toml(r.out) == preset("salesforce")


def test_a_mapping_file_extends_a_preset(tmp_path: Path, run: Run) -> None:
    mapping = tmp_path / "sf.toml"
    mapping.write_text('extends = "salesforce"\ndefault_currency = "EUR"\n', encoding="utf-8")
    loaded = ColumnMapping.from_toml(mapping.read_text(encoding="utf-8"))
    assert loaded == preset("salesforce", default_currency="EUR")
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "zoho-one"\n', encoding="utf-8")
    r = run("import", str(FIXTURES / "salesforce_report_footer.csv"), "--db",
            str(tmp_path / "x.db"), "--mapping", str(bad))
    assert r.code == 2 and "unknown preset 'zoho-one'" in r.err


# --- --sync -------------------------------------------------------------------------------


def _write(path: Path, rows: str) -> Path:
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_sync_week_after_week(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "crm.db"
    week1 = _write(tmp_path / "week1.csv",
                   "A1,Ann,GTX Basic,Acme,Engaging,2017-10-02,,\n"
                   "A2,Bo,GTX Pro,Beta,Won,2017-09-03,2017-12-01,4800\n"
                   "A3,Cy,MG Special,Gamma,Engaging,2017-11-05,,\n")
    week2 = _write(tmp_path / "week2.csv",
                   "A1,Ann,GTX Basic,Acme,Won,2017-10-02,2018-01-15,560\n"
                   "A2,Bo,GTX Pro,Beta,Won,2017-09-03,2017-12-01,4900\n"
                   "A4,Di,GTX Basic,Delta,Engaging,2018-01-08,,\n")
    first = run("import", str(week1), "--db", str(db), "--preset", "maven")
    assert first.code == 0 and first.out.startswith("imported 3 record(s)")
    plain = run("import", str(week2), "--db", str(db), "--preset", "maven")
    assert "2 already present (skipped; add --sync" in plain.out
    assert deals(db)["A1"].stage_id == "engaging"  # a plain import never updates
    with SQLiteStore(db) as store:
        service = OpportunityService(store, pipelines=Pipeline.template("simple"),
                                     clock=lambda: datetime.now(timezone.utc))
        service.edit(Opportunity, "A2", {"name": "Beta (renegotiated)"}, by="ana")
    r = run("import", str(week2), "--db", str(db), "--preset", "maven", "--sync",
            "--by", "weekly-job")
    assert r.code == 1  # a conflict is a finding
    assert ("synced week2.csv into " in r.out
            and ": 0 added, 1 updated, 1 unchanged, 1 conflict(s), 1 missing" in r.out)
    assert "conflict: A2: edited in the store since the last sync" in r.out
    assert "missing from the file (kept in the store): A3" in r.out
    stored = deals(db)
    assert stored["A1"].stage_id == "won" and stored["A2"].name == "Beta (renegotiated)"
    with SQLiteStore(db) as store:
        assert store.audit_trail(Opportunity, "A1")[-1].by == "weekly-job"
    r = run("import", str(week2), "--db", str(db), "--preset", "maven", "--sync",
            "--prefer", "export")
    assert r.code == 0 and ": 0 added, 1 updated, 2 unchanged, 1 conflict(s)" in r.out
    assert deals(db)["A2"].name == "Beta GTX Pro"
    r = run("import", str(week2), "--db", str(db), "--preset", "maven", "--sync")
    assert r.code == 0 and ": 0 added, 0 updated, 3 unchanged, 0 conflict(s)" in r.out


def test_a_sync_stopped_midway_says_what_was_committed_and_how_to_finish(
        tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from oppcore import StorageUnavailableError

    rows = "".join(f"A{i:04d},Ann,GTX Basic,Acme,Engaging,2017-10-02,,\n" for i in range(1200))
    export = _write(tmp_path / "big.csv", rows)
    db = tmp_path / "crm.db"
    real = OpportunityService.sync_batch
    calls = []

    def flaky(self: OpportunityService, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise StorageUnavailableError("disk full", path=str(db), reason="disk-full",
                                          operation="apply")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(OpportunityService, "sync_batch", flaky)
    r = run("import", str(export), "--db", str(db), "--preset", "maven", "--sync")
    assert r.code == 1
    assert "stopped after 500 record(s) were committed" in r.err and "--sync" in r.err
    assert len(deals(db)) == 500
    r = run("import", str(export), "--db", str(db), "--preset", "maven", "--sync")
    assert r.code == 0 and ": 700 added, 0 updated, 500 unchanged" in r.out
    assert len(deals(db)) == 1200


def test_the_cli_reference_shows_every_import_flag() -> None:
    from oppcore._cli import build_parser

    page = (Path(__file__).parent.parent / "docs" / "reference" / "cli.md").read_text("utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    flags = {s for a in commands.choices["import"]._actions  # type: ignore[attr-defined]
             for s in a.option_strings if s.startswith("--") and s != "--help"}
    assert flags and all(f"`{flag}" in page for flag in flags), flags


def test_zoho_deals_export(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    r = run("import", str(FIXTURES / "zoho_deals.csv"), "--db", str(db), "--preset", "zoho")
    assert r.code == 0, r.err
    stored = deals(db)
    assert {i: o.stage_id for i, o in stored.items()} == {
        "zoho-zcrm_4150868000001": "won", "zoho-zcrm_4150868000002": "lost",
        "zoho-zcrm_4150868000003": "quote_contract"}
    lost = stored["zoho-zcrm_4150868000002"]
    assert lost.lost_reason == "Chose a competitor" and lost.external_key == "zcrm_4150868000002"
    assert str(lost.amount) == "8800 INR"


def test_now_accepts_a_plain_date_in_its_zone(tmp_path: Path, run: Run) -> None:
    db = tmp_path / "x.db"
    assert run("import", str(FIXTURES / "maven_sample.csv"), "--db", str(db), "--preset",
               "maven", "--as-of", "2018-01-01").code == 0
    r = run("report", "--db", str(db), "--now", "2026-10-29", "--zone", "+08:00")
    assert r.code == 0 and "as of 2026-10-29T00:00+08:00" in r.out
    r = run("report", "--db", str(db), "--now", "2026-10-29+08:00")  # a date with an offset
    assert r.code == 0 and "as of 2026-10-29T00:00+08:00" in r.out
    r = run("report", "--db", str(db), "--now", "29/10/2026")
    assert r.code == 2 and "2026-10-29T09:30+08:00" in r.err  # the hint shows valid forms
    r = run("score", "--db", str(db), "--now", "2026-10-29T09:30", "--top", "1")
    assert r.code in (0, 1) and "as of 2026-10-29T09:30+00:00" in r.out


def test_sync_refuses_a_file_with_leads(tmp_path: Path, run: Run) -> None:
    from oppcore import Lead
    from oppcore.io import write_jsonl

    path = tmp_path / "leads.jsonl"
    write_jsonl(path, [Lead(id="L1", name="Li", captured_at=datetime(2025, 1, 1,
                                                                      tzinfo=timezone.utc))])
    db = tmp_path / "x.db"
    r = run("import", str(path), "--db", str(db), "--sync")
    assert r.code == 2 and "1 lead(s)" in r.err and not db.exists()
    assert run("import", str(path), "--db", str(db)).code == 0
