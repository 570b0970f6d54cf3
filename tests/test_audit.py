"""The audit trail's field changes: replayable, and as large as the change, not the record."""

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Activity,
    ActivityKind,
    AuditEntry,
    FieldChange,
    InMemoryStore,
    Lead,
    Opportunity,
    OpportunityService,
    Pipeline,
    SQLiteStore,
    StageChange,
    StructureError,
    ValidationError,
    diff_fields,
    serde,
)
from oppcore.testing import strategies as st_opp

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
_T = TypeVar("_T")


def wire(record: Lead | Opportunity) -> dict[str, Any]:
    """The record as a store keeps it: JSON text read back, without the store's version."""
    data: dict[str, Any] = json.loads(serde.dumps(record))
    data.pop("version")
    return data


def replay(before: Lead | Opportunity, after: Lead | Opportunity) -> dict[str, Any]:
    """Apply the audit entry of ``before -> after``, as read back from JSON, to ``before``."""
    entry = AuditEntry.for_change(before, after, action="edit", by="ann", at=T0)
    stored = serde.loads(serde.dumps(entry), AuditEntry)
    assert stored == entry  # the entry survives its wire format
    return stored.apply_to(wire(before))


def history(n: int) -> tuple[StageChange, ...]:
    stages = ("prospecting", "engaging")
    return tuple(StageChange(from_stage=stages[i % 2], to_stage=stages[(i + 1) % 2],
                             at=T0 + timedelta(minutes=i), by="ann") for i in range(n))


def deal(**fields: Any) -> Opportunity:
    base: dict[str, Any] = {"id": "D1", "name": "Tea house", "pipeline_id": "simple",
                            "stage_id": "prospecting", "created_at": T0, "owner": "ann"}
    base.update(fields)
    return Opportunity(**base)


# --- edits of every kind, generated ------------------------------------------------------


@st.composite
def edited(draw: st.DrawFn, items: tuple[_T, ...], new_items: st.SearchStrategy[_T]
           ) -> tuple[_T, ...]:
    """``items`` unchanged, appended to, or with items removed, inserted or replaced
    anywhere (the middle included), reversed or cleared."""
    how = draw(st.sampled_from(["same", "append", "remove", "insert", "replace", "reverse",
                                "clear"]))
    n = len(items)
    i = draw(st.integers(0, n))
    j = draw(st.integers(i, n))
    fresh = tuple(draw(st.lists(new_items, min_size=1, max_size=3)))
    return {
        "same": items,
        "append": items + fresh,
        "remove": items[:i] + items[j:],
        "insert": items[:i] + fresh + items[i:],
        "replace": items[:i] + fresh + items[j:],
        "reverse": items[::-1],
        "clear": (),
    }[how]


@st.composite
def versions(draw: st.DrawFn) -> tuple[Opportunity, Opportunity]:
    """Two versions of one deal: the second edits every kind of field of the first."""
    base = draw(st_opp.opportunities())
    code = base.amount.currency if base.amount is not None else "CNY"
    before = base.evolve(
        stage_history=base.stage_history + tuple(draw(st.lists(st_opp.stage_changes(),
                                                               max_size=6))),
        activities=base.activities + tuple(draw(st.lists(st_opp.activities(), max_size=6))),
    )
    custom = dict(before.custom)
    for key in draw(st.lists(st.sampled_from(sorted(custom) or ["x"]), max_size=2)):
        custom.pop(key, None)
    custom.update(draw(st_opp.custom_fields()))
    tags = (before.tags - draw(st.frozensets(st.sampled_from(sorted(before.tags) or ["x"]))))
    after = before.evolve(
        stage_id=draw(st.sampled_from([before.stage_id, "solution"])),
        name=draw(st.sampled_from([before.name, "Renamed"])),
        stage_history=draw(edited(before.stage_history, st_opp.stage_changes())),
        activities=draw(edited(before.activities, st_opp.activities())),
        contacts=draw(edited(before.contacts, st_opp.contacts())),
        quotes=draw(edited(before.quotes, st_opp.quotes(code))),
        expected_close_history=draw(edited(before.expected_close_history, st_opp.dates())),
        tags=tags | draw(st.frozensets(st_opp.ids(), max_size=2)),
        custom=custom,
        qualification=draw(st.sampled_from([before.qualification]) | st_opp.qualifications()),
        version=before.version + 1,
    )
    return before, after


