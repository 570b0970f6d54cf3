"""Import a CRM's CSV export, look at what was rejected, and export the result.

Run: python examples/import_crm_csv.py [path/to/sales_pipeline.csv]

Without an argument it imports the small Maven-shaped sample shipped with the tests.
"""

import io
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from oppcore.io import import_csv, preset, write_jsonl, write_opportunities_csv

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "io" / "maven_sample.csv"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE
    # The export's dates have no time zone: say which one they are in (here UTC), and
    # date the deals that carry no date at all (prospects) at the export date.
    report = import_csv(
        path,
        preset("maven"),
        errors="collect",
        zone=timezone.utc,
        as_of=datetime(2017, 12, 31, tzinfo=timezone.utc),
    )
    print(report)
    for error in report.errors[:5]:
        print("  rejected:", error)

    stages = Counter(o.stage_id for o in report.records)
    print("stages:", ", ".join(f"{s}={n}" for s, n in sorted(stages.items())))
    won: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    for o in report.records:
        if o.stage_id in ("won", "lost") and o.owner:
            closed[o.owner] += 1
            won[o.owner] += o.stage_id == "won"
    best = max(closed, key=lambda owner: (won[owner] / closed[owner], owner))
    print(f"best win rate: {best} {won[best]}/{closed[best]}")

    first = report.records[0]
    print("first deal:", first.id, first.stage_id, first.amount,
          [f"{c.from_stage}->{c.to_stage}@{c.at.date()}" for c in first.stage_history])

    csv_out, jsonl_out = io.StringIO(newline=""), io.StringIO()
    rows = write_opportunities_csv(report.records, csv_out)
    lines = write_jsonl(jsonl_out, report.records)
    print(f"exported {rows} CSV rows and {lines} JSON Lines records")


if __name__ == "__main__":
    main()
