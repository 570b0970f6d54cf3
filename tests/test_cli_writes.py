"""The ``oppcore`` command writes only through the service: audited, authorised, retried.

The command runs in-process (``main(argv)``), so coverage sees it.
"""

import contextlib
import io
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oppcore import (
    AuditEntry,
    Lead,
    Opportunity,
    OpportunityService,
    SQLiteStore,
    Store,
    StoreWrite,
)
from oppcore import io as oio
from oppcore._cli import _commands, main

FIXTURES = Path(__file__).parent / "fixtures" / "io"
MAVEN = FIXTURES / "maven_sample.csv"
AS_OF = "2018-01-01T00:00:00+00:00"


def records(db: Path, kind: type[Lead] | type[Opportunity]) -> list[Any]:
    with SQLiteStore(db) as store:
        return list(store.query(kind, limit=10_000).items)


def imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "crm.db"
    assert main(["import", str(MAVEN), "--db", str(db), "--preset", "maven",
                 "--as-of", AS_OF]) == 0
    capsys.readouterr()
    return db


# --- import ---------------------------------------------------------------------------


def test_import_creates_every_record_through_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = imported(tmp_path, capsys)
    deals = records(db, Opportunity)
    assert len(deals) == len(MAVEN.read_text(encoding="utf-8").splitlines()) - 1
    with SQLiteStore(db) as store:
        for deal in deals:
            (entry,) = store.audit_trail(Opportunity, deal.id)
            assert (entry.action, entry.by) == ("create", "import:maven_sample.csv")
        feed = store.changes(limit=10_000)
    assert {c.action for c in feed} == {"added"}
    assert len({c.tx for c in feed}) == 1  # one atomic batch for the small file


def test_reimport_skips_stored_records_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = imported(tmp_path, capsys)
    with SQLiteStore(db) as store:
        before = store.changes(limit=10_000)
    assert main(["import", str(MAVEN), "--db", str(db), "--preset", "maven",
                 "--as-of", AS_OF]) == 0
    assert "imported 0 record(s)" in capsys.readouterr().out
    with SQLiteStore(db) as store:
        assert store.changes(limit=10_000) == before


def test_import_names_each_refused_record_and_stores_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # Without --pipeline a deal naming a built-in template is checked against its stages,
    # a deal of a pipeline the import does not know is refused (#12: the store never gets
    # a deal its pipeline cannot read); a taken e-mail is refused by the store. The rest
    # is still stored.
    t0 = datetime.fromisoformat(AS_OF)
    rows: list[Lead | Opportunity] = [
        Lead(id="L1", name="Wang Li", email="wang@teaco.cn", captured_at=t0),
        Lead(id="L2", name="Wang Li", email=" WANG@teaco.cn", captured_at=t0),
        Opportunity(id="D1", name="Tea", pipeline_id="standard", stage_id="nowhere",
                    created_at=t0),
        Opportunity(id="D2", name="Tea", pipeline_id="standard", stage_id="solution",
                    created_at=t0),
        Opportunity(id="D3", name="Tea", pipeline_id="my-own", stage_id="anything",
                    created_at=t0),
    ]
    path = tmp_path / "mixed.jsonl"
    oio.write_jsonl(path, rows)
    db = tmp_path / "crm.db"
    assert main(["import", str(path), "--db", str(db)]) == 1
    captured = capsys.readouterr()
    assert "imported 2 record(s)" in captured.out and "3 problem(s)" in captured.out
    assert "email already used by 'L1'" in captured.err
    assert "opportunity D1: pipeline 'standard' has no stage 'nowhere'" in captured.err
    assert "opportunity D3: follows pipeline 'my-own'" in captured.err
    assert [r.id for r in records(db, Lead)] == ["L1"]
    assert [r.id for r in records(db, Opportunity)] == ["D2"]
    with SQLiteStore(db) as store:
        assert all(len(store.audit_trail(type(r), r.id)) == 1 for r in rows
                   if r.id in {"L1", "D2"})


# --- score --save ---------------------------------------------------------------------