def check_minimal(before: Opportunity, after: Opportunity) -> None:
    """Assert that each change holds only the part of its field that changed."""
    for change in diff_fields(before, after):
        old, new = getattr(before, change.field), getattr(after, change.field)
        if isinstance(old, tuple):
            assert change.op in {"append", "splice"}
            assert len(change.old) + len(change.new) <= len(old) + len(new)
            if change.op == "splice":  # the shared ends are left out
                assert change.index is not None
                assert not (change.old and change.new and change.old[0] == change.new[0])
                assert not (change.old and change.new and change.old[-1] == change.new[-1])
            else:
                assert change.new == [serde.unstructure(x) for x in new[len(old):]]
        elif isinstance(old, frozenset):
            assert (change.op, set(change.old), set(change.new)) == (
                "members", old - new, new - old)
        elif change.field == "custom":
            assert change.op == "keys"
            assert set(change.old) | set(change.new) == {
                k for k in {*old, *new} if k not in old or k not in new
                or (type(old[k]), old[k]) != (type(new[k]), new[k])}
        else:
            assert change.op == "set"


@given(versions())
def test_replaying_the_diff_gives_the_new_record_and_each_change_is_only_the_change(
    pair: tuple[Opportunity, Opportunity],
) -> None:
    before, after = pair
    assert replay(before, after) == wire(after)
    check_minimal(before, after)


@given(st_opp.opportunities(), st_opp.opportunities())
def test_replaying_the_diff_between_any_two_deals_gives_the_second(
    before: Opportunity, other: Opportunity
) -> None:
    after = other.evolve(id=before.id)
    assert replay(before, after) == wire(after)


@given(st_opp.leads(), st_opp.leads())
def test_replaying_the_diff_between_any_two_leads_gives_the_second(
    before: Lead, other: Lead
) -> None:
    after = other.evolve(id=before.id)
    assert replay(before, after) == wire(after)


# --- the size of an entry does not depend on what did not change --------------------------


def move_entry(n: int) -> str:
    """The stored audit entry of one stage move on a deal with ``n`` earlier moves."""
    before = deal(stage_history=history(n))
    step = StageChange(from_stage="prospecting", to_stage="engaging", at=T0 - timedelta(1),
                       by="bob", reason="demo booked")
    after = before.evolve(stage_id="engaging", stage_history=(*before.stage_history, step),
                          updated_at=T0 + timedelta(days=30))
    return serde.dumps(AuditEntry.for_change(before, after, action="move", by="bob", at=T0))


def test_an_append_to_a_history_of_10_and_of_1000_gives_entries_of_equal_size() -> None:
    small, large = move_entry(10), move_entry(1000)
    assert len(small) == len(large)
    assert small == large  # the same entry, in fact


@given(n=st.integers(0, 300), m=st.integers(0, 300),
       appended=st.lists(st_opp.activities(), min_size=1, max_size=3),
       cut=st.integers(0, 2), inserted=st.lists(st_opp.activities(), max_size=2))
def test_entry_size_does_not_grow_with_the_unchanged_prefix(
    n: int, m: int, appended: list[Activity], cut: int, inserted: list[Activity]
) -> None:
    tail = tuple(Activity(id=f"tail-{i}", kind=ActivityKind.CALL, at=T0, by="ann")
                 for i in range(3))

    def entries(k: int) -> tuple[str, str]:
        prefix = tuple(Activity(id=f"p-{i}", kind=ActivityKind.EMAIL, at=T0, by="ann",
                                summary="x" * (i % 7)) for i in range(k))
        before = deal(activities=prefix + tail)
        grown = before.evolve(activities=before.activities + tuple(appended))
        edited = before.evolve(activities=prefix + tuple(inserted) + tail[cut:])
        return (serde.dumps(diff_fields(before, grown)),
                serde.dumps(diff_fields(before, edited)))

    (append_n, splice_n), (append_m, splice_m) = entries(n), entries(m)
    assert append_n == append_m
    # a splice names its index, so only the index's digits differ
    if splice_n != "[]":
        assert len(splice_n) - len(splice_m) == len(str(n)) - len(str(m))
        assert splice_n.replace(f'"index":{n}', "") == splice_m.replace(f'"index":{m}', "")


def test_the_audit_of_an_append_serialises_only_the_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # O(change) without a timing assertion: count what is handed to the serialiser.
    seen: list[object] = []
    unstructure = serde.unstructure

    def counting(value: object) -> object:
        seen.append(value)
        return unstructure(value)

    monkeypatch.setattr(serde, "unstructure", counting)
    counts = []
    for n in (10, 2000):
        seen.clear()
        before = deal(stage_history=history(n), activities=())
        step = StageChange(from_stage="prospecting", to_stage="engaging", at=T0, by="bob")
        after = before.evolve(stage_id="engaging", stage_history=(*before.stage_history, step))
        changes = diff_fields(before, after)
        assert [(c.field, c.op) for c in changes] == [("stage_id", "set"),
                                                      ("stage_history", "append")]
        assert not any(isinstance(v, tuple) and len(v) >= n for v in seen)
        counts.append(len(seen))
    assert counts[0] == counts[1]


