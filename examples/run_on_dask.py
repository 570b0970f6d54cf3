"""Run oppcore on Dask: the analytics and scores of an export split into several files.

Needs the ``dask`` extra (``pip install 'oppcore[dask]'``). The script writes three small
Maven-shaped CSV files, starts a two-process ``distributed.LocalCluster`` (in production:
connect a ``Client`` to your cluster instead), and checks every Dask result against the
same analysis in one process.
"""

import csv
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dask.dataframe as dd
from distributed import Client, LocalCluster

from oppcore import Pipeline, Scorecard, analytics, io
from oppcore.batch import dask as odask

EXPORTED_ON = datetime(2017, 12, 31, tzinfo=timezone.utc)
HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage",
          "engage_date", "close_date", "close_value"]


def write_exports(folder: Path) -> None:
    """Write three files of 400 deals each, as a CRM exports them month by month."""
    agents = ["Moses Frase", "Zane Levy", "Vicki Laflamme", "Darcel Schlecht"]
    stages = ["Won", "Lost", "Engaging", "Won", "Prospecting"]
    for part in range(3):
        with (folder / f"export-{part}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            for i in range(400):
                n = part * 400 + i
                stage = stages[n % len(stages)]
                engage = "" if stage == "Prospecting" else \
                    (date(2017, 1, 1) + timedelta(days=n % 200)).isoformat()
                close = "" if stage in ("Engaging", "Prospecting") else \
                    (date(2017, 1, 1) + timedelta(days=n % 200 + 10 + n % 37)).isoformat()
                value = str(500 + n % 4000) if stage == "Won" else \
                    "0" if stage == "Lost" else ""
                w.writerow([f"M{n:05d}", agents[n % 4], "GTX Basic", f"Account {n % 9}",
                            stage, engage, close, value])


def main() -> None:
    pipeline = Pipeline.template("simple")
    mapping = io.preset("maven")
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                         silence_logs=50) as cluster, Client(cluster):
        folder = Path(tmp)
        write_exports(folder)
        # Every cell as the string in the file: oppcore parses, as its CSV import does.
        frame = dd.read_csv(str(folder / "export-*.csv"), dtype=str, keep_default_na=False)

        # Several analyses in one pass over the partitions (each row imported once).
        funnel, by_owner, cycle = odask.analyse_many(
            frame, [("funnel", {}), ("win_rate", {"by": "owner"}), ("sales_cycle", {})],
            mapping=mapping, pipeline=pipeline, as_of=EXPORTED_ON)
        print(f"{frame.npartitions} partitions on {len(cluster.workers)} workers")
        print(funnel)
        print(by_owner)
        print(cycle)

        # Scores of every deal, as a lazy Dask DataFrame with declared columns.
        scores = odask.score(frame, mapping=mapping, scorecard=Scorecard.default(),
                             now=EXPORTED_ON, as_of=EXPORTED_ON)
        print("grades:", scores["grade"].value_counts().compute().sort_index().to_dict())

        # The same results as importing everything and analysing it in one process.
        deals = [d for path in sorted(folder.glob("export-*.csv"))
                 for d in io.import_csv(path, mapping, as_of=EXPORTED_ON).records]
        same = (funnel == analytics.funnel(deals, pipeline)
                and by_owner == analytics.win_rate(deals, pipeline, by="owner")
                and cycle == analytics.sales_cycle(deals, pipeline))
        print(f"{len(deals)} deals; identical to one process: {same}")


if __name__ == "__main__":
    main()
