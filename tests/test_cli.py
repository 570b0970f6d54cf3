"""The ``oppcore`` command, run in-process (``main(argv)`` with captured output) so coverage
sees it, against a temp directory; two subprocess tests prove the installed entry points.

Each test asserts on the command's output and exit code and, where it writes, on what the
SQLite store holds afterwards.
"""

import contextlib
import io
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import oppcore
from oppcore import Lead, Opportunity, SQLiteStore
from oppcore._cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "io"
AS_OF = "2018-01-01T00:00:00+00:00"

Run = Callable[..., "CliResult"]


class CliResult:
    """What one ``main(argv)`` call returned and printed."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Return ``run(*args)``: the command in-process, its exit code and captured output."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()  # start clean: only this command's output is returned
        code = main(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def run_subprocess(*args: str) -> "subprocess.CompletedProcess[str]":
    """``python -m oppcore ...`` in a subprocess (only where in-process cannot work yet)."""
    return subprocess.run([sys.executable, "-m", "oppcore", *args], capture_output=True,
                          text=True, timeout=300, check=False)


def run_redirected(*args: str) -> CliResult:
    """Like the ``run`` fixture, for module-scoped fixtures (capsys is per test)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


def count(db: Path, kind: type[Lead] | type[Opportunity]) -> int:
    store = SQLiteStore(db)
    try:
        total, after = 0, None
        while True:
            page = store.query(kind, after=after, limit=500)
            total += len(page.items)
            if page.next_after is None:
                return total
            after = page.next_after
    finally:
        store.close()


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"oppcore {oppcore.__version__}"


# The two subprocess tests: the installed ``oppcore`` script and ``python -m oppcore`` work
# as a user runs them (everything else runs in-process).


def _installed_script() -> Path:
    bindir = Path(sys.executable).parent
    script = bindir / ("oppcore.exe" if sys.platform == "win32" else "oppcore")
    assert script.exists(), f"the oppcore entry point is not installed in {bindir}"
    return script