# --- through the service -------------------------------------------------------------------


def ticking() -> Callable[[], datetime]:
    moments: Iterator[datetime] = (T0 + timedelta(minutes=i) for i in range(10**6))
    return lambda: next(moments)


def test_service_moves_and_activities_are_audited_as_appends(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "audit.db") as store:
        service = OpportunityService(store, pipelines=Pipeline.template("simple"),
                                     clock=ticking())
        store.add(deal())
        sizes = []
        for i in range(60):
            service.move_stage("D1", ("engaging", "prospecting")[i % 2], by="ann")
            service.log_activity("D1", Activity(id=f"A{i}", kind=ActivityKind.CALL,
                                                at=T0, by="ann"), by="ann")
        trail = store.audit_trail(Opportunity, "D1")
        moves = [e for e in trail if e.action == "move"]
        logs = [e for e in trail if e.action == "log_activity"]
        assert len(moves) == len(logs) == 60
        for entry in (moves[-1], logs[-1]):
            appended = [c for c in entry.changes if c.op == "append"]
            assert len(appended) == 1 and len(appended[0].new) == 1
        assert {c.field: c.new for c in moves[-1].changes}["stage_id"] == "prospecting"
        sizes = [len(serde.dumps(e)) for e in moves]
        assert max(sizes[1:]) - min(sizes[1:]) <= 2  # only the timestamps' digits vary
        # the trail replays to the stored record
        record = wire(store.get(Opportunity, "D1"))
        state = wire(deal())
        for entry in trail:
            state = entry.apply_to(state)
        assert state == record


def test_custom_flags_true_and_1_are_different_values() -> None:
    before = deal(custom={"vip": 1, "region": "east"})
    after = before.evolve(custom={"vip": True, "region": "east", "new": None})
    assert before == after or before.custom != after.custom  # Python may say they're equal
    (change,) = diff_fields(before, after)
    assert (change.op, change.old, change.new) == ("keys", {"vip": 1},
                                                   {"vip": True, "new": None})
    assert replay(before, after) == wire(after)


def test_removing_a_custom_key_differs_from_setting_it_to_none() -> None:
    before = deal(custom={"a": "x", "b": "y"})
    removed = diff_fields(before, before.evolve(custom={"b": "y"}))
    nulled = diff_fields(before, before.evolve(custom={"a": None, "b": "y"}))
    assert [(c.old, c.new) for c in removed] == [({"a": "x"}, {})]
    assert [(c.old, c.new) for c in nulled] == [({"a": "x"}, {"a": None})]
    assert removed[0].apply_to({"a": "x", "b": "y"}) == {"b": "y"}
    assert nulled[0].apply_to({"a": "x", "b": "y"}) == {"a": None, "b": "y"}


def test_an_edit_in_the_middle_is_a_splice_of_that_item_only() -> None:
    acts = tuple(Activity(id=f"A{i}", kind=ActivityKind.CALL, at=T0, by="ann")
                 for i in range(1000))
    before = deal(activities=acts)
    fixed = acts[2].__class__(id="A2", kind=ActivityKind.MEETING, at=T0, by="ann")
    (change,) = diff_fields(before, before.evolve(activities=(*acts[:2], fixed, *acts[3:])))
    assert (change.field, change.op, change.index) == ("activities", "splice", 2)
    assert (change.old, change.new) == ([serde.unstructure(acts[2])],
                                        [serde.unstructure(fixed)])


# --- the wire format, old rows, and refusals ----------------------------------------------


def test_a_change_has_every_attribute_on_the_wire() -> None:
    (change,) = diff_fields(deal(tags=frozenset({"a", "b"})), deal(tags=frozenset({"b", "c"})))
    assert json.loads(serde.dumps(change)) == {
        "field": "tags", "op": "members", "index": None, "old": ["a"], "new": ["c"]}


OLD_ROW = {  # an entry as written before FieldChange had an operation: whole values
    "kind": "opportunity", "record_id": "D1", "action": "move", "by": "ann",
    "at": "2026-03-02T09:00:00+08:00", "note": None,
    "changes": [
        {"field": "stage_id", "old": "prospecting", "new": "engaging"},
        {"field": "stage_history",
         "old": [{"from_stage": None, "to_stage": "prospecting", "at": "2026-03-01T09:00:00+08:00",
                  "by": "ann", "reason": None, "override": None}],
         "new": [{"from_stage": None, "to_stage": "prospecting", "at": "2026-03-01T09:00:00+08:00",
                  "by": "ann", "reason": None, "override": None},
                 {"from_stage": "prospecting", "to_stage": "engaging",
                  "at": "2026-03-02T09:00:00+08:00", "by": "ann", "reason": None,
                  "override": None}]},
        {"field": "tags", "old": ["a"], "new": ["a", "b"]},
    ],
}


