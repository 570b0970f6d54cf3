"""oppcore.io.sync: re-importing a changed export (#12)."""

import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcore import (
    ImportDataError,
    InMemoryStore,
    Money,
    Opportunity,
    OpportunityService,
    SQLiteStore,
    StageChange,
    StorageUnavailableError,
    Store,
    ValidationError,
)
from oppcore.io import SYNC_FIELD, SyncReport, import_csv, preset, read_csv, sync
from oppcore.io._sync_state import SYNCED_FIELDS
from oppcore.pipeline import Pipeline
from oppcore.storage import query_all

UTC = timezone.utc
AT = datetime(2018, 1, 20, 9, 0, tzinfo=UTC)
LATER = AT + timedelta(days=7)
SIMPLE = Pipeline.template("simple")
HEADER = ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
          "close_value\n")
WEEK1 = HEADER + (
    "A1,Ann Lee,GTX Basic,Cancity,Engaging,2017-10-02,,\n"
    "A2,Bo Chan,GTXPro,Isdom,Won,2017-09-03,2017-12-01,4800\n"
    "A3,Cy Diaz,MG Special,Zoomit,Engaging,2017-11-05,,\n"
    "A4,Di Eng,MG Advanced,Codehow,Prospecting,,,\n"
    "A5,Ed Fox,GTX Basic,Betatech,Engaging,2017-11-20,,\n"
)
# A week later: A1 won (closed 2018-01-15), A3 moved to lost, A2's amount corrected, A4
# started engaging, A5 gone from the export, A6 new.
WEEK2 = HEADER + (
    "A1,Ann Lee,GTX Basic,Cancity,Won,2017-10-02,2018-01-15,560\n"
    "A2,Bo Chan,GTXPro,Isdom,Won,2017-09-03,2017-12-01,4900\n"
    "A3,Cy Diaz,MG Special,Zoomit,Lost,2017-11-05,2018-01-10,0\n"
    "A4,Di Eng,MG Advanced,Codehow,Engaging,2018-01-18,,\n"
    "A6,Fay Gu,GTX Pro,Hottechi,Prospecting,,,\n"
)


def deals(text: str) -> list[Opportunity]:
    return list(read_csv(io.StringIO(text), preset("maven"), as_of=datetime(2018, 1, 1,
                                                                             tzinfo=UTC)))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
    else:
        with SQLiteStore(tmp_path / "sync.db") as s:
            yield s


def stored(store: Store) -> dict[str, Opportunity]:
    return {o.id: o for o in query_all(store, Opportunity)}


def service(store: Store) -> OpportunityService:
    return OpportunityService(store, pipelines=SIMPLE, clock=lambda: AT + timedelta(hours=1))


def test_first_sync_adds_and_a_second_writes_nothing(store: Store) -> None:
    first = sync(store, deals(WEEK1), by="import:week1.csv", at=AT)
    assert first.added_ids == ("A1", "A2", "A3", "A4", "A5") and first.added == 5
    assert (first.updated, first.unchanged, first.conflict_count, first.missing) == (0, 0, 0, 0)
    before = stored(store)
    again = sync(store, deals(WEEK1), by="import:week1.csv", at=LATER)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert stored(store) == before  # not written: no version moved
    assert all(store.audit_trail(Opportunity, i)[-1].action == "create" for i in before)


def test_a_week_later(store: Store) -> None:
    sync(store, deals(WEEK1), by="import:week1.csv", at=AT)
    before = stored(store)
    report = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER)
    assert report.added_ids == ("A6",)
    assert set(report.updated_ids) == {"A1", "A2", "A3", "A4"}
    assert report.missing_ids == ("A5",)
    assert report.unchanged_ids == () and report.conflicts == ()
    now = stored(store)
    assert "A5" in now and now["A5"] == before["A5"]  # missing: reported, never deleted
    # A stage change appends an entry; the stored history is kept as it was.
    a1 = now["A1"]
    assert a1.stage_id == "won" and a1.amount == Money.of("560", "USD")
    assert a1.stage_history[:-1] == before["A1"].stage_history
    assert a1.stage_history[-1] == StageChange(
        from_stage="engaging", to_stage="won", at=datetime(2018, 1, 15, tzinfo=UTC),
        by="import:week2.csv")  # dated by the export's close date
    a4 = now["A4"]  # an open stage: dated by the sync time
    assert a4.stage_history[-1].to_stage == "engaging" and a4.stage_history[-1].at == LATER
    a2 = now["A2"]  # an amount change, no stage change: the history is untouched
    assert a2.amount == Money.of("4900", "USD")
    assert a2.stage_history == before["A2"].stage_history
    assert a2.version == before["A2"].version + 1
    trail = store.audit_trail(Opportunity, "A2")
    assert [(e.action, e.by) for e in trail] == [("create", "import:week1.csv"),
                                                 ("sync", "import:week2.csv")]
    again = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER + timedelta(hours=1))
    assert (again.added, again.updated, again.unchanged, again.missing) == (0, 0, 5, 1)


