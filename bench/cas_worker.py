"""One compare-and-set worker on a shared counter deal, run as its own process.

    python bench/cas_worker.py URL ATTEMPTS TENANT

Reads the deal ``counter`` of ``TENANT`` from the SQL store at ``URL``, saves it with its
``custom["n"]`` one higher, ATTEMPTS times; a save that loses the race raises
``VersionConflictError`` and is not counted. Prints how many saves won. Used by
``bench/bench_sql.py`` (several processes at once) and by
``tests/test_storage_sql_host.py`` (no update may be lost).
"""

import sys

import sqlalchemy as sa

from oppcore import Opportunity, VersionConflictError
from oppcore.storage.sql import SQLStore


def main(url: str, attempts: int, tenant: str) -> int:
    """Run the attempts; return how many saves won."""
    engine = sa.create_engine(url)
    store = SQLStore(engine, tenant=tenant)
    wins = 0
    for _ in range(attempts):
        seen = store.get(Opportunity, "counter")
        try:
            store.save(seen.evolve(custom={"n": int(seen.custom["n"]) + 1}))
            wins += 1
        except VersionConflictError:
            pass
    engine.dispose()
    return wins


if __name__ == "__main__":
    print(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
