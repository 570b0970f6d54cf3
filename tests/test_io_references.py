"""Reference files joined to an export by key (#12)."""

from pathlib import Path

import pytest

from oppcore import ConfigError, Opportunity, SQLiteStore, analytics
from oppcore._cli import main
from oppcore.io import ESTIMATE_FIELD, ColumnMapping, Reference, import_csv, preset
from oppcore.pipeline import Pipeline
from oppcore.storage import query_all

REFS = Path(__file__).parent / "fixtures" / "io" / "refs"


def mapping(**changes: object) -> ColumnMapping:
    refs = [
        Reference(file=str(REFS / "accounts.csv"), key="account", on="account",
                  custom={"sector": "sector"}),
        Reference(file=str(REFS / "products.csv"), key="product", on="product",
                  custom={"series": "series"}, estimate_amount="sales_price"),
        Reference(file=str(REFS / "sales_teams.csv"), key="owner", on="sales_agent",
                  custom={"manager": "manager", "region": "regional_office"}),
    ]
    return preset("maven", references=refs, **changes)


def test_reference_files_fill_custom_fields_and_an_estimate_never_the_amount() -> None:
    report = import_csv(REFS / "deals.csv", mapping(), errors="collect")
    deals = {o.id: o for o in report.records}
    r1, r2, r3 = deals["R1"], deals["R2"], deals["R3"]
    assert dict(r1.custom) == {"product": "GTX Pro", "sector": "retail", "series": "GTX",
                               "manager": "Dana Moss", "region": "East"}
    assert str(r1.amount) == "4700 USD"  # a won deal with an amount: no estimate
    assert r2.amount is None and r2.custom[ESTIMATE_FIELD] == "550"  # an open deal
    assert "sector" not in r3.custom and r3.custom["series"] == "MG"  # unknown account
    assert r3.custom[ESTIMATE_FIELD] == "55"
    # A price that is not a number is a row error naming the file, the column and the key.
    (error,) = report.errors
    assert error.row == 5 and error.column == "references"
    assert "products.csv: sales_price 'ask us' of 'Mystery Box' is not a number" in \
        error.message


def test_win_rates_by_manager_and_sector_from_the_joined_fields() -> None:
    deals = import_csv(REFS / "deals.csv", mapping(), errors="collect").records
    rates = analytics.win_rate(deals, Pipeline.template("simple"), by="custom:manager")
    assert {r.key for r in rates.rows} == {"Dana Moss"}


@pytest.mark.parametrize(("ref", "message"), [
    ({"file": "nope.csv"}, "no reference file at"),
    ({"on": "company"}, "no column(s) company"),
    ({"custom": {"x": "y"}}, "no column(s) y"),
])
def test_a_reference_that_cannot_be_used_is_refused_before_the_first_row(
        ref: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {"file": str(REFS / "accounts.csv"), "key": "account",
                               "on": "account", "custom": {"sector": "sector"}}
    spec.update(ref)
    if spec["file"] == "nope.csv":
        spec["file"] = str(REFS / "nope.csv")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_csv(REFS / "deals.csv", preset("maven", references=[spec]))


def test_duplicate_keys_in_a_reference_file(tmp_path: Path) -> None:
    dup = tmp_path / "accounts.csv"
    dup.write_text("account,sector\nCancity,retail\nIsdom,medical\nCancity,food\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="rows 2 and 4 share account 'Cancity'"):
        import_csv(REFS / "deals.csv", preset("maven", references=[
            {"file": str(dup), "key": "account", "on": "account",
             "custom": {"sector": "sector"}}]))


def test_reference_specs_are_validated_as_a_whole() -> None:
    with pytest.raises(ConfigError) as info:
        preset("maven", references=[{"file": "", "key": "colour", "on": "x"}])
    paths = {path for path, _ in info.value.problems}
    assert {"references[0].file", "references[0].key", "references[0]"} <= paths
    with pytest.raises(ConfigError, match="unknown key"):
        preset("maven", references=[{"file": "a.csv", "key": "account", "on": "a",
                                     "colour": "red"}])
    with_refs = mapping()
    assert ColumnMapping.from_toml(with_refs.to_toml()) == with_refs


def test_cli_resolves_reference_files_next_to_the_mapping(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    db = tmp_path / "crm.db"
    code = main(["import", str(REFS / "deals.csv"), "--db", str(db), "--mapping",
                 str(REFS / "mapping.toml")])
    out, err = capsys.readouterr()
    assert code == 1 and "imported 3 record(s)" in out and "ask us" in err
    with SQLiteStore(db) as store:
        deals = {o.id: o for o in query_all(store, Opportunity)}
    assert deals["R2"].custom["manager"] == "Dana Moss"
    assert deals["R1"].custom["office"] == "United States"