def test_old_rows_without_an_operation_read_back_as_set(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with SQLiteStore(path) as store:
        store.add(deal())
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO audit (kind, record_id, data) VALUES (?, ?, ?)",
                     ("opportunity", "D1", json.dumps(OLD_ROW)))
    conn.close()
    with SQLiteStore(path) as store:
        (entry,) = store.audit_trail(Opportunity, "D1")
    assert [(c.field, c.op, c.index) for c in entry.changes] == [
        ("stage_id", "set", None), ("stage_history", "set", None), ("tags", "set", None)]
    history_change = entry.changes[1]
    assert history_change.old == OLD_ROW["changes"][1]["old"]  # type: ignore[index]
    state = {"stage_id": "prospecting", "tags": ["a"],
             "stage_history": history_change.old}
    assert entry.apply_to(state) == {"stage_id": "engaging", "tags": ["a", "b"],
                                     "stage_history": history_change.new}


@pytest.mark.parametrize(("fields", "bad"), [
    ({"field": " ", "old": 1, "new": 2}, "field"),
    ({"field": "f", "op": "move", "old": 1, "new": 2}, "op"),
    ({"field": "f", "op": "set", "index": 0, "old": 1, "new": 2}, "index"),
    ({"field": "f", "op": "splice", "old": [], "new": [1]}, "index"),
    ({"field": "f", "op": "splice", "index": -1, "old": [], "new": [1]}, "index"),
    ({"field": "f", "op": "splice", "index": True, "old": [], "new": [1]}, "index"),
    ({"field": "f", "op": "append", "old": [1], "new": [2]}, "new"),
    ({"field": "f", "op": "append", "old": [], "new": []}, "new"),
    ({"field": "f", "op": "append", "old": [], "new": (1,)}, "new"),
    ({"field": "f", "op": "members", "old": "a", "new": []}, "old"),
    ({"field": "f", "op": "keys", "old": {}, "new": [1]}, "new"),
])
def test_a_change_of_the_wrong_shape_is_refused(fields: dict[str, Any], bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        FieldChange(**fields)
    assert refused.value.field == bad
    row = dict(OLD_ROW, changes=[fields])
    if fields["new"] == (1,):
        return  # JSON has no tuples: on the wire this is the valid [1]
    with pytest.raises(StructureError):
        serde.loads(json.dumps(row), AuditEntry)


@pytest.mark.parametrize(("change", "value"), [
    (FieldChange(field="f", op="append", old=[], new=[1]), None),
    (FieldChange(field="f", op="splice", index=1, old=[2], new=[]), [1, 3]),
    (FieldChange(field="f", op="splice", index=5, old=[], new=[9]), [1, 2]),
    (FieldChange(field="f", op="members", old=["z"], new=[]), ["a"]),
    (FieldChange(field="f", op="keys", old={"a": 1}, new={}), {"a": 2}),
    (FieldChange(field="f", op="keys", old={}, new={"a": 1}), ["a"]),
])
def test_a_change_that_does_not_fit_the_value_is_refused(change: FieldChange,
                                                         value: Any) -> None:
    with pytest.raises(ValidationError, match="applies to"):
        change.apply_to(value)


def test_apply_to_leaves_its_input_alone() -> None:
    value = [1, 2, 3]
    mapping = {"a": 1}
    assert FieldChange(field="f", op="splice", index=1, old=[2], new=[7, 8]).apply_to(
        value) == [1, 7, 8, 3]
    assert FieldChange(field="f", op="keys", old={"a": 1}, new={"b": 2}).apply_to(
        mapping) == {"b": 2}
    assert (value, mapping) == ([1, 2, 3], {"a": 1})


def test_memory_and_sqlite_stores_keep_the_same_entries(tmp_path: Path) -> None:
    before = deal(stage_history=history(3), tags=frozenset({"x"}), custom={"a": 1})
    after = before.evolve(stage_history=history(5)[1:], tags=frozenset({"y"}),
                          custom={"a": 2})
    entry = AuditEntry.for_change(before, after, action="edit", by="ann", at=T0)
    memory = InMemoryStore()
    with SQLiteStore(tmp_path / "s.db") as sqlite:
        for store in (memory, sqlite):
            saved = store.add(before)
            store.save(after.evolve(version=saved.version), audit=entry)
        assert memory.audit_trail(Opportunity, "D1") == sqlite.audit_trail(Opportunity, "D1")