def test_installed_entry_point_reports_the_version() -> None:
    result = subprocess.run([str(_installed_script()), "--version"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"oppcore {oppcore.__version__}"


def test_installed_entry_point_and_module_run_a_real_command() -> None:
    for argv in ([str(_installed_script())], [sys.executable, "-m", "oppcore"]):
        result = subprocess.run([*argv, "pipeline", "show", "standard"], capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert "needs_analysis" in result.stdout and "stateDiagram-v2" in result.stdout
    missing = subprocess.run([sys.executable, "-m", "oppcore", "score"], capture_output=True,
                             text=True, timeout=120, check=False)
    assert missing.returncode == 2 and "required: --db" in missing.stderr


def test_no_command_is_a_usage_error(run: Run) -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: oppcore" in result.stderr


def test_unknown_command_and_bad_option_are_usage_errors(run: Run) -> None:
    assert run("frobnicate").returncode == 2
    assert run("score").returncode == 2  # --db is required
    assert "required: --db" in run("score").stderr


@pytest.mark.parametrize("command", [["demo"], ["import"], ["score"], ["report"],
                                     ["pipeline", "validate"], ["pipeline", "show"],
                                     ["dedupe"], ["db", "upgrade"]])
def test_every_command_has_help_with_an_example(command: list[str], run: Run) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout
    assert "oppcore " + command[0] in result.stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_redirected("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return db, result.stdout


class TestDemo:
    def test_walks_the_whole_flow(self, demo_db: tuple[Path, str]) -> None:
        _, out = demo_db
        for step in ("1. Captured", "2. Duplicate check", "3. Qualified and converted",
                     "4. Worked the deals", "After the win", "Referral programme",
                     "Renewals:", "5. Scored", "6. Pipeline report"):
            assert step in out
        assert "After-sales service" in out and "Overdue after-sales tasks" in out
        assert "Refused" in out and "email already used by" in out
        assert "A refused move, explained" in out and "[missing_" in out
        for section in ("Funnel", "Top-ranked open deals", "Stale deals", "Forecast by month"):
            assert section in out

    def test_fills_the_store(self, demo_db: tuple[Path, str]) -> None:
        db, out = demo_db
        leads, deals = count(db, Lead), count(db, Opportunity)
        assert 250 <= leads <= 320
        assert 80 <= deals <= 200
        store = SQLiteStore(db)
        try:
            page = store.query(Opportunity, stage="won", limit=500)
            assert page.items, "some deals are won"
            scored = store.query(Opportunity, stage="quote_contract", limit=500).items
            assert any("score" in o.custom for o in scored)
            assert store.integrity_check() == "ok"
            assert store.audit_trail(Opportunity, page.items[0].id)
            # After the win: contracts on won deals, surveys, renewals linked both ways.
            every = {o.id: o for o in store.query(Opportunity, limit=1000).items}
            assert all(o.contract_end is not None for o in page.items
                       if o.renewal_of is None)
            assert any(a.score is not None for o in page.items for a in o.activities)
            renewals = [o for o in every.values() if o.renewal_of is not None]
            assert renewals
            assert all(every[o.renewal_of].renewed_by == o.id for o in renewals)
        finally:
            store.close()
        # Ten confident duplicates were merged away; the referral programme captured more.
        referred = int(re.search(r"\((?:推荐计划)\): (\d+) referred lead", out)[1])
        assert f"Captured {leads + 10 - referred}" in out

    def test_is_deterministic(self, demo_db: tuple[Path, str], tmp_path: Path,
                              run: Run) -> None:
        _, first = demo_db
        second = run("demo", "--db", str(tmp_path / "again.db")).stdout
        strip = lambda text: [ln for ln in text.splitlines() if not ln.startswith("Done in")]  # noqa: E731
        assert strip(first)[:60] == strip(second)[:60]

    def test_without_db_uses_a_temporary_store(self, run: Run) -> None:
        result = run("demo")
        assert result.returncode == 0
        assert "Keep the store with --db" in result.stdout

    def test_refuses_to_overwrite_an_existing_db(self, demo_db: tuple[Path, str],
                                                 run: Run) -> None:
        db, _ = demo_db
        result = run("demo", "--db", str(db))
        assert result.returncode == 2
        assert "already exists" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


class TestImport:
    def test_maven_export_with_preset(self, tmp_path: Path, run: Run) -> None:
        db = tmp_path / "crm.db"
        rows = len((FIXTURES / "maven_sample.csv").read_text(encoding="utf-8").splitlines()) - 1
        result = run("import", str(FIXTURES / "maven_sample.csv"), "--db", str(db),
                     "--preset", "maven", "--pipeline", "simple", "--as-of", AS_OF)
        assert result.returncode == 0, result.stderr
        assert f"imported {rows} record(s)" in result.stdout
        assert count(db, Opportunity) == rows

    def test_reimport_skips_what_is_stored(self, tmp_path: Path, run: Run) -> None:
        db = tmp_path / "crm.db"
        args = ("import", str(FIXTURES / "maven_sample.csv"), "--db", str(db), "--preset",
                "maven", "--as-of", AS_OF)
        run(*args)
        again = run(*args)
        assert again.returncode == 0
        assert "imported 0 record(s)" in again.stdout and "already present" in again.stdout

    def test_bad_rows_are_reported_one_per_line_and_good_rows_kept(self, tmp_path: Path,
                                                                    run: Run) -> None:
        db = tmp_path / "crm.db"
        result = run("import", str(FIXTURES / "bad_rows.csv"), "--db", str(db), "--preset",
                     "maven", "--as-of", AS_OF)
        assert result.returncode == 1
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("oppcore: error:")]
        assert errors and all("row " in ln for ln in errors if "more problem" not in ln)
        imported = int(result.stdout.split("imported ")[1].split(" ")[0])
        assert count(db, Opportunity) == imported

    def test_stage_check_against_another_pipeline(self, tmp_path: Path, run: Run) -> None:
        result = run("import", str(FIXTURES / "maven_sample.csv"), "--db",
                     str(tmp_path / "x.db"), "--preset", "maven", "--pipeline", "standard",
                     "--as-of", AS_OF)
        # A mapping for another pipeline is a configuration error, refused before any
        # database is created (#12).
        assert result.returncode == 2
        assert "not pipeline 'standard'" in result.stderr
        assert not (tmp_path / "x.db").exists()

    def test_jsonl_round_trip_through_the_store(self, tmp_path: Path,
                                                demo_db: tuple[Path, str], run: Run) -> None:
        from oppcore import io as oio

        source, _ = demo_db
        store = SQLiteStore(source)
        try:
            deals = store.query(Opportunity, limit=50).items
        finally:
            store.close()
        path = tmp_path / "deals.jsonl"
        oio.write_jsonl(path, deals)
        db = tmp_path / "copy.db"
        result = run("import", str(path), "--db", str(db))
        assert result.returncode == 0, result.stderr
        copy = SQLiteStore(db)
        try:
            for deal in deals:
                assert copy.get(Opportunity, deal.id).evolve(version=deal.version) == deal
        finally:
            copy.close()

    def test_missing_file_and_conflicting_options(self, tmp_path: Path, run: Run) -> None:
        missing = run("import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "a.db"))
        assert missing.returncode == 2 and "no such file" in missing.stderr
        both = run("import", str(FIXTURES / "maven_sample.csv"), "--db",
                   str(tmp_path / "b.db"), "--preset", "maven", "--mapping", "m.toml")
        assert both.returncode == 2 and "not both" in both.stderr


class TestScoreReportDedupe:
    NOW = "2026-10-29T09:00:00+08:00"

    def test_score_ranks_open_deals_with_reasons(self, demo_db: tuple[Path, str], run: Run
                                                 ) -> None:
        db, _ = demo_db
        result = run("score", "--db", str(db), "--now", self.NOW, "--top", "3")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("Scored ") and "open deal(s)" in lines[0]
        ranked = [ln for ln in lines if ln[:4].strip().rstrip(".").isdigit()]
        assert len(ranked) == 3
        totals = [float(ln.split()[1]) for ln in ranked]
        assert totals == sorted(totals, reverse=True)

    def test_score_save_keeps_scores_with_an_audit_entry(self, tmp_path: Path, run: Run) -> None:
        db = tmp_path / "crm.db"
        run("import", str(FIXTURES / "maven_sample.csv"), "--db", str(db), "--preset", "maven",
            "--as-of", AS_OF)
        result = run("score", "--db", str(db), "--now", AS_OF, "--save", "--by", "analyst-1")
        assert result.returncode == 0, result.stderr
        store = SQLiteStore(db)
        try:
            open_deals = [o for o in store.query(Opportunity, limit=500).items
                          if o.stage_id in ("prospecting", "engaging")]
            assert open_deals and all("score" in o.custom for o in open_deals)
            trail = store.audit_trail(Opportunity, open_deals[0].id)
            assert trail[-1].action == "rescore" and trail[-1].by == "analyst-1"
        finally:
            store.close()

    def test_report_text_json_csv_and_html(self, demo_db: tuple[Path, str],
                                           tmp_path: Path, run: Run) -> None:
        db, _ = demo_db
        text = run("report", "--db", str(db), "--now", self.NOW)
        assert text.returncode == 0 and "Funnel" in text.stdout
        data = json.loads(run("report", "--db", str(db), "--now", self.NOW, "--format",
                              "json").stdout)
        assert data["schema_version"] == 2
        assert data["counts"]["deals"] == count(db, Opportunity)
        csv_out = run("report", "--db", str(db), "--now", self.NOW, "--format", "csv").stdout
        assert csv_out.startswith("section,")
        html = tmp_path / "report.html"
        result = run("report", "--db", str(db), "--now", self.NOW, "--html", str(html))
        assert result.returncode == 0 and result.stdout == ""
        page = html.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" not in page

    def test_dedupe_lists_pairs_and_signals_them(self, demo_db: tuple[Path, str], run: Run
                                                 ) -> None:
        db, _ = demo_db
        result = run("dedupe", "--db", str(db), "--threshold", "0.5")
        assert result.returncode == 1  # duplicates found: a data finding
        assert "probable duplicate pair(s)" in result.stdout
        clean = run("dedupe", "--db", str(db), "--threshold", "1.0")
        assert clean.returncode == 0 and " 0 probable" in clean.stdout

    def test_commands_on_a_missing_db_are_usage_errors(self, tmp_path: Path, run: Run) -> None:
        for command in ("score", "report", "dedupe"):
            result = run(command, "--db", str(tmp_path / "none.db"))
            assert result.returncode == 2
            assert "no database" in result.stderr
            assert not (tmp_path / "none.db").exists()


class TestPipelineCommands:
    def test_show_prints_a_table_and_mermaid(self, run: Run) -> None:
        result = run("pipeline", "show", "standard")
        assert result.returncode == 0
        assert "needs_analysis" in result.stdout and "stateDiagram-v2" in result.stdout

    def test_validate_ok_and_every_problem_listed(self, tmp_path: Path, run: Run) -> None:
        good = Path(__file__).parent.parent / "examples" / "pipelines" / "b2b.toml"
        unknown_guard = run("pipeline", "validate", str(good))
        # An invalid pipeline file is a configuration error: exit 2 (#12).
        assert unknown_guard.returncode == 2 and "unknown guard 'credit_checked'" in \
            unknown_guard.stderr
        ok = run("pipeline", "validate", str(good), "--guard", "credit_checked")
        assert ok.returncode == 0 and ": ok (pipeline 'b2b_services'" in ok.stdout
        bad = tmp_path / "bad.toml"
        bad.write_text('id = "x"\nlabel = "X"\n\n[[stages]]\nid = "a"\n'
                       'label = "A"\nprobability = 1.5\n', encoding="utf-8")
        result = run("pipeline", "validate", str(bad))
        assert result.returncode == 2
        problems = result.stderr.strip().splitlines()
        assert len(problems) >= 3  # header + several problems, one line each
        assert any("probability" in ln for ln in problems)
        assert any("won" in ln for ln in problems)

    def test_show_unknown_file_is_a_usage_error(self, run: Run) -> None:
        result = run("pipeline", "show", "no-such.toml")
        assert result.returncode == 2


def test_store_file_is_a_real_sqlite_database(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    # closing() as well: sqlite3's own context manager commits but never closes, and an
    # unclosed connection is a ResourceWarning (an error here) when collected on 3.13+.
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_demo_runs_twice_in_one_process(tmp_path: Path, run: Run,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import oppcore._cli as cli

    # Whatever happens here, later tests see the package as it was before.
    monkeypatch.setattr(cli, "_run_demo", cli._run_demo)
    monkeypatch.delitem(sys.modules, "oppcore._cli._demo", raising=False)
    for name in ("one.db", "two.db"):
        result = run("demo", "--db", str(tmp_path / name))
        assert result.returncode == 0, result.stderr


def test_report_stale_after_and_dedupe_on_a_maven_shaped_export(tmp_path: Path,
                                                                 run: Run) -> None:
    # The Maven shapes of issue #13: the maven preset's pipeline sets no stale limits, and
    # repeat orders of one product by one customer are not duplicates.
    export = Path(__file__).parent / "fixtures" / "report" / "maven_shaped.csv"
    db = str(tmp_path / "maven.db")
    imported = run("import", str(export), "--db", db, "--preset", "maven",
                   "--as-of", "2017-12-31T00:00:00+00:00")
    assert imported.returncode == 0, imported.stderr
    now = ("--now", "2018-01-01T00:00:00+00:00")
    bare = run("report", "--db", db, *now)
    assert bare.returncode == 0 and "stale n/a" in bare.stdout
    assert "--stale-after 90d" in bare.stdout and "open pipeline n/a" in bare.stdout
    limited = run("report", "--db", db, *now, "--stale-after", "90d")
    assert "stale 6" in limited.stdout and "Stale deals (6)" in limited.stdout
    weeks = run("report", "--db", db, *now, "--stale-after", "13w", "--format", "json")
    assert json.loads(weeks.stdout)["stale_after_days"] == 91
    for bad in ("0d", "90x", "-3"):
        refused = run("report", "--db", db, *now, "--stale-after", bad)
        assert refused.returncode == 2 and "--stale-after" in refused.stderr
    dedupe = run("dedupe", "--db", db, "--deals")
    assert dedupe.returncode == 1
    assert "2 probable duplicate pair(s)" in dedupe.stdout
    assert "R11 ~ R12" in dedupe.stdout and "R20 ~ R21" in dedupe.stdout