def test_a_deal_edited_in_the_store_is_a_conflict_kept_unless_prefer_export(
        store: Store) -> None:
    sync(store, deals(WEEK1), by="import:week1.csv", at=AT)
    service(store).edit(Opportunity, "A2", {"name": "Isdom - renegotiated"}, by="ana")
    report = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER)
    (conflict,) = report.conflicts
    assert conflict.record_id == "A2" and set(conflict.fields) == {"name", "amount"}
    assert "A2" not in report.updated_ids
    kept = store.get(Opportunity, "A2")
    assert kept.name == "Isdom - renegotiated" and kept.amount == Money.of("4800", "USD")
    forced = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER, prefer="export")
    assert forced.updated_ids == ("A2",) and [c.record_id for c in forced.conflicts] == ["A2"]
    taken = store.get(Opportunity, "A2")
    assert taken.name == "Isdom GTX Pro" and taken.amount == Money.of("4900", "USD")
    calm = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER)
    assert calm.conflicts == () and calm.updated == 0


def test_the_hosts_own_fields_never_make_a_conflict_and_survive_an_update(
        store: Store) -> None:
    sync(store, deals(WEEK1), by="import:week1.csv", at=AT)
    current = store.get(Opportunity, "A1")
    store.save(current.evolve(custom={**current.custom, "score": "71"},
                              tags=current.tags, lead_id="L-9"))
    report = sync(store, deals(WEEK2), by="import:week2.csv", at=LATER)
    assert "A1" in report.updated_ids and report.conflicts == ()
    a1 = store.get(Opportunity, "A1")
    assert a1.custom["score"] == "71" and a1.lead_id == "L-9" and a1.stage_id == "won"


def test_a_custom_field_the_export_stops_sending_is_cleared() -> None:
    store = InMemoryStore()
    mapping = preset("maven", custom={"region": "region"})
    header = HEADER.rstrip("\n") + ",region\n"
    first = header + "A1,Ann Lee,GTX Basic,Cancity,Engaging,2017-10-02,,,East\n"
    second = header + "A1,Ann Lee,GTX Basic,Cancity,Engaging,2017-10-02,,,\n"
    for text in (first, second):
        sync(store, list(read_csv(io.StringIO(text), mapping)), by="t", at=AT)
    assert "region" not in store.get(Opportunity, "A1").custom


def test_external_key_matches_before_the_id() -> None:
    store = InMemoryStore()
    t0 = datetime(2025, 1, 5, tzinfo=UTC)
    base = Opportunity(id="pd-101", name="Cranes", pipeline_id="standard",
                       stage_id="quote_contract", created_at=t0, external_key="101")
    sync(store, [base], by="t", at=AT)
    renamed = base.evolve(id="another-id", name="Harbour cranes")
    report = sync(store, [renamed], by="t", at=LATER)
    assert report.updated_ids == ("pd-101",) and report.added == 0
    assert store.get(Opportunity, "pd-101").name == "Harbour cranes"