def test_score_save_bumps_updated_at_and_audits_each_changed_deal_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = imported(tmp_path, capsys)
    now = "2018-02-01T09:00:00+00:00"
    assert main(["score", "--db", str(db), "--now", now, "--save", "--by", "analyst-1"]) == 0
    out = capsys.readouterr().out
    open_deals = [o for o in records(db, Opportunity)
                  if o.stage_id in ("prospecting", "engaging")]
    assert open_deals
    assert f"Saved {len(open_deals)} changed score(s) as 'analyst-1' (0 unchanged)" in out
    with SQLiteStore(db) as store:
        since = store.query(Opportunity, updated_since=datetime.fromisoformat(now),
                            limit=10_000).items
        assert sorted(o.id for o in since) == sorted(o.id for o in open_deals)
        for deal in open_deals:
            assert deal.updated_at == datetime.fromisoformat(now)
            assert "score" in deal.custom and "score_grade" in deal.custom
            rescores = [e for e in store.audit_trail(Opportunity, deal.id)
                        if e.action == "rescore"]
            assert [(e.by, e.at) for e in rescores] == [
                ("analyst-1", datetime.fromisoformat(now))]
        feed = len(store.changes(limit=10_000))
    # Scoring again as of the same time changes nothing and writes nothing.
    assert main(["score", "--db", str(db), "--now", now, "--save", "--by", "analyst-2"]) == 0
    assert f"Saved 0 changed score(s) as 'analyst-2' ({len(open_deals)} unchanged)" in (
        capsys.readouterr().out)
    with SQLiteStore(db) as store:
        assert len(store.changes(limit=10_000)) == feed


def test_score_save_defaults_the_actor_to_oppcore_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = imported(tmp_path, capsys)
    assert main(["score", "--db", str(db), "--now", AS_OF, "--save"]) == 0
    deal = next(o for o in records(db, Opportunity) if o.stage_id == "engaging")
    with SQLiteStore(db) as store:
        assert store.audit_trail(Opportunity, deal.id)[-1].by == "oppcore-cli"


def test_score_without_save_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = imported(tmp_path, capsys)
    with SQLiteStore(db) as store:
        before = store.changes(limit=10_000)
    assert main(["score", "--db", str(db), "--now", AS_OF]) == 0
    assert "Saved" not in capsys.readouterr().out
    with SQLiteStore(db) as store:
        assert store.changes(limit=10_000) == before


class _OtherWriter:
    """Wraps the CLI's store: before each deal's first save another writer tags that deal."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.tagged: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def save(self, record: Any, *, audit: AuditEntry | None = None) -> Any:
        if record.id not in self.tagged:
            self.tagged.add(record.id)
            current = self.inner.get(Opportunity, record.id)
            tagged = current.evolve(tags=current.tags | {"touched"})
            self.inner.apply([StoreWrite.save(tagged)], audit=[AuditEntry.for_change(
                current, tagged, action="edit", by="someone", at=current.updated_at)])
        return self.inner.save(record, audit=audit)


def test_score_save_retries_deals_another_writer_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = imported(tmp_path, capsys)

    def racing_service(store: Store, **kwargs: Any) -> OpportunityService:
        return OpportunityService(_OtherWriter(store), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_commands, "OpportunityService", racing_service)
    assert main(["score", "--db", str(db), "--now", AS_OF, "--save"]) == 0
    for deal in records(db, Opportunity):
        if deal.stage_id in ("prospecting", "engaging"):
            assert "touched" in deal.tags and "score" in deal.custom  # both writes kept


# --- the demo -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--db", str(db)]) == 0
    return db


def test_after_the_demo_every_write_has_its_audit_entry(demo_db: Path) -> None:
    feed: dict[tuple[str, str], list[Any]] = defaultdict(list)
    with SQLiteStore(demo_db) as store:
        after = 0
        while page := store.changes(after=after, limit=1000):
            for change in page:
                feed[(change.kind, change.record_id)].append(change)
            after = page[-1].seq
        assert len(feed) > 400
        for (kind, record_id), changes in feed.items():
            trail = store.audit_trail(Lead if kind == "lead" else Opportunity, record_id)
            assert len(trail) == len(changes), (kind, record_id)
            for change, entry in zip(changes, trail, strict=True):
                if change.action == "added":
                    assert entry.action == "create"
                elif change.action == "deleted":
                    assert entry.action == "merge"
                else:
                    assert entry.action not in ("create", "delete")


def test_the_demo_audits_lead_steps_quotes_and_scores(demo_db: Path) -> None:
    with SQLiteStore(demo_db) as store:
        actions = {e.action for lead in store.query(Lead, limit=1000).items
                   for e in store.audit_trail(Lead, lead.id)}
        assert {"create", "merge", "contact", "qualify", "disqualify", "convert"} <= actions
        # An open deal that got as far as a quote: every step of it is audited.
        deal = next(d for d in store.query(Opportunity, limit=1000).items
                    if d.stage_id == "quote_contract")
        trail = store.audit_trail(Opportunity, deal.id)
        assert [e.action for e in trail] == ["create", "move", "log_activity", "move", "edit",
                                             "move", "rescore"]
        (quote,) = [c for c in trail[4].changes if c.field == "quotes"]
        assert quote.new and trail[4].by == deal.owner
        # Captures are audited when the lead arrived, merges an hour after the second one.
        lead = store.get(Lead, "lead-0011")
        first, merge = store.audit_trail(Lead, lead.id)[:2]
        assert first.at == lead.captured_at and merge.action == "merge"
        assert merge.at - first.at == timedelta(days=1, hours=1)
