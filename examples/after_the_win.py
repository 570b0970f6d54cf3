"""After the win, on the demo's data: the after-sales plan, satisfaction, renewals, referrals
and customer segments (售后服务, 推荐计划, 客户细分).

Runs ``oppcore demo`` into a temporary database (as ``oppcore demo --db demo.db`` does for
you), then reads it back and asks the after-win questions.
"""

import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from oppcore import Lead, Opportunity, Pipeline, SQLiteStore, aftersales, analytics

AS_OF = datetime(2026, 10, 29, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # the demo's end

with tempfile.TemporaryDirectory() as tmp:
    db = Path(tmp) / "demo.db"
    # Our own command with fixed arguments, as a reader would type it.
    subprocess.run([sys.executable, "-m", "oppcore", "demo", "--db", str(db)],  # noqa: S603
                   check=True, capture_output=True)
    with SQLiteStore(db) as store:
        deals = store.query(Opportunity, limit=10_000).items
        leads = store.query(Lead, limit=10_000).items

pipeline = Pipeline.template("standard")
won = [d for d in deals if d.stage_id == "won"]
print(f"{len(deals)} deals, {len(won)} won, {len(leads)} leads")

# The after-sales plan of every won deal, as of the demo's last day.
status = Counter(t.status.value for d in won for t in aftersales.plan(d, pipeline, now=AS_OF))
print("after-sales tasks:", ", ".join(f"{k} {v}" for k, v in sorted(status.items())))

# Satisfaction per owner (NPS of the latest answer of each surveyed won deal).
satisfaction = analytics.satisfaction(deals, pipeline, by="owner", now=AS_OF)
print(satisfaction)

# Renewals: contracts that have ended, renewed or not, and the value kept.
print(analytics.renewals(deals, pipeline, now=AS_OF, period="quarter"))

# The referral programme: what each referring customer brought in.
print(analytics.referrals(leads, deals, pipeline))

# Segments beyond ABC: recency, frequency and value of won business per account.
segments = analytics.customer_segments(deals, pipeline, now=AS_OF)
print("segments:", segments.counts())