class FailingStore(InMemoryStore):
    """Fails the n-th write (a full disk), once."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.writes = 0

    def apply(self, writes: Any, *, audit: Any = ()) -> Any:
        self.writes += 1
        if self.writes == self.fail_at:
            raise StorageUnavailableError("disk full", path=":memory:", reason="disk-full",
                                          operation="apply")
        return super().apply(writes, audit=audit)


def test_an_interrupted_sync_reruns_to_the_exact_end() -> None:
    week1 = deals(WEEK1)
    week2 = deals(WEEK2)
    plain = InMemoryStore()
    for batch in (week1, week2):
        sync(plain, batch, by="t", at=AT, batch_size=2)
    broken = FailingStore(fail_at=5)  # week1 takes 3 batches; week2 fails at its second
    sync(broken, week1, by="t", at=AT, batch_size=2)
    with pytest.raises(StorageUnavailableError):
        sync(broken, week2, by="t", at=AT, batch_size=2)
    rerun = sync(broken, week2, by="t", at=AT, batch_size=2)
    assert rerun.updated + rerun.added < 5  # the first batch was already stored
    assert stored(broken) == stored(plain)


def test_refused_before_anything_is_written() -> None:
    store = InMemoryStore()
    a, b = deals(WEEK1)[:2]
    with pytest.raises(ImportDataError, match=r"records 1 and 3 share id 'A1'"):
        sync(store, [a, b, a.evolve(name="other")], by="t", at=AT)
    with pytest.raises(ImportDataError, match="stage 'nowhere' is not a stage of pipeline"):
        sync(store, [b, a.evolve(stage_id="nowhere")], by="t", at=AT)
    with pytest.raises(ImportDataError, match="unknown pipeline 'mine'"):
        sync(store, [b, a.evolve(pipeline_id="mine")], by="t", at=AT)
    assert stored(store) == {}
    report = sync(store, [a, b, a], by="t", at=AT)  # an identical repeat is one deal
    assert report.added_ids == ("A1", "A2")


def test_the_read_errors_are_passed_on() -> None:
    bad = WEEK1 + "A9,Gil,GTX Basic,X,Nowhere,2017-01-01,,\n"
    report = sync(InMemoryStore(), import_csv(io.StringIO(bad), preset("maven"), as_of=AT,
                                              errors="collect"), by="t", at=AT)
    assert report.added == 5 and len(report.errors) == 1 and report.errors[0].row == 7
    assert isinstance(report, SyncReport) and "1 row error(s)" in str(report)


@pytest.mark.parametrize(("bad", "field"), [({"at": datetime(2018, 1, 1)}, "at"),
                                            ({"prefer": "mine"}, "prefer"),
                                            ({"batch_size": 0}, "batch_size")])
def test_bad_arguments(bad: dict[str, Any], field: str) -> None:
    kwargs: dict[str, Any] = {"by": "t", "at": AT, **bad}
    with pytest.raises(ValidationError) as info:
        sync(InMemoryStore(), deals(WEEK1), **kwargs)
    assert info.value.field == field


# --- property: any sequence of export versions -------------------------------------------

_IDS = ("D0", "D1", "D2", "D3", "D4")
_T0 = datetime(2024, 1, 1, tzinfo=UTC)


@st.composite
def export_versions(draw: st.DrawFn) -> list[list[Opportunity]]:
    versions = []
    for _ in range(draw(st.integers(1, 4))):
        rows = []
        for i in draw(st.sets(st.sampled_from(_IDS))):
            stage = draw(st.sampled_from(["prospecting", "engaging", "won", "lost"]))
            amount = draw(st.sampled_from([None, "100", "250.50", "250.5", "1E+3"]))
            rows.append(Opportunity(
                id=i, name=draw(st.sampled_from(["a", "b"])), pipeline_id="simple",
                stage_id=stage, created_at=_T0,
                amount=Money(amount=Decimal(amount), currency="USD") if amount else None,
                custom=draw(st.sampled_from([{}, {"region": "east"}, {"region": "west"}])),
                stage_history=(StageChange(from_stage=None, to_stage=stage, at=_T0,
                                           by="x"),)))
        versions.append(sorted(rows, key=lambda o: o.id))
    return versions


def _view(o: Opportunity) -> tuple[Any, ...]:
    return (*(getattr(o, n) for n in SYNCED_FIELDS),
            {k: v for k, v in o.custom.items() if k not in (SYNC_FIELD, "note")})


@settings(max_examples=60)
@given(versions=export_versions(), edits=st.lists(st.sets(st.sampled_from(_IDS)),
                                                   min_size=4, max_size=4),
       prefer=st.sampled_from(["store", "export"]))
def test_syncing_any_sequence_of_exports(versions: list[list[Opportunity]],
                                         edits: list[set[str]], prefer: Any) -> None:
    check_sequence(InMemoryStore(), versions, edits, prefer)


@settings(max_examples=12)
@given(versions=export_versions(), edits=st.lists(st.sets(st.sampled_from(_IDS)),
                                                   min_size=4, max_size=4),
       prefer=st.sampled_from(["store", "export"]))
def test_syncing_any_sequence_of_exports_into_sqlite(versions: list[list[Opportunity]],
                                                     edits: list[set[str]], prefer: Any) -> None:
    # The mark must survive SQLite's round trip (text, decimals, instants) unchanged.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, SQLiteStore(Path(tmp) / "s.db") as store:
        check_sequence(store, versions, edits, prefer)


def check_sequence(store: Store, versions: list[list[Opportunity]], edits: list[set[str]],
                   prefer: Any) -> None:
    svc = OpportunityService(store, pipelines=SIMPLE, clock=lambda: _T0)
    ever_synced: set[str] = set()
    edited: set[str] = set()  # edited in the store since a sync last wrote them
    for step, export in enumerate(versions):
        for i in sorted(edits[step]):
            if i in ever_synced:
                svc.edit(Opportunity, i, {"name": f"local {step}"}, by="host")
                edited.add(i)
        before = stored(store)
        at = _T0 + timedelta(days=step + 1)
        report = sync(store, export, by="t", at=at, prefer=prefer)
        after = stored(store)
        conflicts = {c.record_id for c in report.conflicts}
        assert conflicts <= edited  # only a local edit makes a conflict ...
        for e in export:
            s = after[e.id]
            if e.id in conflicts and prefer == "store":
                assert s == before[e.id]  # ... kept, and reported
            else:
                assert _view(s) == _view(e)  # the store equals the export
            if e.id in before:  # histories only grow
                assert s.stage_history[:len(before[e.id].stage_history)] == \
                    before[e.id].stage_history
            if e.id in edited and _view(before[e.id]) != _view(e):
                assert e.id in conflicts  # every local edit the export disagrees with
        listed = {e.id for e in export}
        assert set(report.missing_ids) == set(before) - listed
        assert set(after) == set(before) | listed  # nothing deleted
        ever_synced |= listed
        edited -= set(report.updated_ids)
        again = sync(store, export, by="t", at=at + timedelta(hours=1), prefer=prefer)
        assert again.added == 0
        assert again.updated == (0 if prefer == "store" else len(again.conflicts))
        if prefer == "export":
            assert again.conflicts == ()
            assert stored(store) == after


@pytest.mark.parametrize("page_size", [1, 2, 500])
def test_query_all_reads_every_page(page_size: int) -> None:
    store = InMemoryStore()
    sync(store, deals(WEEK1), by="t", at=AT)
    assert len(store.query(Opportunity, limit=2).items) == 2  # one page only
    every = list(query_all(store, Opportunity, page_size=page_size))
    assert [o.id for o in every] == ["A1", "A2", "A3", "A4", "A5"]
    engaging = list(query_all(store, Opportunity, stage="engaging", page_size=page_size))
    assert [o.id for o in engaging] == ["A1", "A3", "A5"]
    with pytest.raises(ValidationError):
        query_all(store, Opportunity, page_size=0)


# --- the service use case behind sync ------------------------------------------------------


class NoEdits:
    def allows(self, actor: str, action: Any, record: Any) -> bool:
        return action.value != "edit"


def test_sync_batch_checks_before_writing_and_writes_atomically() -> None:
    from oppcore import PermissionDeniedError, UnknownStageError
    from oppcore.storage import FeedEntry

    store = InMemoryStore()
    a1, a2, a3 = deals(WEEK1)[:3]
    svc = service(store)
    events = svc.sync_batch([a1, a2], [], by="job")
    assert [type(e).__name__ for e in events] == ["OpportunityCreated"] * 2
    stored_a1 = store.get(Opportunity, "A1")
    moved = stored_a1.evolve(stage_id="won", name="renamed")
    events = svc.sync_batch([a3], [(stored_a1, moved)], by="job")
    assert [type(e).__name__ for e in events] == ["OpportunityCreated", "RecordEdited",
                                                  "StageChanged"]
    assert events[1].fields == ("name", "stage_id")  # type: ignore[union-attr]
    assert store.audit_trail(Opportunity, "A1")[-1].action == "sync"
    feed: tuple[FeedEntry, ...] = store.changes()
    assert len({c.tx for c in feed[-2:]}) == 1  # one atomic write
    current = store.get(Opportunity, "A1")
    before = stored(store)
    with pytest.raises(ValidationError):
        svc.sync_batch([], [(current, current.evolve(id="other"))], by="job")
    with pytest.raises(UnknownStageError):
        svc.sync_batch([], [(current, current.evolve(stage_id="nowhere"))], by="job")
    with pytest.raises(PermissionDeniedError):
        OpportunityService(store, pipelines=SIMPLE, clock=lambda: AT,
                           policy=NoEdits()).sync_batch([], [(current, current)], by="job")
    assert stored(store) == before
    assert svc.sync_batch([], [], by="job") == ()


def test_a_deal_in_another_pipeline_is_never_synced() -> None:
    store = InMemoryStore()
    t0 = datetime(2025, 1, 5, tzinfo=UTC)
    deal = Opportunity(id="X1", name="x", pipeline_id="standard", stage_id="solution",
                       created_at=t0)
    sync(store, [deal], by="t", at=AT)
    moved = Opportunity(id="X1", name="x", pipeline_id="simple", stage_id="engaging",
                        created_at=t0)
    for prefer in ("store", "export"):
        report = sync(store, [moved], by="t", at=LATER, prefer=prefer)  # type: ignore[arg-type]
        (conflict,) = report.conflicts
        assert conflict.fields == ("pipeline_id",) and "'standard'" in conflict.reason
        assert report.updated == 0
    assert store.get(Opportunity, "X1").pipeline_id == "standard"
