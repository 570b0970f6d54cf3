"""The ``oppcore`` command on a broken database prints one error line and exits 1.

Run in-process (``main(argv)`` with capsys): a damaged file, a file that is not a
database and a read-only database each end in one ``oppcore: error: ...`` line naming the
file, never a traceback.
"""

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from oppcore import Opportunity
from oppcore._cli import EXIT_DATA, main
from oppcore.storage import SQLiteStore
from oppcore.testing.contract import opportunity

FIXTURES = Path(__file__).parent / "fixtures" / "io"
PAGE = 4096


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("oppcore: error: ")
    assert "Traceback" not in err
    return lines[0]


def filled_store(path: Path) -> Path:
    with SQLiteStore(path, synchronous="NORMAL") as store:
        store.bulk_add([opportunity(f"o{i:03}", owner="ann") for i in range(60)])
    return path


@pytest.mark.parametrize("command", [
    ["report", "--now", "2026-06-01T00:00:00+00:00"],
    ["score", "--now", "2026-06-01T00:00:00+00:00"],
    ["dedupe", "--deals"],
])
def test_a_damaged_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            command: list[str]) -> None:
    db = filled_store(tmp_path / "corrupt.db")
    size = db.stat().st_size
    with db.open("r+b") as f:  # every page but the header page
        f.seek(PAGE)
        f.write((bytes(range(256)) * (size // 256 + 1))[:size - PAGE])
    assert main([*command, "--db", str(db)]) == EXIT_DATA
    line = one_error_line(capsys)
    assert repr(str(db)) in line
    assert "damaged" in line
    assert "restore it from a backup" in line


@pytest.mark.parametrize("command", [["report"], ["score"], ["dedupe"]])
def test_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       command: list[str]) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 40, encoding="utf-8")
    assert main([*command, "--db", str(db)]) == EXIT_DATA
    line = one_error_line(capsys)
    assert repr(str(db)) in line
    assert "not an SQLite database" in line
    assert db.read_text(encoding="utf-8").startswith("these are my notes")


def test_importing_into_a_read_only_database(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = filled_store(tmp_path / "readonly.db")
    # As root (CI) chmod does not stop writes; SQLite's mode=ro open is what SQLite itself
    # does for a file it may not write (see test_storage_sqlite_failures.read_only).
    connect = sqlite3.connect

    def read_only_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if os.fspath(database) == str(db):
            return connect(f"file:{db}?mode=ro", *args, uri=True, **kwargs)
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only_connect)
    code = main(["import", str(FIXTURES / "maven_sample.csv"), "--db", str(db), "--preset",
                 "maven", "--as-of", "2018-01-01T00:00:00+00:00"])
    assert code == EXIT_DATA
    line = one_error_line(capsys)
    assert repr(str(db)) in line
    assert "read-only" in line
    assert "permissions" in line
    monkeypatch.undo()
    with SQLiteStore(db) as store:  # nothing of the import was written
        assert len(store.query(Opportunity, limit=1000).items) == 60
