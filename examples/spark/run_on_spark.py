"""Run oppcore on Spark: the same partials under PySpark ``mapInPandas``.

Needs ``pyspark`` and a Java runtime (not installed by any oppcore extra). Each Arrow batch
of raw export rows becomes deals (through the mapping, bad rows refused as in
``io.import_csv``) and one partial per analysis, sent back as a row of pickled bytes; the
driver merges the small partials (any order, any grouping) and finishes them.

Run: ``python examples/spark/run_on_spark.py EXPORT.csv [more.csv ...]``.
"""

import pickle
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from pyspark import TaskContext
from pyspark.sql import DataFrame, SparkSession

from oppcore import ImportDataError, Pipeline, batch, io

EXPORTED_ON = datetime(2017, 12, 31, tzinfo=timezone.utc)
PIPELINE = Pipeline.template("simple")
MAPPING = io.preset("maven")
ANALYSES: list[tuple[str, dict[str, Any]]] = [
    ("funnel", {}), ("win_rate", {"by": "owner"}), ("sales_cycle", {}),
]
_BATCHES = 1_000_000  # Arrow batches per partition, at most: orders health findings


def _partials(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The kernel run by Spark on each partition: rows in, pickled partials out."""
    partition = TaskContext.get().partitionId()  # type: ignore[union-attr]
    for k, frame in enumerate(frames):
        deals, errors = batch.import_frame(frame, mapping=MAPPING, as_of=EXPORTED_ON)
        if errors:
            raise ImportDataError(errors)
        part = partition * _BATCHES + k
        yield pd.DataFrame({
            "analysis": list(range(len(ANALYSES))),
            "partial": [pickle.dumps(batch.partial(name, deals, PIPELINE, part=part, **opts))
                        for name, opts in ANALYSES],
        })


def analyse(frame: DataFrame) -> list[Any]:
    """Return the results of ``ANALYSES`` over a Spark DataFrame of raw export rows."""
    rows = frame.mapInPandas(_partials, schema="analysis int, partial binary").collect()
    out = []
    for i in range(len(ANALYSES)):
        # Bytes this job's own executors produced, never data from outside.
        mine = (pickle.loads(r.partial) for r in rows if r.analysis == i)  # noqa: S301
        out.append(batch.merge(mine).finalize())
    return out


def read(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Read exports with every cell as the string in the file (no schema inference)."""
    return spark.read.csv(list(paths), header=True, inferSchema=False)


def main(paths: Sequence[str]) -> None:
    spark = (SparkSession.builder.master("local[2]").appName("oppcore")
             .config("spark.ui.enabled", "false").getOrCreate())
    try:
        for result in analyse(read(spark, paths)):
            print(result)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
