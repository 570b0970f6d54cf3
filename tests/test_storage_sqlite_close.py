"""SQLiteStore.close() while other threads use the store: nothing crashes, nothing is torn.

Before the fix, closing a store while another thread ran a statement closed the connection
under it and killed the interpreter with SIGSEGV. The hammer test runs in a child process,
so that a crash fails the test instead of killing pytest.
"""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from oppcore import Opportunity, SQLiteStore, StoreClosedError, StoreError, serde
from oppcore.testing.contract import opportunity

_HAMMER = """
import json, sys, threading
from oppcore import Opportunity
from oppcore import SQLiteStore, StoreClosedError
from oppcore.testing.contract import opportunity

directory, rounds, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
outcomes = {}
lock = threading.Lock()
for r in range(rounds):
    store = SQLiteStore(f"{directory}/round{r}.db", synchronous="NORMAL")
    store.bulk_add([opportunity(f"o{i:03}", owner="ann") for i in range(40)])
    started = threading.Semaphore(0)

    def work(n):
        signalled, outcome = False, "finished"
        try:
            for i in range(20_000):  # a bound, so that a close() that never lands ends
                store.get(Opportunity, f"o{(n + i) % 40:03}")
                store.query(Opportunity, owner="ann", after=f"o{i % 40:03}", limit=10)
                deal = store.get(Opportunity, f"o{n:03}")
                store.save(deal.evolve(owner="ann"))
                store.changes(after=i, limit=5)
                if not signalled:  # this worker is now in full swing
                    signalled = True
                    started.release()
        except StoreClosedError:
            outcome = "closed"
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            if not signalled:
                started.release()  # never leave the main thread waiting
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    store.close()  # while every worker is in the middle of its loop
    for t in threads:
        t.join()
    outcomes["open connections after close"] = (
        outcomes.get("open connections after close", 0) + store._open_connections())
print(json.dumps(outcomes))
"""


@pytest.mark.slow
def test_closing_while_threads_hammer_the_store_never_crashes(tmp_path: Path) -> None:
    # Before the fix, 20 of 20 single-round runs of this child died with SIGSEGV (exit
    # -11); six rounds make a pass on a broken close() very unlikely.
    rounds, workers = 6, 8
    out = subprocess.run([sys.executable, "-c", _HAMMER, str(tmp_path), str(rounds),
                          str(workers)], capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, f"child exited {out.returncode}: {out.stderr[-2000:]}"
    outcomes = json.loads(out.stdout)
    # Every worker ended normally or on StoreClosedError; no other exception, anywhere.
    assert set(outcomes) <= {"finished", "closed", "open connections after close"}, outcomes
    assert outcomes.get("finished", 0) + outcomes.get("closed", 0) == rounds * workers
    assert outcomes.get("closed", 0) > 0  # close() did land while workers were running
    assert outcomes["open connections after close"] == 0


@pytest.fixture
def paused_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event,
                                                                    threading.Event]]:
    """Make the next record decoding inside a store read wait until released."""
    entered, release = threading.Event(), threading.Event()
    loads = serde.loads

    def slow_loads(text: str | bytes, cls: type[Opportunity]) -> Opportunity:
        entered.set()
        release.wait()
        return loads(text, cls)

    monkeypatch.setattr(serde, "loads", slow_loads)
    yield entered, release
    release.set()


def test_close_waits_for_a_running_read_which_then_succeeds(
    tmp_path: Path, paused_loads: tuple[threading.Event, threading.Event]
) -> None:
    entered, release = paused_loads
    store = SQLiteStore(tmp_path / "w.db")
    store.add(opportunity("o1"))
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(store.get(Opportunity, "o1").id))
    reader.start()
    entered.wait()  # the reader is inside get(), its statement done, its result not yet read
    closer = threading.Thread(target=store.close)
    closer.start()
    while not store._guard.is_closed():  # until close() has begun (it then waits)
        pass
    with pytest.raises(StoreClosedError):  # new calls are refused at once, without waiting
        store.changes()
    assert closer.is_alive()  # still waiting for the reader
    assert store._open_connections() == 2  # nothing closed under the reader
    release.set()
    reader.join()
    closer.join()
    assert got == ["o1"]  # the operation in flight finished normally
    assert store._open_connections() == 0
    with pytest.raises(StoreClosedError, match=r"w\.db.* is closed"):
        store.get(Opportunity, "o1")


