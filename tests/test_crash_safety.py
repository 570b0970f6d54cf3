"""Crash safety: a bulk import into SQLite killed with SIGKILL at random moments.

After every kill: the database passes ``integrity_check``, holds only whole batches, holds
every batch the child acknowledged, and a resumed import ends with exactly the expected
records.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oppcore import Opportunity
from oppcore.storage import SQLiteStore

BATCHES, SIZE = 40, 40

_CHILD = textwrap.dedent(f"""
    import sys
    from datetime import datetime, timezone
    from oppcore import Opportunity
    from oppcore.storage import SQLiteStore

    store = SQLiteStore(sys.argv[1])  # synchronous=FULL: an acknowledged batch is durable
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    done = len(store.query(Opportunity, limit=100000).items)
    assert done % {SIZE} == 0, done
    print("start", done // {SIZE}, flush=True)
    for b in range(done // {SIZE}, {BATCHES}):
        store.bulk_add([Opportunity(id=f"b{{b:03d}}-{{i:03d}}", name="deal", pipeline_id="p",
                                    stage_id="s", created_at=t0) for i in range({SIZE})],
                       batch_size={SIZE})
        print("ack", b, flush=True)
    print("done", flush=True)
""")


def _expected_ids(batches: int) -> list[str]:
    return [f"b{b:03d}-{i:03d}" for b in range(batches) for i in range(SIZE)]


def _check(path: Path, acked: int) -> int:
    with SQLiteStore(path) as store:
        assert store.integrity_check() == "ok"
        ids = [r.id for r in store.query(Opportunity, limit=100_000).items]
        assert len(ids) % SIZE == 0, f"partial batch: {len(ids)} records"
        whole = len(ids) // SIZE
        assert whole >= acked, f"acknowledged batch lost: {whole} stored, {acked} acked"
        assert ids == _expected_ids(whole)
        feed = store.changes(limit=100_000)
        assert len(feed) == len(ids)
        return whole


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_during_bulk_import_never_corrupts_or_loses_acked_batches(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(20260301)
    acked_total = 0
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        first = child.stdout.readline().split()
        assert first[0] == "start"
        kill_after = rng.randint(0, 5)  # 0: kill right after start, mid first batch
        for _ in range(kill_after):
            line = child.stdout.readline().split()
            assert line[0] == "ack"
            acked_total = int(line[1]) + 1
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        stored = _check(path, acked_total)
        acked_total = stored
    resumed = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                             text=True, timeout=120, check=True)
    assert resumed.stdout.splitlines()[-1] == "done"
    assert _check(path, BATCHES) == BATCHES