def test_every_method_raises_store_closed_error_after_close(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    deal = store.add(opportunity("o1"))
    store.close()
    calls = [
        lambda: store.get(Opportunity, "o1"),
        lambda: store.query(Opportunity),
        lambda: store.changes(),
        lambda: store.audit_trail(Opportunity, "o1"),
        lambda: store.add(opportunity("o2")),
        lambda: store.save(deal),
        lambda: store.delete(Opportunity, "o1", version=1),
        lambda: store.apply([]),
        lambda: store.bulk_add([opportunity("o3")]),
        lambda: store.backup(tmp_path / "copy.db"),
        lambda: store.integrity_check(),
    ]
    for call in calls:
        with pytest.raises(StoreClosedError) as info:
            call()
        assert isinstance(info.value, StoreError)
        assert info.value.path == store.path
    store.close()  # closing again is harmless
    assert not (tmp_path / "copy.db").exists()


def test_close_from_the_records_of_a_bulk_add_stops_it_at_the_next_batch(
    tmp_path: Path,
) -> None:
    # bulk_add reads its records between batches, outside any database operation: a
    # close() from there (re-entrant, same thread) neither deadlocks nor tears a batch.
    store = SQLiteStore(tmp_path / "b.db")

    def records() -> Iterator[Opportunity]:
        for i in range(10):
            if i == 4:
                store.close()
            yield opportunity(f"o{i}")

    with pytest.raises(StoreClosedError):
        store.bulk_add(records(), batch_size=2)
    with SQLiteStore(tmp_path / "b.db") as again:
        assert [r.id for r in again.query(Opportunity).items] == ["o0", "o1", "o2", "o3"]


def test_a_duplicate_in_bulk_add_replays_inside_its_own_operation(tmp_path: Path) -> None:
    # The replay of a failed batch is an operation nested in the batch's: it runs, and
    # names the duplicate, without counting as a second caller.
    with SQLiteStore(tmp_path / "d.db") as store:
        store.add(opportunity("o1"))
        with pytest.raises(StoreError, match="already exists"):
            store.bulk_add([opportunity("o0"), opportunity("o1")])
        assert store._guard._flights.count == 0
        assert [r.id for r in store.query(Opportunity).items] == ["o1"]


def test_close_from_inside_an_operation_waits_only_for_the_other_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a signal handler calling close() would: the closing thread is itself inside a
    # call, which close() must not wait for (it could never finish first), while another
    # thread's call must still finish before any connection closes.
    store = SQLiteStore(tmp_path / "r.db")
    store.add(opportunity("o1"))
    other_in, other_go = threading.Event(), threading.Event()
    loads = serde.loads

    def loads_then(text: str | bytes, cls: type[Opportunity]) -> Opportunity:
        if threading.current_thread().name == "other":
            other_in.set()
            other_go.wait()
        else:
            store.close()  # from inside this thread's own get()
        return loads(text, cls)

    monkeypatch.setattr(serde, "loads", loads_then)
    got: dict[str, object] = {}

    def read(name: str) -> None:
        got[name] = store.get(Opportunity, "o1").id

    other = threading.Thread(target=read, args=("other",), name="other", daemon=True)
    other.start()
    other_in.wait()
    closing = threading.Thread(target=read, args=("closing",), name="closing", daemon=True)
    closing.start()
    while not store._guard.is_closed():  # until close() has begun (it then waits)
        pass
    assert store._open_connections() == 3  # nothing closed while "other" is inside get()
    other_go.set()
    other.join()
    closing.join(timeout=60)
    assert not closing.is_alive(), "close() waited for its own thread's operation"
    assert got == {"other": "o1", "closing": "o1"}
    assert store._open_connections() == 0
